"""SPEC 3.2 - 3.4: the w-tilde matrix, its compact and preload forms, and the dirty-image weights.

Tolerances are stated against the scale of the answer: every entry of W (and of w_compact) is a
sum of K terms c_k cos(...), so it is bounded by sum(c); errors are measured as a fraction of
sum(c). For the dirty-image weights the bound is sum_k (sigma_k^2 / V_k)^2.
"""

import numpy as np
import pytest

from bench import reference as ref
import swiftw
from conftest import (
    MODES, assert_close, assert_symmetric, call, draw_uv, make_problem, random_compact, random_preload,
)

W_REL = 1e-10  # max|err| <= W_REL * sum(c)


def _small(rng, **kw):
    """Sizes for the direct M^2 K kernels: keep the swiftw call and the reference quick."""
    kw.setdefault("n_grid", int(rng.integers(22, 27)))
    kw.setdefault("k", int(rng.integers(500, 900)))
    return make_problem(rng, **kw)


# ---------------------------------------------------------------------------------------------
# the reference checks itself: angle-addition W against the literal double sum
# ---------------------------------------------------------------------------------------------


def test_reference_w_tilde_matches_literal_sum(rng):
    p = _small(rng)
    w = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    rows = rng.choice(p.M, size=6, replace=False)
    literal = ref.w_tilde_rows_direct(p.sigma, p.uv, p.grid, rows)
    assert_close(w[rows], literal, scale=p.sum_c, rel=1e-13, what="reference W vs literal sum")
    # and the compact / preload layouts describe the same matrix on the lattice
    wc = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    assert_close(ref.w_tilde_via_compact_from(wc, p.native), w, scale=p.sum_c, rel=1e-12, what="reference compact")
    pre = ref.w_tilde_preload_from(p.N, p.sigma, p.uv, p.pixel_scale)
    assert_close(ref.w_tilde_via_preload_from(pre, p.native), w, scale=p.sum_c, rel=1e-12, what="reference preload")


# ---------------------------------------------------------------------------------------------
# 3.2 W direct
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_w_tilde_curvature_interferometer_from(rng, mode):
    p = _small(rng)
    got = call("w_tilde_curvature_interferometer_from", mode,
               noise_map_real=p.sigma, uv_wavelengths=p.uv, grid_radians_slim=p.grid)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (p.M, p.M)
    want = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    assert_close(got, want, scale=p.sum_c, rel=W_REL, what="W")
    rows = rng.choice(p.M, size=4, replace=False)
    assert_close(got[rows], ref.w_tilde_rows_direct(p.sigma, p.uv, p.grid, rows),
                 scale=p.sum_c, rel=W_REL, what="W rows vs literal sum")
    assert_symmetric(got, rel=1e-13, what="W")
    assert_close(np.diag(got), np.full(p.M, p.sum_c), scale=p.sum_c, rel=1e-13, what="diag W = sum(c)")


def test_w_tilde_curvature_off_lattice(rng):
    """W is defined for any grid, not only a lattice: jitter the points and it must still hold."""
    p = _small(rng)
    grid = p.grid + rng.uniform(-0.5, 0.5, size=p.grid.shape) * p.d
    got = swiftw.w_tilde_curvature_interferometer_from(p.sigma, p.uv, grid)
    want = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, grid)
    assert_close(got, want, scale=p.sum_c, rel=W_REL, what="W off lattice")


def test_w_mm_is_w_tilde(rng):
    """The seed's name w_mm(n_k, u_k_vec, g_m_vec), called positionally."""
    p = _small(rng)
    got = swiftw.w_mm(p.sigma, p.uv, p.grid)
    want = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    assert_close(got, want, scale=p.sum_c, rel=W_REL, what="w_mm")


# ---------------------------------------------------------------------------------------------
# 3.3 compact form
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_w_compact_curvature_interferometer_from(rng, mode):
    p = make_problem(rng)
    got = call("w_compact_curvature_interferometer_from", mode,
               grid_size=p.N, noise_map_real=p.sigma, uv_wavelengths=p.uv, pixel_scale=p.pixel_scale)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    assert got.shape == (p.N, 2 * p.N - 1)
    want = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    assert_close(got, want, scale=p.sum_c, rel=W_REL, what="w_compact")
    assert abs(got[0, p.N - 1] - p.sum_c) <= 1e-12 * p.sum_c, "w_compact[0, N-1] must be sum(c)"


