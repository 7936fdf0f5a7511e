"""swiftw inside `jax.jit` (CPU): F and the evidence as XLA FFI custom calls.

``import swiftw.jax`` registers swiftw's XLA FFI handlers (plain C, built against jaxlib's
``xla/ffi/api/c_api.h``) with JAX; the functions here then lower to a custom call on XLA's own
buffers (zero copy, no Python callback), batch under `jax.vmap` (one call for the whole batch),
and differentiate with respect to the mapping's weights (a custom VJP that is itself one custom
call). They work in float64: enable it with ``jax.config.update("jax_enable_x64", True)``.

The `CurvatureOperator` is static: a compiled function holds its handle, valid in this process
only (a call compiled in another process, e.g. from a persistent compilation cache, fails with an
XLA error instead of reading another operator; so does a call after the operator was released).
"""
from __future__ import annotations

try:
    import jax
    import jax.numpy as jnp
except ImportError as error:  # jax is an optional extra
    raise ImportError('swiftw.jax needs JAX: pip install "swiftw[jax]"') from error

import numpy as np

from . import _swiftw
from .curvature import METHODS
from .inversion import MAX_ITERATIONS, _install_lapack
from .operator import CurvatureOperator

__all__ = ["curvature_matrix", "log_evidence"]

_HANDLERS = _swiftw.xla_ffi_handlers() if hasattr(_swiftw, "xla_ffi_handlers") else {}
if not _HANDLERS:
    raise ImportError(
        "this build of swiftw has no XLA FFI handlers: it was built without jaxlib's header "
        "xla/ffi/api/c_api.h; rebuild it from source where jax is importable at build time "
        "(pip install jax, then pip install --no-build-isolation swiftw)")
for _name, _capsule in _HANDLERS.items():
    jax.ffi.register_ffi_target(_name, _capsule, platform="cpu", api_version=1)
_TOKEN = np.int64(_swiftw.xla_ffi_token())


def _require_x64() -> None:
    if not jax.config.read("jax_enable_x64"):
        raise RuntimeError('swiftw.jax computes in float64: call jax.config.update("jax_enable_x64", True) first')


def _operator_attributes(operator: CurvatureOperator, pixels: int) -> dict:
    if not isinstance(operator, CurvatureOperator):
        raise TypeError(f"operator must be a swiftw.CurvatureOperator, got {type(operator).__name__}")
    if isinstance(pixels, bool) or not isinstance(pixels, (int, np.integer)) or pixels < 0:
        raise ValueError(f"pixels must be a whole number >= 0 (static), got {pixels!r}")
    return {"handle": np.int64(operator._handle), "pixels": np.int64(pixels), "token": _TOKEN}


def _mapping(operator: CurvatureOperator, pix_indexes, pix_weights):
    """The (..., M, B) mapping arrays as int64 / float64 with the same leading (batch) shape."""
    idx = jnp.asarray(pix_indexes)
    w = jnp.asarray(pix_weights)
    if not jnp.issubdtype(idx.dtype, jnp.integer):
        raise TypeError(f"pix_indexes_for_sub_slim_index must be integers, got {idx.dtype}")
    if jnp.issubdtype(w.dtype, jnp.complexfloating):
        raise TypeError(f"pix_weights_for_sub_slim_index must be real, got {w.dtype}")
    if idx.ndim < 2 or idx.shape[-2] != operator.image_pixels:
        raise ValueError(f"pix_indexes_for_sub_slim_index has shape {idx.shape}, expected (..., "
                         f"{operator.image_pixels}, B) (the operator's image pixels)")
    if w.shape[-2:] != idx.shape[-2:]:
        raise ValueError(f"pix_weights_for_sub_slim_index has shape {w.shape}, expected (..., "
                         f"{idx.shape[-2]}, {idx.shape[-1]}) (that of pix_indexes_for_sub_slim_index)")
    batch = jnp.broadcast_shapes(idx.shape[:-2], w.shape[:-2])
    idx = jnp.broadcast_to(idx.astype(jnp.int64), batch + idx.shape[-2:])
    w = jnp.broadcast_to(w.astype(jnp.float64), batch + w.shape[-2:])
    return idx, w


