"""The w-tilde family: the pixel-pair matrix, its compact form, and the dirty-image weights."""
from __future__ import annotations

import numpy as np

from . import _swiftw
from ._lattice import lattice_of
from ._limits import cosine_grid_scratch, nufft_scratch
from ._nufft import nufft_plan
from ._options import eps as nufft_eps, method_of
from ._validate import count, floats, indices, number, output

__all__ = [
    "w_tilde_curvature_interferometer_from",
    "w_mm",
    "w_compact_curvature_interferometer_from",
    "w_tilde_via_compact_from",
    "w_tilde_via_preload_from",
    "w_tilde_data_interferometer_from",
]


def w_tilde_curvature_interferometer_from(
    noise_map_real: np.ndarray,
    uv_wavelengths: np.ndarray,
    grid_radians_slim: np.ndarray,
) -> np.ndarray:
    """The w-tilde matrix of every pair of image pixels.

    ``W[i, j] = sum_k c_k cos(2 pi [(x_i - x_j) u_k + (y_i - y_j) v_k])`` with
    ``c_k = 1 / noise_map_real[k]**2``.

    Parameters
    ----------
    noise_map_real : (K,) float64
        sigma_k of each visibility.
    uv_wavelengths : (K, 2) float64
        (u, v) of each visibility, in wavelengths.
    grid_radians_slim : (M, 2) float64
        (y, x) of each image pixel, in radians.

    Returns
    -------
    (M, M) float64, symmetric, with ``W[i, i] = sum(c)``.

    Notes
    -----
    The option ``w_tilde`` (`swiftw.set_options`, `swiftw.options`) picks the evaluation:
    "direct": angle addition, two real matrix products, M K sincos and M^2 K multiply-adds, for
    any pixel positions. "compact": when the pixels lie on a lattice (recognised to within
    rounding; ValueError otherwise), W depends only on their offsets: the exact compact form over
    the lattice's box (8 N^2 K) unfolded to (M, M). "auto" (default): "compact" on a lattice, else
    "direct". Both are exact to rounding.
    """
    method = method_of("w_tilde")
    noise = floats(noise_map_real, "noise_map_real", 1)
    uv = floats(uv_wavelengths, "uv_wavelengths", 2)
    grid = floats(grid_radians_slim, "grid_radians_slim", 2)
    out = output((grid.shape[0], grid.shape[0]), "the w-tilde matrix", temporaries=1.0)
    lattice = None
    if method != "direct" and grid.shape[1:] == (2,) and uv.shape[1:] == (2,) and noise.shape[0] == uv.shape[0]:
        lattice = lattice_of(grid, uv)
        if lattice is None and method == "compact":
            raise ValueError("the option w_tilde='compact' needs grid_radians_slim on a lattice (to within "
                             "rounding); it is not: use w_tilde='direct'")
    if lattice is None:
        _swiftw.w_tilde(out, noise, uv, grid)
        return out
    side = max(lattice.rows, lattice.cols)
    compact = output((side, 2 * side - 1), "w_compact", temporaries=cosine_grid_scratch())
    _swiftw.w_compact(compact, noise, uv, side, lattice.spacing * 648000.0 / np.pi)
    _swiftw.w_tilde_via_compact(out, compact, lattice.native)
    return out


def w_mm(n_k: np.ndarray, u_k_vec: np.ndarray, g_m_vec: np.ndarray) -> np.ndarray:
    """The study's name for `w_tilde_curvature_interferometer_from(n_k, u_k_vec, g_m_vec)`."""
    return w_tilde_curvature_interferometer_from(n_k, u_k_vec, g_m_vec)


