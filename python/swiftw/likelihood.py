"""Regularisation, the linear solve, masks, and the log-likelihood of the pixelised source."""
from __future__ import annotations

import numpy as np

from . import _swiftw
from ._validate import complex_values, floats, indices, number
from .curvature import (
    curvature_matrix_via_w_compact_sparse_mapping_matrix_from,
    curvature_matrix_via_w_tilde_sparse_mapping_matrix_from,
    sparse_mapping_matrix_transpose_matmul,
)

__all__ = [
    "constant_regularization_matrix_from",
    "reconstruction_positive_negative_from",
    "noise_normalization_complex_from",
    "log_likelihood_function_via_w_tilde_from",
    "log_likelihood_function_via_w_compact_from",
    "mask_2d_centres_from",
    "mask_2d_circular_from",
]


def constant_regularization_matrix_from(
    coefficient: float, neighbors: np.ndarray, neighbors_sizes: np.ndarray
) -> np.ndarray:
    """The constant regularisation matrix H (S, S).

    ``H[i, i] = 1e-8 + coefficient^2 * neighbors_sizes[i]`` and ``H[i, k] -= coefficient^2``
    for each neighbour k in row i of `neighbors`, up to the row's first -1.

    Parameters
    ----------
    coefficient : float
    neighbors : (S, P) int64
        Neighbours of each source pixel, padded with -1.
    neighbors_sizes : (S,) int64

    Returns
    -------
    (S, S) float64
    """
    c = number(coefficient, "coefficient")
    nb = indices(neighbors, "neighbors", 2)
    sizes = indices(neighbors_sizes, "neighbors_sizes", 1)
    out = np.empty((sizes.shape[0], sizes.shape[0]))
    _swiftw.regularization(out, nb, sizes, c)
    return out


def reconstruction_positive_negative_from(data_vector: np.ndarray, curvature_reg_matrix: np.ndarray) -> np.ndarray:
    """The source reconstruction ``s = curvature_reg_matrix^-1 data_vector`` (LAPACK solve).

    Parameters
    ----------
    data_vector : (S,) float64
    curvature_reg_matrix : (S, S) float64

    Returns
    -------
    (S,) float64
    """
    d = floats(data_vector, "data_vector", 1)
    a = floats(curvature_reg_matrix, "curvature_reg_matrix", 2)
    if a.shape != (d.shape[0], d.shape[0]):
        raise ValueError(f"curvature_reg_matrix has shape {a.shape}, expected {(d.shape[0], d.shape[0])}")
    return np.linalg.solve(a, d)


def noise_normalization_complex_from(noise_map: np.ndarray) -> float:
    """``sum log(2 pi Re(noise)^2) + sum log(2 pi Im(noise)^2)``.

    Parameters
    ----------
    noise_map : (K,) complex128

    Returns
    -------
    float
    """
    noise = complex_values(noise_map, "noise_map")
    return float(np.sum(np.log(2 * np.pi * noise.real**2)) + np.sum(np.log(2 * np.pi * noise.imag**2)))


def _log_det_and_solve(a: np.ndarray, b: np.ndarray | None, name: str):
    """One Cholesky factorisation (LAPACK): log det a and, if b is given, a^-1 b."""
    from scipy.linalg import LinAlgError, cho_factor, cho_solve

    try:
        factor = cho_factor(a, lower=True, check_finite=False)
    except LinAlgError:
        raise ValueError(f"{name} is not positive definite") from None
    log_det = 2.0 * float(np.sum(np.log(np.diag(factor[0]))))
    return log_det, (None if b is None else cho_solve(factor, b, check_finite=False))


def _log_likelihood(dirty_image, data, noise_map, curvature, pix_indexes, pix_weights, neighbors, neighbors_sizes):
    d_img = floats(dirty_image, "dirty_image", 1)
    data = complex_values(data, "data")
    noise = complex_values(noise_map, "noise_map")
    if noise.shape != data.shape:
        raise ValueError(f"noise_map has shape {noise.shape}, expected data's shape {data.shape}")
    regularization = constant_regularization_matrix_from(1.0, neighbors, neighbors_sizes)
    pixels = regularization.shape[0]
    data_vector = sparse_mapping_matrix_transpose_matmul(d_img, pix_indexes, pix_weights, pixels)
    f = curvature(pixels)
    chi_squared = float(np.sum((data.real / noise.real) ** 2) + np.sum((data.imag / noise.imag) ** 2))
    log_det_a, s = _log_det_and_solve(f + regularization, data_vector, "curvature_reg_matrix (F + H)")
    log_det_h, _ = _log_det_and_solve(regularization, None, "regularization matrix H")
    return -0.5 * (
        chi_squared - float(s @ data_vector) + log_det_a - log_det_h + noise_normalization_complex_from(noise)
    )