def _curvature_call(attributes: dict, method: int):
    """F of (idx, w) as one custom call, with its weights' VJP as another."""

    def forward(idx, w):
        s = int(attributes["pixels"])
        out = jax.ShapeDtypeStruct(idx.shape[:-2] + (s, s), jnp.float64)
        return jax.ffi.ffi_call("swiftw_curvature_matrix", out, vmap_method="broadcast_all")(
            idx, w, method=np.int64(method), **attributes)

    @jax.custom_vjp
    def f(idx, w):
        return forward(idx, w)

    def f_fwd(idx, w):
        return forward(idx, w), (idx, w)

    def f_bwd(residuals, g):
        idx, w = residuals
        out = jax.ShapeDtypeStruct(w.shape, jnp.float64)
        dw = jax.ffi.ffi_call("swiftw_curvature_matrix_vjp", out, vmap_method="broadcast_all")(
            idx, w, g.astype(jnp.float64), **attributes)
        return None, dw

    f.defvjp(f_fwd, f_bwd)
    return f


def curvature_matrix(
    operator: CurvatureOperator,
    pix_indexes_for_sub_slim_index,
    pix_weights_for_sub_slim_index,
    pixels: int,
    *,
    method: str = "auto",
):
    """``F = T^T W T`` (..., S, S) inside JAX, as `CurvatureOperator.curvature_matrix` computes it.

    Parameters
    ----------
    operator : CurvatureOperator
        The dataset's operator (static).
    pix_indexes_for_sub_slim_index : (..., M, B) int array
        Source pixel of each mapping; -1 ends a row. May be traced; leading axes are a batch.
    pix_weights_for_sub_slim_index : (..., M, B) float64 array
        The mapping's weights. May be traced; `jax.grad` with respect to it is one custom call
        (``d/dw[m, b] = sum_s' (W T)[m, s'] (G + G^T)[pix[m, b], s']`` for a cotangent G).
    pixels : int
        S (static).
    method : {"auto", "direct", "fft"}
        As in `CurvatureOperator.curvature_matrix`.

    Returns
    -------
    (..., S, S) float64 array.

    Notes
    -----
    An index outside [0, S) other than -1 raises, when the computation runs, an XLA error
    (``JaxRuntimeError``) carrying swiftw's IndexError message.
    """
    _require_x64()
    if method not in METHODS:
        raise ValueError(f"method must be one of {tuple(METHODS)}, got {method!r}")
    attributes = _operator_attributes(operator, pixels)
    idx, w = _mapping(operator, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index)
    return _curvature_call(attributes, METHODS[method])(idx, w)


def _valid_entries(indexes, sizes=None):
    """Entries before each row's first -1 (and before its size, if given), as a bool mask."""
    valid = jnp.cumprod(indexes != -1, axis=-1).astype(bool)
    if sizes is not None:
        valid = valid & (jnp.arange(indexes.shape[-1]) < sizes[..., None])
    return valid


def _check_concrete_indices(values, name: str, bound: int) -> None:
    """IndexError for an index outside [0, bound) other than -1, when the values are known now
    (traced ones are checked by nothing here: a scatter drops them)."""
    if isinstance(values, jax.core.Tracer):
        return
    v = np.asarray(values)
    bad = (v != -1) & ((v < 0) | (v >= bound))
    if np.any(bad):
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise IndexError(f"{name}{list(where)} = {int(v[where])} is outside [0, {bound}); -1 ends a row")


def _regularization(coefficient, neighbors, neighbors_sizes, s: int):
    """H = 1e-8 I + coefficient^2 (degree - adjacency) over each row's neighbours (SPEC 3.6)."""
    valid = _valid_entries(neighbors, neighbors_sizes)
    rows = jnp.broadcast_to(jnp.arange(s)[:, None], neighbors.shape)
    adjacency = jnp.zeros((s, s)).at[rows, jnp.where(valid, neighbors, 0)].add(valid.astype(jnp.float64))
    laplacian = jnp.diag(valid.sum(axis=1).astype(jnp.float64)) - adjacency
    return 1e-8 * jnp.eye(s) + coefficient * coefficient * laplacian


