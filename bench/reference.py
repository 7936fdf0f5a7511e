"""The one NumPy implementation of every formula in SPEC section 3: the oracle of the tests, the
NumPy peer of the benchmark, and the references of both namespaces (`swiftw` and, as
`reference.autoarray`, `swiftw.autoarray`).

Each function carries the SPEC's name and parameter list and is written straight from its formula,
in vectorised NumPy; sums over visibilities run in chunks of them, so memory stays near
`CHUNK_BYTES` whatever K is. Nothing here imports swiftw. Each formula is written once: the
production-signature functions of `autoarray` and the top-level ones share it.

Where the formula is rewritten rather than summed term by term, the literal form is kept beside it
and the tests check that the two agree:

- `w_tilde_curvature_interferometer_from` uses cos(a_i - a_j) = cos a_i cos a_j + sin a_i sin a_j
  with a_i = 2 pi (x_i u_k + y_i v_k), i.e. W = C diag(c) C^T + S diag(c) S^T (the literal rows:
  `w_tilde_rows_direct`);
- the preload layout's offsets come from pixel offsets times the spacing (the literal: PyAutoArray's
  four quadrant loops over `grid_radians_2d` differences, `autoarray.w_tilde_curvature_preload_interferometer_from`).

The curvature matrix from the compact form has two NumPy routes for the benchmark (``method=``):
"dense" unfolds W and forms T^T W T with a sparse T; "fft" applies W as a zero-padded real-FFT
convolution of each source column's image, which needs O(N^2) memory per column instead of O(M^2).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

TWO_PI = 2.0 * np.pi

CHUNK_BYTES = 32 * 2**20
"""Bytes of temporary array per chunk of visibilities (or of FFT columns)."""

DENSE_LIMIT_BYTES = 2 * 2**30
"""The "auto" curvature route unfolds W only while it takes at most this many bytes."""

_fft_workers = 1


def set_num_threads(n: int) -> None:
    """Threads of the FFT route (SciPy's ``workers``). BLAS threads are not touched here."""
    global _fft_workers
    if int(n) < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    _fft_workers = int(n)


def get_num_threads() -> int:
    """Threads of the FFT route."""
    return _fft_workers


def _chunks(total: int, per_item_bytes: int):
    """Slices of range(total) whose items take about `CHUNK_BYTES` together."""
    step = max(1, CHUNK_BYTES // max(1, per_item_bytes))
    for start in range(0, total, step):
        yield slice(start, min(total, start + step))


def arcsec_to_radians(pixel_scale):
    """d = pixel_scale * pi / 648000 (SPEC section 2)."""
    return pixel_scale * np.pi / 648000.0


def _weights(noise_map_real):
    """c_k = 1 / sigma_k^2."""
    return 1.0 / np.square(np.asarray(noise_map_real, dtype=np.float64))


# ---------------------------------------------------------------------------------------------
# 3.1 weighted sum
# ---------------------------------------------------------------------------------------------


def _same_memory(a, b):
    """True when `a` and `b` are the very same elements in the same order (a *is* out)."""
    return (
        isinstance(a, np.ndarray)
        and a.shape == b.shape
        and a.dtype == b.dtype
        and a.strides == b.strides
        and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    )


def fma(out, weights, *arrays):
    """out += sum_a weights[a] * arrays[a], in the order of `arrays`, in place (the study's loop).

    An array that *is* `out` sees the running value (sequential loop); any other array that may
    share memory with `out` is copied before anything is written (SPEC 3.1).
    """
    weights = list(weights)
    assert len(weights) == len(arrays)
    sources = []
    for a in arrays:
        if _same_memory(a, out):
            sources.append(out)  # the running value
        elif np.may_share_memory(a, out):
            sources.append(np.array(a, dtype=out.dtype, copy=True))
        else:
            sources.append(a)
    for w, a in zip(weights, sources):
        out += out.dtype.type(w) * a
    return None


# ---------------------------------------------------------------------------------------------
# 3.2 w-tilde
# ---------------------------------------------------------------------------------------------


def w_tilde_rows_direct(noise_map_real, uv_wavelengths, grid_radians_slim, rows):
    """Rows `rows` of W, literally: W[i,j] = sum_k c_k cos(2 pi [(x_i-x_j) u_k + (y_i-y_j) v_k])."""
    c = 1.0 / np.asarray(noise_map_real, dtype=np.float64) ** 2
    u = uv_wavelengths[:, 0]
    v = uv_wavelengths[:, 1]
    y = grid_radians_slim[:, 0]
    x = grid_radians_slim[:, 1]
    out = np.empty((len(rows), grid_radians_slim.shape[0]))
    for r, i in enumerate(rows):
        for j in range(grid_radians_slim.shape[0]):
            phase = TWO_PI * ((x[i] - x[j]) * u + (y[i] - y[j]) * v)
            out[r, j] = np.sum(c * np.cos(phase))
    return out


def w_tilde_curvature_interferometer_from(noise_map_real, uv_wavelengths, grid_radians_slim):
    """W (M, M), by angle addition (see the module docstring), in chunks of visibilities."""
    c = _weights(noise_map_real)
    uv = np.asarray(uv_wavelengths, dtype=np.float64)
    grid = np.asarray(grid_radians_slim, dtype=np.float64)
    y, x = grid[:, 0:1], grid[:, 1:2]
    w = np.zeros((grid.shape[0], grid.shape[0]))
    for ks in _chunks(len(c), 2 * 8 * grid.shape[0]):
        a = TWO_PI * (x * uv[None, ks, 0] + y * uv[None, ks, 1])  # (M, chunk)
        ca, sa = np.cos(a), np.sin(a)
        w += (ca * c[ks]) @ ca.T + (sa * c[ks]) @ sa.T
    return w


w_mm = w_tilde_curvature_interferometer_from


# ---------------------------------------------------------------------------------------------
# 3.3 the compact form and the preload layout
# ---------------------------------------------------------------------------------------------


def w_compact_curvature_interferometer_from(grid_size, noise_map_real, uv_wavelengths, pixel_scale):
    """w_compact[m, n] = sum_k c_k cos(D [(n - (N-1)) u_k - m v_k]),  D = pi^2 pixel_scale / 324000.

    N (2N-1) K cosines, in chunks of visibilities."""
    n = int(grid_size)
    c = _weights(noise_map_real)
    uv = np.asarray(uv_wavelengths, dtype=np.float64)
    big_d = np.pi * np.pi * float(pixel_scale) / 324000.0
    along = big_d * (np.arange(2 * n - 1) - (n - 1.0))  # multiplies u
    down = big_d * np.arange(n, dtype=np.float64)  # multiplies v
    out = np.zeros((n, 2 * n - 1))
    for ks in _chunks(len(c), 2 * n * (2 * n - 1) * 8):
        phase = np.empty((n, 2 * n - 1, ks.stop - ks.start))
        np.multiply(along[None, :, None], uv[None, None, ks, 0], out=phase)
        phase -= down[:, None, None] * uv[None, None, ks, 1]
        np.cos(phase, out=phase)
        out += phase @ c[ks]
    return out


def w_tilde_via_compact_from(w_compact, native_index_for_slim_index):
    """W[i,j] = w_compact[dr, dc+N-1] if dr >= 0 else w_compact[-dr, -dc+N-1]."""
    wc = np.asarray(w_compact, dtype=np.float64)
    native = np.asarray(native_index_for_slim_index, dtype=np.int64)
    dr = native[:, None, 0] - native[None, :, 0]
    dc = native[:, None, 1] - native[None, :, 1]
    return wc[np.abs(dr), np.where(dr < 0, -dc, dc) + wc.shape[0] - 1]


def w_tilde_preload_of_box(noise_map_real, uv_wavelengths, ny, nx, sy, sx):
    """The preload layout of SPEC 3.3 on an Ny x Nx box with spacings (sy, sx) in radians:
    preload[dy mod 2Ny, dx mod 2Nx] = sum_k c_k cos(2 pi (sx dx u_k - sy dy v_k)), |dy| < Ny,
    |dx| < Nx; row Ny and column Nx zero."""
    c = _weights(noise_map_real)
    u = uv_wavelengths[:, 0]
    v = uv_wavelengths[:, 1]
    out = np.zeros((2 * ny, 2 * nx))
    dxs = np.arange(-(nx - 1), nx)
    for dy in range(-(ny - 1), ny):
        phase = TWO_PI * (sx * dxs[:, None] * u[None, :] - sy * dy * v[None, :])
        out[dy % (2 * ny), dxs % (2 * nx)] = np.cos(phase) @ c
    return out


def w_tilde_preload_from(grid_size, noise_map_real, uv_wavelengths, pixel_scale):
    """The preload layout (2N, 2N) of a square grid of `pixel_scale` arcseconds (inputs of
    `w_tilde_via_preload_from`; not a swiftw function)."""
    d = arcsec_to_radians(pixel_scale)
    return w_tilde_preload_of_box(noise_map_real, uv_wavelengths, int(grid_size), int(grid_size), d, d)


def w_tilde_preload_via_compact_from(w_compact):
    """The preload layout (2N, 2N) re-laid from the compact form: ``preload[dy mod 2N, dx mod 2N]``
    is W of a pair with ``row_j - row_i = dy``, ``col_j - col_i = dx``; row N and column N zero."""
    wc = np.asarray(w_compact, dtype=np.float64)
    n = wc.shape[0]
    offsets = np.arange(-(n - 1), n)
    preload = np.zeros((2 * n, 2 * n))
    # dy <= 0 (pixel j above i): W = w_compact[-dy, -dx + N-1]; dy > 0: w_compact[dy, dx + N-1]
    preload[np.ix_((-np.arange(n)) % (2 * n), offsets % (2 * n))] = wc[:, ::-1]
    preload[np.ix_(np.arange(1, n), offsets % (2 * n))] = wc[1:, :]
    return preload


def w_tilde_via_preload_from(w_tilde_preload, native_index_for_slim_index):
    """W[i,j] = preload[row_j - row_i, col_j - col_i] with Python's negative-index wrap."""
    native = np.asarray(native_index_for_slim_index, dtype=np.int64)
    # NumPy integer indexing wraps negative offsets exactly as Python does.
    return np.asarray(w_tilde_preload)[native[None, :, 0] - native[:, None, 0], native[None, :, 1] - native[:, None, 1]]


# ---------------------------------------------------------------------------------------------
# 3.4 dirty-image weights
# ---------------------------------------------------------------------------------------------


def w_tilde_data_weights(visibilities_real, noise_map_real):
    """The per-visibility weights (sigma_k^2 / V_k)^2 of 3.4."""
    return (np.asarray(noise_map_real, dtype=np.float64) ** 2 / np.asarray(visibilities_real)) ** 2


def w_tilde_data_interferometer_from(visibilities_real, noise_map_real, uv_wavelengths, grid_radians_slim):
    """out[i] = sum_k (sigma_k^2 / V_k)^2 cos(2 pi (x_i u_k + y_i v_k)); M K cosines in chunks."""
    weights = w_tilde_data_weights(visibilities_real, noise_map_real)
    uv = np.asarray(uv_wavelengths, dtype=np.float64)
    grid = np.asarray(grid_radians_slim, dtype=np.float64)
    y, x = TWO_PI * grid[:, 0], TWO_PI * grid[:, 1]
    out = np.zeros(grid.shape[0])
    for ks in _chunks(len(weights), 2 * grid.shape[0] * 8):
        phase = x[:, None] * uv[None, ks, 0]
        phase += y[:, None] * uv[None, ks, 1]
        np.cos(phase, out=phase)
        out += phase @ weights[ks]
    return out


# ---------------------------------------------------------------------------------------------
# 3.5 mapping matrix and curvature matrix
# ---------------------------------------------------------------------------------------------


def _sizes_to_first_minus_one(indexes):
    """Entries of each row before its first -1 (the top level's rows end there)."""
    indexes = np.asarray(indexes)
    return np.sum(np.cumprod(indexes >= 0, axis=1), axis=1)


def _sub_mapping(pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index, pix_weights_for_sub_slim_index,
                 pixels, total_mask_pixels, slim_index_for_sub_slim_index, sub_fraction):
    """T as a SciPy CSR matrix (M, S), the one mapping formula of SPEC 3.5 / 3.7:
    T[slim[q], pix_indexes[q, b]] += sub_fraction[slim[q]] * pix_weights[q, b] for b < pix_size[q]."""
    from scipy.sparse import csr_matrix

    idx = np.asarray(pix_indexes_for_sub_slim_index)
    slim = np.asarray(slim_index_for_sub_slim_index)
    valid = np.arange(idx.shape[1])[None, :] < np.asarray(pix_size_for_sub_slim_index)[:, None]
    q, b = np.nonzero(valid)
    weights = np.asarray(sub_fraction, dtype=np.float64)[slim[q]] * np.asarray(pix_weights_for_sub_slim_index)[q, b]
    t = csr_matrix((weights, (slim[q], idx[q, b])), shape=(int(total_mask_pixels), int(pixels)))
    t.sum_duplicates()
    return t


def sparse_mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    """T (M, S) as a SciPy CSR matrix: T[m, s] += weight[m, b] for each b before the row's first -1."""
    idx = np.asarray(pix_indexes_for_sub_slim_index)
    m = idx.shape[0]
    return _sub_mapping(idx, _sizes_to_first_minus_one(idx), pix_weights_for_sub_slim_index, pixels, m,
                        np.arange(m), np.ones(m))


def mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    """T (M, S): T[m, s] += weight[m, b] for each b before the row's first -1."""
    return sparse_mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels).toarray()


def data_vector_from(mapping_matrix, dirty_image):
    """(S,) = dirty_image @ T."""
    return np.asarray(dirty_image) @ np.asarray(mapping_matrix)


def _symmetrised(f):
    return 0.5 * (f + f.T)


def curvature_matrix_via_w_tilde_from(w_tilde, mapping_matrix):
    """F = T^T W T (T dense or SciPy sparse)."""
    t = mapping_matrix
    return _symmetrised(np.asarray(t.T @ (t.T @ np.asarray(w_tilde, dtype=np.float64)).T))


def sparse_mapping_matrix_transpose_matmul(matrix, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    """T^T @ matrix."""
    t = sparse_mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    return np.asarray(t.T @ np.asarray(matrix))


def curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w_tilde, pix_indexes_for_sub_slim_index,
                                                            pix_weights_for_sub_slim_index, pixels):
    """F = T^T W T with W in memory and a sparse T."""
    t = sparse_mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    return curvature_matrix_via_w_tilde_from(w_tilde, t)


curvature_matrix_via_w_wilde_sparse_mapping_matrix_from = curvature_matrix_via_w_tilde_sparse_mapping_matrix_from


def fft_shape(n):
    """The zero-padded grid of the FFT route for an N x N native grid."""
    from scipy.fft import next_fast_len

    side = next_fast_len(2 * n - 1, real=True)
    return side, side


def _kernel_image(w_compact, shape):
    """W as a function of the pixel offset (dr, dc), laid out for a circular convolution."""
    n = w_compact.shape[0]
    offsets = np.arange(-(n - 1), n) % shape[1]
    kernel = np.zeros(shape)
    kernel[np.ix_(np.arange(n), offsets)] = w_compact  # dr >= 0
    kernel[np.ix_((-np.arange(1, n)) % shape[0], offsets)] = w_compact[1:, ::-1]  # dr < 0
    return kernel


def _curvature_fft(w_compact, native, t, pixels):
    """F = T^T (W T) with W T as a zero-padded real-FFT convolution, batched over columns."""
    from scipy import fft

    wc = np.asarray(w_compact, dtype=np.float64)
    shape = fft_shape(wc.shape[0])
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


def curvature_matrix_via_w_compact_sparse_mapping_matrix_from(w_compact, native_index_for_slim_index,
                                                              pix_indexes_for_sub_slim_index,
                                                              pix_weights_for_sub_slim_index, pixels, *,
                                                              method="auto"):
    """F = T^T W T from the compact w-tilde; `method` (the benchmark's two NumPy routes): "dense"
    unfolds W (8 M^2 bytes), "fft" convolves each source column's image with W; "auto" takes
    "dense" while W fits in `DENSE_LIMIT_BYTES`."""
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


curvature_matrix_via_w_tilde_curvature_preload_interferometer_from = curvature_matrix_via_w_compact_sparse_mapping_matrix_from
curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from = curvature_matrix_via_w_compact_sparse_mapping_matrix_from


# ---------------------------------------------------------------------------------------------
# 3.6 regularisation, solve, likelihood, masks
# ---------------------------------------------------------------------------------------------


def _regularization(coefficient, neighbors, neighbors_sizes, *, rows_end_at_sizes):
    """H[i,i] = 1e-8 + coefficient^2 * (neighbours of i); H[i,k] -= coefficient^2 per neighbour k.
    A row of `neighbors` ends at neighbors_sizes[i] and (top level) at its first -1."""
    nb = np.asarray(neighbors)
    sizes = np.asarray(neighbors_sizes)
    reg = float(coefficient) ** 2
    valid = np.arange(nb.shape[1])[None, :] < sizes[:, None]
    if not rows_end_at_sizes:
        valid &= np.cumprod(nb >= 0, axis=1).astype(bool)
    rows, cols = np.nonzero(valid)
    h = np.diag(np.full(nb.shape[0], 1e-8))
    np.add.at(h, (rows, rows), reg)
    np.add.at(h, (rows, nb[rows, cols]), -reg)
    return h


def constant_regularization_matrix_from(coefficient, neighbors, neighbors_sizes):
    """H (S, S), rows of `neighbors` ending at their first -1 (or at neighbors_sizes[i])."""
    return _regularization(coefficient, neighbors, neighbors_sizes, rows_end_at_sizes=False)


def reconstruction_positive_negative_from(data_vector, curvature_reg_matrix):
    """s = A^-1 d."""
    return np.linalg.solve(np.asarray(curvature_reg_matrix), np.asarray(data_vector))


def noise_normalization_complex_from(noise_map):
    """sum log(2 pi Re^2) + sum log(2 pi Im^2)."""
    noise_map = np.asarray(noise_map)
    return float(np.sum(np.log(TWO_PI * noise_map.real**2)) + np.sum(np.log(TWO_PI * noise_map.imag**2)))


def chi_squared_complex(data, noise_map):
    """chi.chi with chi = data / noise on real and imaginary parts separately."""
    data = np.asarray(data)
    noise_map = np.asarray(noise_map)
    return float(np.sum((data.real / noise_map.real) ** 2) + np.sum((data.imag / noise_map.imag) ** 2))


def _logdet_spd(a):
    sign, logdet = np.linalg.slogdet(a)
    assert sign > 0, "matrix is not positive definite"
    return float(logdet)


def log_likelihood_terms(dirty_image, data, noise_map, curvature_matrix, mapping_matrix, neighbors, neighbors_sizes,
                         *, rows_end_at_sizes=False):
    """The five terms of SPEC 3.6 for a given F and T (coefficient 1), and cond(A) for tolerances."""
    h = _regularization(1.0, neighbors, neighbors_sizes, rows_end_at_sizes=rows_end_at_sizes)
    a = np.asarray(curvature_matrix) + h
    d = np.asarray(mapping_matrix.T @ np.asarray(dirty_image))
    s = reconstruction_positive_negative_from(d, a)
    return {
        "chi_squared": chi_squared_complex(data, noise_map),
        "s_dot_d": float(s @ d),
        "logdet_a": _logdet_spd(a),
        "logdet_h": _logdet_spd(h),
        "noise_normalization": noise_normalization_complex_from(noise_map),
        "cond_a": float(np.linalg.cond(a)),
    }


def log_likelihood_from_terms(t):
    return -0.5 * (t["chi_squared"] - t["s_dot_d"] + t["logdet_a"] - t["logdet_h"] + t["noise_normalization"])


def log_likelihood_function_via_w_tilde_from(dirty_image, data, noise_map, w_tilde, pix_indexes_for_sub_slim_index,
                                             pix_weights_for_sub_slim_index, neighbors, neighbors_sizes):
    """-0.5 (chi.chi - s.d + logdet A - logdet H + noise_normalization), A = T^T W T + H."""
    t = sparse_mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, len(neighbors))
    f = curvature_matrix_via_w_tilde_from(w_tilde, t)
    return log_likelihood_from_terms(log_likelihood_terms(dirty_image, data, noise_map, f, t, neighbors, neighbors_sizes))


