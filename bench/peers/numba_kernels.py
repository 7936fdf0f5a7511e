"""The reference Numba kernels, re-implemented as the study and PyAutoArray write them.

Same names, parameter names and outputs as swiftw's top-level functions:

- `fma`: the talk's ``@numba.jit(parallel=True)`` loop ``out += weight * array``.
- `w_tilde_curvature_interferometer_from`: PyAutoArray's triple loop (upper triangle, mirrored),
  ``prange`` over image pixels, one cosine per (pair, visibility).
- `w_compact_curvature_interferometer_from`: the study's compact form, looping over the
  N (2N-1) offsets (``prange`` over rows) and, inside, over visibilities.
- `w_tilde_data_interferometer_from`: ``prange`` over image pixels, a loop over visibilities.
- `curvature_matrix_via_w_compact_sparse_mapping_matrix_from` and
  `curvature_matrix_via_w_tilde_sparse_mapping_matrix_from`: the sparse scatter, ``Omega = W T``
  scattered into ``Omega[i, s]`` (``prange`` over image pixels), then ``F = T^T Omega``.
- `curvature_matrix_via_w_tilde_curvature_preload_interferometer_from` with the production
  signature (PyAutoArray's pair loop over the preload layout, serial as in PyAutoArray) is here
  as `autoarray_curvature_matrix_via_w_tilde_curvature_preload_interferometer_from`; the
  top-level name keeps swiftw's parameters (it is the compact scatter, as the study aliases it).
- `curvature_direct_conv`: the production library's 2026 direct extent-grid convolution (its
  parameters), serial, written from the mathematics of SPEC 3.9.
- `log_likelihood_function_via_w_compact_from` / `..._via_w_tilde_from`: the scatter F, the
  regularisation loop, and Numba's LAPACK bindings (Cholesky, solve).

Weights ``c_k = sigma_k^-2`` are computed once per call rather than inside the innermost loop.
Everything is compiled lazily on the first call with ``cache=False``: the first call of each
kernel (per argument types) includes its compilation. Numba is imported only then; without it
the module still imports, and a call raises `ModuleNotFoundError`. Threads: `set_num_threads`.
"""
from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Sequence

import numpy as np

__all__ = [
    "set_num_threads",
    "get_num_threads",
    "fma",
    "_fma",
    "w_tilde_curvature_interferometer_from",
    "w_compact_curvature_interferometer_from",
    "w_tilde_data_interferometer_from",
    "w_tilde_via_compact_from",
    "curvature_matrix_via_w_tilde_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_tilde_curvature_preload_interferometer_from",
    "autoarray_curvature_matrix_via_w_tilde_curvature_preload_interferometer_from",
    "curvature_direct_conv",
    "constant_regularization_matrix_from",
    "log_likelihood_function_via_w_tilde_from",
    "log_likelihood_function_via_w_compact_from",
]


def _numba():
    try:
        import numba
    except ImportError:
        raise ModuleNotFoundError(
            "the Numba peer needs numba: pip install numba (or pip install 'swiftw[bench]')") from None
    return numba


def set_num_threads(n: int) -> None:
    """Threads of the ``parallel=True`` kernels (``numba.set_num_threads``)."""
    _numba().set_num_threads(int(n))


def get_num_threads() -> int:
    """Threads of the ``parallel=True`` kernels."""
    return _numba().get_num_threads()


