"""Plain NumPy reference implementations of every formula in SPEC section 3.

Each function carries the SPEC's name and parameter list and is written straight from the formula
it implements, favouring "obviously right" over fast. Nothing here imports swiftw: this module is
the oracle the test-suite compares swiftw against.

Two functions use a rewriting rather than the literal sum, because the literal sum costs M^2 K
cosines (too slow in NumPy at test sizes); for each the literal form is kept beside it
(`w_tilde_rows_direct`) and the test-suite checks that the two agree:

    w_tilde_curvature_interferometer_from: cos(a_i - a_j) = cos a_i cos a_j + sin a_i sin a_j with
    a_i = 2 pi (x_i u_k + y_i v_k), i.e. W = C diag(c) C^T + S diag(c) S^T.
"""

import numpy as np

TWO_PI = 2.0 * np.pi


def arcsec_to_radians(pixel_scale):
    """d = pixel_scale * pi / 648000 (SPEC section 2)."""
    return pixel_scale * np.pi / 648000.0


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
    """out += sum_a weights[a] * arrays[a], in the order of `arrays`, in place.

    An array that *is* `out` sees the running value (sequential loop); any other array that shares
    memory with `out` is copied before anything is written (SPEC 3.1).
    """
    weights = list(weights)
    assert len(weights) == len(arrays)
    snap = []
    for a in arrays:
        if _same_memory(a, out):
            snap.append(out)  # running value
        else:
            snap.append(np.array(a, dtype=out.dtype, copy=True))
    for w, a in zip(weights, snap):
        out += out.dtype.type(w) * a
    return None


# ---------------------------------------------------------------------------------------------
# 3.2 w-tilde, direct
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
    """W (M, M), by angle addition (see the module docstring); checked against the literal rows."""
    c = 1.0 / np.asarray(noise_map_real, dtype=np.float64) ** 2
    y = grid_radians_slim[:, 0:1]
    x = grid_radians_slim[:, 1:2]
    a = TWO_PI * (x * uv_wavelengths[None, :, 0] + y * uv_wavelengths[None, :, 1])  # (M, K)
    ca = np.cos(a)
    sa = np.sin(a)
    w = (ca * c) @ ca.T + (sa * c) @ sa.T
    return w


w_mm = w_tilde_curvature_interferometer_from


# ---------------------------------------------------------------------------------------------
# 3.3 the compact form and the preload layout
# ---------------------------------------------------------------------------------------------


def w_compact_curvature_interferometer_from(grid_size, noise_map_real, uv_wavelengths, pixel_scale):
    """w_compact[m, n] = sum_k c_k cos(D [(n - (N-1)) u_k - m v_k]),  D = pi^2 pixel_scale / 324000."""
    n_grid = int(grid_size)
    c = 1.0 / np.asarray(noise_map_real, dtype=np.float64) ** 2
    u = uv_wavelengths[:, 0]
    v = uv_wavelengths[:, 1]
    big_d = np.pi * np.pi * pixel_scale / 324000.0
    nprime = np.arange(2 * n_grid - 1, dtype=np.float64) - (n_grid - 1)
    out = np.empty((n_grid, 2 * n_grid - 1))
    for m in range(n_grid):
        phase = big_d * (nprime[:, None] * u[None, :] - m * v[None, :])  # (2N-1, K)
        out[m, :] = np.cos(phase) @ c
    return out


def w_tilde_via_compact_from(w_compact, native_index_for_slim_index):
    """W[i,j] = w_compact[dr, dc+N-1] if dr >= 0 else w_compact[-dr, -dc+N-1]."""
    n_grid = w_compact.shape[0]
    native = np.asarray(native_index_for_slim_index, dtype=np.int64)
    m = native.shape[0]
    out = np.empty((m, m))
    for i in range(m):
        dr = native[i, 0] - native[:, 0]
        dc = native[i, 1] - native[:, 1]
        pos = dr >= 0
        out[i, pos] = w_compact[dr[pos], dc[pos] + n_grid - 1]
        neg = ~pos
        out[i, neg] = w_compact[-dr[neg], -dc[neg] + n_grid - 1]
    return out