def log_likelihood_function_via_w_compact_from(dirty_image, data, noise_map, w_compact, native_index_for_slim_index,
                                               pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
                                               neighbors, neighbors_sizes):
    """As `log_likelihood_function_via_w_tilde_from`, F from the compact form."""
    t = sparse_mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, len(neighbors))
    f = curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
        w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index,
        len(neighbors))
    return log_likelihood_from_terms(log_likelihood_terms(dirty_image, data, noise_map, f, t, neighbors, neighbors_sizes))


# ---------------------------------------------------------------------------------------------
# 3.8 the positive-only inversion and the evidence
# ---------------------------------------------------------------------------------------------


def reconstruction_positive_only_from(data_vector, curvature_reg_matrix):
    """argmin_{s >= 0} 1/2 s^T A s - d^T s for A symmetric positive definite, by Lawson and Hanson's
    active-set method on the quadratic form (plain NumPy, every passive-set system solved afresh),
    and certified: the answer must meet the KKT conditions (`kkt_residuals`) to 1e-9 of their scale.

    Starts with the unconstrained solution's positive entries passive (s = 0 is feasible for any
    passive set); the inner loop steps from s towards the passive solution as far as s >= 0
    allows, dropping the variables that reach zero; the outer loop frees the zero-set variable of
    most negative relative gradient. SciPy's NNLS is not the oracle: since 1.12 its
    reimplementation returns non-optimal points without raising on some of these problems.
    """
    a = np.asarray(curvature_reg_matrix, dtype=np.float64)
    d = np.asarray(data_vector, dtype=np.float64)
    n = d.shape[0]
    if n == 0:
        return np.zeros(0)

    def passive_solution(passive):
        trial = np.zeros(n)
        if passive.any():
            trial[passive] = np.linalg.solve(a[np.ix_(passive, passive)], d[passive])
        return trial

    s = np.zeros(n)
    passive = np.linalg.solve(a, d) > 0
    for _ in range(20 * n + 20):
        trial = passive_solution(passive)
        while passive.any() and trial[passive].min() <= 0:
            blocking = passive & (trial <= 0)
            ratio = np.full(n, np.inf)
            ratio[blocking] = s[blocking] / (s[blocking] - trial[blocking])
            alpha = ratio.min()
            s = s + alpha * (trial - s)
            reached = blocking & ((ratio <= alpha) | (s <= 0))
            passive &= ~reached
            s[~passive] = 0.0
            trial = passive_solution(passive)
        s = trial
        g, scale = kkt_residuals(s, d, a)
        relative = np.where(~passive & (scale > 0), -g / np.where(scale > 0, scale, 1.0), 0.0)
        if relative.max() <= 1e-13:
            break
        passive[np.argmax(relative)] = True
    g, scale = kkt_residuals(s, d, a)
    tolerance = 1e-9 * np.where(scale > 0, scale, 1.0)
    if not (np.all(np.abs(g[passive]) <= tolerance[passive]) and np.all(g[~passive] >= -tolerance[~passive])):
        raise AssertionError("the reference NNLS did not reach the KKT conditions")
    return s


