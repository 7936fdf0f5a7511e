"""SPEC 3.6: regularisation, the solve, the noise normalisation, the log-likelihood and the masks.

The log-likelihood is compared to the reference within 1e-9 of the sum of the magnitudes of its
five terms (chi.chi, s.d, logdet A, logdet H, noise normalisation), widened by cond(A) * eps * |s.d|
(the forward error of the solve). H has an eigenvalue of 1e-8 (its 1e-8 ridge on a Laplacian),
so logdet H is only good to ~1e-7 absolute in any implementation.
"""

import numpy as np
import pytest

from bench import reference as ref
import swiftw
from conftest import MODES, assert_close, assert_symmetric, call, make_problem


def _likelihood_tolerance(p, f):
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    terms = ref.log_likelihood_terms(p.dirty_image, p.data, p.noise_map, f, t, p.neighbors, p.neighbors_sizes)
    h = ref.constant_regularization_matrix_from(1.0, p.neighbors, p.neighbors_sizes)
    cond = np.linalg.cond(f + h)
    tol = 1e-9 * sum(abs(v) for v in terms.values()) + 1e-14 * cond * abs(terms["s_dot_d"])
    return ref.log_likelihood_from_terms(terms), tol, terms


# ---------------------------------------------------------------------------------------------
# regularisation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_constant_regularization_matrix_from(rng, mode):
    p = make_problem(rng)
    coefficient = float(10 ** rng.uniform(-1, 1))
    got = call("constant_regularization_matrix_from", mode, coefficient=coefficient,
               neighbors=p.neighbors, neighbors_sizes=p.neighbors_sizes)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (p.S, p.S)
    want = ref.constant_regularization_matrix_from(coefficient, p.neighbors, p.neighbors_sizes)
    assert_close(got, want, scale=coefficient**2 * p.neighbors_sizes.max(), rel=1e-14, what="H")
    assert_symmetric(got, rel=0.0, what="H")
    # the 1e-8 ridge is there (a pure Laplacian has zero row sums)
    assert_close(got.sum(axis=1), np.full(p.S, 1e-8), scale=coefficient**2 * p.neighbors_sizes.max(), rel=1e-13,
                 what="row sums of H")


def test_constant_regularization_matrix_unit_coefficient(rng):
    p = make_problem(rng)
    got = swiftw.constant_regularization_matrix_from(1.0, p.neighbors, p.neighbors_sizes)
    want = ref.constant_regularization_matrix_from(1.0, p.neighbors, p.neighbors_sizes)
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(np.diag(got), 1e-8 + p.neighbors_sizes, rtol=1e-15)


# ---------------------------------------------------------------------------------------------
# solve
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_reconstruction_positive_negative_from(rng, mode):
    p = make_problem(rng)
    w = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    a = ref.curvature_matrix_via_w_tilde_from(w, t) + ref.constant_regularization_matrix_from(
        1.0, p.neighbors, p.neighbors_sizes)
    a = 0.5 * (a + a.T)
    d = ref.data_vector_from(t, p.dirty_image)
    got = call("reconstruction_positive_negative_from", mode, data_vector=d, curvature_reg_matrix=a)
    assert isinstance(got, np.ndarray) and got.shape == (p.S,) and got.dtype == np.float64
    want = ref.reconstruction_positive_negative_from(d, a)
    # backward error: the residual is at rounding level of |A| |s|
    resid = a @ got - d
    assert np.max(np.abs(resid)) <= 1e-12 * np.max(np.abs(a) @ np.abs(got)), "residual too large"
    # forward error: within cond(A) eps of the reference
    cond = np.linalg.cond(a)
    assert_close(got, want, scale=np.max(np.abs(want)), rel=max(1e-12, 1e-14 * cond), what="s")


def test_reconstruction_well_conditioned(rng):
    s = int(rng.integers(20, 200))
    q, _ = np.linalg.qr(rng.normal(size=(s, s)))
    a = (q * rng.uniform(1.0, 100.0, s)) @ q.T
    a = 0.5 * (a + a.T)
    x = rng.normal(size=s)
    d = a @ x
    got = swiftw.reconstruction_positive_negative_from(d, a)
    assert_close(got, x, scale=np.max(np.abs(x)), rel=1e-12, what="s well conditioned")


