"""The noise-weighted dirty image: the image-plane half of the data that pairs with F = T^T W T."""
from __future__ import annotations

import numpy as np

from . import _swiftw
from ._lattice import lattice_of
from ._nufft import nufft_plan
from ._validate import floats, number, output

__all__ = ["dirty_image_interferometer_from", "complex_pairs"]


def complex_pairs(x, name: str) -> np.ndarray:
    """`x` as a C-contiguous (K, 2) float64 array of (real, imaginary): a complex128 (K,) array is
    viewed without a copy; a real (K,) array means equal real and imaginary parts (a noise map
    whose sigma is the same for both); a real (K, 2) array is taken as it is."""
    a = np.asarray(x)
    if a.dtype.kind == "c":
        if a.ndim != 1:
            raise ValueError(f"{name} must be 1-D when complex, got shape {a.shape}")
        return np.ascontiguousarray(a, dtype=np.complex128).view(np.float64).reshape(-1, 2)
    a = floats(a, name, (1, 2))
    if a.ndim == 1:
        return np.repeat(a[:, None], 2, axis=1)
    if a.shape[1] != 2:
        raise ValueError(f"{name} must be (K,) complex or (K, 2) of (real, imaginary), got shape {a.shape}")
    return a


def dirty_image_interferometer_from(
    visibilities: np.ndarray,
    noise_map: np.ndarray,
    uv_wavelengths: np.ndarray,
    grid_radians_slim: np.ndarray,
    *,
    eps: float = 1e-12,
) -> np.ndarray:
    """The noise-weighted dirty image that pairs with the w-tilde matrix.

    ``out[i] = sum_k (Re d_k / (Re sigma_k)^2) cos(phi_ik) - (Im d_k / (Im sigma_k)^2) sin(phi_ik)``
    with ``phi_ik = 2 pi (x_i u_k + y_i v_k)``: the adjoint of the forward model
    ``d_k = sum_i image_i exp(-2 pi i phi_ik)`` applied to the data over the noise squared, so that
    ``data_vector_from(T, out)`` is the D of ``chi^2 = s^T F s - 2 s^T D + sum |d / sigma|^2`` with
    F built from the w-tilde matrix of ``noise_map.real`` (the production library's
    ``transformer.image_from(data.real / noise.real**2 + 1j * data.imag / noise.imag**2)``).
    This is not `w_tilde_data_interferometer_from`, whose weights are ``(sigma^2 / V)^2`` as the
    reference writes them.

    Parameters
    ----------
    visibilities : (K,) complex128, or (K, 2) float64 of (real, imaginary)
    noise_map : (K,) complex128, (K, 2) float64, or (K,) float64 (the same sigma for both parts)
    uv_wavelengths : (K, 2) float64
    grid_radians_slim : (M, 2) float64
        (y, x) of each image pixel in radians, on a lattice (recognised to within rounding;
        ValueError otherwise).
    eps : float, keyword-only
        Accuracy of the two type-1 NUFFTs that evaluate it: max |error| <= about
        eps * sum_k |d_k| / sigma_k^2. In [1e-14, 1e-1].

    Returns
    -------
    (M,) float64
    """
    data = complex_pairs(visibilities, "visibilities")
    noise = complex_pairs(noise_map, "noise_map")
    uv = floats(uv_wavelengths, "uv_wavelengths", 2)
    grid = floats(grid_radians_slim, "grid_radians_slim", 2)
    eps = number(eps, "eps")
    lattice = lattice_of(grid, uv) if grid.shape[1:] == (2,) and uv.shape[1:] == (2,) else None
    if lattice is None:
        raise ValueError("grid_radians_slim must lie on a lattice (x = x0 + d col, y = y0 - d row, to within "
                         f"rounding) for the dirty image; got {grid.shape[0]} pixels that do not")
    out = output((grid.shape[0],), "the dirty image")
    plan = nufft_plan(eps, lattice.cols - lattice.cols // 2 + 1, lattice.rows - lattice.rows // 2 + 1)
    _swiftw.dirty_image_nufft(out, data, noise, uv, lattice.native, plan.coefficients, plan.correction_x,
                              plan.correction_y, lattice.rows, lattice.cols, lattice.y0, lattice.x0,
                              lattice.spacing, plan.width, plan.rows, plan.cols)
    return out
