"""JAX versions of the kernels, in the style of the "Numba vs JAX" study, in float64.

Same names, parameter names and outputs as swiftw's top-level functions (NumPy arrays in,
NumPy arrays out, so a call costs what a drop-in user would pay, transfers included):

- `fma`: ``out + sum_a w_a arrays[a]`` jitted, written back into `out` (JAX arrays are immutable).
- `w_tilde_curvature_interferometer_from`, `w_compact_curvature_interferometer_from`: ``jax.jit``
  with ``lax.scan`` over visibilities, accumulating one (M, M) or (N, 2N-1) slab per visibility.
- `w_tilde_data_interferometer_from`: ``lax.scan`` over chunks of visibilities, an (M, chunk)
  cosine matrix times the weights per step (unchunked, XLA would hold all of (M, K)).
- `curvature_matrix_via_w_compact_sparse_mapping_matrix_from`: W unfolded from the compact form
  by a gather, a dense T, and ``F = T^T W T``; `curvature_matrix_via_w_tilde_sparse_mapping_matrix_from`
  does the same with W given.
- `log_likelihood_function_via_w_compact_from` / `..._via_w_tilde_from`: dense F, H, and
  ``jax.scipy.linalg`` Cholesky.

JAX is imported on the first call (``jax_enable_x64`` is switched on then); without JAX the
module still imports and a call raises `ModuleNotFoundError`. The first call of each kernel per
shape includes tracing and XLA compilation. XLA's CPU threads are fixed when JAX starts: set
``XLA_FLAGS`` before the first call to change them (see `single_thread_flags`).
"""
from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Sequence

import numpy as np

__all__ = [
    "single_thread_flags",
    "fma",
    "_fma",
    "w_tilde_curvature_interferometer_from",
    "w_compact_curvature_interferometer_from",
    "w_tilde_data_interferometer_from",
    "w_tilde_via_compact_from",
    "curvature_matrix_via_w_tilde_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
    "log_likelihood_function_via_w_tilde_from",
    "log_likelihood_function_via_w_compact_from",
]

single_thread_flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
"""``XLA_FLAGS`` that keep XLA's CPU backend on one thread (must be set before JAX starts)."""


def _jax():
    try:
        import jax
    except ImportError:
        raise ModuleNotFoundError(
            "the JAX peer needs jax: pip install 'jax[cpu]' (or pip install 'swiftw[bench]')") from None
    jax.config.update("jax_enable_x64", True)
    return jax