@pytest.mark.parametrize("n_grid,k,phase_span", [(None, 20000, 60.0), (None, 4000, 3000.0), (None, 300, 5.0),
                                                  (120, 500, 1500.0)])
def test_w_compact_sizes_and_phases(rng, n_grid, k, phase_span):
    """Many visibilities (where a fast method pays), very wrapped phases, few visibilities, and a
    large grid (where recurrences over the offsets would drift)."""
    n_grid = int(rng.integers(20, 31)) if n_grid is None else n_grid
    ps = float(rng.uniform(0.05, 0.2))
    uv = draw_uv(rng, k, n_grid, ps, phase_span)
    sigma = 10 ** rng.uniform(-1, 1) * rng.uniform(0.5, 2.0, k)
    got = swiftw.w_compact_curvature_interferometer_from(n_grid, sigma, uv, ps)
    want = ref.w_compact_curvature_interferometer_from(n_grid, sigma, uv, ps)
    assert_close(got, want, scale=np.sum(sigma**-2.0), rel=W_REL, what=f"w_compact N={n_grid} K={k} span={phase_span}")


@pytest.mark.parametrize("n_grid", [1, 2, 3, 7])
def test_w_compact_tiny_grids(rng, n_grid):
    sigma = rng.uniform(0.5, 2.0, 257)
    uv = rng.uniform(-3e5, 3e5, size=(257, 2))
    ps = float(rng.uniform(0.05, 0.2))
    got = swiftw.w_compact_curvature_interferometer_from(n_grid, sigma, uv, ps)
    want = ref.w_compact_curvature_interferometer_from(n_grid, sigma, uv, ps)
    assert_close(got, want, scale=np.sum(sigma**-2), rel=W_REL, what=f"w_compact N={n_grid}")


def test_w_compact_reproduces_direct_w_tilde(rng):
    """swiftw's compact form, expanded by swiftw, equals the direct W of the same lattice."""
    p = make_problem(rng)
    wc = swiftw.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    got = swiftw.w_tilde_via_compact_from(wc, p.native)
    want = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    assert_close(got, want, scale=p.sum_c, rel=W_REL, what="W via compact vs direct W")


@pytest.mark.parametrize("mode", MODES)
def test_w_tilde_via_compact_from_random(rng, mode):
    """A random compact array (with row 0 even) checks the index map entry by entry: pure gather,
    so exact."""
    p = make_problem(rng)
    wc = random_compact(rng, p.N)
    got = call("w_tilde_via_compact_from", mode, w_compact=wc, native_index_for_slim_index=p.native)
    assert isinstance(got, np.ndarray) and got.shape == (p.M, p.M) and got.dtype == np.float64
    np.testing.assert_array_equal(got, ref.w_tilde_via_compact_from(wc, p.native))