def _solve_call(a, d, positive_only: bool):
    """(s, log det A) for A (..., S, S) and d (..., S): swiftw's solve as one custom call (the
    positive-only one of SPEC 3.8, or the unconstrained one), outside differentiation: s
    minimises 1/2 s^T A s - d^T s, so the evidence's gradient holds it fixed (see `log_evidence`)."""
    _install_lapack()
    a = jax.lax.stop_gradient(a)
    d = jax.lax.stop_gradient(jnp.broadcast_to(d, a.shape[:-1]))
    out = (jax.ShapeDtypeStruct(d.shape, jnp.float64), jax.ShapeDtypeStruct(d.shape[:-1] + (3,), jnp.float64))
    s, info = jax.ffi.ffi_call("swiftw_positive_only", out, vmap_method="broadcast_all")(
        a, d, positive_only=np.int64(positive_only), max_iterations=np.int64(MAX_ITERATIONS),
        strategy=np.int64(0), token=_TOKEN)
    return s, info[..., 0]


@jax.custom_vjp
def _log_det_given(a, value):
    """``value`` = log det A, computed elsewhere, with its gradient ``A^-1`` with respect to A."""
    return value


def _log_det_given_fwd(a, value):
    return value, a


def _log_det_given_bwd(a, g):
    eye = jnp.broadcast_to(jnp.eye(a.shape[-1]), a.shape)
    inverse = jax.scipy.linalg.cho_solve((jnp.linalg.cholesky(a), True), eye)
    return g[..., None, None] * inverse, None


_log_det_given.defvjp(_log_det_given_fwd, _log_det_given_bwd)


def _log_det_regularization_call(coefficient, neighbors, valid):
    """log det H for the coefficient (scalar, or (...,) batched) as one custom call: swiftw's
    banded Cholesky of H, the neighbour lists cut at `valid` (rows end at their first -1), outside
    differentiation (`_log_det_given` gives its gradient)."""
    _install_lapack()
    rows = jnp.where(valid, neighbors, -1).astype(jnp.int64)
    sizes = valid.sum(axis=-1).astype(jnp.int64)
    c = jax.lax.stop_gradient(jnp.asarray(coefficient, dtype=jnp.float64))
    out = jax.ShapeDtypeStruct(c.shape + (1,), jnp.float64)
    value = jax.ffi.ffi_call("swiftw_log_det_regularization", out, vmap_method="broadcast_all")(
        rows, sizes, c, rows_end_at_sizes=np.int64(0), token=_TOKEN)
    return value[..., 0]