def w_compact_curvature_interferometer_from(
    grid_size: int,
    noise_map_real: np.ndarray,
    uv_wavelengths: np.ndarray,
    pixel_scale: float,
) -> np.ndarray:
    """The compact w-tilde: the w-tilde value of every native pixel offset.

    ``w_compact[m, n] = sum_k c_k cos(D [(n - (N-1)) u_k - m v_k])`` for ``0 <= m < N``,
    ``0 <= n < 2N-1``, with ``N = grid_size``, ``c_k = 1 / sigma_k^2`` and
    ``D = pi^2 * pixel_scale / 324000``.

    Parameters
    ----------
    grid_size : int
        N, the side of the square native grid that holds the mask.
    noise_map_real : (K,) float64
    uv_wavelengths : (K, 2) float64
    pixel_scale : float
        Arcseconds per pixel.

    Returns
    -------
    (N, 2N-1) float64

    Notes
    -----
    The option ``w_compact`` (`swiftw.set_options`, `swiftw.options`) picks the evaluation:
    "direct": exact (to rounding) by angle addition, (3N-1) sincos and 8 N^2 multiply-adds per
    visibility, memory O(N^2). "nufft": a type-1 non-uniform FFT (exponential of semicircle
    kernel, oversampling 2), O(K w^2 + N^2 log N), accurate to the option ``eps``: max |error|
    <= about eps * sum(c) (default 1e-12, below any noise in the data). "auto" (default): the
    faster of the two for these sizes (the NUFFT once K N^2 is large).
    """
    method = method_of("w_compact")
    n = count(grid_size, "grid_size")
    if n < 1:
        raise ValueError(f"grid_size must be at least 1, got {n}")
    noise = floats(noise_map_real, "noise_map_real", 1)
    uv = floats(uv_wavelengths, "uv_wavelengths", 2)
    scale = number(pixel_scale, "pixel_scale")
    eps = nufft_eps()
    if method == "auto":
        method = "nufft" if _nufft_is_faster(n, noise.shape[0], eps) else "direct"
    if method == "direct":
        out = output((n, 2 * n - 1), "w_compact", temporaries=cosine_grid_scratch())
        _swiftw.w_compact(out, noise, uv, n, scale)
        return out
    # Refused up front if the fine grids (about (4N)^2 each) cannot fit, before the plan is made.
    out = output((n, 2 * n - 1), "w_compact", temporaries=nufft_scratch(16 * n * n, n * (2 * n - 1)))
    plan = nufft_plan(eps, n, n)
    _swiftw.w_compact_nufft(out, noise, uv, plan.coefficients, plan.correction_x, plan.correction_y,
                            n, scale, plan.width, plan.rows, plan.cols)
    return out


def _nufft_is_faster(n: int, k: int, eps: float) -> bool:
    """w_compact's cost model, in Swift next to the kernels (NUFFT/WCompactMethod.swift)."""
    answer = np.zeros(1)
    _swiftw.w_compact_prefers_nufft(answer, n, k, eps)
    return bool(answer[0])


def w_tilde_via_compact_from(w_compact: np.ndarray, native_index_for_slim_index: np.ndarray) -> np.ndarray:
    """Unfold the compact w-tilde into the (M, M) matrix.

    With ``dr = row_i - row_j`` and ``dc = col_i - col_j``:
    ``W[i, j] = w_compact[dr, dc + N-1]`` if ``dr >= 0`` else ``w_compact[-dr, -dc + N-1]``.

    Parameters
    ----------
    w_compact : (N, 2N-1) float64
    native_index_for_slim_index : (M, 2) int64
        (row, col) of each image pixel on the N x N grid.

    Returns
    -------
    (M, M) float64
    """
    compact = floats(w_compact, "w_compact", 2)
    native = indices(native_index_for_slim_index, "native_index_for_slim_index", 2)
    out = output((native.shape[0], native.shape[0]), "the w-tilde matrix")
    _swiftw.w_tilde_via_compact(out, compact, native)
    return out


