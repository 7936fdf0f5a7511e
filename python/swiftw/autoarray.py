"""`swiftw.autoarray`: the production library's (PyAutoArray's) signatures.

For code that calls PyAutoArray's interferometer utilities directly: sub-pixel mappings
(`pix_size_for_sub_slim_index`, `slim_index_for_sub_slim_index`, `sub_fraction`), the (2Ny, 2Nx)
preload layout of the compact w-tilde, and rows of `neighbors` that end at `neighbors_sizes`.
Functions whose signature is the same as at the top level are the top-level functions.

The 2026 API on the mask's extent rectangle (SPEC 3.9): `nufft_precision_operator_from`,
`kernel_inputs_from` and `curvature_direct_conv` (the Numba path), and
`InterferometerSparseOperator`.
"""
from __future__ import annotations

import numpy as np

from . import _swiftw
from ._extent import curvature_direct_conv, kernel_inputs_from
from ._precision import nufft_precision_operator_from, preload_inputs
from ._options import method_of
from ._limits import cosine_grid_scratch, limits
from ._validate import count, floats, indices, output
from .curvature import METHODS, curvature_matrix_via_w_tilde_from, data_vector_from
from .sparse_operator import InterferometerSparseOperator
from .likelihood import (
    _log_likelihood_from_parts,
    _neighbours,
    _regularization,
    mask_2d_centres_from,
    mask_2d_circular_from,
    noise_normalization_complex_from,
    reconstruction_positive_negative_from,
)
from .w_tilde import (
    w_tilde_curvature_interferometer_from,
    w_tilde_data_interferometer_from as _w_tilde_data,
    w_tilde_via_preload_from,
)

__all__ = [
    "w_tilde_data_interferometer_from",
    "w_tilde_curvature_interferometer_from",
    "w_tilde_curvature_preload_interferometer_from",
    "w_tilde_via_preload_from",
    "mapping_matrix_from",
    "curvature_matrix_via_w_tilde_curvature_preload_interferometer_from",
    "data_vector_from",
    "curvature_matrix_via_w_tilde_from",
    "constant_regularization_matrix_from",
    "reconstruction_positive_negative_from",
    "noise_normalization_complex_from",
    "mask_2d_centres_from",
    "mask_2d_circular_from",
    "log_likelihood_function_via_w_tilde_from",
    "log_likelihood_function_via_w_compact_from",
    "nufft_precision_operator_from",
    "kernel_inputs_from",
    "curvature_direct_conv",
    "InterferometerSparseOperator",
]

def w_tilde_data_interferometer_from(
    visibilities_real: np.ndarray,
    noise_map_real: np.ndarray,
    uv_wavelengths: np.ndarray,
    grid_radians_slim: np.ndarray,
    native_index_for_slim_index: np.ndarray,
) -> np.ndarray:
    """The dirty-image weights, ``sum_k (sigma_k^2 / V_k)^2 cos(2 pi (x_i u_k + y_i v_k))``.

    Same values as `swiftw.w_tilde_data_interferometer_from` (evaluated as the option
    ``w_tilde_data`` says); `native_index_for_slim_index` is accepted for the
    production signature and checked for shape.
    """
    native = indices(native_index_for_slim_index, "native_index_for_slim_index", 2)
    grid = floats(grid_radians_slim, "grid_radians_slim", 2)
    if native.shape[0] != grid.shape[0]:
        raise ValueError(f"native_index_for_slim_index has {native.shape[0]} rows, grid_radians_slim has {grid.shape[0]}")
    return _w_tilde_data(visibilities_real, noise_map_real, uv_wavelengths, grid)