def kkt_residuals(s, data_vector, curvature_reg_matrix):
    """(g, scale) with g = A s - d, and scale_i = sum_j |A_ij s_j| + |d_i| (what g_i's rounding is
    relative to): KKT asks s >= 0, g_i = 0 where s_i > 0, g_i >= 0 where s_i = 0."""
    a = np.asarray(curvature_reg_matrix)
    d = np.asarray(data_vector)
    return a @ s - d, np.abs(a) @ np.abs(s) + np.abs(d)


def inversion_terms(dirty_image, data, noise_map, curvature_matrix, mapping_matrix, neighbors, neighbors_sizes,
                    coefficient=1.0, positive_only=True):
    """The evidence terms of SPEC 3.8, each straight from its formula, with dense F, H and T."""
    f = np.asarray(curvature_matrix)
    h = constant_regularization_matrix_from(coefficient, neighbors, neighbors_sizes)
    a = f + h
    d = data_vector_from(mapping_matrix, dirty_image)
    solve = reconstruction_positive_only_from if positive_only else reconstruction_positive_negative_from
    s = solve(d, a)
    terms = {
        "chi_squared": float(s @ f @ s - 2.0 * s @ d) + chi_squared_complex(data, noise_map),
        "regularization_term": float(s @ h @ s),
        "log_det_curvature_reg_matrix_term": _logdet_spd(a),
        "log_det_regularization_matrix_term": _logdet_spd(h),
        "noise_normalization": noise_normalization_complex_from(noise_map),
    }
    terms["log_evidence"] = -0.5 * (terms["chi_squared"] + terms["regularization_term"]
                                    + terms["log_det_curvature_reg_matrix_term"]
                                    - terms["log_det_regularization_matrix_term"] + terms["noise_normalization"])
    terms["reconstruction"] = s
    return terms