@functools.cache
def _kernels() -> SimpleNamespace:
    """Define and return the jitted kernels (compiled on their first call)."""
    numba = _numba()
    prange = numba.prange
    jit = functools.partial(numba.njit, cache=False, nogil=True)
    two_pi = 2.0 * np.pi

    @numba.jit(parallel=True, cache=False)
    def fma(out, weights, *arrays):
        for weight, array in zip(weights, arrays):
            out += weight * array

    @jit(parallel=True)
    def w_tilde(c, uv, grid):
        m = grid.shape[0]
        w = np.zeros((m, m))
        for i in prange(m):
            for j in range(i, m):
                y_offset = grid[i, 1] - grid[j, 1]  # PyAutoArray's names: the x offset pairs with u
                x_offset = grid[i, 0] - grid[j, 0]
                value = 0.0
                for k in range(c.shape[0]):
                    value += c[k] * np.cos(two_pi * (y_offset * uv[k, 0] + x_offset * uv[k, 1]))
                w[i, j] = value
        for i in range(m):
            for j in range(i, m):
                w[j, i] = w[i, j]
        return w

    @jit(parallel=True)
    def w_compact(n, c, uv, pixel_scale):
        two_pi_d = np.pi * np.pi * pixel_scale / 324000.0
        out = np.zeros((n, 2 * n - 1))
        for row in prange(n):
            down = two_pi_d * row
            for col in range(2 * n - 1):
                along = two_pi_d * (col - (n - 1))
                value = 0.0
                for k in range(c.shape[0]):
                    value += c[k] * np.cos(along * uv[k, 0] - down * uv[k, 1])
                out[row, col] = value
        return out

    @jit(parallel=True)
    def w_tilde_data(weights, uv, grid):
        m = grid.shape[0]
        out = np.zeros(m)
        for i in prange(m):
            y = grid[i, 0]
            x = grid[i, 1]
            value = 0.0
            for k in range(weights.shape[0]):
                value += weights[k] * np.cos(two_pi * (x * uv[k, 0] + y * uv[k, 1]))
            out[i] = value
        return out

    @jit
    def compact_value(wc, dr, dc):
        if dr >= 0:
            return wc[dr, dc + wc.shape[0] - 1]
        return wc[-dr, -dc + wc.shape[0] - 1]

    @jit(parallel=True)
    def w_tilde_via_compact(wc, native):
        m = native.shape[0]
        w = np.empty((m, m))
        for i in prange(m):
            for j in range(m):
                w[i, j] = compact_value(wc, native[i, 0] - native[j, 0], native[i, 1] - native[j, 1])
        return w

    @jit(parallel=True)
    def omega_from_w_tilde(w, idx, wts, pixels):
        m = idx.shape[0]
        omega = np.zeros((m, pixels))
        for i in prange(m):
            for j in range(m):
                value = w[i, j]
                for b in range(idx.shape[1]):
                    s = idx[j, b]
                    if s < 0:
                        break
                    omega[i, s] += value * wts[j, b]
        return omega

    @jit(parallel=True)
    def omega_from_compact(wc, native, idx, wts, pixels):
        m = idx.shape[0]
        omega = np.zeros((m, pixels))
        for i in prange(m):
            row = native[i, 0]
            col = native[i, 1]
            for j in range(m):
                value = compact_value(wc, row - native[j, 0], col - native[j, 1])
                for b in range(idx.shape[1]):
                    s = idx[j, b]
                    if s < 0:
                        break
                    omega[i, s] += value * wts[j, b]
        return omega

    @jit(parallel=True)
    def transpose_mapping_matmul(omega, idx, wts, pixels):
        """``T^T omega``, in column blocks so threads never write the same element."""
        width = 64
        f = np.zeros((pixels, omega.shape[1]))
        for block in prange((omega.shape[1] + width - 1) // width):
            lo = block * width
            hi = min(lo + width, omega.shape[1])
            for i in range(idx.shape[0]):
                for b in range(idx.shape[1]):
                    s = idx[i, b]
                    if s < 0:
                        break
                    weight = wts[i, b]
                    for t in range(lo, hi):
                        f[s, t] += weight * omega[i, t]
        return f

    @jit
    def preload_pair_loop(preload, idx, pix_size, wts, native, pixels):
        f = np.zeros((pixels, pixels))
        m = native.shape[0]
        for ip0 in range(m):
            y0 = native[ip0, 0]
            x0 = native[ip0, 1]
            for a in range(pix_size[ip0]):
                sp0 = idx[ip0, a]
                w0 = wts[ip0, a]
                for ip1 in range(m):
                    value = preload[native[ip1, 0] - y0, native[ip1, 1] - x0] * w0
                    for b in range(pix_size[ip1]):
                        f[sp0, idx[ip1, b]] += value * wts[ip1, b]
        return f

    @jit
    def direct_conv(preload, iy, ix, flat, indptr, col, val, cscptr, csc_row, csc_val, ny, nx, pixels):
        # Column s of W T on the whole extent: each entry adds its weight times the preload
        # shifted to its cell, row by row in two contiguous runs (offsets dx < 0 wrap to the
        # right half of the preload row); then row s of F gathers it through T's rows.
        f = np.zeros((pixels, pixels))
        omega = np.empty(ny * nx)
        for s in range(pixels):
            omega[:] = 0.0
            for t in range(cscptr[s], cscptr[s + 1]):
                i = csc_row[t]
                w = csc_val[t]
                y, x = iy[i], ix[i]
                for jy in range(ny):
                    kernel_row = preload[(jy - y) % (2 * ny)]
                    out = jy * nx
                    for jx in range(x):
                        omega[out + jx] += w * kernel_row[2 * nx - x + jx]
                    for jx in range(x, nx):
                        omega[out + jx] += w * kernel_row[jx - x]
            for i in range(indptr.shape[0] - 1):
                value = omega[flat[i]]
                for t in range(indptr[i], indptr[i + 1]):
                    f[s, col[t]] += val[t] * value
        return f

    @jit
    def regularization(coefficient, neighbors, sizes):
        c2 = coefficient * coefficient
        h = np.diag(1e-8 + c2 * sizes.astype(np.float64))
        for i in range(sizes.shape[0]):
            for j in range(sizes[i]):
                k = neighbors[i, j]
                if k < 0:
                    break
                h[i, k] -= c2
        return h

    @jit
    def data_vector(dirty_image, idx, wts, pixels):
        d = np.zeros(pixels)
        for i in range(idx.shape[0]):
            for b in range(idx.shape[1]):
                s = idx[i, b]
                if s < 0:
                    break
                d[s] += wts[i, b] * dirty_image[i]
        return d

    @jit
    def likelihood_terms(f, h, d, data, noise):
        chi_squared = 0.0
        normalisation = 0.0
        for k in range(data.shape[0]):
            chi_squared += (data[k].real / noise[k].real) ** 2 + (data[k].imag / noise[k].imag) ** 2
            normalisation += np.log(two_pi * noise[k].real ** 2) + np.log(two_pi * noise[k].imag ** 2)
        a = f + h
        log_det_a = 2.0 * np.sum(np.log(np.diag(np.linalg.cholesky(a))))
        log_det_h = 2.0 * np.sum(np.log(np.diag(np.linalg.cholesky(h))))
        s = np.linalg.solve(a, d)
        return -0.5 * (chi_squared - np.dot(s, d) + log_det_a - log_det_h + normalisation)

    return SimpleNamespace(**{k: v for k, v in locals().items() if hasattr(v, "py_func")})


# ------------------------------------------------------------------------------------------------
# argument conversion: one dtype and layout per parameter, so each kernel compiles once
# ------------------------------------------------------------------------------------------------


def _f(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64)


def _i(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.int64)


def _c(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.complex128)


def _weights(noise_map_real) -> np.ndarray:
    return 1.0 / np.square(_f(noise_map_real))


# ------------------------------------------------------------------------------------------------
# public kernels
# ------------------------------------------------------------------------------------------------


def fma(out: np.ndarray, weights: Sequence[float], *arrays: np.ndarray) -> None:
    """The talk's ``_fma``: ``out += weight * array`` per array, ``@numba.jit(parallel=True)``.

    Parameters
    ----------
    out : ndarray
        Updated in place.
    weights : sequence of float
    *arrays : ndarray
        Same shape and dtype as `out`.

    Returns
    -------
    None
    """
    _kernels().fma(out, tuple(float(w) for w in weights), *arrays)


_fma = fma


def w_tilde_curvature_interferometer_from(noise_map_real, uv_wavelengths, grid_radians_slim) -> np.ndarray:
    """PyAutoArray's direct w-tilde: a triple loop over pixel pairs and visibilities (M^2 K / 2 cosines).

    Returns
    -------
    (M, M) float64
    """
    return _kernels().w_tilde(_weights(noise_map_real), _f(uv_wavelengths), _f(grid_radians_slim))


def w_compact_curvature_interferometer_from(grid_size, noise_map_real, uv_wavelengths, pixel_scale) -> np.ndarray:
    """The study's compact w-tilde: a loop over the N (2N-1) offsets and the K visibilities.

    Returns
    -------
    (N, 2N-1) float64
    """
    return _kernels().w_compact(int(grid_size), _weights(noise_map_real), _f(uv_wavelengths), float(pixel_scale))


def w_tilde_data_interferometer_from(visibilities_real, noise_map_real, uv_wavelengths, grid_radians_slim) -> np.ndarray:
    """``prange`` over image pixels of ``sum_k (sigma_k^2 / V_k)^2 cos(2 pi (x u_k + y v_k))``.

    Returns
    -------
    (M,) float64
    """
    weights = np.square(np.square(_f(noise_map_real)) / _f(visibilities_real))
    return _kernels().w_tilde_data(weights, _f(uv_wavelengths), _f(grid_radians_slim))


def w_tilde_via_compact_from(w_compact, native_index_for_slim_index) -> np.ndarray:
    """Unfold the compact w-tilde into W (M, M).

    Returns
    -------
    (M, M) float64
    """
    return _kernels().w_tilde_via_compact(_f(w_compact), _i(native_index_for_slim_index))


def curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(
    w_tilde, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels
) -> np.ndarray:
    """``F = T^T (W T)`` with W in memory: scatter ``Omega[i, s]``, then ``T^T Omega``.

    Returns
    -------
    (S, S) float64
    """
    k = _kernels()
    idx, wts, pixels = _i(pix_indexes_for_sub_slim_index), _f(pix_weights_for_sub_slim_index), int(pixels)
    return k.transpose_mapping_matmul(k.omega_from_w_tilde(_f(w_tilde), idx, wts, pixels), idx, wts, pixels)


def curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
    w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels
) -> np.ndarray:
    """``F = T^T (W T)`` from the compact w-tilde: W looked up per pair and scattered into ``Omega[i, s]``.

    Returns
    -------
    (S, S) float64
    """
    k = _kernels()
    idx, wts, pixels = _i(pix_indexes_for_sub_slim_index), _f(pix_weights_for_sub_slim_index), int(pixels)
    omega = k.omega_from_compact(_f(w_compact), _i(native_index_for_slim_index), idx, wts, pixels)
    return k.transpose_mapping_matmul(omega, idx, wts, pixels)