# ---------------------------------------------------------------------------------------------
# noise normalisation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_noise_normalization_complex_from(rng, mode):
    p = make_problem(rng)
    got = call("noise_normalization_complex_from", mode, noise_map=p.noise_map)
    want = ref.noise_normalization_complex_from(p.noise_map)
    scale = np.sum(np.abs(np.log(2 * np.pi * p.noise_map.real**2))) + np.sum(np.abs(np.log(2 * np.pi * p.noise_map.imag**2)))
    assert np.ndim(got) == 0
    assert abs(float(got) - want) <= 1e-13 * scale, f"{got} vs {want}"


def test_noise_normalization_real_and_imaginary_differ(rng):
    """Re and Im enter separately: swapping them is the same, but changing one changes the sum."""
    k = int(rng.integers(500, 2000))
    nm = rng.uniform(0.5, 2.0, k) + 1j * rng.uniform(3.0, 5.0, k)
    got = swiftw.noise_normalization_complex_from(nm)
    assert abs(got - ref.noise_normalization_complex_from(nm)) <= 1e-13 * k * 5
    assert abs(got - swiftw.noise_normalization_complex_from(nm.real + 1j * nm.real)) > 1.0


# ---------------------------------------------------------------------------------------------
# log-likelihood
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_log_likelihood_function_via_w_tilde_from(rng, mode):
    p = make_problem(rng)
    w = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    got = call("log_likelihood_function_via_w_tilde_from", mode, dirty_image=p.dirty_image, data=p.data,
               noise_map=p.noise_map, w_tilde=w, pix_indexes_for_sub_slim_index=p.idx,
               pix_weights_for_sub_slim_index=p.wts, neighbors=p.neighbors, neighbors_sizes=p.neighbors_sizes)
    assert np.ndim(got) == 0
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    want, tol, terms = _likelihood_tolerance(p, ref.curvature_matrix_via_w_tilde_from(w, t))
    assert want == pytest.approx(
        ref.log_likelihood_function_via_w_tilde_from(p.dirty_image, p.data, p.noise_map, w, p.idx, p.wts,
                                                     p.neighbors, p.neighbors_sizes), abs=tol)
    assert abs(float(got) - want) <= tol, f"log L {got!r} vs {want!r} (tol {tol:.2e}); terms {terms}"


@pytest.mark.parametrize("mode", MODES)
def test_log_likelihood_function_via_w_compact_from(rng, mode):
    p = make_problem(rng)
    wc = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    got = call("log_likelihood_function_via_w_compact_from", mode, dirty_image=p.dirty_image, data=p.data,
               noise_map=p.noise_map, w_compact=wc, native_index_for_slim_index=p.native,
               pix_indexes_for_sub_slim_index=p.idx, pix_weights_for_sub_slim_index=p.wts,
               neighbors=p.neighbors, neighbors_sizes=p.neighbors_sizes)
    assert np.ndim(got) == 0
    f = ref.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, p.native, p.idx, p.wts, p.S)
    want, tol, terms = _likelihood_tolerance(p, f)
    assert abs(float(got) - want) <= tol, f"log L {got!r} vs {want!r} (tol {tol:.2e}); terms {terms}"


def test_log_likelihood_each_term_matters(rng):
    """Perturb one input at a time and the swiftw answer follows the reference: a likelihood that
    ignored the dirty image, the data, or the regularisation graph would be caught here."""
    p = make_problem(rng)
    w = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    f = ref.curvature_matrix_via_w_tilde_from(w, t)

    def both(dirty, data, noise, nb, sizes):
        got = swiftw.log_likelihood_function_via_w_tilde_from(dirty, data, noise, w, p.idx, p.wts, nb, sizes)
        q = make_like(p, dirty_image=dirty, data=data, noise_map=noise, neighbors=nb, neighbors_sizes=sizes)
        want, tol, _ = _likelihood_tolerance(q, f)
        return float(got), want, tol

    variants = {
        "base": (p.dirty_image, p.data, p.noise_map, p.neighbors, p.neighbors_sizes),
        "dirty": (p.dirty_image * 3.0 + 1.0, p.data, p.noise_map, p.neighbors, p.neighbors_sizes),
        "data": (p.dirty_image, p.data * (1.0 - 0.5j), p.noise_map, p.neighbors, p.neighbors_sizes),
        "noise": (p.dirty_image, p.data, p.noise_map.real * 1.3 + 1j * p.noise_map.imag, p.neighbors, p.neighbors_sizes),
    }
    values = {}
    for key, args in variants.items():
        got, want, tol = both(*args)
        assert abs(got - want) <= tol, f"{key}: {got} vs {want} (tol {tol:.2e})"
        values[key] = got
    assert len(set(values.values())) == len(values), f"some perturbation changed nothing: {values}"


