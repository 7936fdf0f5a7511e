"""Fixtures and helpers for the swiftw test-suite.

Randomness: every test that draws data takes the `rng` fixture, a fresh
`np.random.default_rng(seed)` with a new 63-bit seed per test. The seed is printed (pytest shows
captured output of failing tests) and added to the failure report; rerun one test with the same
data by exporting it:

    SWIFTW_TEST_SEED=<seed> python3 -m pytest 'Tests/python/test_x.py::test_y'

Problem sizes follow the brief: a circular mask on an N x N grid (N 22..30, M ~ 300..700 image
pixels), K 500..2000 visibilities, S 50..200 source pixels, B 3..4 mappings per image pixel with
ragged rows ending in -1, a Delaunay neighbour graph padded with -1.
"""

import os
import secrets
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import settings as _hypothesis_settings

from bench import reference as ref

# no example database: the suite writes nothing outside the system temp directory
_hypothesis_settings.register_profile("swiftw", database=None)
_hypothesis_settings.load_profile("swiftw")

# ---------------------------------------------------------------------------------------------
# seeds
# ---------------------------------------------------------------------------------------------

_SEED_KEY = pytest.StashKey[int]()
_FIXED_SEED = os.environ.get("SWIFTW_TEST_SEED")


def _new_seed():
    return int(_FIXED_SEED) if _FIXED_SEED else secrets.randbits(63)


@pytest.fixture
def rng(request):
    """A fresh generator for this test; its seed is printed and recorded for reproduction."""
    seed = _new_seed()
    request.node.stash[_SEED_KEY] = seed
    request.node.user_properties.append(("rng_seed", seed))
    print(f"[swiftw-tests] {request.node.nodeid}: rng seed {seed} (reproduce with SWIFTW_TEST_SEED={seed})")
    return np.random.default_rng(seed)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    seed = item.stash.get(_SEED_KEY, None)
    if seed is not None and rep.failed:
        rep.sections.append(
            ("swiftw rng seed", f"SWIFTW_TEST_SEED={seed} python3 -m pytest '{item.nodeid}'")
        )


# ---------------------------------------------------------------------------------------------
# the SPEC's parameter lists (section 3, top-level namespace) and a caller
# ---------------------------------------------------------------------------------------------

IDX = "pix_indexes_for_sub_slim_index"
WTS = "pix_weights_for_sub_slim_index"
NAT = "native_index_for_slim_index"

SPEC_PARAMS = {
    "w_tilde_curvature_interferometer_from": ["noise_map_real", "uv_wavelengths", "grid_radians_slim"],
    "w_compact_curvature_interferometer_from": ["grid_size", "noise_map_real", "uv_wavelengths", "pixel_scale"],
    "w_tilde_via_compact_from": ["w_compact", NAT],
    "w_tilde_via_preload_from": ["w_tilde_preload", NAT],
    "w_tilde_data_interferometer_from": ["visibilities_real", "noise_map_real", "uv_wavelengths", "grid_radians_slim"],
    "mapping_matrix_from": [IDX, WTS, "pixels"],
    "data_vector_from": ["mapping_matrix", "dirty_image"],
    "curvature_matrix_via_w_tilde_from": ["w_tilde", "mapping_matrix"],
    "sparse_mapping_matrix_transpose_matmul": ["matrix", IDX, WTS, "pixels"],
    "curvature_matrix_via_w_tilde_sparse_mapping_matrix_from": ["w_tilde", IDX, WTS, "pixels"],
    "curvature_matrix_via_w_wilde_sparse_mapping_matrix_from": ["w_tilde", IDX, WTS, "pixels"],
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_from": ["w_compact", NAT, IDX, WTS, "pixels"],
    "curvature_matrix_via_w_tilde_curvature_preload_interferometer_from": ["w_compact", NAT, IDX, WTS, "pixels"],
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from": ["w_compact", NAT, IDX, WTS, "pixels"],
    "constant_regularization_matrix_from": ["coefficient", "neighbors", "neighbors_sizes"],
    "reconstruction_positive_negative_from": ["data_vector", "curvature_reg_matrix"],
    "reconstruction_positive_only_from": ["data_vector", "curvature_reg_matrix"],
    "noise_normalization_complex_from": ["noise_map"],
    "log_likelihood_function_via_w_tilde_from": ["dirty_image", "data", "noise_map", "w_tilde", IDX, WTS, "neighbors", "neighbors_sizes"],
    "log_likelihood_function_via_w_compact_from": ["dirty_image", "data", "noise_map", "w_compact", NAT, IDX, WTS, "neighbors", "neighbors_sizes"],
    "mask_2d_centres_from": ["shape_native", "pixel_scales", "centre"],
    "mask_2d_circular_from": ["shape_native", "pixel_scales", "radius", "centre"],
}