# ---------------------------------------------------------------------------------------------
# 3.9 / 3.11 the precision operator, the dirty image and the per-visibility sums of a dataset
# ---------------------------------------------------------------------------------------------


def dirty_image_from(visibilities, noise_map, uv_wavelengths, grid_radians_slim):
    """out[i] = sum_k (Re d_k / Re s_k^2) cos(p_ik) - (Im d_k / Im s_k^2) sin(p_ik), p_ik = 2 pi (x_i u_k + y_i v_k)."""
    d = np.asarray(visibilities)
    s = np.asarray(noise_map)
    y = grid_radians_slim[:, 0:1]
    x = grid_radians_slim[:, 1:2]
    phase = TWO_PI * (x * uv_wavelengths[None, :, 0] + y * uv_wavelengths[None, :, 1])  # (M, K)
    return np.cos(phase) @ (d.real / s.real**2) - np.sin(phase) @ (d.imag / s.imag**2)


def visibility_model_from(image, uv_wavelengths, grid_radians_slim):
    """The forward model the dirty image is the adjoint of: d_k = sum_i image_i exp(-2 pi i (x_i u_k + y_i v_k))."""
    y = grid_radians_slim[:, 0:1]
    x = grid_radians_slim[:, 1:2]
    phase = TWO_PI * (x * uv_wavelengths[None, :, 0] + y * uv_wavelengths[None, :, 1])  # (M, K)
    return np.asarray(image) @ np.exp(-1j * phase)