def make_like(p, **changes):
    from types import SimpleNamespace

    d = dict(vars(p))
    d.update(changes)
    return SimpleNamespace(**d)


def test_log_likelihood_routes_agree(rng):
    """Via w_compact and via the W it expands to: the same number."""
    p = make_problem(rng)
    wc = swiftw.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    w = swiftw.w_tilde_via_compact_from(wc, p.native)
    a = swiftw.log_likelihood_function_via_w_compact_from(p.dirty_image, p.data, p.noise_map, wc, p.native, p.idx,
                                                         p.wts, p.neighbors, p.neighbors_sizes)
    b = swiftw.log_likelihood_function_via_w_tilde_from(p.dirty_image, p.data, p.noise_map, w, p.idx, p.wts,
                                                       p.neighbors, p.neighbors_sizes)
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    _, tol, _ = _likelihood_tolerance(p, ref.curvature_matrix_via_w_tilde_from(w, t))
    assert abs(a - b) <= tol


# ---------------------------------------------------------------------------------------------
# masks
# ---------------------------------------------------------------------------------------------


def _mask_args(rng):
    shape = (int(rng.integers(5, 60)), int(rng.integers(5, 60)))
    scales = (float(rng.uniform(0.03, 0.3)), float(rng.uniform(0.03, 0.3)))
    centre = (float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1)))
    return shape, scales, centre


@pytest.mark.parametrize("mode", MODES)
def test_mask_2d_centres_from(rng, mode):
    for _ in range(20):
        shape, scales, centre = _mask_args(rng)
        got = call("mask_2d_centres_from", mode, shape_native=shape, pixel_scales=scales, centre=centre)
        want = ref.mask_2d_centres_from(shape, scales, centre)
        got = np.asarray(got, dtype=np.float64)
        assert got.shape == (2,)
        assert_close(got, np.asarray(want), scale=max(abs(want[0]), abs(want[1]), 1.0), rel=1e-14,
                     what=f"centres {shape} {scales} {centre}")


@pytest.mark.parametrize("mode", MODES)
def test_mask_2d_circular_from(rng, mode):
    done = 0
    while done < 20:
        shape, scales, centre = _mask_args(rng)
        extent = min(shape[0] * scales[0], shape[1] * scales[1])
        radius = float(rng.uniform(0.1, 0.7)) * extent
        if ref.mask_2d_circular_margin(shape, scales, radius, centre) < 1e-9:
            continue  # a pixel centre on the circle: rounding decides; not a fair test
        got = call("mask_2d_circular_from", mode, shape_native=shape, pixel_scales=scales, radius=radius, centre=centre)
        want = ref.mask_2d_circular_from(shape, scales, radius, centre)
        assert isinstance(got, np.ndarray) and got.dtype == np.bool_ and got.shape == shape
        np.testing.assert_array_equal(got, want, err_msg=f"{shape} {scales} {radius} {centre}")
        done += 1


def test_mask_2d_circular_masks_outside(rng):
    """True means masked: the centre pixel of a centred mask is unmasked, the corners masked."""
    n = int(rng.integers(11, 40)) | 1
    ps = float(rng.uniform(0.05, 0.2))
    got = swiftw.mask_2d_circular_from((n, n), (ps, ps), ps * (n / 2.0 - 2.3), (0.0, 0.0))
    assert not got[n // 2, n // 2]
    assert got[0, 0] and got[-1, -1] and got[0, -1] and got[-1, 0]