def log_evidence(
    operator: CurvatureOperator,
    dirty_image,
    data,
    noise_map,
    pix_indexes_for_sub_slim_index,
    pix_weights_for_sub_slim_index,
    neighbors,
    neighbors_sizes,
    coefficient,
    *,
    positive_only: bool = True,
    method: str = "auto",
):
    """The log evidence of SPEC 3.8 inside JAX (scalar, or (...,) for batched mappings), the value
    `CurvatureOperator.inversion` gives.

    ``-1/2 (chi_squared + s^T H s + log det (F + H) - log det H + noise_normalization)`` with
    ``chi_squared = s^T F s - 2 s^T D + chi.chi``, F from `curvature_matrix` (one custom call), H
    the constant regularisation of `coefficient`, D = T^T dirty_image, and s the reconstruction:
    ``argmin_{s >= 0} 1/2 s^T A s - D^T s`` (``positive_only=True``) or ``A^-1 D``, A = F + H, with
    log det A, from swiftw's solver as a second custom call.

    `jax.grad` with respect to the weights and `coefficient` holds s fixed: s minimises
    ``s^T A s - 2 D^T s`` (over s >= 0 when positive-only), the only place the evidence depends on
    it, so by Danskin's theorem the derivative of that minimum is its partial derivative at s. The
    minimiser is unique (A positive definite), so this is the exact gradient, also where the zero
    set changes. log det H is a third custom call (H's banded Cholesky in Swift). log det A and
    log det H differentiate to A^-1 and H^-1 (a Cholesky and solve in JAX, backward pass only).

    Parameters
    ----------
    operator : CurvatureOperator
        The dataset's operator (static).
    dirty_image : (M,) float64
    data, noise_map : (K,) complex128
    pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index : (..., M, B)
        As in `curvature_matrix` (may be traced, leading axes a batch).
    neighbors : (S, P) int, neighbors_sizes : (S,) int
        The source pixels' neighbour lists (a row ends at its size or its first -1).
    coefficient : float
        The regularisation coefficient (may be traced).
    positive_only : bool
        True: the positive-only reconstruction of SPEC 3.8. False: the unconstrained one (the
        value of `CurvatureOperator.log_likelihood` at coefficient 1).
    method : {"auto", "direct", "fft"}
        F's method.

    Notes
    -----
    A matrix F + H that is not positive definite, or a solve that does not converge, raises an
    XLA error (``JaxRuntimeError``) carrying swiftw's message when the computation runs.
    """
    _require_x64()
    nb = jnp.asarray(neighbors)
    sizes = jnp.asarray(neighbors_sizes)
    if nb.ndim != 2 or sizes.shape != nb.shape[:1]:
        raise ValueError(f"neighbors has shape {nb.shape} and neighbors_sizes {sizes.shape}: expected (S, P) and (S,)")
    s = nb.shape[0]
    _check_concrete_indices(neighbors, "neighbors", s)
    f = curvature_matrix(operator, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, s,
                         method=method)
    idx, w = _mapping(operator, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index)
    dirty = jnp.asarray(dirty_image, dtype=jnp.float64)
    if dirty.shape != (operator.image_pixels,):
        raise ValueError(f"dirty_image has shape {dirty.shape}, expected ({operator.image_pixels},)")
    # D = T^T dirty_image: each valid entry (m, b) adds w[m, b] dirty[m] to D[pix[m, b]].
    valid = _valid_entries(idx)
    contributions = jnp.where(valid, w * dirty[:, None], 0.0)
    flat = contributions.reshape(contributions.shape[:-2] + (-1,))
    targets = jnp.where(valid, idx, 0).reshape(flat.shape)
    d = jax.vmap(lambda t, c: jnp.zeros(s).at[t].add(c))(targets.reshape(-1, flat.shape[-1]),
                                                         flat.reshape(-1, flat.shape[-1]))
    d = d.reshape(flat.shape[:-1] + (s,))
    coefficient = jnp.asarray(coefficient, dtype=jnp.float64)
    h = _regularization(coefficient, nb, sizes, s)
    a = f + h
    solution, log_det_a = _solve_call(a, d, bool(positive_only))
    solution = jax.lax.stop_gradient(solution)
    data = jnp.asarray(data)
    noise = jnp.asarray(noise_map)
    chi = jnp.sum((data.real / noise.real) ** 2) + jnp.sum((data.imag / noise.imag) ** 2)
    noise_normalization = (jnp.sum(jnp.log(2 * jnp.pi * noise.real ** 2))
                           + jnp.sum(jnp.log(2 * jnp.pi * noise.imag ** 2)))
    f_s = jnp.einsum("...ij,...j->...i", f, solution)
    h_s = jnp.einsum("ij,...j->...i", h, solution)
    chi_squared = jnp.sum(solution * f_s, axis=-1) - 2.0 * jnp.sum(solution * d, axis=-1) + chi
    regularization_term = jnp.sum(solution * h_s, axis=-1)
    log_det_h = _log_det_regularization_call(coefficient, nb, _valid_entries(nb, sizes))
    return -0.5 * (chi_squared + regularization_term + _log_det_given(a, log_det_a)
                   - _log_det_given(h, log_det_h) + noise_normalization)