def mask_2d_centres_from(shape_native, pixel_scales, centre):
    """((shape0 - 1)/2 - centre0/ps0, (shape1 - 1)/2 + centre1/ps1)."""
    return (
        (shape_native[0] - 1) / 2.0 - centre[0] / pixel_scales[0],
        (shape_native[1] - 1) / 2.0 + centre[1] / pixel_scales[1],
    )


def mask_2d_circular_from(shape_native, pixel_scales, radius, centre):
    """True (masked) where radius^2 < ((y - cy) ps0)^2 + ((x - cx) ps1)^2."""
    cy, cx = mask_2d_centres_from(shape_native, pixel_scales, centre)
    out = np.empty(tuple(shape_native), dtype=bool)
    for y in range(shape_native[0]):
        for x in range(shape_native[1]):
            ys = (y - cy) * pixel_scales[0]
            xs = (x - cx) * pixel_scales[1]
            out[y, x] = radius * radius < ys * ys + xs * xs
    return out


def mask_2d_circular_margin(shape_native, pixel_scales, radius, centre):
    """min over pixels of |r^2 - radius^2| / radius^2: how far the nearest pixel is from the edge."""
    cy, cx = mask_2d_centres_from(shape_native, pixel_scales, centre)
    y, x = np.mgrid[0 : shape_native[0], 0 : shape_native[1]]
    r2 = ((y - cy) * pixel_scales[0]) ** 2 + ((x - cx) * pixel_scales[1]) ** 2
    return float(np.min(np.abs(r2 - radius * radius)) / (radius * radius))