# SPEC 3.7, `swiftw.autoarray`: the production library's parameter lists, in order.
AA_PARAMS = {
    "w_tilde_data_interferometer_from": ["visibilities_real", "noise_map_real", "uv_wavelengths", "grid_radians_slim",
                                         NAT],
    "w_tilde_curvature_interferometer_from": ["noise_map_real", "uv_wavelengths", "grid_radians_slim"],
    "w_tilde_curvature_preload_interferometer_from": ["noise_map_real", "uv_wavelengths", "shape_masked_pixels_2d",
                                                      "grid_radians_2d"],
    "w_tilde_via_preload_from": ["w_tilde_preload", NAT],
    "mapping_matrix_from": [IDX, "pix_size_for_sub_slim_index", WTS, "pixels", "total_mask_pixels",
                            "slim_index_for_sub_slim_index", "sub_fraction"],
    "curvature_matrix_via_w_tilde_curvature_preload_interferometer_from": [
        "curvature_preload", IDX, "pix_size_for_sub_slim_index", WTS, NAT, "pix_pixels"],
    "data_vector_from": ["mapping_matrix", "dirty_image"],
    "curvature_matrix_via_w_tilde_from": ["w_tilde", "mapping_matrix"],
    "constant_regularization_matrix_from": ["coefficient", "neighbors", "neighbors_sizes"],
    "reconstruction_positive_negative_from": ["data_vector", "curvature_reg_matrix"],
    "noise_normalization_complex_from": ["noise_map"],
    "mask_2d_centres_from": ["shape_native", "pixel_scales", "centre"],
    "mask_2d_circular_from": ["shape_native", "pixel_scales", "radius", "centre"],
    "log_likelihood_function_via_w_tilde_from": [
        "dirty_image", "data", "noise_map", "w_tilde", IDX, "pix_size_for_sub_slim_index", WTS,
        "slim_index_for_sub_slim_index", "sub_fraction", "neighbors", "neighbors_sizes"],
    "log_likelihood_function_via_w_compact_from": [
        "dirty_image", "data", "noise_map", "w_tilde_preload", IDX, "pix_size_for_sub_slim_index", WTS,
        "slim_index_for_sub_slim_index", "sub_fraction", "neighbors", "neighbors_sizes", NAT],
}

MODES = ["positional", "keyword"]


def call(name, mode, **kwargs):
    """Call swiftw.<name> with the SPEC's parameters, either all positionally in SPEC order or all
    by keyword (in reversed order, so that matching really is by name)."""
    import swiftw

    params = SPEC_PARAMS[name]
    assert set(kwargs) == set(params), f"test bug: {sorted(kwargs)} vs {params}"
    fn = getattr(swiftw, name)
    if mode == "positional":
        return fn(*[kwargs[p] for p in params])
    if mode == "keyword":
        return fn(**{p: kwargs[p] for p in reversed(params)})
    raise AssertionError(mode)


# ---------------------------------------------------------------------------------------------
# comparison helpers
# ---------------------------------------------------------------------------------------------


