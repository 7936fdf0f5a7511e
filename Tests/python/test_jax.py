"""Issue 20: swiftw inside jax.jit through XLA FFI: F, its weights' VJP and the evidence (positive-only
and unconstrained), under jit, vmap and grad, against the NumPy reference and central finite
differences."""
import subprocess
import sys

import numpy as np
import pytest

from bench import reference as ref
import swiftw
from conftest import make_problem

jax = pytest.importorskip("jax", reason='JAX is not installed (pip install "swiftw[jax]")')
try:
    import swiftw.jax as sj
except ImportError as error:  # a build without jaxlib's header on the include path
    pytest.skip(f"swiftw.jax unavailable: {error}", allow_module_level=True)
import jax.numpy as jnp


@pytest.fixture(autouse=True)
def x64():
    before = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


@pytest.fixture
def prob(rng):
    p = make_problem(rng)
    p.w_compact = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    p.w_tilde = ref.w_tilde_via_compact_from(p.w_compact, p.native)
    p.op = swiftw.CurvatureOperator(p.w_compact, p.native)
    return p


def _dense_f(p, wts, idx=None):
    t = ref.mapping_matrix_from(p.idx if idx is None else idx, wts, p.S)
    return t.T @ p.w_tilde @ t


def _close(got, want, rel, what):
    got, want = np.asarray(got), np.asarray(want)
    scale = np.max(np.abs(want))
    assert np.all(np.isfinite(got)), what
    assert np.max(np.abs(got - want)) <= rel * scale, f"{what}: {np.max(np.abs(got - want)) / scale:.3e} > {rel}"


@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
def test_jit_equals_reference(prob, method):
    f = jax.jit(lambda w: sj.curvature_matrix(prob.op, prob.idx, w, prob.S, method=method))
    _close(f(prob.wts), _dense_f(prob, prob.wts), 1e-10, "F in jit")


def test_lowers_to_one_custom_call_and_no_callback(prob):
    text = jax.jit(lambda w: sj.curvature_matrix(prob.op, prob.idx, w, prob.S)).lower(prob.wts).as_text()
    assert text.count("custom_call") == 1 and "swiftw_curvature_matrix" in text
    assert "callback" not in text.lower()


def test_vmap_is_one_call_and_equals_each(prob, rng):
    batch = np.stack([prob.wts * rng.uniform(0.5, 2.0, prob.wts.shape) for _ in range(3)])
    idx = np.stack([prob.idx, prob.idx[:, ::-1].copy(), prob.idx])  # a batch of indexes too
    f = jax.jit(jax.vmap(lambda i, w: sj.curvature_matrix(prob.op, i, w, prob.S)))
    text = f.lower(idx, batch).as_text()
    assert text.count("custom_call") == 1
    got = f(idx, batch)
    for k in range(3):
        _close(got[k], _dense_f(prob, batch[k], idx[k]), 1e-10, f"vmapped F [{k}]")


def _loss(prob, g):
    return lambda w: jnp.sum(sj.curvature_matrix(prob.op, prob.idx, w, prob.S) * g)


def test_grad_weights_equals_reference_and_finite_differences(prob, rng):
    g = rng.normal(size=(prob.S, prob.S))
    grad = jax.jit(jax.grad(_loss(prob, g)))(prob.wts)
    want = ref.curvature_matrix_weight_vjp(prob.w_tilde, prob.idx, prob.wts, prob.S, g)
    _close(grad, want, 1e-10, "VJP vs reference")
    # <G, F> is quadratic in w: central differences are exact to rounding.
    loss = lambda w: float(np.sum(_dense_f(prob, w) * g))
    valid = np.argwhere(np.cumprod(prob.idx != -1, axis=1).astype(bool))
    behind = np.argwhere(~np.cumprod(prob.idx != -1, axis=1).astype(bool))
    picks = [tuple(valid[i]) for i in rng.choice(len(valid), 6, replace=False)]
    picks += [tuple(behind[0])] if len(behind) else []
    for m, b in picks:
        h = 1e-3 * prob.wts[m, b]
        up, down = prob.wts.copy(), prob.wts.copy()
        up[m, b] += h
        down[m, b] -= h
        fd = (loss(up) - loss(down)) / (2 * h)
        assert abs(float(grad[m, b]) - fd) <= 1e-6 * np.max(np.abs(want)), (m, b, float(grad[m, b]), fd)