# ---------------------------------------------------------------------------------------------
# 3.7 `swiftw.autoarray`: the production library's signatures, on the formulas above
# ---------------------------------------------------------------------------------------------


def _aa_preload(noise_map_real, uv_wavelengths, shape_masked_pixels_2d, grid_radians_2d):
    """PyAutoArray's loops: four quadrants, offsets from `grid_radians_2d` differences."""
    ny, nx = int(shape_masked_pixels_2d[0]), int(shape_masked_pixels_2d[1])
    c = np.asarray(noise_map_real, dtype=np.float64) ** -2.0
    u = uv_wavelengths[:, 0]
    v = uv_wavelengths[:, 1]
    g = np.asarray(grid_radians_2d)[:ny, :nx]
    out = np.zeros((2 * ny, 2 * nx))

    def term(y_offset, x_offset):
        return float(np.sum(c * np.cos(TWO_PI * (x_offset * u + y_offset * v))))

    for i in range(ny):
        for j in range(nx):
            out[i, j] += term(g[0, 0, 0] - g[i, j, 0], g[0, 0, 1] - g[i, j, 1])
    for i in range(ny):
        for j in range(1, nx):
            out[i, -j] += term(g[0, -1, 0] - g[i, nx - j - 1, 0], g[0, -1, 1] - g[i, nx - j - 1, 1])
    for i in range(1, ny):
        for j in range(nx):
            out[-i, j] += term(g[-1, 0, 0] - g[ny - i - 1, j, 0], g[-1, 0, 1] - g[ny - i - 1, j, 1])
    for i in range(1, ny):
        for j in range(1, nx):
            out[-i, -j] += term(g[-1, -1, 0] - g[ny - i - 1, nx - j - 1, 0],
                                g[-1, -1, 1] - g[ny - i - 1, nx - j - 1, 1])
    return out


def _aa_w_tilde_data(visibilities_real, noise_map_real, uv_wavelengths, grid_radians_slim, native_index_for_slim_index):
    """The dirty-image weights; the native indices do not enter the sum."""
    return w_tilde_data_interferometer_from(visibilities_real, noise_map_real, uv_wavelengths, grid_radians_slim)


def _aa_mapping_matrix(pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index, pix_weights_for_sub_slim_index,
                       pixels, total_mask_pixels, slim_index_for_sub_slim_index, sub_fraction):
    """T[slim[q], pix_indexes[q, b]] += sub_fraction[slim[q]] * pix_weights[q, b], b < pix_size[q]."""
    return _sub_mapping(pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index, pix_weights_for_sub_slim_index,
                        pixels, total_mask_pixels, slim_index_for_sub_slim_index, sub_fraction).toarray()


def mapping_matrix_per_image_pixel(pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index,
                                   pix_weights_for_sub_slim_index, pixels):
    """One row per image pixel (the curvature-via-preload mapping): sub-pixel q is image pixel q,
    fraction 1."""
    m = len(pix_size_for_sub_slim_index)
    return _aa_mapping_matrix(pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index,
                              pix_weights_for_sub_slim_index, pixels, m, np.arange(m), np.ones(m))


def _aa_curvature_preload(curvature_preload, pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index,
                          pix_weights_for_sub_slim_index, native_index_for_slim_index, pix_pixels):
    """F = T^T W T with W[i, j] = preload[row_j - row_i, col_j - col_i], T one row per image pixel."""
    w = w_tilde_via_preload_from(curvature_preload, native_index_for_slim_index)
    t = mapping_matrix_per_image_pixel(pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index,
                                       pix_weights_for_sub_slim_index, pix_pixels)
    return curvature_matrix_via_w_tilde_from(w, t)