def test_w_tilde_via_compact_from_scattered_pixels(rng):
    """Any set of native pixels, in any order (not row-major, not a disc)."""
    n_grid = int(rng.integers(5, 25))
    m = int(rng.integers(2, n_grid * n_grid))
    flat = rng.choice(n_grid * n_grid, size=m, replace=False)
    native = np.stack([flat // n_grid, flat % n_grid], axis=1).astype(np.int64)
    wc = random_compact(rng, n_grid)
    np.testing.assert_array_equal(swiftw.w_tilde_via_compact_from(wc, native), ref.w_tilde_via_compact_from(wc, native))


# ---------------------------------------------------------------------------------------------
# preload layout
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_w_tilde_via_preload_from_random(rng, mode):
    p = make_problem(rng)
    pre = random_preload(rng, p.N)
    got = call("w_tilde_via_preload_from", mode, w_tilde_preload=pre, native_index_for_slim_index=p.native)
    assert isinstance(got, np.ndarray) and got.shape == (p.M, p.M) and got.dtype == np.float64
    np.testing.assert_array_equal(got, ref.w_tilde_via_preload_from(pre, p.native))


def test_w_tilde_via_preload_from_rectangular(rng):
    """PyAutoArray's preload is (2Ny, 2Nx): a rectangular one, with its symmetry, on an Ny x Nx grid."""
    ny, nx = int(rng.integers(3, 20)), int(rng.integers(3, 20))
    p = rng.normal(size=(2 * ny, 2 * nx)) + 0.1
    neg_r = (-np.arange(2 * ny)) % (2 * ny)
    neg_c = (-np.arange(2 * nx)) % (2 * nx)
    p = 0.5 * (p + p[np.ix_(neg_r, neg_c)])
    p[ny, :] = 0.0
    p[:, nx] = 0.0
    m = int(rng.integers(2, ny * nx))
    flat = rng.choice(ny * nx, size=m, replace=False)
    native = np.stack([flat // nx, flat % nx], axis=1).astype(np.int64)
    np.testing.assert_array_equal(swiftw.w_tilde_via_preload_from(p, native), ref.w_tilde_via_preload_from(p, native))


def test_w_tilde_via_preload_from_offset_mask(rng):
    """PyAutoArray sizes the preload by the mask's bounding box (shape_native_masked_pixels), while
    native_index_for_slim_index indexes the full native grid: a small mask in the middle of a large
    grid has native indices well beyond the preload's size. SPEC 3.6 defines W only through the
    differences row_j - row_i, col_j - col_i, which stay inside the preload."""
    big = int(rng.integers(80, 121))
    ps = float(rng.uniform(0.05, 0.2))
    radius = ps * float(rng.uniform(2.0, 6.0))
    centre = tuple(rng.uniform(-5, 5, 2) * ps)
    mask = ref.mask_2d_circular_from((big, big), (ps, ps), radius, centre)
    native = np.ascontiguousarray(np.argwhere(~mask).astype(np.int64))
    extent = int(np.max(native.max(axis=0) - native.min(axis=0))) + 1
    assert native.min() >= 2 * extent, "test bug: the mask should sit far from the native origin"
    k = int(rng.integers(200, 600))
    sigma = rng.uniform(0.5, 2.0, k)
    uv = draw_uv(rng, k, extent, ps)
    pre = ref.w_tilde_preload_from(extent, sigma, uv, ps)
    got = swiftw.w_tilde_via_preload_from(pre, native)
    np.testing.assert_array_equal(got, ref.w_tilde_via_preload_from(pre, native))
    d = ref.arcsec_to_radians(ps)
    grid = np.stack([-d * native[:, 0], d * native[:, 1]], axis=1)
    assert_close(got, ref.w_tilde_curvature_interferometer_from(sigma, uv, grid), scale=np.sum(sigma**-2.0),
                 rel=1e-12, what="W via preload of an offset mask vs direct W")


def test_w_tilde_via_preload_from_physical(rng):
    p = make_problem(rng)
    pre = ref.w_tilde_preload_from(p.N, p.sigma, p.uv, p.pixel_scale)
    got = swiftw.w_tilde_via_preload_from(pre, p.native)
    want = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    assert_close(got, want, scale=p.sum_c, rel=1e-12, what="W via preload vs direct W")


# ---------------------------------------------------------------------------------------------
# 3.4 dirty-image weights
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_w_tilde_data_interferometer_from(rng, mode):
    p = make_problem(rng)
    got = call("w_tilde_data_interferometer_from", mode, visibilities_real=p.visibilities_real,
               noise_map_real=p.sigma, uv_wavelengths=p.uv, grid_radians_slim=p.grid)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (p.M,)
    want = ref.w_tilde_data_interferometer_from(p.visibilities_real, p.sigma, p.uv, p.grid)
    scale = np.sum(ref.w_tilde_data_weights(p.visibilities_real, p.sigma))
    assert_close(got, want, scale=scale, rel=W_REL, what="w_tilde_data")


@pytest.mark.parametrize("lattice", [True, False])
def test_w_tilde_data_many_visibilities(rng, lattice):
    """Larger K (where a lattice NUFFT would pay), on the lattice and off it."""
    p = make_problem(rng, k=int(rng.integers(10000, 20000)), s=50)
    grid = p.grid if lattice else p.grid + rng.uniform(-0.5, 0.5, size=p.grid.shape) * p.d
    got = swiftw.w_tilde_data_interferometer_from(p.visibilities_real, p.sigma, p.uv, grid)
    want = ref.w_tilde_data_interferometer_from(p.visibilities_real, p.sigma, p.uv, grid)
    scale = np.sum(ref.w_tilde_data_weights(p.visibilities_real, p.sigma))
    assert_close(got, want, scale=scale, rel=W_REL, what=f"w_tilde_data lattice={lattice}")


def test_w_tilde_data_uses_absolute_position(rng):
    """Moving the grid origin changes the phases: the answer must follow (not just offsets)."""
    p = make_problem(rng)
    shifted = p.grid + np.array([3.3, -2.1]) * p.d
    got = swiftw.w_tilde_data_interferometer_from(p.visibilities_real, p.sigma, p.uv, shifted)
    want = ref.w_tilde_data_interferometer_from(p.visibilities_real, p.sigma, p.uv, shifted)
    scale = np.sum(ref.w_tilde_data_weights(p.visibilities_real, p.sigma))
    assert_close(got, want, scale=scale, rel=W_REL, what="w_tilde_data shifted")
    unshifted = ref.w_tilde_data_interferometer_from(p.visibilities_real, p.sigma, p.uv, p.grid)
    assert np.max(np.abs(unshifted - want)) > 1e-6 * scale, "test too weak: shift changed nothing"


# ---------------------------------------------------------------------------------------------
# pixels on (and off) a lattice, in awkward arrangements: whatever route an implementation takes
# for lattice grids (SPEC 3.4: "on a lattice it is a type-1 NUFFT too"), the answer is the sum
# ---------------------------------------------------------------------------------------------


def _lattice_grid(rng, native, *, exact, origin_pixels):
    """(y, x) = (y0 - d row, x0 + d col). With exact=True, d is a power of two and the origin a
    multiple of d/4, so every coordinate is exactly representable (a perfect lattice)."""
    if exact:
        d = 2.0**-20  # ~0.197 arcsec
        y0 = d * np.round(4 * (origin_pixels + rng.uniform(-2, 2))) / 4
        x0 = -d * np.round(4 * (origin_pixels + rng.uniform(-2, 2))) / 4
    else:
        d = ref.arcsec_to_radians(float(rng.uniform(0.05, 0.2)))
        y0 = d * (origin_pixels + rng.uniform(-2, 2))
        x0 = -d * (origin_pixels + rng.uniform(-2, 2))
    return np.ascontiguousarray(np.stack([y0 - d * native[:, 0], x0 + d * native[:, 1]], axis=1)), d


ARRANGEMENTS = ["disc", "scattered", "one_row", "one_column", "two_pixels", "every_other", "far_origin"]


def _arrangement(rng, kind):
    n = int(rng.integers(12, 28))
    if kind in ("disc", "far_origin"):
        y, x = np.mgrid[0:n, 0:n]
        keep = (y - (n - 1) / 2) ** 2 + (x - (n - 1) / 2) ** 2 <= (n / 2 - 0.5) ** 2
        native = np.argwhere(keep)
    elif kind == "scattered":
        flat = rng.choice(n * n, size=int(rng.integers(5, n * n // 3)), replace=False)
        native = np.stack([flat // n, flat % n], axis=1)
    elif kind == "one_row":
        native = np.stack([np.full(n, 3), np.arange(n)], axis=1)
    elif kind == "one_column":
        native = np.stack([np.arange(n), np.full(n, 5)], axis=1)
    elif kind == "two_pixels":
        native = np.array([[1, 2], [7, 4]])
    elif kind == "every_other":
        y, x = np.mgrid[0:n:2, 0:n:2]
        native = np.stack([y.ravel(), x.ravel()], axis=1)
    native = np.ascontiguousarray(native.astype(np.int64))
    origin = 5000.0 if kind == "far_origin" else (n - 1) / 2.0
    return native, origin


@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("kind", ARRANGEMENTS)
def test_w_tilde_data_lattice_arrangements(rng, kind, exact):
    native, origin = _arrangement(rng, kind)
    grid, d = _lattice_grid(rng, native, exact=exact, origin_pixels=origin)
    k = int(rng.integers(300, 1500))
    n_extent = int(native.max()) + 1
    umax = float(10 ** rng.uniform(1, 2.5)) / (2 * np.pi * n_extent * d)
    uv = rng.uniform(-umax, umax, size=(k, 2))
    sigma = rng.uniform(0.5, 2.0, k)
    vis = rng.uniform(0.5, 2.0, k) * rng.choice([-1.0, 1.0], k)
    got = swiftw.w_tilde_data_interferometer_from(vis, sigma, uv, grid)
    want = ref.w_tilde_data_interferometer_from(vis, sigma, uv, grid)
    scale = np.sum(ref.w_tilde_data_weights(vis, sigma))
    # a far origin makes |phase| ~ 1e4 rad: the sum itself is then only good to ~|phase| eps
    rel = W_REL if kind != "far_origin" else 1e-9
    assert_close(got, want, scale=scale, rel=rel, what=f"w_tilde_data {kind} exact={exact}")


@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("kind", ARRANGEMENTS)
def test_w_tilde_curvature_lattice_arrangements(rng, kind, exact):
    native, origin = _arrangement(rng, kind)
    grid, d = _lattice_grid(rng, native, exact=exact, origin_pixels=origin)
    k = int(rng.integers(300, 800))
    n_extent = int(native.max()) + 1
    umax = float(10 ** rng.uniform(1, 2.5)) / (2 * np.pi * n_extent * d)
    uv = rng.uniform(-umax, umax, size=(k, 2))
    sigma = rng.uniform(0.5, 2.0, k)
    got = swiftw.w_tilde_curvature_interferometer_from(sigma, uv, grid)
    want = ref.w_tilde_curvature_interferometer_from(sigma, uv, grid)
    rows = rng.choice(native.shape[0], size=min(3, native.shape[0]), replace=False)
    literal = ref.w_tilde_rows_direct(sigma, uv, grid, rows)
    sum_c = np.sum(sigma**-2)
    rel = W_REL if kind != "far_origin" else 1e-9
    assert_close(got, want, scale=sum_c, rel=rel, what=f"W {kind} exact={exact}")
    assert_close(got[rows], literal, scale=sum_c, rel=rel, what=f"W rows {kind} exact={exact}")


@pytest.mark.parametrize("method", ["auto", "direct", "lattice"])
def test_w_tilde_data_methods_agree(rng, method):
    """The option `w_tilde_data` (`swiftw.options`): every exact route it offers gives the direct
    sum on a lattice grid."""
    native, origin = _arrangement(rng, "disc")
    grid, d = _lattice_grid(rng, native, exact=True, origin_pixels=origin)
    k = int(rng.integers(500, 3000))
    umax = 100.0 / (2 * np.pi * (int(native.max()) + 1) * d)
    uv = rng.uniform(-umax, umax, size=(k, 2))
    sigma = rng.uniform(0.5, 2.0, k)
    vis = rng.uniform(0.5, 2.0, k) * rng.choice([-1.0, 1.0], k)
    got = swiftw.options(w_tilde_data=method)(swiftw.w_tilde_data_interferometer_from)(vis, sigma, uv, grid)
    want = ref.w_tilde_data_interferometer_from(vis, sigma, uv, grid)
    assert_close(got, want, scale=np.sum(ref.w_tilde_data_weights(vis, sigma)), rel=W_REL,
                 what=f"w_tilde_data method={method}")


@pytest.mark.parametrize("n", [9, 15, 21, 25, 31])
def test_w_tilde_data_lattice_method_accepts_exact_lattice(n):
    """w_tilde_data="lattice" is documented to work "when the pixels lie on a lattice (recognised to
    within rounding)". Here every coordinate is exactly k * 2^-20 rad (a perfect lattice, no
    rounding at all) and |u|, |v| <= 1e6 (ALMA-like): the route must be taken, and be right."""
    d = 2.0**-20
    y, x = np.mgrid[0:n, 0:n]
    native = np.argwhere((y - (n - 1) / 2) ** 2 + (x - (n - 1) / 2) ** 2 <= (n / 2 - 0.5) ** 2)
    grid = np.stack([d * ((n - 1) / 2) - d * native[:, 0], -d * ((n - 1) / 2) + d * native[:, 1]], axis=1)
    uv = np.array([[1e6, 0.0], [0.0, 1e6], [3e5, -7e5]])
    sigma = np.array([1.0, 0.5, 2.0])
    vis = np.array([1.0, -0.7, 1.3])
    got = swiftw.options(w_tilde_data="lattice")(swiftw.w_tilde_data_interferometer_from)(vis, sigma, uv, grid)
    want = ref.w_tilde_data_interferometer_from(vis, sigma, uv, grid)
    assert_close(got, want, scale=np.sum(ref.w_tilde_data_weights(vis, sigma)), rel=W_REL,
                 what=f"w_tilde_data method=lattice n={n}")