curvature_matrix_via_w_tilde_curvature_preload_interferometer_from = (
    curvature_matrix_via_w_compact_sparse_mapping_matrix_from
)


def autoarray_curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(
    curvature_preload, pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index,
    pix_weights_for_sub_slim_index, native_index_for_slim_index, pix_pixels,
) -> np.ndarray:
    """PyAutoArray's pair loop: ``F[s0, s1] += preload[dy, dx] w0 w1`` over every pixel pair (serial).

    Parameters
    ----------
    curvature_preload : (2N, 2N) float64
        The preload layout, indexed by ``(row_j - row_i, col_j - col_i)`` with negative wrap.
    pix_indexes_for_sub_slim_index : (M, B) int64
    pix_size_for_sub_slim_index : (M,) int64
    pix_weights_for_sub_slim_index : (M, B) float64
    native_index_for_slim_index : (M, 2) int64
    pix_pixels : int

    Returns
    -------
    (S, S) float64
    """
    return _kernels().preload_pair_loop(
        _f(curvature_preload), _i(pix_indexes_for_sub_slim_index), _i(pix_size_for_sub_slim_index),
        _f(pix_weights_for_sub_slim_index), _i(native_index_for_slim_index), int(pix_pixels))


def curvature_direct_conv(preload, iy, ix, flat, indptr, col, val, cscptr, csc_row, csc_val, ny, nx,
                          pix_pixels) -> np.ndarray:
    """The production library's (PyAutoArray, Sept 2026) direct extent-grid convolution, written
    here from the mathematics (SPEC 3.9), serial: for each source column s, ``omega = W T[:, s]``
    on the whole (ny, nx) extent from the CSC entries and the wrap-around preload, then
    ``F[s, :] = T^T omega`` through the CSR rows. Cost nnz x ny nx multiply-adds plus S nnz.

    Parameters
    ----------
    As `swiftw.autoarray.curvature_direct_conv` (and `swiftw.autoarray.kernel_inputs_from`).

    Returns
    -------
    (S, S) float64
    """
    return _kernels().direct_conv(_f(preload), _i(iy), _i(ix), _i(flat), _i(indptr), _i(col), _f(val), _i(cscptr),
                                  _i(csc_row), _f(csc_val), int(ny), int(nx), int(pix_pixels))