def w_tilde_curvature_preload_interferometer_from(
    noise_map_real: np.ndarray,
    uv_wavelengths: np.ndarray,
    shape_masked_pixels_2d,
    grid_radians_2d: np.ndarray,
) -> np.ndarray:
    """The w-tilde values of every pixel offset in the preload layout (2Ny, 2Nx).

    ``preload[dy mod 2Ny, dx mod 2Nx] = sum_k c_k cos(2 pi (sx dx u_k - sy dy v_k))`` for
    ``|dy| < Ny``, ``|dx| < Nx`` (row Ny and column Nx zero), with ``c_k = sigma_k^-2`` and the
    spacings (sy, sx) of `grid_radians_2d`, which must be regular. Exact (to rounding) by angle
    addition, like `swiftw.w_compact_curvature_interferometer_from`.

    Parameters
    ----------
    noise_map_real : (K,) float64
    uv_wavelengths : (K, 2) float64
    shape_masked_pixels_2d : (int, int)
        (Ny, Nx), the extent of the mask.
    grid_radians_2d : (>=Ny, >=Nx, 2) float64
        The native grid of (y, x) in radians.

    Returns
    -------
    (2Ny, 2Nx) float64
    """
    noise, uv, ny, nx, sy, sx = preload_inputs(noise_map_real, uv_wavelengths, shape_masked_pixels_2d, grid_radians_2d)
    out = output((2 * ny, 2 * nx), "the preload", temporaries=cosine_grid_scratch())
    _swiftw.w_tilde_preload(out, noise, uv, ny, nx, sy, sx)
    return out


def _sub_mapping(pix_indexes, pix_size, pix_weights, slim_index=None, sub_fraction=None):
    arrays = [
        indices(pix_indexes, "pix_indexes_for_sub_slim_index", 2),
        indices(pix_size, "pix_size_for_sub_slim_index", 1),
        floats(pix_weights, "pix_weights_for_sub_slim_index", 2),
    ]
    if slim_index is not None:
        arrays += [indices(slim_index, "slim_index_for_sub_slim_index", 1), floats(sub_fraction, "sub_fraction", 1)]
    return arrays


def mapping_matrix_from(
    pix_indexes_for_sub_slim_index: np.ndarray,
    pix_size_for_sub_slim_index: np.ndarray,
    pix_weights_for_sub_slim_index: np.ndarray,
    pixels: int,
    total_mask_pixels: int,
    slim_index_for_sub_slim_index: np.ndarray,
    sub_fraction: np.ndarray,
) -> np.ndarray:
    """The mapping matrix T (M, S) from sub-pixels.

    ``T[slim[q], pix_indexes[q, b]] += sub_fraction[slim[q]] * pix_weights[q, b]`` for
    ``b < pix_size_for_sub_slim_index[q]``, with ``slim = slim_index_for_sub_slim_index`` and
    ``M = total_mask_pixels``. Indices outside their ranges raise IndexError.
    """
    s = count(pixels, "pixels")
    m = count(total_mask_pixels, "total_mask_pixels")
    arrays = _sub_mapping(pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index,
                          pix_weights_for_sub_slim_index, slim_index_for_sub_slim_index, sub_fraction)
    out = output((m, s), "the mapping matrix")
    _swiftw.aa_mapping_matrix(out, *arrays, s)
    return out


def curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(
    curvature_preload: np.ndarray,
    pix_indexes_for_sub_slim_index: np.ndarray,
    pix_size_for_sub_slim_index: np.ndarray,
    pix_weights_for_sub_slim_index: np.ndarray,
    native_index_for_slim_index: np.ndarray,
    pix_pixels: int,
) -> np.ndarray:
    """The curvature matrix ``F = T^T W T`` from the preload layout, never forming W.

    ``W[i, j] = curvature_preload[row_j - row_i, col_j - col_i]`` (negative indices wrap); the
    mapping has one row per image pixel, row m holding its first ``pix_size[m]`` entries.
    The option ``curvature`` picks the method, as for
    `swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from`.
    """
    s = count(pix_pixels, "pix_pixels")
    preload = floats(curvature_preload, "curvature_preload", 2)
    native = indices(native_index_for_slim_index, "native_index_for_slim_index", 2)
    arrays = _sub_mapping(pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index, pix_weights_for_sub_slim_index)
    out = output((s, s), "the curvature matrix", temporaries=limits()["curvature_scratch_per_output"])
    _swiftw.aa_curvature_preload(out, preload, native, *arrays, s, METHODS[method_of("curvature")])
    return out


