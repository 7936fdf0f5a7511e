"""The NUFFT route of w_compact (issue 4): accuracy as a contract, max|error| <= 10 eps sum(c),
against the exact sum, for eps from 1e-14 to 1e-3 at several N and K; method selection; eps
outside what float64 can deliver refused."""
import numpy as np
import pytest

from bench import reference as ref
import swiftw
from conftest import draw_uv

EPSILONS = [1e-3, 1e-5, 1e-7, 1e-9, 1e-11, 1e-12, 1e-13, 1e-14]


@pytest.mark.parametrize("eps", EPSILONS)
@pytest.mark.parametrize("n_grid,k", [(7, 300), (16, 1500), (33, 4000)])
def test_nufft_meets_eps(rng, eps, n_grid, k):
    pixel_scale = float(rng.uniform(0.02, 0.2))
    # Phases across the grid from a few radians to far beyond the grid's Nyquist (aliasing).
    uv = draw_uv(rng, k, n_grid, pixel_scale, phase_span=10 ** rng.uniform(0.5, 3.5))
    sigma = rng.uniform(0.3, 3.0, k)
    exact = ref.w_compact_curvature_interferometer_from(n_grid, sigma, uv, pixel_scale)
    with swiftw.options(w_compact="nufft", eps=eps):
        got = swiftw.w_compact_curvature_interferometer_from(n_grid, sigma, uv, pixel_scale)
    scale = np.sum(sigma**-2.0)
    err = np.max(np.abs(got - exact)) / scale
    assert err <= 10 * eps, f"N={n_grid} K={k} eps={eps:g}: max|err|/sum(c) = {err:.3e}"


def test_nufft_with_extreme_baselines(rng):
    """|u| up to 1e7 wavelengths at 0.2 arcsec (phases of many thousand turns) and K = 1."""
    n_grid = 12
    for uv in (rng.uniform(-1e7, 1e7, (500, 2)), np.array([[3.7e5, -2.2e5]])):
        sigma = rng.uniform(0.5, 2.0, uv.shape[0])
        exact = ref.w_compact_curvature_interferometer_from(n_grid, sigma, uv, 0.2)
        with swiftw.options(w_compact="nufft", eps=1e-12):
            got = swiftw.w_compact_curvature_interferometer_from(n_grid, sigma, uv, 0.2)
        assert np.max(np.abs(got - exact)) <= 1e-11 * np.sum(sigma**-2.0)


@pytest.mark.parametrize("eps", [0.0, 1e-16, 1e-15, 0.5, 2.0, -1e-6, float("nan")])
def test_eps_outside_float64_raises(rng, eps):
    uv = rng.uniform(-1e5, 1e5, (10, 2))
    with pytest.raises(ValueError, match="eps"):
        with swiftw.options(w_compact="nufft", eps=eps):
            swiftw.w_compact_curvature_interferometer_from(8, np.ones(10), uv, 0.1)


def test_auto_picks_nufft_when_faster_and_direct_when_small(rng, monkeypatch):
    """auto gives the exact answer at small K N^2 and the NUFFT one (to eps) at large K N^2."""
    from swiftw import w_tilde as module

    assert not module._nufft_is_faster(10, 100, 1e-12)
    assert module._nufft_is_faster(300, 10**7, 1e-12)
    n_grid, k = 9, 200
    uv = draw_uv(rng, k, n_grid, 0.1)
    sigma = rng.uniform(0.5, 2.0, k)
    with swiftw.options(w_compact="direct"):
        direct = swiftw.w_compact_curvature_interferometer_from(n_grid, sigma, uv, 0.1)
    np.testing.assert_array_equal(swiftw.w_compact_curvature_interferometer_from(n_grid, sigma, uv, 0.1), direct)


def test_method_name_checked(rng):
    with pytest.raises(ValueError, match="w_compact must be one of"):
        with swiftw.options(w_compact="fast"):
            swiftw.w_compact_curvature_interferometer_from(8, np.ones(3), np.ones((3, 2)), 0.1)


def test_nufft_threads_agree(rng, restore_threads):
    n_grid, k = 20, 3000
    uv = draw_uv(rng, k, n_grid, 0.1, phase_span=200.0)
    sigma = rng.uniform(0.5, 2.0, k)
    results = []
    for threads in (1, 2):
        swiftw.set_num_threads(threads)
        with swiftw.options(w_compact="nufft"):
            results.append(swiftw.w_compact_curvature_interferometer_from(n_grid, sigma, uv, 0.1))
    assert np.max(np.abs(results[0] - results[1])) <= 1e-13 * np.sum(sigma**-2.0)


@pytest.mark.parametrize("eps", [1e-3, 1e-6, 1e-9, 1e-12, 1e-14])
def test_w_tilde_data_nufft_meets_eps(rng, eps):
    from conftest import make_problem

    p = make_problem(rng, phase_span=10 ** rng.uniform(0.5, 3.0))
    want = ref.w_tilde_data_interferometer_from(p.visibilities_real, p.sigma, p.uv, p.grid)
    with swiftw.options(w_tilde_data="nufft", eps=eps):
        got = swiftw.w_tilde_data_interferometer_from(p.visibilities_real, p.sigma, p.uv, p.grid)
    scale = np.sum(ref.w_tilde_data_weights(p.visibilities_real, p.sigma))
    err = np.max(np.abs(got - want)) / scale
    assert err <= 10 * eps, f"eps={eps:g}: max|err|/sum(weights) = {err:.3e}"


def test_w_tilde_data_nufft_needs_a_lattice(rng):
    from conftest import make_problem

    p = make_problem(rng)
    jittered = p.grid + rng.normal(size=p.grid.shape) * p.d * 1e-3
    with pytest.raises(ValueError, match="lattice"):
        with swiftw.options(w_tilde_data="nufft"):
            swiftw.w_tilde_data_interferometer_from(p.visibilities_real, p.sigma, p.uv, jittered)
    # auto falls back to the direct sum, which is right for any positions
    want = ref.w_tilde_data_interferometer_from(p.visibilities_real, p.sigma, p.uv, jittered)
    got = swiftw.w_tilde_data_interferometer_from(p.visibilities_real, p.sigma, p.uv, jittered)
    assert np.max(np.abs(got - want)) <= 1e-10 * np.sum(ref.w_tilde_data_weights(p.visibilities_real, p.sigma))
