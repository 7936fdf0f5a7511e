"""The kernels in plain vectorised NumPy (and SciPy): the reference for the benchmark.

Same names, parameter names and outputs as swiftw's top-level functions. Sums over visibilities
are evaluated directly (one cosine per term, as the formulas in SPEC section 3 are written) in
chunks of visibilities, so memory stays near `CHUNK_BYTES` whatever K is. Dense linear algebra
is LAPACK through SciPy (one Cholesky factorisation per matrix).

The curvature matrix from the compact w-tilde has two methods: ``"dense"`` unfolds W (M, M)
and forms ``T^T W T`` with a sparse T; ``"fft"`` applies W as a zero-padded real-FFT
convolution of each source column's image (W depends only on pixel offsets), in batches of
columns, which needs O(N^2) memory per column instead of O(M^2).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = [
    "CHUNK_BYTES",
    "set_num_threads",
    "get_num_threads",
    "fma",
    "w_tilde_curvature_interferometer_from",
    "w_compact_curvature_interferometer_from",
    "w_tilde_data_interferometer_from",
    "w_tilde_via_compact_from",
    "w_tilde_preload_via_compact_from",
    "sparse_mapping_matrix_from",
    "mapping_matrix_from",
    "curvature_matrix_via_w_tilde_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
    "constant_regularization_matrix_from",
    "noise_normalization_complex_from",
    "log_likelihood_function_via_w_tilde_from",
    "log_likelihood_function_via_w_compact_from",
]

CHUNK_BYTES = 32 * 2**20
"""Bytes of temporary array per chunk of visibilities (or of FFT columns)."""

DENSE_LIMIT_BYTES = 2 * 2**30
"""`method="auto"` unfolds W only while it takes at most this many bytes; above, it uses the FFT."""

_ARCSEC = np.pi / 648000.0
_fft_workers = 1


def set_num_threads(n: int) -> None:
    """Threads of the FFT method (SciPy's ``workers``). BLAS threads are not touched here."""
    global _fft_workers
    if int(n) < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    _fft_workers = int(n)


def get_num_threads() -> int:
    """Threads of the FFT method."""
    return _fft_workers


def _chunks(total: int, per_item_bytes: int):
    """Slices of range(total) whose items take about `CHUNK_BYTES` together."""
    step = max(1, CHUNK_BYTES // max(1, per_item_bytes))
    for start in range(0, total, step):
        yield slice(start, min(total, start + step))


# ------------------------------------------------------------------------------------------------
# weighted sum
# ------------------------------------------------------------------------------------------------


def fma(out: np.ndarray, weights: Sequence[float], *arrays: np.ndarray) -> None:
    """``out += weights[a] * arrays[a]`` for each array in turn, in place (the study's NumPy loop).

    Parameters
    ----------
    out : ndarray
        Updated in place.
    weights : sequence of float
    *arrays : ndarray
        Same shape as `out`.

    Returns
    -------
    None
    """
    for weight, array in zip(weights, arrays):
        out += weight * array


# ------------------------------------------------------------------------------------------------
# w-tilde family
# ------------------------------------------------------------------------------------------------


def _weights(noise_map_real: np.ndarray) -> np.ndarray:
    return 1.0 / np.square(np.asarray(noise_map_real, dtype=np.float64))


def w_tilde_curvature_interferometer_from(
    noise_map_real: np.ndarray, uv_wavelengths: np.ndarray, grid_radians_slim: np.ndarray
) -> np.ndarray:
    """``W[i, j] = sum_k c_k cos(2 pi [(x_i - x_j) u_k + (y_i - y_j) v_k])``, ``c_k = sigma_k^-2``.

    Direct: M (M+1) K / 2 cosines (the upper triangle, mirrored), in chunks of visibilities.

    Parameters
    ----------
    noise_map_real : (K,) float64
    uv_wavelengths : (K, 2) float64
    grid_radians_slim : (M, 2) float64
        (y, x) of each image pixel in radians.

    Returns
    -------
    (M, M) float64
    """
    c = _weights(noise_map_real)
    uv = np.asarray(uv_wavelengths, dtype=np.float64)
    grid = np.asarray(grid_radians_slim, dtype=np.float64)
    m = grid.shape[0]
    upper = np.triu_indices(m)
    dy = (2.0 * np.pi) * (grid[upper[0], 0] - grid[upper[1], 0])
    dx = (2.0 * np.pi) * (grid[upper[0], 1] - grid[upper[1], 1])
    values = np.zeros(len(dx))
    for ks in _chunks(len(c), 2 * len(dx) * 8):
        phase = np.multiply.outer(uv[ks, 0], dx)
        phase += np.multiply.outer(uv[ks, 1], dy)
        np.cos(phase, out=phase)
        values += c[ks] @ phase
    w = np.empty((m, m))
    w[upper] = values
    w.T[upper] = values
    return w


def w_compact_curvature_interferometer_from(
    grid_size: int, noise_map_real: np.ndarray, uv_wavelengths: np.ndarray, pixel_scale: float
) -> np.ndarray:
    """``w_compact[m, n] = sum_k c_k cos(D [(n - (N-1)) u_k - m v_k])``, ``D = pi^2 ps / 324000``.

    Direct: N (2N-1) K cosines, in chunks of visibilities.

    Parameters
    ----------
    grid_size : int
        N.
    noise_map_real : (K,) float64
    uv_wavelengths : (K, 2) float64
    pixel_scale : float
        Arcseconds per pixel.

    Returns
    -------
    (N, 2N-1) float64
    """
    n = int(grid_size)
    c = _weights(noise_map_real)
    uv = np.asarray(uv_wavelengths, dtype=np.float64)
    d = np.pi * np.pi * float(pixel_scale) / 324000.0
    along = d * (np.arange(2 * n - 1) - (n - 1.0))  # multiplies u
    down = d * np.arange(n, dtype=np.float64)  # multiplies v
    out = np.zeros((n, 2 * n - 1))
    for ks in _chunks(len(c), 2 * n * (2 * n - 1) * 8):
        phase = np.empty((n, 2 * n - 1, ks.stop - ks.start))
        np.multiply(along[None, :, None], uv[None, None, ks, 0], out=phase)
        phase -= down[:, None, None] * uv[None, None, ks, 1]
        np.cos(phase, out=phase)
        out += phase @ c[ks]
    return out


def w_tilde_data_interferometer_from(
    visibilities_real: np.ndarray,
    noise_map_real: np.ndarray,
    uv_wavelengths: np.ndarray,
    grid_radians_slim: np.ndarray,
) -> np.ndarray:
    """``out[i] = sum_k (sigma_k^2 / V_k)^2 cos(2 pi (x_i u_k + y_i v_k))``.

    Direct: M K cosines, in chunks of visibilities.

    Parameters
    ----------
    visibilities_real : (K,) float64
    noise_map_real : (K,) float64
    uv_wavelengths : (K, 2) float64
    grid_radians_slim : (M, 2) float64

    Returns
    -------
    (M,) float64
    """
    weights = np.square(np.square(np.asarray(noise_map_real, dtype=np.float64)) / visibilities_real)
    uv = np.asarray(uv_wavelengths, dtype=np.float64)
    grid = np.asarray(grid_radians_slim, dtype=np.float64)
    y = (2.0 * np.pi) * grid[:, 0]
    x = (2.0 * np.pi) * grid[:, 1]
    out = np.zeros(grid.shape[0])
    for ks in _chunks(len(weights), 2 * grid.shape[0] * 8):
        phase = x[:, None] * uv[None, ks, 0]
        phase += y[:, None] * uv[None, ks, 1]
        np.cos(phase, out=phase)
        out += phase @ weights[ks]
    return out


def _compact_offsets(native: np.ndarray, n: int):
    """Row and column of w_compact for every pixel pair (i, j), as two (M, M) index arrays."""
    dr = native[:, None, 0] - native[None, :, 0]
    dc = native[:, None, 1] - native[None, :, 1]
    flip = dr < 0
    return np.abs(dr), np.where(flip, -dc, dc) + (n - 1)


def w_tilde_via_compact_from(w_compact: np.ndarray, native_index_for_slim_index: np.ndarray) -> np.ndarray:
    """Unfold the compact w-tilde into W (M, M) by fancy indexing.

    Parameters
    ----------
    w_compact : (N, 2N-1) float64
    native_index_for_slim_index : (M, 2) int64

    Returns
    -------
    (M, M) float64
    """
    wc = np.asarray(w_compact, dtype=np.float64)
    rows, cols = _compact_offsets(np.asarray(native_index_for_slim_index), wc.shape[0])
    return wc[rows, cols]


def w_tilde_preload_via_compact_from(w_compact: np.ndarray) -> np.ndarray:
    """PyAutoArray's preload layout (2N, 2N) from the compact form (SPEC section 3.3).

    ``preload[dy mod 2N, dx mod 2N]`` is W of a pair with ``row_j - row_i = dy`` and
    ``col_j - col_i = dx``; row N and column N are zero.

    Parameters
    ----------
    w_compact : (N, 2N-1) float64

    Returns
    -------
    (2N, 2N) float64
    """
    wc = np.asarray(w_compact, dtype=np.float64)
    n = wc.shape[0]
    offsets = np.arange(-(n - 1), n)
    preload = np.zeros((2 * n, 2 * n))
    # dy <= 0 (pixel j above i): W = w_compact[-dy, -dx + N-1]; dy > 0: w_compact[dy, dx + N-1]
    preload[np.ix_((-np.arange(n)) % (2 * n), offsets % (2 * n))] = wc[:, ::-1]
    preload[np.ix_(np.arange(1, n), offsets % (2 * n))] = wc[1:, :]
    return preload


# ------------------------------------------------------------------------------------------------
# mapping matrix and curvature matrix
# ------------------------------------------------------------------------------------------------


def _valid_mappings(pix_indexes_for_sub_slim_index: np.ndarray) -> np.ndarray:
    """(M, B) bool: the entries before each row's first -1."""
    return np.cumprod(np.asarray(pix_indexes_for_sub_slim_index) >= 0, axis=1).astype(bool)


def sparse_mapping_matrix_from(
    pix_indexes_for_sub_slim_index: np.ndarray, pix_weights_for_sub_slim_index: np.ndarray, pixels: int
):
    """The mapping matrix T (M, S) as a SciPy CSR matrix (duplicate entries are summed).

    Parameters
    ----------
    pix_indexes_for_sub_slim_index : (M, B) int64
        A row ends at its first -1.
    pix_weights_for_sub_slim_index : (M, B) float64
    pixels : int

    Returns
    -------
    scipy.sparse.csr_matrix, shape (M, S)
    """
    from scipy.sparse import csr_matrix

    idx = np.asarray(pix_indexes_for_sub_slim_index)
    valid = _valid_mappings(idx)
    rows = np.nonzero(valid)[0]
    weights = np.asarray(pix_weights_for_sub_slim_index, dtype=np.float64)[valid]
    t = csr_matrix((weights, (rows, idx[valid])), shape=(idx.shape[0], int(pixels)))
    t.sum_duplicates()
    return t


def mapping_matrix_from(
    pix_indexes_for_sub_slim_index: np.ndarray, pix_weights_for_sub_slim_index: np.ndarray, pixels: int
) -> np.ndarray:
    """The dense mapping matrix T (M, S)."""
    return sparse_mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels).toarray()


def _symmetrised(f: np.ndarray) -> np.ndarray:
    return 0.5 * (f + f.T)


def curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(
    w_tilde: np.ndarray,
    pix_indexes_for_sub_slim_index: np.ndarray,
    pix_weights_for_sub_slim_index: np.ndarray,
    pixels: int,
) -> np.ndarray:
    """``F = T^T W T`` with W in memory and a sparse T.

    Parameters
    ----------
    w_tilde : (M, M) float64
    pix_indexes_for_sub_slim_index : (M, B) int64
    pix_weights_for_sub_slim_index : (M, B) float64
    pixels : int

    Returns
    -------
    (S, S) float64
    """
    t = sparse_mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    tt_w = t.T @ np.asarray(w_tilde, dtype=np.float64)  # (S, M) = (W T)^T as W is symmetric
    return _symmetrised(np.asarray(t.T @ tt_w.T))


def _fft_shape(n: int) -> tuple[int, int]:
    from scipy.fft import next_fast_len

    side = next_fast_len(2 * n - 1, real=True)
    return side, side


def _kernel_image(w_compact: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """W as a function of the pixel offset (dr, dc), laid out for a circular convolution."""
    n = w_compact.shape[0]
    offsets = np.arange(-(n - 1), n) % shape[1]
    kernel = np.zeros(shape)
    kernel[np.ix_(np.arange(n), offsets)] = w_compact  # dr >= 0
    kernel[np.ix_((-np.arange(1, n)) % shape[0], offsets)] = w_compact[1:, ::-1]  # dr < 0
    return kernel


def _curvature_fft(w_compact, native, t, pixels: int) -> np.ndarray:
    """``F = T^T (W T)`` with ``W T`` as a zero-padded real-FFT convolution, batched over columns."""
    from scipy import fft

    wc = np.asarray(w_compact, dtype=np.float64)
    shape = _fft_shape(wc.shape[0])
    spectrum = fft.rfft2(_kernel_image(wc, shape), workers=_fft_workers)
    rows, cols = native[:, 0], native[:, 1]
    t_columns = t.tocsc()
    f = np.empty((pixels, pixels))
    for batch in _chunks(pixels, 4 * shape[0] * shape[1] * 8):
        images = np.zeros((batch.stop - batch.start,) + shape)
        images[:, rows, cols] = t_columns[:, batch].toarray().T
        convolved = fft.irfft2(fft.rfft2(images, workers=_fft_workers) * spectrum, s=shape, workers=_fft_workers)
        omega = convolved[:, rows, cols].T  # (M, batch) = W T[:, batch]
        f[:, batch] = t.T @ omega
    return _symmetrised(f)


def curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
    w_compact: np.ndarray,
    native_index_for_slim_index: np.ndarray,
    pix_indexes_for_sub_slim_index: np.ndarray,
    pix_weights_for_sub_slim_index: np.ndarray,
    pixels: int,
    *,
    method: str = "auto",
) -> np.ndarray:
    """``F = T^T W T`` from the compact w-tilde.

    Parameters
    ----------
    w_compact : (N, 2N-1) float64
    native_index_for_slim_index : (M, 2) int64
    pix_indexes_for_sub_slim_index : (M, B) int64
    pix_weights_for_sub_slim_index : (M, B) float64
    pixels : int
    method : {"auto", "dense", "fft"}, keyword-only
        ``"dense"`` unfolds W (8 M^2 bytes) and multiplies by a sparse T; ``"fft"`` convolves
        each source column's image with W by real FFTs of a (2N-1)-padded grid. ``"auto"``
        takes ``"dense"`` while W fits in `DENSE_LIMIT_BYTES`.

    Returns
    -------
    (S, S) float64
    """
    native = np.asarray(native_index_for_slim_index)
    if method == "auto":
        method = "dense" if 8 * native.shape[0] ** 2 <= DENSE_LIMIT_BYTES else "fft"
    if method == "dense":
        w = w_tilde_via_compact_from(w_compact, native)
        return curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(
            w, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    if method == "fft":
        t = sparse_mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
        return _curvature_fft(w_compact, native, t, int(pixels))
    raise ValueError(f"method must be 'auto', 'dense' or 'fft', got {method!r}")


# ------------------------------------------------------------------------------------------------
# regularisation and likelihood
# ------------------------------------------------------------------------------------------------


def constant_regularization_matrix_from(
    coefficient: float, neighbors: np.ndarray, neighbors_sizes: np.ndarray
) -> np.ndarray:
    """``H[i, i] = 1e-8 + coefficient^2 neighbors_sizes[i]``, ``H[i, k] -= coefficient^2`` per neighbour.

    Parameters
    ----------
    coefficient : float
    neighbors : (S, P) int64
        A row ends at its first -1 (and after ``neighbors_sizes[i]`` entries).
    neighbors_sizes : (S,) int64

    Returns
    -------
    (S, S) float64
    """
    nb = np.asarray(neighbors)
    sizes = np.asarray(neighbors_sizes)
    c2 = float(coefficient) ** 2
    h = np.diag(1e-8 + c2 * sizes.astype(np.float64))
    valid = _valid_mappings(nb) & (np.arange(nb.shape[1])[None, :] < sizes[:, None])
    rows = np.nonzero(valid)[0]
    np.add.at(h, (rows, nb[valid]), -c2)
    return h


def noise_normalization_complex_from(noise_map: np.ndarray) -> float:
    """``sum log(2 pi Re^2) + sum log(2 pi Im^2)``."""
    noise = np.asarray(noise_map)
    return float(np.sum(np.log(2 * np.pi * noise.real**2)) + np.sum(np.log(2 * np.pi * noise.imag**2)))


def _cholesky_terms(a: np.ndarray, b: np.ndarray | None):
    """log det a and a^-1 b from one Cholesky factorisation."""
    from scipy.linalg import cho_factor, cho_solve

    factor = cho_factor(a, lower=True, check_finite=False)
    log_det = 2.0 * float(np.sum(np.log(np.diag(factor[0]))))
    return log_det, (None if b is None else cho_solve(factor, b, check_finite=False))


def _log_likelihood(dirty_image, data, noise_map, f, t, neighbors, neighbors_sizes) -> float:
    h = constant_regularization_matrix_from(1.0, neighbors, neighbors_sizes)
    d = t.T @ np.asarray(dirty_image, dtype=np.float64)
    data = np.asarray(data)
    noise = np.asarray(noise_map)
    chi_squared = float(np.sum((data.real / noise.real) ** 2) + np.sum((data.imag / noise.imag) ** 2))
    log_det_a, s = _cholesky_terms(f + h, d)
    log_det_h, _ = _cholesky_terms(h, None)
    return -0.5 * (chi_squared - float(s @ d) + log_det_a - log_det_h + noise_normalization_complex_from(noise))


def log_likelihood_function_via_w_tilde_from(
    dirty_image, data, noise_map, w_tilde,
    pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, neighbors, neighbors_sizes,
) -> float:
    """The log-likelihood of SPEC section 3.6 from W in memory.

    ``-0.5 (chi.chi - s.d + log det A - log det H + noise_normalization)`` with ``A = F + H``,
    ``d = T^T dirty_image`` and ``s = A^-1 d``.

    Returns
    -------
    float
    """
    pixels = len(neighbors_sizes)
    t = sparse_mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    f = curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(
        w_tilde, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    return _log_likelihood(dirty_image, data, noise_map, f, t, neighbors, neighbors_sizes)


def log_likelihood_function_via_w_compact_from(
    dirty_image, data, noise_map, w_compact, native_index_for_slim_index,
    pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, neighbors, neighbors_sizes,
) -> float:
    """The log-likelihood of SPEC section 3.6 from the compact w-tilde.

    Parameters
    ----------
    dirty_image : (M,) float64
    data, noise_map : (K,) complex128
    w_compact : (N, 2N-1) float64
    native_index_for_slim_index : (M, 2) int64
    pix_indexes_for_sub_slim_index : (M, B) int64
    pix_weights_for_sub_slim_index : (M, B) float64
    neighbors : (S, P) int64
    neighbors_sizes : (S,) int64

    Returns
    -------
    float
    """
    pixels = len(neighbors_sizes)
    t = sparse_mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    f = curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
        pix_weights_for_sub_slim_index, pixels)
    return _log_likelihood(dirty_image, data, noise_map, f, t, neighbors, neighbors_sizes)