def test_vmap_of_grad(prob, rng):
    g = rng.normal(size=(prob.S, prob.S))
    batch = np.stack([prob.wts, prob.wts[::-1].copy()])
    got = jax.jit(jax.vmap(jax.grad(_loss(prob, g))))(batch)
    for k in range(2):
        _close(got[k], ref.curvature_matrix_weight_vjp(prob.w_tilde, prob.idx, batch[k], prob.S, g), 1e-10,
               f"vmapped VJP [{k}]")


def test_vjp_kernel_numpy_side(prob, rng):
    """The VJP kernel through the ordinary shim: the same numbers, and a bad index an IndexError."""
    from swiftw import _swiftw

    g = rng.normal(size=(prob.S, prob.S))
    out = np.empty(prob.wts.shape)
    _swiftw.operator_curvature_vjp(out, prob.idx, prob.wts, g, prob.op._handle, prob.S)
    _close(out, ref.curvature_matrix_weight_vjp(prob.w_tilde, prob.idx, prob.wts, prob.S, g), 1e-10, "VJP kernel")
    bad = prob.idx.copy()
    bad[3, 0] = prob.S
    with pytest.raises(IndexError, match="pix_indexes_for_sub_slim_index"):
        _swiftw.operator_curvature_vjp(out, bad, prob.wts, g, prob.op._handle, prob.S)


def _evidence_args(p):
    return (p.dirty_image, p.data, p.noise_map, p.idx, p.wts, p.neighbors, p.neighbors_sizes)


def _evidence(p, positive_only):
    return lambda w, c: sj.log_evidence(p.op, p.dirty_image, p.data, p.noise_map, p.idx, w, p.neighbors,
                                        p.neighbors_sizes, c, positive_only=positive_only)


@pytest.mark.parametrize("positive_only", [True, False])
def test_log_evidence_value(prob, positive_only):
    """The value `CurvatureOperator.inversion` gives, and the reference's terms with dense F and T."""
    args = _evidence_args(prob)
    f = jax.jit(_evidence(prob, positive_only))
    t = ref.mapping_matrix_from(prob.idx, prob.wts, prob.S)
    for c in (1.0, 1.7):
        result = prob.op.inversion(*args, coefficient=c, positive_only=positive_only)
        want = ref.inversion_terms(prob.dirty_image, prob.data, prob.noise_map, _dense_f(prob, prob.wts), t,
                                   prob.neighbors, prob.neighbors_sizes, coefficient=c,
                                   positive_only=positive_only)
        scale = abs(want["chi_squared"]) + abs(want["log_det_curvature_reg_matrix_term"]) + abs(
            want["noise_normalization"]) + abs(want["log_evidence"])
        got = float(f(prob.wts, c))
        assert abs(got - result.log_evidence) <= 1e-10 * scale, (got, result.log_evidence)
        assert abs(got - want["log_evidence"]) <= 1e-9 * scale + 1e-6, (got, want["log_evidence"])
        if positive_only:  # the constraint is active: a share of the reconstruction sits at zero
            assert 0 < result.zeros < prob.S
    if not positive_only:
        assert abs(float(f(prob.wts, 1.0)) - prob.op.log_likelihood(*args)) <= 1e-9 * scale


def test_log_evidence_lowers_to_custom_calls_and_batches(prob, rng):
    f = jax.jit(_evidence(prob, True))
    text = f.lower(prob.wts, 1.2).as_text()
    assert "swiftw_curvature_matrix" in text and "swiftw_positive_only" in text
    assert "swiftw_log_det_regularization" in text
    assert "callback" not in text.lower()
    assert "potrf" not in text.lower() and "cholesky" not in text.lower()  # no dense factor of H
    batch = prob.wts[None] * rng.uniform(0.5, 1.5, size=(3, 1, 1))
    batched = jax.jit(jax.vmap(_evidence(prob, True), in_axes=(0, None)))
    assert batched.lower(batch, 1.2).as_text().count("swiftw_positive_only") == 1
    got = np.asarray(batched(batch, 1.2))
    each = [float(f(b, 1.2)) for b in batch]
    np.testing.assert_allclose(got, each, rtol=1e-12)
    # a batch of coefficients: log det H is one call for all of them, each equal to its own
    coefficients = np.array([0.4, 1.2, 2.5])
    over_c = jax.jit(jax.vmap(_evidence(prob, True), in_axes=(None, 0)))
    assert over_c.lower(prob.wts, coefficients).as_text().count("swiftw_log_det_regularization") == 1
    np.testing.assert_allclose(np.asarray(over_c(prob.wts, coefficients)),
                               [float(f(prob.wts, c)) for c in coefficients], rtol=1e-12)