@functools.cache
def _kernels() -> SimpleNamespace:
    """Define and return the jitted kernels (compiled on their first call per shape)."""
    jax = _jax()
    jnp = jax.numpy
    from jax.scipy.linalg import cho_factor, cho_solve

    two_pi = 2.0 * jnp.pi

    @jax.jit
    def fma(out, weights, arrays):
        for i in range(len(arrays)):
            out = out + weights[i] * arrays[i]
        return out

    @jax.jit
    def w_tilde(noise, uv, grid):
        dy = grid[:, None, 0] - grid[None, :, 0]
        dx = grid[:, None, 1] - grid[None, :, 1]

        def step(total, args):
            sigma, u = args
            return total + jnp.cos(two_pi * (dx * u[0] + dy * u[1])) / (sigma * sigma), None

        total, _ = jax.lax.scan(step, jnp.zeros_like(dx), (noise, uv))
        return total

    @functools.partial(jax.jit, static_argnums=0)
    def w_compact(n, noise, uv, pixel_scale):
        two_pi_d = jnp.pi * jnp.pi * pixel_scale / 324000.0
        down = (two_pi_d * jnp.arange(n, dtype=jnp.float64))[:, None]
        along = two_pi_d * (jnp.arange(2 * n - 1, dtype=jnp.float64) - (n - 1))

        def step(total, args):
            sigma, u = args
            return total + jnp.cos(along * u[0] - down * u[1]) * jnp.square(jnp.reciprocal(sigma)), None

        total, _ = jax.lax.scan(step, jnp.zeros((n, 2 * n - 1)), (noise, uv))
        return total

    @jax.jit
    def w_tilde_data(vis, noise, uv, grid):
        """vis, noise: (C, L) and uv: (C, L, 2), chunks of L visibilities (padding has noise 0)."""

        def step(total, args):
            v, sigma, u = args
            weights = jnp.square(jnp.square(sigma) / v)
            phase = two_pi * (grid[:, None, 1] * u[None, :, 0] + grid[:, None, 0] * u[None, :, 1])
            return total + jnp.cos(phase) @ weights, None

        total, _ = jax.lax.scan(step, jnp.zeros(grid.shape[0]), (vis, noise, uv))
        return total

    def unfold(wc, native):
        p = native[:, None, :] - native[None, :, :]
        col = jnp.where(p[:, :, 0] < 0, -p[:, :, 1], p[:, :, 1]) + wc.shape[0] - 1
        return wc[jnp.abs(p[:, :, 0]), col]

    def dense_mapping(idx, wts, pixels):
        valid = jnp.cumprod(idx >= 0, axis=1).astype(bool)
        rows = jnp.broadcast_to(jnp.arange(idx.shape[0])[:, None], idx.shape)
        t = jnp.zeros((idx.shape[0], pixels))
        return t.at[rows, jnp.where(valid, idx, 0)].add(jnp.where(valid, wts, 0.0))

    def curvature_dense(w, idx, wts, pixels):
        t = dense_mapping(idx, wts, pixels)
        return t.T @ w @ t

    curvature_w_tilde = jax.jit(curvature_dense, static_argnums=3)

    @functools.partial(jax.jit, static_argnums=4)
    def curvature_compact(wc, native, idx, wts, pixels):
        return curvature_dense(unfold(wc, native), idx, wts, pixels)

    def regularization(neighbors, sizes):
        s, p = neighbors.shape
        valid = (jnp.arange(p)[None, :] < sizes[:, None]) & jnp.cumprod(neighbors >= 0, axis=1).astype(bool)
        rows = jnp.broadcast_to(jnp.arange(s)[:, None], neighbors.shape)
        h = jnp.diag(1e-8 + sizes.astype(jnp.float64))
        return h.at[rows, jnp.where(valid, neighbors, 0)].add(jnp.where(valid, -1.0, 0.0))

    def likelihood(w, dirty_image, data, noise, idx, wts, neighbors, sizes):
        t = dense_mapping(idx, wts, sizes.shape[0])
        f = t.T @ w @ t
        h = regularization(neighbors, sizes)
        d = dirty_image @ t
        chi_squared = jnp.sum(jnp.square(data.real / noise.real)) + jnp.sum(jnp.square(data.imag / noise.imag))
        normalisation = jnp.sum(jnp.log(two_pi * jnp.square(noise.real))) + jnp.sum(
            jnp.log(two_pi * jnp.square(noise.imag)))
        factor_a = cho_factor(f + h, lower=True)
        factor_h = cho_factor(h, lower=True)
        s = cho_solve(factor_a, d)
        log_det_a = 2.0 * jnp.sum(jnp.log(jnp.diag(factor_a[0])))
        log_det_h = 2.0 * jnp.sum(jnp.log(jnp.diag(factor_h[0])))
        return -0.5 * (chi_squared - s @ d + log_det_a - log_det_h + normalisation)

    likelihood_w_tilde = jax.jit(likelihood)

    @jax.jit
    def likelihood_compact(wc, native, dirty_image, data, noise, idx, wts, neighbors, sizes):
        return likelihood(unfold(wc, native), dirty_image, data, noise, idx, wts, neighbors, sizes)

    return SimpleNamespace(
        fma=fma, w_tilde=w_tilde, w_compact=w_compact, w_tilde_data=w_tilde_data,
        unfold=jax.jit(unfold), curvature_w_tilde=curvature_w_tilde, curvature_compact=curvature_compact,
        likelihood_w_tilde=likelihood_w_tilde, likelihood_compact=likelihood_compact,
    )


def _f(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64)


def _i(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.int64)


def _c(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.complex128)


def fma(out: np.ndarray, weights: Sequence[float], *arrays: np.ndarray) -> None:
    """``out += sum_a weights[a] * arrays[a]``: computed by XLA, then copied back into `out`.

    Returns
    -------
    None
    """
    k = _kernels()
    result = k.fma(out, tuple(float(w) for w in weights), tuple(arrays))
    out[...] = np.asarray(result)


_fma = fma