def log_likelihood_function_via_w_tilde_from(
    dirty_image: np.ndarray,
    data: np.ndarray,
    noise_map: np.ndarray,
    w_tilde: np.ndarray,
    pix_indexes_for_sub_slim_index: np.ndarray,
    pix_weights_for_sub_slim_index: np.ndarray,
    neighbors: np.ndarray,
    neighbors_sizes: np.ndarray,
) -> float:
    """The log-likelihood of a pixelised source, from the w-tilde matrix.

    With regularisation coefficient 1, ``F = T^T W T``, ``H`` the constant regularisation
    matrix, ``A = F + H``, ``d = T^T dirty_image``, ``s = A^-1 d`` and ``chi = data / noise_map``
    on real and imaginary parts:
    ``-0.5 * (chi.chi - s.d + log det A - log det H + noise_normalization)``.
    One Cholesky factorisation each for A and H (LAPACK).

    Parameters
    ----------
    dirty_image : (M,) float64
    data, noise_map : (K,) complex128
    w_tilde : (M, M) float64
    pix_indexes_for_sub_slim_index : (M, B) int64
    pix_weights_for_sub_slim_index : (M, B) float64
    neighbors : (S, P) int64
    neighbors_sizes : (S,) int64

    Returns
    -------
    float
    """
    return _log_likelihood(
        dirty_image, data, noise_map,
        lambda pixels: curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(
            w_tilde, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels),
        pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, neighbors, neighbors_sizes,
    )


def log_likelihood_function_via_w_compact_from(
    dirty_image: np.ndarray,
    data: np.ndarray,
    noise_map: np.ndarray,
    w_compact: np.ndarray,
    native_index_for_slim_index: np.ndarray,
    pix_indexes_for_sub_slim_index: np.ndarray,
    pix_weights_for_sub_slim_index: np.ndarray,
    neighbors: np.ndarray,
    neighbors_sizes: np.ndarray,
) -> float:
    """The log-likelihood of a pixelised source, from the compact w-tilde.

    Same value as `log_likelihood_function_via_w_tilde_from` with W unfolded from `w_compact`
    (see there for the formula); F is built without forming W.

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
    return _log_likelihood(
        dirty_image, data, noise_map,
        lambda pixels: curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
            w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
            pix_weights_for_sub_slim_index, pixels),
        pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, neighbors, neighbors_sizes,
    )


def mask_2d_centres_from(shape_native, pixel_scales, centre) -> tuple[float, float]:
    """The (y, x) pixel coordinates of `centre` (arcseconds) on a grid of `shape_native`.

    ``((shape0 - 1)/2 - centre0/ps0, (shape1 - 1)/2 + centre1/ps1)``.
    """
    (s0, s1), (p0, p1), (c0, c1) = shape_native, pixel_scales, centre
    return (float(s0 - 1) / 2 - float(c0) / float(p0), float(s1 - 1) / 2 + float(c1) / float(p1))


def mask_2d_circular_from(shape_native, pixel_scales, radius: float, centre=(0.0, 0.0)) -> np.ndarray:
    """A circular mask: True where masked, i.e. where
    ``radius^2 < ((y - cy) ps0)^2 + ((x - cx) ps1)^2``.

    Returns
    -------
    (shape0, shape1) bool
    """
    cy, cx = mask_2d_centres_from(shape_native, pixel_scales, centre)
    y = (np.arange(shape_native[0]) - cy) * float(pixel_scales[0])
    x = (np.arange(shape_native[1]) - cx) * float(pixel_scales[1])
    return float(radius) ** 2 < y[:, None] ** 2 + x[None, :] ** 2
