"""Regularisation, the linear solve, masks, and the log-likelihood of the pixelised source."""
from __future__ import annotations

import numpy as np

from . import _swiftw
from ._validate import complex_values, count, floats, indices, number, output
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
    return _regularization(coefficient, neighbors, neighbors_sizes, rows_end_at_sizes=False)


def _regularization(coefficient, neighbors, neighbors_sizes, *, rows_end_at_sizes: bool) -> np.ndarray:
    """H with rows of `neighbors` ending at their first -1, or at `neighbors_sizes` (autoarray)."""
    c = number(coefficient, "coefficient")
    nb = indices(neighbors, "neighbors", 2)
    sizes = indices(neighbors_sizes, "neighbors_sizes", 1)
    out = output((sizes.shape[0], sizes.shape[0]), "the regularization matrix")
    _swiftw.regularization(out, nb, sizes, c, int(rows_end_at_sizes))
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


def _cholesky(a: np.ndarray, name: str):
    """LAPACK Cholesky factor of the symmetric `a` (overwritten), or ValueError naming the matrix.

    LAPACK wants Fortran order; `a.T` is that view of a C-ordered `a` and, `a` being symmetric,
    the same matrix, so its upper factor needs no copy (a copy of a 1000 x 1000 matrix took
    as long as a third of the factorisation here).
    """
    from scipy.linalg import LinAlgError, cho_factor

    try:
        return cho_factor(a.T, lower=False, overwrite_a=True, check_finite=False)
    except LinAlgError:
        raise ValueError(f"{name} is not positive definite") from None


def _log_det_regularization(neighbors: np.ndarray, neighbors_sizes: np.ndarray, rows_end_at_sizes: bool,
                            coefficient: float = 1.0) -> float:
    """log det H by one banded Cholesky factorisation (LAPACK dpbtrf), in one Swift call.

    H couples each source pixel with its neighbours only: ``H[i, i] = 1e-8 + c^2 sizes[i]``,
    ``H[i, k] -= c^2`` per listed neighbour (c the coefficient). Swift validates the neighbours,
    renumbers the pixels by reverse Cuthill-McKee (a symmetric permutation keeps the determinant)
    and factors the band: S b^2 for a half-width b instead of S^3 / 3, dense only when b > S / 8.
    """
    from .inversion import _install_lapack  # inversion imports this module

    _install_lapack()
    nb, sizes, _ = _neighbours(neighbors, neighbors_sizes)
    out = np.empty(1)
    _swiftw.log_det_regularization(out, nb, sizes, number(coefficient, "coefficient"), int(rows_end_at_sizes))
    return float(out[0])


def _neighbours(neighbors, neighbors_sizes) -> tuple[np.ndarray, np.ndarray, int]:
    """(neighbors, neighbors_sizes, S) checked against each other (values are checked in Swift)."""
    nb = indices(neighbors, "neighbors", 2)
    sizes = indices(neighbors_sizes, "neighbors_sizes", 1)
    if sizes.shape[0] != nb.shape[0]:
        raise ValueError(f"neighbors_sizes has shape {sizes.shape}, expected ({nb.shape[0]},) (one per row of neighbors)")
    return nb, sizes, nb.shape[0]


def _log_likelihood_from_parts(data, noise_map, curvature, data_vector, neighbors, neighbors_sizes,
                               *, rows_end_at_sizes: bool) -> float:
    """``-0.5 (chi.chi - s.d + log det A - log det H + noise_normalization)`` with A = F + H
    (coefficient 1) and s = A^-1 d, from F (`curvature`, overwritten by A) and d. H is added into
    F by the Swift kernel (which validates the neighbour lists); one Cholesky each (LAPACK)."""
    from scipy.linalg import cho_solve

    data = complex_values(data, "data")
    noise = complex_values(noise_map, "noise_map")
    if noise.shape != data.shape:
        raise ValueError(f"noise_map has shape {noise.shape}, expected data's shape {data.shape}")
    nb, sizes, _ = _neighbours(neighbors, neighbors_sizes)
    a = curvature
    _swiftw.regularization(a, nb, sizes, 1.0, int(rows_end_at_sizes), 1)  # A = F + H, in F's memory
    factor = _cholesky(a, "curvature_reg_matrix (F + H)")
    reconstruction = cho_solve(factor, data_vector, check_finite=False)
    log_det_a = 2.0 * float(np.sum(np.log(np.diag(factor[0]))))
    log_det_h = _log_det_regularization(nb, sizes, rows_end_at_sizes)
    chi_squared = float(np.sum((data.real / noise.real) ** 2) + np.sum((data.imag / noise.imag) ** 2))
    return -0.5 * (
        chi_squared - float(reconstruction @ data_vector) + log_det_a - log_det_h
        + noise_normalization_complex_from(noise)
    )


def _log_likelihood(dirty_image, data, noise_map, curvature, pix_indexes, pix_weights, neighbors, neighbors_sizes):
    d_img = floats(dirty_image, "dirty_image", 1)
    *_, pixels = _neighbours(neighbors, neighbors_sizes)
    data_vector = sparse_mapping_matrix_transpose_matmul(d_img, pix_indexes, pix_weights, pixels)
    return _log_likelihood_from_parts(data, noise_map, curvature(pixels), data_vector, neighbors, neighbors_sizes,
                                      rows_end_at_sizes=False)


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


def _pixel_scales(pixel_scales) -> tuple[float, float]:
    p0, p1 = (number(v, f"pixel_scales[{i}]") for i, v in enumerate(pixel_scales))
    if p0 == 0 or p1 == 0 or not (np.isfinite(p0) and np.isfinite(p1)):
        raise ValueError(f"pixel_scales must be finite and non-zero, got {(p0, p1)}")
    return p0, p1


def mask_2d_centres_from(shape_native, pixel_scales, centre) -> tuple[float, float]:
    """The (y, x) pixel coordinates of `centre` (arcseconds) on a grid of `shape_native`.

    ``((shape0 - 1)/2 - centre0/ps0, (shape1 - 1)/2 + centre1/ps1)``.
    """
    s0, s1 = (count(v, f"shape_native[{i}]") for i, v in enumerate(shape_native))
    p0, p1 = _pixel_scales(pixel_scales)
    c0, c1 = (number(v, f"centre[{i}]") for i, v in enumerate(centre))
    return (float(s0 - 1) / 2 - c0 / p0, float(s1 - 1) / 2 + c1 / p1)


def mask_2d_circular_from(shape_native, pixel_scales, radius: float, centre=(0.0, 0.0)) -> np.ndarray:
    """A circular mask: True where masked, i.e. where
    ``radius^2 < ((y - cy) ps0)^2 + ((x - cx) ps1)^2``.

    Returns
    -------
    (shape0, shape1) bool
    """
    cy, cx = mask_2d_centres_from(shape_native, pixel_scales, centre)
    s0, s1 = (count(v, f"shape_native[{i}]") for i, v in enumerate(shape_native))
    output((s0, s1), "the mask")  # refuses an impossible shape up front (bool needs less; a bound)
    p0, p1 = _pixel_scales(pixel_scales)
    y = (np.arange(s0) - cy) * p0
    x = (np.arange(s1) - cx) * p1
    return number(radius, "radius") ** 2 < y[:, None] ** 2 + x[None, :] ** 2