def assert_close(actual, expected, *, scale, rel, what=""):
    """max |actual - expected| <= rel * scale, with a message that states the ratio."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    assert np.all(np.isfinite(actual)), f"{what}: non-finite values in the result"
    scale = float(scale)
    assert scale > 0 and np.isfinite(scale), f"test bug: scale {scale}"
    if actual.size == 0:
        return
    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64)) if not np.iscomplexobj(actual) else np.abs(actual - expected)
    err = float(np.max(diff))
    where = np.unravel_index(int(np.argmax(diff)), diff.shape)
    assert err <= rel * scale, (
        f"{what}: max|err| = {err:.3e} at {where} (got {actual[where]!r}, expected {expected[where]!r}); "
        f"err/scale = {err / scale:.3e} > {rel:g} (scale {scale:.3e})"
    )


def assert_symmetric(a, *, rel, what=""):
    a = np.asarray(a)
    assert a.ndim == 2 and a.shape[0] == a.shape[1], f"{what}: not square: {a.shape}"
    scale = float(np.max(np.abs(a)))
    assert_close(a, a.T, scale=scale, rel=rel, what=f"{what} symmetry")


# ---------------------------------------------------------------------------------------------
# problem generation
# ---------------------------------------------------------------------------------------------


def draw_uv(rng, k, n_grid, pixel_scale, phase_span=None):
    """(K, 2) baselines uniform on a disc whose radius makes 2 pi * (grid extent) * |uv| span
    `phase_span` radians (log-uniform in [10, 300] by default)."""
    d = ref.arcsec_to_radians(pixel_scale)
    if phase_span is None:
        phase_span = 10 ** rng.uniform(1.0, np.log10(300.0))
    umax = phase_span / (2 * np.pi * n_grid * d)
    r = umax * np.sqrt(rng.uniform(0.0, 1.0, k))
    theta = rng.uniform(0.0, 2 * np.pi, k)
    return np.ascontiguousarray(np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1))


def draw_mappings(rng, m, s, b, *, full_fraction=0.4):
    """Ragged (M, B) source indices (-1 padded after >= 1 valid entry, no duplicates in a row) and
    (M, B) positive weights everywhere (also behind the -1, where they must be ignored)."""
    idx = np.full((m, b), -1, dtype=np.int64)
    for row in range(m):
        n_valid = b if rng.uniform() < full_fraction else int(rng.integers(1, b))
        idx[row, :n_valid] = rng.choice(s, size=n_valid, replace=False)
    wts = rng.uniform(0.05, 1.0, size=(m, b))
    return idx, wts


def draw_neighbors(rng, s, *, extra_pad=None):
    """Symmetric neighbour lists of a Delaunay triangulation of S random points, padded with -1."""
    from scipy.spatial import Delaunay

    pts = rng.uniform(-1.0, 1.0, size=(s, 2))
    tri = Delaunay(pts)
    indptr, indices = tri.vertex_neighbor_vertices
    sizes = np.diff(indptr).astype(np.int64)
    if extra_pad is None:
        extra_pad = int(rng.integers(0, 3))
    p = int(sizes.max()) + extra_pad
    nb = np.full((s, p), -1, dtype=np.int64)
    for i in range(s):
        nb[i, : sizes[i]] = indices[indptr[i] : indptr[i + 1]]
    return nb, sizes


def make_problem(rng, *, n_grid=None, k=None, s=None, b=None, pixel_scale=None, phase_span=None):
    """Fresh random inputs for every kernel; see the module docstring for the sizes."""
    n_grid = int(rng.integers(22, 31)) if n_grid is None else n_grid
    k = int(rng.integers(500, 2001)) if k is None else k
    s = int(rng.integers(50, 201)) if s is None else s
    b = int(rng.integers(3, 5)) if b is None else b
    pixel_scale = float(rng.uniform(0.05, 0.2)) if pixel_scale is None else pixel_scale
    d = ref.arcsec_to_radians(pixel_scale)

    # circular mask, slightly off-centre, inside the grid
    centre = tuple(rng.uniform(-0.5, 0.5, 2) * pixel_scale)
    radius = pixel_scale * (n_grid / 2.0 - 0.75) * rng.uniform(0.92, 1.0)
    mask = ref.mask_2d_circular_from((n_grid, n_grid), (pixel_scale, pixel_scale), radius, centre)
    native = np.ascontiguousarray(np.argwhere(~mask).astype(np.int64))
    m = native.shape[0]

    # y = y0 - d row, x = x0 + d col, origin offset by up to a pixel from the PyAutoArray centre
    y0 = d * ((n_grid - 1) / 2.0 + rng.uniform(-1, 1))
    x0 = -d * ((n_grid - 1) / 2.0 + rng.uniform(-1, 1))
    grid = np.ascontiguousarray(np.stack([y0 - d * native[:, 0], x0 + d * native[:, 1]], axis=1))

    uv = draw_uv(rng, k, n_grid, pixel_scale, phase_span)
    sigma = 10 ** rng.uniform(-1, 1) * rng.uniform(0.5, 2.0, k)
    vscale = 10 ** rng.uniform(-1, 1)
    vis_real = vscale * rng.uniform(0.5, 2.0, k) * rng.choice([-1.0, 1.0], k)

    idx, wts = draw_mappings(rng, m, s, b)
    nb, sizes = draw_neighbors(rng, s)

    nscale = 10 ** rng.uniform(-1, 1)
    noise_map = nscale * (rng.uniform(0.5, 2.0, k) + 1j * rng.uniform(0.5, 2.0, k))
    data = nscale * (rng.normal(size=k) + 1j * rng.normal(size=k)) * 3.0
    dirty_image = rng.normal(size=m)

    c = 1.0 / sigma**2
    return SimpleNamespace(
        N=n_grid, M=m, K=k, S=s, B=b,
        pixel_scale=pixel_scale, d=d, centre=centre, radius=radius,
        mask=mask, native=native, grid=grid,
        uv=uv, sigma=sigma, c=c, sum_c=float(np.sum(c)),
        visibilities_real=vis_real,
        idx=idx, wts=wts, neighbors=nb, neighbors_sizes=sizes,
        noise_map=noise_map, data=data, dirty_image=dirty_image,
    )


def random_compact(rng, n_grid):
    """A random (N, 2N-1) array with the one symmetry every true w_compact has (row 0 is even in
    n - (N-1)), so that the W it encodes is symmetric and every index path is exercised."""
    wc = rng.normal(size=(n_grid, 2 * n_grid - 1)) + 0.1
    wc[0, :] = 0.5 * (wc[0, :] + wc[0, ::-1])
    return wc


def random_preload(rng, n_grid):
    """A random (2N, 2N) preload with the symmetry of a true one (P[-a,-b] = P[a,b], indices mod
    2N) and with row N and column N zero."""
    p = rng.normal(size=(2 * n_grid, 2 * n_grid)) + 0.1
    neg = (-np.arange(2 * n_grid)) % (2 * n_grid)
    p = 0.5 * (p + p[np.ix_(neg, neg)])
    p[n_grid, :] = 0.0
    p[:, n_grid] = 0.0
    return p


def small_problem(rng):
    """A smaller problem for boundary tests, where only validity matters."""
    return make_problem(rng, n_grid=int(rng.integers(12, 16)), k=int(rng.integers(150, 300)),
                        s=int(rng.integers(30, 60)))


def valid_kwargs(name, p):
    """Valid arguments for swiftw.<name>, by SPEC parameter name, from problem p (built lazily)."""
    w = None
    wc = None

    def get_w():
        nonlocal w
        if w is None:
            w = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
        return w

    def get_wc():
        nonlocal wc
        if wc is None:
            wc = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
        return wc

    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    everything = dict(
        noise_map_real=lambda: p.sigma, uv_wavelengths=lambda: p.uv, grid_radians_slim=lambda: p.grid,
        grid_size=lambda: p.N, pixel_scale=lambda: p.pixel_scale, w_compact=get_wc,
        native_index_for_slim_index=lambda: p.native,
        w_tilde_preload=lambda: ref.w_tilde_preload_from(p.N, p.sigma, p.uv, p.pixel_scale),
        visibilities_real=lambda: p.visibilities_real,
        pix_indexes_for_sub_slim_index=lambda: p.idx, pix_weights_for_sub_slim_index=lambda: p.wts,
        pixels=lambda: p.S, mapping_matrix=lambda: t, dirty_image=lambda: p.dirty_image, w_tilde=get_w,
        matrix=get_w, coefficient=lambda: 1.3, neighbors=lambda: p.neighbors,
        neighbors_sizes=lambda: p.neighbors_sizes,
        data_vector=lambda: ref.data_vector_from(t, p.dirty_image),
        curvature_reg_matrix=lambda: _spd(p, get_w(), t),
        noise_map=lambda: p.noise_map, data=lambda: p.data,
        shape_native=lambda: (p.N, p.N + 3), pixel_scales=lambda: (p.pixel_scale, 1.1 * p.pixel_scale),
        centre=lambda: (0.1, -0.2), radius=lambda: 0.4 * p.N * p.pixel_scale,
    )
    return {param: everything[param]() for param in SPEC_PARAMS[name]}


def _spd(p, w, t):
    a = ref.curvature_matrix_via_w_tilde_from(w, t) + ref.constant_regularization_matrix_from(1.0, p.neighbors,
                                                                                              p.neighbors_sizes)
    return 0.5 * (a + a.T)


@pytest.fixture
def problem(rng):
    return make_problem(rng)


@pytest.fixture
def restore_threads():
    """Put swiftw's thread count back after a test that changes it."""
    import swiftw

    before = swiftw.get_num_threads()
    yield before
    swiftw.set_num_threads(before)