def constant_regularization_matrix_from(
    coefficient: float, neighbors: np.ndarray, neighbors_sizes: np.ndarray
) -> np.ndarray:
    """The constant regularisation matrix H (S, S), row i with its first ``neighbors_sizes[i]``
    neighbours: ``H[i, i] = 1e-8 + coefficient^2 * neighbors_sizes[i]``, ``H[i, k] -= coefficient^2``.
    """
    return _regularization(coefficient, neighbors, neighbors_sizes, rows_end_at_sizes=True)


def _likelihood(dirty_image, data, noise_map, curvature_of, mapping, neighbors, neighbors_sizes):
    *_, pixels = _neighbours(neighbors, neighbors_sizes)
    d_img = floats(dirty_image, "dirty_image", 1)
    data_vector = output((pixels,), "the data vector")
    _swiftw.aa_transpose_matmul(data_vector, d_img, *mapping, pixels)
    return _log_likelihood_from_parts(data, noise_map, curvature_of(pixels), data_vector, neighbors,
                                      neighbors_sizes, rows_end_at_sizes=True)


def log_likelihood_function_via_w_tilde_from(
    dirty_image: np.ndarray,
    data: np.ndarray,
    noise_map: np.ndarray,
    w_tilde: np.ndarray,
    pix_indexes_for_sub_slim_index: np.ndarray,
    pix_size_for_sub_slim_index: np.ndarray,
    pix_weights_for_sub_slim_index: np.ndarray,
    slim_index_for_sub_slim_index: np.ndarray,
    sub_fraction: np.ndarray,
    neighbors: np.ndarray,
    neighbors_sizes: np.ndarray,
) -> float:
    """The log-likelihood of SPEC 3.6 with the sub-pixel mapping matrix and the w-tilde matrix:
    ``-0.5 (chi.chi - s.d + log det (F + H) - log det H + noise_normalization)``."""
    mapping = _sub_mapping(pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index,
                           pix_weights_for_sub_slim_index, slim_index_for_sub_slim_index, sub_fraction)
    w = floats(w_tilde, "w_tilde", 2)

    def curvature(pixels):
        out = output((pixels, pixels), "the curvature matrix", temporaries=limits()["curvature_scratch_per_output"])
        _swiftw.aa_curvature_w_tilde(out, w, *mapping, pixels)
        return out

    return _likelihood(dirty_image, data, noise_map, curvature, mapping, neighbors, neighbors_sizes)


def log_likelihood_function_via_w_compact_from(
    dirty_image: np.ndarray,
    data: np.ndarray,
    noise_map: np.ndarray,
    w_tilde_preload: np.ndarray,
    pix_indexes_for_sub_slim_index: np.ndarray,
    pix_size_for_sub_slim_index: np.ndarray,
    pix_weights_for_sub_slim_index: np.ndarray,
    slim_index_for_sub_slim_index: np.ndarray,
    sub_fraction: np.ndarray,
    neighbors: np.ndarray,
    neighbors_sizes: np.ndarray,
    native_index_for_slim_index: np.ndarray,
) -> float:
    """The log-likelihood of SPEC 3.6 with the sub-pixel mapping matrix, F built from the preload
    layout `w_tilde_preload` (2Ny, 2Nx) without forming W."""
    mapping = _sub_mapping(pix_indexes_for_sub_slim_index, pix_size_for_sub_slim_index,
                           pix_weights_for_sub_slim_index, slim_index_for_sub_slim_index, sub_fraction)
    preload = floats(w_tilde_preload, "w_tilde_preload", 2)
    native = indices(native_index_for_slim_index, "native_index_for_slim_index", 2)

    def curvature(pixels):
        out = output((pixels, pixels), "the curvature matrix", temporaries=limits()["curvature_scratch_per_output"])
        _swiftw.aa_curvature_preload(out, preload, native, *mapping, pixels, METHODS[method_of("curvature")])
        return out

    return _likelihood(dirty_image, data, noise_map, curvature, mapping, neighbors, neighbors_sizes)