def constant_regularization_matrix_from(coefficient, neighbors, neighbors_sizes) -> np.ndarray:
    """The constant regularisation matrix H (S, S), by PyAutoArray's loop."""
    return _kernels().regularization(float(coefficient), _i(neighbors), _i(neighbors_sizes))


def _log_likelihood(dirty_image, data, noise_map, f, idx, wts, neighbors, neighbors_sizes) -> float:
    k = _kernels()
    h = constant_regularization_matrix_from(1.0, neighbors, neighbors_sizes)
    d = k.data_vector(_f(dirty_image), idx, wts, h.shape[0])
    return float(k.likelihood_terms(f, h, d, _c(data), _c(noise_map)))


def log_likelihood_function_via_w_tilde_from(
    dirty_image, data, noise_map, w_tilde,
    pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, neighbors, neighbors_sizes,
) -> float:
    """The log-likelihood of SPEC section 3.6 with W in memory (scatter F, LAPACK via Numba)."""
    idx, wts = _i(pix_indexes_for_sub_slim_index), _f(pix_weights_for_sub_slim_index)
    f = curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w_tilde, idx, wts, len(neighbors_sizes))
    return _log_likelihood(dirty_image, data, noise_map, f, idx, wts, neighbors, neighbors_sizes)


def log_likelihood_function_via_w_compact_from(
    dirty_image, data, noise_map, w_compact, native_index_for_slim_index,
    pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, neighbors, neighbors_sizes,
) -> float:
    """The log-likelihood of SPEC section 3.6 from the compact w-tilde (scatter F, LAPACK via Numba).

    Returns
    -------
    float
    """
    idx, wts = _i(pix_indexes_for_sub_slim_index), _f(pix_weights_for_sub_slim_index)
    f = curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
        w_compact, native_index_for_slim_index, idx, wts, len(neighbors_sizes))
    return _log_likelihood(dirty_image, data, noise_map, f, idx, wts, neighbors, neighbors_sizes)