def _aa_regularization(coefficient, neighbors, neighbors_sizes):
    """H with row i's first neighbors_sizes[i] neighbours, whatever follows (PyAutoArray)."""
    return _regularization(coefficient, neighbors, neighbors_sizes, rows_end_at_sizes=True)


def _aa_log_likelihood_via_w_tilde(dirty_image, data, noise_map, w_tilde, pix_indexes_for_sub_slim_index,
                                   pix_size_for_sub_slim_index, pix_weights_for_sub_slim_index,
                                   slim_index_for_sub_slim_index, sub_fraction, neighbors, neighbors_sizes):
    t = _sub_mapping(pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index, pix_weights_for_sub_slim_index,
                     len(neighbors), len(sub_fraction), slim_index_for_sub_slim_index, sub_fraction)
    f = curvature_matrix_via_w_tilde_from(w_tilde, t)
    return log_likelihood_from_terms(log_likelihood_terms(dirty_image, data, noise_map, f, t, neighbors,
                                                          neighbors_sizes, rows_end_at_sizes=True))


def _aa_log_likelihood_via_w_compact(dirty_image, data, noise_map, w_tilde_preload, pix_indexes_for_sub_slim_index,
                                     pix_size_for_sub_slim_index, pix_weights_for_sub_slim_index,
                                     slim_index_for_sub_slim_index, sub_fraction, neighbors, neighbors_sizes,
                                     native_index_for_slim_index):
    w = w_tilde_via_preload_from(w_tilde_preload, native_index_for_slim_index)
    return _aa_log_likelihood_via_w_tilde(dirty_image, data, noise_map, w, pix_indexes_for_sub_slim_index,
                                          pix_size_for_sub_slim_index, pix_weights_for_sub_slim_index,
                                          slim_index_for_sub_slim_index, sub_fraction, neighbors, neighbors_sizes)


autoarray = SimpleNamespace(
    w_tilde_data_interferometer_from=_aa_w_tilde_data,
    w_tilde_curvature_interferometer_from=w_tilde_curvature_interferometer_from,
    w_tilde_curvature_preload_interferometer_from=_aa_preload,
    w_tilde_via_preload_from=w_tilde_via_preload_from,
    mapping_matrix_from=_aa_mapping_matrix,
    curvature_matrix_via_w_tilde_curvature_preload_interferometer_from=_aa_curvature_preload,
    data_vector_from=data_vector_from,
    curvature_matrix_via_w_tilde_from=curvature_matrix_via_w_tilde_from,
    constant_regularization_matrix_from=_aa_regularization,
    reconstruction_positive_negative_from=reconstruction_positive_negative_from,
    noise_normalization_complex_from=noise_normalization_complex_from,
    mask_2d_centres_from=mask_2d_centres_from,
    mask_2d_circular_from=mask_2d_circular_from,
    log_likelihood_function_via_w_tilde_from=_aa_log_likelihood_via_w_tilde,
    log_likelihood_function_via_w_compact_from=_aa_log_likelihood_via_w_compact,
)
"""The references of `swiftw.autoarray`, by the production library's names and parameter lists."""


# ---------------------------------------------------------------------------------------------
# problem generators (tests): native grids and sub-pixel mappings
# ---------------------------------------------------------------------------------------------


def grid_radians_2d_from(shape, y0, x0, sy, sx):
    """The native (Ny, Nx, 2) grid of (y, x): y = y0 - sy row, x = x0 + sx col."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    return np.ascontiguousarray(np.stack([y0 - sy * rows, x0 + sx * cols], axis=-1).astype(np.float64))


def draw_sub_mapping(rng, m, s, b, *, sub_sizes=(1, 2, 3), shuffle=False, padding="minus_one",
                     fraction="uniform"):
    """A sub-pixel mapping onto M image pixels and S source pixels.

    Image pixel i has n_i = sub_size^2 sub-pixels (sub_size drawn from `sub_sizes` per pixel);
    sub-pixel q maps to its first pix_size[q] in [1, B] source pixels (several sub-pixels per
    image pixel, and pix_size < B on many rows). `padding` fills the entries at and beyond
    pix_size: "minus_one" (PyAutoArray's -1), or "garbage" (valid-looking and out-of-range
    indices and NaN weights, which the formula never reads). `fraction`: "uniform" (1 / n_i, as
    PyAutoArray) or "random" (any positive per image pixel).
    """
    per_pixel = rng.choice(np.asarray(sub_sizes), size=m) ** 2
    slim = np.repeat(np.arange(m, dtype=np.int64), per_pixel)
    if shuffle:
        slim = slim[rng.permutation(slim.size)]
    q = slim.size
    sizes = rng.integers(1, b + 1, size=q).astype(np.int64)
    sizes[rng.uniform(size=q) < 0.4] = b
    idx = np.empty((q, b), dtype=np.int64)
    wts = rng.uniform(0.05, 1.0, size=(q, b))
    for row in range(q):
        idx[row] = rng.choice(s, size=b, replace=False) if s >= b else rng.integers(0, s, size=b)
    beyond = np.arange(b)[None, :] >= sizes[:, None]
    if padding == "minus_one":
        idx[beyond] = -1
    elif padding == "garbage":
        junk = rng.choice(np.array([-1, -7, s, s + 13, 2**40, -(2**40)], dtype=np.int64), size=int(beyond.sum()))
        keep_valid = rng.uniform(size=junk.size) < 0.3
        junk[keep_valid] = rng.integers(0, s, size=int(keep_valid.sum()))
        idx[beyond] = junk
        wts[beyond] = np.nan
    else:
        raise AssertionError(padding)
    if fraction == "uniform":
        sub_fraction = 1.0 / per_pixel.astype(np.float64)
    else:
        sub_fraction = rng.uniform(0.1, 1.0, size=m)
    return SimpleNamespace(Q=q, pix_indexes=np.ascontiguousarray(idx), pix_size=sizes,
                           pix_weights=np.ascontiguousarray(wts), slim=np.ascontiguousarray(slim),
                           sub_fraction=sub_fraction)


def draw_image_mapping(rng, m, s, b, *, padding="minus_one"):
    """One row per image pixel (pix_size in [1, B]), for the curvature via the preload."""
    sub = draw_sub_mapping(rng, m, s, b, sub_sizes=(1,), padding=padding)
    return sub.pix_indexes, sub.pix_size, sub.pix_weights


def pad_neighbors_beyond_sizes(rng, neighbors, neighbors_sizes):
    """The same graph, with the entries at and beyond neighbors_sizes[i] replaced by valid source
    indices (not -1): a row that ends at its size ignores them; one that ends at a -1 does not."""
    s = neighbors.shape[0]
    extra = int(rng.integers(1, 4))
    out = np.concatenate([neighbors, np.full((s, extra), -1, dtype=np.int64)], axis=1)
    beyond = np.arange(out.shape[1])[None, :] >= np.asarray(neighbors_sizes)[:, None]
    out[beyond] = rng.integers(0, s, size=int(beyond.sum()))
    return np.ascontiguousarray(out)


def box_of(native):
    """(rows, cols) of the bounding box of native indices: PyAutoArray's shape_masked_pixels_2d."""
    native = np.asarray(native)
    return tuple(int(e) for e in native.max(axis=0) - native.min(axis=0) + 1)