def w_tilde_via_preload_from(w_tilde_preload: np.ndarray, native_index_for_slim_index: np.ndarray) -> np.ndarray:
    """The (M, M) w-tilde matrix from PyAutoArray's preload layout.

    ``W[i, j] = w_tilde_preload[row_j - row_i, col_j - col_i]`` with Python's negative-index wrap.

    Parameters
    ----------
    w_tilde_preload : (P0, P1) float64
    native_index_for_slim_index : (M, 2) int64
        Rows in [0, P0), columns in [0, P1).

    Returns
    -------
    (M, M) float64
    """
    preload = floats(w_tilde_preload, "w_tilde_preload", 2)
    native = indices(native_index_for_slim_index, "native_index_for_slim_index", 2)
    out = output((native.shape[0], native.shape[0]), "the w-tilde matrix")
    _swiftw.w_tilde_via_preload(out, preload, native)
    return out


def w_tilde_data_interferometer_from(
    visibilities_real: np.ndarray,
    noise_map_real: np.ndarray,
    uv_wavelengths: np.ndarray,
    grid_radians_slim: np.ndarray,
) -> np.ndarray:
    """The dirty-image weights of w-tilde.

    ``out[i] = sum_k (sigma_k^2 / V_k)^2 cos(2 pi (x_i u_k + y_i v_k))`` (the weights exactly as
    the reference writes them).

    Parameters
    ----------
    visibilities_real : (K,) float64
    noise_map_real : (K,) float64
    uv_wavelengths : (K, 2) float64
    grid_radians_slim : (M, 2) float64
        (y, x) of each image pixel, in radians.

    Returns
    -------
    (M,) float64

    Notes
    -----
    The option ``w_tilde_data`` (`swiftw.set_options`, `swiftw.options`) picks the evaluation:
    "direct": M K cosines, vectorised; works for any pixel positions. The other two need the
    pixels on a lattice (``x = x0 + d col``, ``y = y0 - d row``, recognised to within rounding;
    ValueError otherwise). "lattice": angle addition makes the sum one real matrix product over
    the lattice's box, (rows + cols) sincos and 4 rows cols multiply-adds per visibility, exact
    to rounding. "nufft": two type-1 non-uniform FFTs over the box, accurate to the option
    ``eps`` (max |error| <= about eps * sum of the weights). "auto" (default): on a lattice the
    faster of "lattice" and "nufft", else "direct".
    """
    method = method_of("w_tilde_data")
    vis = floats(visibilities_real, "visibilities_real", 1)
    noise = floats(noise_map_real, "noise_map_real", 1)
    uv = floats(uv_wavelengths, "uv_wavelengths", 2)
    grid = floats(grid_radians_slim, "grid_radians_slim", 2)
    eps = nufft_eps()
    out = output((grid.shape[0],), "the dirty-image weights")
    lattice = None
    if method != "direct" and grid.shape[1:] == (2,) and uv.shape[1:] == (2,):
        lattice = lattice_of(grid, uv)
        if lattice is None and method != "auto":
            raise ValueError(f"the option w_tilde_data={method!r} needs grid_radians_slim on a lattice (to "
                             "within rounding); it is not: use w_tilde_data='direct'")
    if lattice is None:
        _swiftw.w_tilde_data(out, vis, noise, uv, grid)
        return out
    if method == "auto":
        box = lattice.rows * lattice.cols
        method = "nufft" if _nufft_is_faster(int(np.sqrt(box)) // 2 + 1, 2 * vis.shape[0], eps) else "lattice"
    if method == "lattice":
        _swiftw.w_tilde_data_lattice(out, vis, noise, uv, lattice.native, lattice.rows, lattice.cols,
                                     lattice.y0, lattice.x0, lattice.spacing)
        return out
    plan = nufft_plan(eps, lattice.cols - lattice.cols // 2 + 1, lattice.rows - lattice.rows // 2 + 1)
    _swiftw.w_tilde_data_nufft(out, vis, noise, uv, lattice.native, plan.coefficients, plan.correction_x,
                               plan.correction_y, lattice.rows, lattice.cols, lattice.y0, lattice.x0,
                               lattice.spacing, plan.width, plan.rows, plan.cols)
    return out
