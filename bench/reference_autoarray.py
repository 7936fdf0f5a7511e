"""NumPy references for `swiftw.autoarray` (SPEC 3.7), and problem generators with sub-pixels.

Like `reference.py`, nothing here imports swiftw. Each function carries the production library's
(PyAutoArray's) name and parameter list and is written from the formula of SPEC 3.3 / 3.6 / 3.7,
favouring "obviously right" over fast:

- `w_tilde_curvature_preload_interferometer_from_literal`: PyAutoArray's four quadrant loops,
  which take the pixel offsets from differences of `grid_radians_2d` (vectorised over k only);
- `w_tilde_curvature_preload_interferometer_from`: the SPEC 3.3 formula with (dy, dx) pixel
  offsets and the grid's spacings (sy, sx);
- `mapping_matrix_from`: the sub-pixel accumulation loop of SPEC 3.7;
- `constant_regularization_matrix_from`: rows that end at `neighbors_sizes[i]` (not at a -1);
- the two log-likelihoods: SPEC 3.6 computed densely (T, W, F = T^T W T, A = F + H, solve,
  slogdet).
"""

from types import SimpleNamespace

import numpy as np

from bench import reference as ref

TWO_PI = 2.0 * np.pi


# ---------------------------------------------------------------------------------------------
# the preload layout
# ---------------------------------------------------------------------------------------------


def w_tilde_curvature_preload_interferometer_from_literal(noise_map_real, uv_wavelengths, shape_masked_pixels_2d,
                                                          grid_radians_2d):
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


def w_tilde_curvature_preload_interferometer_from(noise_map_real, uv_wavelengths, ny, nx, sy, sx):
    """SPEC 3.3 on an Ny x Nx box with spacings (sy, sx) in radians:
    preload[dy mod 2Ny, dx mod 2Nx] = sum_k c_k cos(2 pi (sx dx u_k - sy dy v_k)), |dy| < Ny,
    |dx| < Nx; row Ny and column Nx zero."""
    c = np.asarray(noise_map_real, dtype=np.float64) ** -2.0
    u = uv_wavelengths[:, 0]
    v = uv_wavelengths[:, 1]
    out = np.zeros((2 * ny, 2 * nx))
    dxs = np.arange(-(nx - 1), nx)
    for dy in range(-(ny - 1), ny):
        phase = TWO_PI * (sx * dxs[:, None] * u[None, :] - sy * dy * v[None, :])
        out[dy % (2 * ny), dxs % (2 * nx)] = np.cos(phase) @ c
    return out


