"""SPEC 3.2 - 3.4: the w-tilde matrix, its compact and preload forms, and the dirty-image weights.

Tolerances are stated against the scale of the answer: every entry of W (and of w_compact) is a
sum of K terms c_k cos(...), so it is bounded by sum(c); errors are measured as a fraction of
sum(c). For the dirty-image weights the bound is sum_k (sigma_k^2 / V_k)^2.
"""

import numpy as np
import pytest

import reference as ref
import swiftw
from conftest import MODES, assert_close, assert_symmetric, call, make_problem, random_compact, random_preload

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


@pytest.mark.parametrize("k,phase_span", [(20000, 60.0), (4000, 3000.0), (300, 5.0)])
def test_w_compact_sizes_and_phases(rng, k, phase_span):
    """Many visibilities (where a fast method pays), very wrapped phases, few visibilities."""
    n_grid = int(rng.integers(20, 31))
    p = make_problem(rng, n_grid=n_grid, k=k, s=50, phase_span=phase_span)
    got = swiftw.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    want = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    assert_close(got, want, scale=p.sum_c, rel=W_REL, what=f"w_compact K={k} span={phase_span}")


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