def w_tilde_preload_from(grid_size, noise_map_real, uv_wavelengths, pixel_scale):
    """The PyAutoArray preload layout (2N, 2N) of SPEC 3.3:

    preload[dy mod 2N, dx mod 2N] = sum_k c_k cos(2 pi d (dx u_k - dy v_k)) for |dy|, |dx| < N,
    row N and column N zero.  (Not a swiftw top-level function; it builds inputs for
    w_tilde_via_preload_from.)
    """
    n_grid = int(grid_size)
    c = 1.0 / np.asarray(noise_map_real, dtype=np.float64) ** 2
    u = uv_wavelengths[:, 0]
    v = uv_wavelengths[:, 1]
    d = arcsec_to_radians(pixel_scale)
    out = np.zeros((2 * n_grid, 2 * n_grid))
    offsets = np.arange(-(n_grid - 1), n_grid)
    for dy in offsets:
        phase = TWO_PI * d * (offsets[:, None] * u[None, :] - dy * v[None, :])  # (2N-1, K)
        out[dy % (2 * n_grid), offsets % (2 * n_grid)] = np.cos(phase) @ c
    return out


def w_tilde_via_preload_from(w_tilde_preload, native_index_for_slim_index):
    """W[i,j] = preload[row_j - row_i, col_j - col_i] with Python's negative-index wrap."""
    native = np.asarray(native_index_for_slim_index, dtype=np.int64)
    m = native.shape[0]
    out = np.empty((m, m))
    for i in range(m):
        # NumPy integer indexing wraps negative offsets exactly as Python does.
        out[i, :] = w_tilde_preload[native[:, 0] - native[i, 0], native[:, 1] - native[i, 1]]
    return out


# ---------------------------------------------------------------------------------------------
# 3.4 dirty-image weights
# ---------------------------------------------------------------------------------------------


def w_tilde_data_interferometer_from(visibilities_real, noise_map_real, uv_wavelengths, grid_radians_slim):
    """out[i] = sum_k (sigma_k^2 / V_k)^2 cos(2 pi (x_i u_k + y_i v_k))."""
    weight = (np.asarray(noise_map_real) ** 2 / np.asarray(visibilities_real)) ** 2
    y = grid_radians_slim[:, 0:1]
    x = grid_radians_slim[:, 1:2]
    phase = TWO_PI * (x * uv_wavelengths[None, :, 0] + y * uv_wavelengths[None, :, 1])  # (M, K)
    return np.cos(phase) @ weight


def w_tilde_data_weights(visibilities_real, noise_map_real):
    """The per-visibility weights (sigma_k^2 / V_k)^2 of 3.4 (for tolerance scales)."""
    return (np.asarray(noise_map_real) ** 2 / np.asarray(visibilities_real)) ** 2


# ---------------------------------------------------------------------------------------------
# 3.5 mapping matrix and curvature matrix
# ---------------------------------------------------------------------------------------------


def mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    """T (M, S): T[m, s] += weight[m, b] for each b before the row's first -1."""
    idx = np.asarray(pix_indexes_for_sub_slim_index)
    wts = np.asarray(pix_weights_for_sub_slim_index, dtype=np.float64)
    m_rows, b_cols = idx.shape
    out = np.zeros((m_rows, int(pixels)))
    for m in range(m_rows):
        for b in range(b_cols):
            s = int(idx[m, b])
            if s == -1:
                break
            out[m, s] += wts[m, b]
    return out


def data_vector_from(mapping_matrix, dirty_image):
    """(S,) = dirty_image @ T."""
    return np.asarray(dirty_image) @ np.asarray(mapping_matrix)


def curvature_matrix_via_w_tilde_from(w_tilde, mapping_matrix):
    """F = T^T W T."""
    t = np.asarray(mapping_matrix)
    return t.T @ np.asarray(w_tilde) @ t