def grid_radians_2d_from(shape, y0, x0, sy, sx):
    """The native (Ny, Nx, 2) grid of (y, x): y = y0 - sy row, x = x0 + sx col."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    return np.ascontiguousarray(np.stack([y0 - sy * rows, x0 + sx * cols], axis=-1).astype(np.float64))


# ---------------------------------------------------------------------------------------------
# sub-pixel mapping, curvature, regularisation
# ---------------------------------------------------------------------------------------------


def mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index, pix_weights_for_sub_slim_index,
                        pixels, total_mask_pixels, slim_index_for_sub_slim_index, sub_fraction):
    """T[slim[q], pix_indexes[q, b]] += sub_fraction[slim[q]] * pix_weights[q, b], b < pix_size[q]."""
    out = np.zeros((int(total_mask_pixels), int(pixels)))
    for q in range(len(slim_index_for_sub_slim_index)):
        m = int(slim_index_for_sub_slim_index[q])
        for b in range(int(pix_size_for_sub_slim_index[q])):
            out[m, int(pix_indexes_for_sub_slim_index[q, b])] += sub_fraction[m] * pix_weights_for_sub_slim_index[q, b]
    return out


def mapping_matrix_per_image_pixel(pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index,
                                   pix_weights_for_sub_slim_index, pixels):
    """One row per image pixel (the curvature-via-preload mapping): sub-pixel q is image pixel q,
    fraction 1."""
    m = len(pix_size_for_sub_slim_index)
    return mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index,
                               pix_weights_for_sub_slim_index, pixels, m, np.arange(m), np.ones(m))


def curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(
        curvature_preload, pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index, pix_weights_for_sub_slim_index,
        native_index_for_slim_index, pix_pixels):
    """F = T^T W T with W[i, j] = preload[row_j - row_i, col_j - col_i] (SPEC 3.6) and T one row
    per image pixel."""
    w = ref.w_tilde_via_preload_from(curvature_preload, native_index_for_slim_index)
    t = mapping_matrix_per_image_pixel(pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index,
                                       pix_weights_for_sub_slim_index, pix_pixels)
    return t.T @ w @ t


def constant_regularization_matrix_from(coefficient, neighbors, neighbors_sizes):
    """H[i, i] = 1e-8 + coefficient^2 neighbors_sizes[i]; H[i, neighbors[i, j]] -= coefficient^2 for
    j < neighbors_sizes[i] (PyAutoArray: the row ends at its size, whatever follows)."""
    s_pix = len(neighbors)
    reg = coefficient * coefficient
    h = np.zeros((s_pix, s_pix))
    for i in range(s_pix):
        h[i, i] += 1e-8
        for j in range(int(neighbors_sizes[i])):
            h[i, i] += reg
            h[i, int(neighbors[i, j])] -= reg
    return h


# ---------------------------------------------------------------------------------------------
# log-likelihood, densely
# ---------------------------------------------------------------------------------------------


def _logdet(a):
    sign, logdet = np.linalg.slogdet(a)
    assert sign > 0, "matrix is not positive definite"
    return float(logdet)


def log_likelihood_terms(dirty_image, data, noise_map, w_tilde, t, neighbors, neighbors_sizes):
    """The five terms of SPEC 3.6 with a dense T (M, S) and W (M, M)."""
    h = constant_regularization_matrix_from(1.0, neighbors, neighbors_sizes)
    f = t.T @ w_tilde @ t
    a = f + h
    d = np.asarray(dirty_image) @ t
    s = np.linalg.solve(a, d)
    return {
        "chi_squared": ref.chi_squared_complex(data, noise_map),
        "s_dot_d": float(s @ d),
        "logdet_a": _logdet(a),
        "logdet_h": _logdet(h),
        "noise_normalization": ref.noise_normalization_complex_from(noise_map),
        "cond_a": float(np.linalg.cond(a)),
    }


def log_likelihood_from_terms(t):
    return -0.5 * (t["chi_squared"] - t["s_dot_d"] + t["logdet_a"] - t["logdet_h"] + t["noise_normalization"])


def log_likelihood_function_via_w_tilde_from(dirty_image, data, noise_map, w_tilde, pix_indexes_for_sub_slim_index,
                                             pix_size_for_sub_slim_index, pix_weights_for_sub_slim_index,
                                             slim_index_for_sub_slim_index, sub_fraction, neighbors, neighbors_sizes):
    t = mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index, pix_weights_for_sub_slim_index,
                            len(neighbors), len(sub_fraction), slim_index_for_sub_slim_index, sub_fraction)
    return log_likelihood_from_terms(
        log_likelihood_terms(dirty_image, data, noise_map, w_tilde, t, neighbors, neighbors_sizes))


def log_likelihood_function_via_w_compact_from(dirty_image, data, noise_map, w_tilde_preload,
                                               pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index,
                                               pix_weights_for_sub_slim_index, slim_index_for_sub_slim_index,
                                               sub_fraction, neighbors, neighbors_sizes, native_index_for_slim_index):
    w = ref.w_tilde_via_preload_from(w_tilde_preload, native_index_for_slim_index)
    return log_likelihood_function_via_w_tilde_from(dirty_image, data, noise_map, w, pix_indexes_for_sub_slim_index,
                                                    pix_size_for_sub_slim_index, pix_weights_for_sub_slim_index,
                                                    slim_index_for_sub_slim_index, sub_fraction, neighbors,
                                                    neighbors_sizes)


# ---------------------------------------------------------------------------------------------
# problem generators
# ---------------------------------------------------------------------------------------------


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