def w_tilde_curvature_interferometer_from(noise_map_real, uv_wavelengths, grid_radians_slim) -> np.ndarray:
    """The study's iterative JAX w-tilde: ``lax.scan`` over visibilities of an (M, M) slab.

    Returns
    -------
    (M, M) float64
    """
    return np.asarray(_kernels().w_tilde(_f(noise_map_real), _f(uv_wavelengths), _f(grid_radians_slim)))


def w_compact_curvature_interferometer_from(grid_size, noise_map_real, uv_wavelengths, pixel_scale) -> np.ndarray:
    """The study's JAX compact w-tilde: ``lax.scan`` over visibilities of an (N, 2N-1) slab.

    Returns
    -------
    (N, 2N-1) float64
    """
    return np.asarray(_kernels().w_compact(int(grid_size), _f(noise_map_real), _f(uv_wavelengths), float(pixel_scale)))


CHUNK = 1024
"""Visibilities per step of the scans that would otherwise hold an (M, K) array."""


def _chunked(values: np.ndarray, pad: float) -> np.ndarray:
    """(K, ...) -> (ceil(K / CHUNK), CHUNK, ...), padded with `pad`."""
    k = values.shape[0]
    padded = np.full((-(-k // CHUNK) * CHUNK,) + values.shape[1:], pad)
    padded[:k] = values
    return padded.reshape((-1, CHUNK) + values.shape[1:])


def w_tilde_data_interferometer_from(visibilities_real, noise_map_real, uv_wavelengths, grid_radians_slim) -> np.ndarray:
    """``sum_k (sigma_k^2 / V_k)^2 cos(2 pi (x u_k + y v_k))``: ``lax.scan`` over chunks of visibilities,
    each an (M, CHUNK) cosine matrix times the weights.

    Returns
    -------
    (M,) float64
    """
    return np.asarray(_kernels().w_tilde_data(
        _chunked(_f(visibilities_real), 1.0), _chunked(_f(noise_map_real), 0.0),
        _chunked(_f(uv_wavelengths), 0.0), _f(grid_radians_slim)))


def w_tilde_via_compact_from(w_compact, native_index_for_slim_index) -> np.ndarray:
    """Unfold the compact w-tilde into W (M, M) by a gather."""
    return np.asarray(_kernels().unfold(_f(w_compact), _i(native_index_for_slim_index)))


def curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(
    w_tilde, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels
) -> np.ndarray:
    """``F = T^T W T`` with a dense T built from the mappings (the study's ``jax`` row).

    Returns
    -------
    (S, S) float64
    """
    return np.asarray(_kernels().curvature_w_tilde(
        _f(w_tilde), _i(pix_indexes_for_sub_slim_index), _f(pix_weights_for_sub_slim_index), int(pixels)))


def curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
    w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels
) -> np.ndarray:
    """``F = T^T W T`` with W unfolded from the compact form and a dense T.

    Returns
    -------
    (S, S) float64
    """
    return np.asarray(_kernels().curvature_compact(
        _f(w_compact), _i(native_index_for_slim_index), _i(pix_indexes_for_sub_slim_index),
        _f(pix_weights_for_sub_slim_index), int(pixels)))


def log_likelihood_function_via_w_tilde_from(
    dirty_image, data, noise_map, w_tilde,
    pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, neighbors, neighbors_sizes,
) -> float:
    """The log-likelihood of SPEC section 3.6 with W in memory (dense F, JAX Cholesky)."""
    return float(_kernels().likelihood_w_tilde(
        _f(w_tilde), _f(dirty_image), _c(data), _c(noise_map), _i(pix_indexes_for_sub_slim_index),
        _f(pix_weights_for_sub_slim_index), _i(neighbors), _i(neighbors_sizes)))


def log_likelihood_function_via_w_compact_from(
    dirty_image, data, noise_map, w_compact, native_index_for_slim_index,
    pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, neighbors, neighbors_sizes,
) -> float:
    """The log-likelihood of SPEC section 3.6 from the compact w-tilde (dense F, JAX Cholesky).

    Returns
    -------
    float
    """
    return float(_kernels().likelihood_compact(
        _f(w_compact), _i(native_index_for_slim_index), _f(dirty_image), _c(data), _c(noise_map),
        _i(pix_indexes_for_sub_slim_index), _f(pix_weights_for_sub_slim_index), _i(neighbors),
        _i(neighbors_sizes)))