def sparse_mapping_matrix_transpose_matmul(matrix, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    """T^T @ matrix."""
    t = mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    return t.T @ np.asarray(matrix)


def curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w_tilde, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    t = mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    return curvature_matrix_via_w_tilde_from(w_tilde, t)


curvature_matrix_via_w_wilde_sparse_mapping_matrix_from = curvature_matrix_via_w_tilde_sparse_mapping_matrix_from


def curvature_matrix_via_w_compact_sparse_mapping_matrix_from(w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    w = w_tilde_via_compact_from(w_compact, native_index_for_slim_index)
    return curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)


curvature_matrix_via_w_tilde_curvature_preload_interferometer_from = curvature_matrix_via_w_compact_sparse_mapping_matrix_from
curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from = curvature_matrix_via_w_compact_sparse_mapping_matrix_from


# ---------------------------------------------------------------------------------------------
# 3.6 regularisation, solve, likelihood, masks
# ---------------------------------------------------------------------------------------------


def constant_regularization_matrix_from(coefficient, neighbors, neighbors_sizes):
    """H[i,i] = 1e-8 + coefficient^2 * neighbors_sizes[i]; H[i,k] -= coefficient^2 per neighbour k."""
    nb = np.asarray(neighbors)
    sizes = np.asarray(neighbors_sizes)
    s_pix = nb.shape[0]
    reg = coefficient * coefficient
    h = np.zeros((s_pix, s_pix))
    for i in range(s_pix):
        h[i, i] += 1e-8
        for j in range(int(sizes[i])):
            k = int(nb[i, j])
            if k == -1:
                break
            h[i, i] += reg
            h[i, k] -= reg
    return h


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


def log_likelihood_terms(dirty_image, data, noise_map, curvature_matrix, mapping_matrix, neighbors, neighbors_sizes):
    """The five terms of SPEC 3.6 for a given F and T (coefficient 1)."""
    h = constant_regularization_matrix_from(1.0, neighbors, neighbors_sizes)
    a = curvature_matrix + h
    d = data_vector_from(mapping_matrix, dirty_image)
    s = reconstruction_positive_negative_from(d, a)
    return {
        "chi_squared": chi_squared_complex(data, noise_map),
        "s_dot_d": float(s @ d),
        "logdet_a": _logdet_spd(a),
        "logdet_h": _logdet_spd(h),
        "noise_normalization": noise_normalization_complex_from(noise_map),
    }


def log_likelihood_from_terms(t):
    return -0.5 * (t["chi_squared"] - t["s_dot_d"] + t["logdet_a"] - t["logdet_h"] + t["noise_normalization"])


def log_likelihood_function_via_w_tilde_from(dirty_image, data, noise_map, w_tilde, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, neighbors, neighbors_sizes):
    """-0.5 (chi.chi - s.d + logdet A - logdet H + noise_normalization), A = T^T W T + H."""
    pixels = np.asarray(neighbors).shape[0]
    t = mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    f = curvature_matrix_via_w_tilde_from(w_tilde, t)
    return log_likelihood_from_terms(log_likelihood_terms(dirty_image, data, noise_map, f, t, neighbors, neighbors_sizes))


def log_likelihood_function_via_w_compact_from(dirty_image, data, noise_map, w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, neighbors, neighbors_sizes):
    w = w_tilde_via_compact_from(w_compact, native_index_for_slim_index)
    return log_likelihood_function_via_w_tilde_from(dirty_image, data, noise_map, w, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, neighbors, neighbors_sizes)


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


__all__ = [name for name in dir() if not name.startswith("_") and name != "np"]


# ---------------------------------------------------------------------------------------------
# 3.9 the production library's 2026 extent grid (PyAutoArray): precision operator, CSR / CSC
# and COO mappings, F densely
# ---------------------------------------------------------------------------------------------


def extent_convolution_matrix(preload, ny, nx):
    """C (ny nx, ny nx) on extent-flat cells: C[j, i] = preload[(j_y - i_y) mod 2ny, (j_x - i_x) mod 2nx],
    so that C @ f is the zero-padded wrap-around convolution of f with the preload."""
    cy, cx = np.divmod(np.arange(ny * nx), nx)
    return preload[(cy[:, None] - cy[None, :]) % (2 * ny), (cx[:, None] - cx[None, :]) % (2 * nx)]


def mapping_matrix_from_sizes(pix_indexes_for_sub_slim_index, pix_sizes_for_sub_slim_index,
                              pix_weights_for_sub_slim_index, pixels):
    """T (M, S): T[i, idx[i, b]] += w[i, b] for b < sizes[i] (a Mapper's padded rows)."""
    m = pix_indexes_for_sub_slim_index.shape[0]
    t = np.zeros((m, pixels))
    for i in range(m):
        for b in range(int(pix_sizes_for_sub_slim_index[i])):
            t[i, pix_indexes_for_sub_slim_index[i, b]] += pix_weights_for_sub_slim_index[i, b]
    return t


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