@pytest.mark.parametrize("positive_only", [True, False])
def test_log_evidence_grad_finite_differences(prob, rng, positive_only):
    """With respect to the coefficient and the weights along a random direction (entries behind a
    -1 included). Positive-only: s is held fixed (Danskin), exact since the minimum over s >= 0 is
    continuously differentiable; a difference step that changes the zero set adds O(h^2) only."""
    p = prob
    evidence = _evidence(p, positive_only)
    coefficient = 1.3
    gw, gc = jax.jit(jax.grad(evidence, argnums=(0, 1)))(p.wts, coefficient)
    value = jax.jit(evidence)

    def central(direction_w, direction_c, h):
        """Fourth-order central difference (log det H's rounding makes small steps noisy)."""
        at = lambda k: float(value(p.wts + k * h * direction_w, coefficient + k * h * direction_c))
        return (8 * (at(1) - at(-1)) - (at(2) - at(-2))) / (12 * h)

    fd_c = central(np.zeros_like(p.wts), 1.0, 1e-2)
    assert abs(float(gc) - fd_c) <= 2e-6 * max(abs(fd_c), 1.0), (float(gc), fd_c)
    direction = rng.normal(size=p.wts.shape)
    fd_w = central(direction, 0.0, 1e-3)
    analytic = float(np.sum(np.asarray(gw) * direction))
    assert abs(analytic - fd_w) <= 1e-5 * max(abs(fd_w), 1.0), (analytic, fd_w)


def test_solve_errors_are_xla_errors(prob):
    """A matrix that is not positive definite: an XLA error with swiftw's message; then it carries on."""
    d = jnp.ones(4)
    with pytest.raises(jax.errors.JaxRuntimeError, match="positive definite"):
        np.asarray(jax.jit(lambda a: sj._solve_call(a, d, True)[0])(-jnp.eye(4)))
    s = np.asarray(jax.jit(lambda a: sj._solve_call(a, d, True)[0])(2 * jnp.eye(4)))
    np.testing.assert_allclose(s, 0.5, rtol=1e-15)


def test_bad_index_is_an_xla_error_with_swiftw_message(prob):
    bad = prob.idx.copy()
    bad[5, 0] = prob.S + 7
    f = jax.jit(lambda i, w: sj.curvature_matrix(prob.op, i, w, prob.S))
    with pytest.raises(jax.errors.JaxRuntimeError, match=r"pix_indexes_for_sub_slim_index\[5, 0\].*outside"):
        np.asarray(f(bad, prob.wts))
    np.testing.assert_allclose(f(prob.idx, prob.wts), _dense_f(prob, prob.wts), rtol=0, atol=1e-10 * np.max(
        np.abs(_dense_f(prob, prob.wts))))  # the process carries on


def test_released_operator_and_foreign_token_fail_cleanly(prob):
    f = jax.jit(lambda w: sj.curvature_matrix(prob.op, prob.idx, w, prob.S))
    f.lower(prob.wts)  # traced while the operator lives
    handle = prob.op._handle
    call = jax.ffi.ffi_call("swiftw_curvature_matrix", jax.ShapeDtypeStruct((prob.S, prob.S), jnp.float64))
    with pytest.raises(jax.errors.JaxRuntimeError, match="another process"):
        np.asarray(call(prob.idx, prob.wts, handle=np.int64(handle), pixels=np.int64(prob.S), method=np.int64(2),
                        token=np.int64(sj._TOKEN + 1)))
    prob.op._release()
    with pytest.raises(jax.errors.JaxRuntimeError, match="no curvature operator"):
        np.asarray(f(prob.wts))


def test_argument_errors(prob):
    with pytest.raises(ValueError, match="pix_indexes_for_sub_slim_index has shape"):
        sj.curvature_matrix(prob.op, prob.idx[1:], prob.wts[1:], prob.S)
    with pytest.raises(TypeError, match="CurvatureOperator"):
        sj.curvature_matrix(object(), prob.idx, prob.wts, prob.S)
    jax.config.update("jax_enable_x64", False)
    with pytest.raises(RuntimeError, match="jax_enable_x64"):
        sj.curvature_matrix(prob.op, prob.idx, prob.wts, prob.S)


def test_import_without_jax_says_what_to_install():
    code = "import sys; sys.modules['jax'] = None\ntry:\n import swiftw.jax\nexcept ImportError as e: print(e)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert 'pip install "swiftw[jax]"' in out