# ---------------------------------------------------------------------------------------------
# 3.9 the production library's 2026 extent grid (PyAutoArray): precision operator, CSR / CSC
# and COO mappings, F densely
# ---------------------------------------------------------------------------------------------


def extent_convolution_matrix(preload, ny, nx):
    """C (ny nx, ny nx) on extent-flat cells: C[j, i] = preload[(j_y - i_y) mod 2ny, (j_x - i_x) mod 2nx],
    so that C @ f is the zero-padded wrap-around convolution of f with the preload."""
    cy, cx = np.divmod(np.arange(ny * nx), nx)
    return preload[(cy[:, None] - cy[None, :]) % (2 * ny), (cx[:, None] - cx[None, :]) % (2 * nx)]


def extent_mapping_matrix_from_triplets(rows, cols, vals, cells, pixels):
    """T (cells, S) from COO triplets: T[rows[k], cols[k]] += vals[k], triplets with cols[k]
    outside [0, S) dropped."""
    t = np.zeros((cells, pixels))
    for r, c, v in zip(rows, cols, vals):
        if 0 <= c < pixels:
            t[r, c] += v
    return t


def extent_curvature_matrix(preload, ny, nx, extent_mapping_matrix_0, extent_mapping_matrix_1=None):
    """T0^T C T1 (T1 = T0 by default) for mappings given on the extent's cells."""
    t1 = extent_mapping_matrix_0 if extent_mapping_matrix_1 is None else extent_mapping_matrix_1
    return extent_mapping_matrix_0.T @ extent_convolution_matrix(preload, ny, nx) @ t1


def curvature_direct_conv(preload, extent_index_for_masked_pixel, mapping_matrix, ny, nx):
    """F = T^T C T with T (M, S) over masked pixels placed on their extent cells."""
    t = np.zeros((ny * nx, mapping_matrix.shape[1]))
    t[np.asarray(extent_index_for_masked_pixel)] = mapping_matrix
    return extent_curvature_matrix(preload, ny, nx, t)


# ---------------------------------------------------------------------------------------------
# 3.10 JAX: the weights' gradient of F, and the evidence with a sampled coefficient (3.8)
# ---------------------------------------------------------------------------------------------


def curvature_matrix_weight_vjp(w_tilde, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels,
                                cotangent):
    """d <G, F> / d w[m, b] = sum_s' (W T)[m, s'] (G + G^T)[pix[m, b], s'] for F = T^T W T and a
    cotangent G (S, S); 0 from a row's first -1 on (those weights do not enter T)."""
    idx = np.asarray(pix_indexes_for_sub_slim_index)
    t = mapping_matrix_from(idx, pix_weights_for_sub_slim_index, pixels)
    omega = np.asarray(w_tilde) @ t
    g = np.asarray(cotangent, dtype=np.float64)
    gs = g + g.T
    out = np.zeros(idx.shape)
    for m in range(idx.shape[0]):
        for b in range(idx.shape[1]):
            s = int(idx[m, b])
            if s == -1:
                break
            out[m, b] = omega[m] @ gs[s]
    return out


def log_evidence_positive_negative(dirty_image, data, noise_map, curvature_matrix, mapping_matrix, neighbors,
                                   neighbors_sizes, coefficient):
    """SPEC 3.8's log_evidence with the unconstrained s = (F + H)^-1 D, H of `coefficient`."""
    return inversion_terms(dirty_image, data, noise_map, curvature_matrix, mapping_matrix, neighbors, neighbors_sizes,
                           coefficient, positive_only=False)["log_evidence"]


__all__ = [name for name in dir() if not name.startswith("_") and name not in ("np", "SimpleNamespace", "annotations")]
