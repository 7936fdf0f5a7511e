"""The noise-weighted dirty image: its values (against the NumPy reference) and its convention
(it is the image that pairs with the w-tilde matrix in the expansion of chi-squared)."""

import numpy as np
import pytest

import swiftw
from bench import reference as ref

from conftest import assert_close, draw_uv


def lattice(rng, ny, nx):
    """A regular (ny, nx, 2) grid of (y, x) radians, the (M, 2) coordinates of an elliptical mask
    in it, their (row, col), and the spacing."""
    d = ref.arcsec_to_radians(rng.uniform(0.05, 0.2))
    y0, x0 = rng.uniform(-1, 1, 2) * 20 * d
    rows, cols = np.mgrid[0:ny, 0:nx]
    grid_2d = np.stack([y0 - d * rows, x0 + d * cols], axis=-1)
    inside = ((rows - (ny - 1) / 2) / ny) ** 2 + ((cols - (nx - 1) / 2) / nx) ** 2 <= 0.25
    native = np.stack([rows[inside], cols[inside]], axis=1).astype(np.int64)
    return grid_2d, grid_2d[inside], native, d


def visibilities(rng, k, n, d, *, same_sigma=False):
    uv = draw_uv(rng, k, n, d * 648000 / np.pi, phase_span=rng.uniform(20, 200))
    data = rng.normal(size=k) + 1j * rng.normal(size=k)
    real = rng.uniform(0.5, 2.0, k)
    return data, real + 1j * (real if same_sigma else rng.uniform(0.5, 2.0, k)), uv


@pytest.mark.parametrize("eps", [1e-12, 1e-6])
def test_dirty_image_meets_eps(rng, eps):
    _, slim, _, d = lattice(rng, int(rng.integers(8, 16)), int(rng.integers(8, 16)))
    data, noise, uv = visibilities(rng, int(rng.integers(1000, 5000)), 16, d)
    got = swiftw.dirty_image_interferometer_from(data, noise, uv, slim, eps=eps)
    weights = np.sum(np.abs(data.real) / noise.real**2 + np.abs(data.imag) / noise.imag**2)
    assert_close(got, ref.dirty_image_from(data, noise, uv, slim), scale=weights, rel=10 * eps,
                 what=f"dirty image, eps {eps}")


def test_dirty_image_accepts_pairs_and_real_noise(rng):
    _, slim, _, d = lattice(rng, 9, 9)
    data, noise, uv = visibilities(rng, 2000, 9, d, same_sigma=True)
    want = swiftw.dirty_image_interferometer_from(data, noise, uv, slim)
    got = swiftw.dirty_image_interferometer_from(np.stack([data.real, data.imag], 1), noise.real, uv, slim)
    assert_close(got, want, scale=np.max(np.abs(want)), rel=1e-15, what="pairs and real noise")


def test_dirty_image_pairs_with_w_tilde(rng):
    """chi^2 of any image under the forward model d_k = sum_i image_i exp(-2 pi i (x_i u_k + y_i v_k))
    is image^T W image - 2 image . dirty_image + sum |d / sigma|^2, W the w-tilde matrix of the
    same noise: the dirty image is the one that pairs with F = T^T W T (sigma equal in both parts,
    as W is built from the real part)."""
    ny, nx = 9, 11
    grid_2d, slim, native, d = lattice(rng, ny, nx)
    data, noise, uv = visibilities(rng, 3000, max(ny, nx), d, same_sigma=True)
    preload = swiftw.autoarray.w_tilde_curvature_preload_interferometer_from(noise.real, uv, (ny, nx), grid_2d)
    w = ref.w_tilde_via_preload_from(preload, native)
    dirty = swiftw.dirty_image_interferometer_from(data, noise, uv, slim)
    image = rng.normal(size=slim.shape[0])
    chi2 = ref.chi_squared_complex(data - ref.visibility_model_from(image, uv, slim), noise)
    expanded = image @ w @ image - 2 * image @ dirty + ref.chi_squared_complex(data, noise)
    scale = np.abs(image) @ np.abs(w) @ np.abs(image) + ref.chi_squared_complex(data, noise)
    assert abs(expanded - chi2) <= 1e-10 * scale, (expanded, chi2)
    # not the w_tilde_data weights (sigma^2 / V)^2 of SPEC 3.4
    other = swiftw.w_tilde_data_interferometer_from(data.real, noise.real, uv, slim)
    assert np.max(np.abs(other - dirty)) > 1e-3 * np.max(np.abs(dirty))


def test_dirty_image_needs_a_lattice_and_matching_rows(rng):
    _, slim, _, d = lattice(rng, 10, 10)
    data, noise, uv = visibilities(rng, 500, 10, d)
    with pytest.raises(ValueError, match="grid_radians_slim must lie on a lattice"):
        swiftw.dirty_image_interferometer_from(data, noise, uv, slim + rng.normal(size=slim.shape) * d * 0.1)
    with pytest.raises(ValueError, match="noise_map"):
        swiftw.dirty_image_interferometer_from(data, noise[:-1], uv, slim)
    with pytest.raises(ValueError, match="uv_wavelengths"):
        swiftw.dirty_image_interferometer_from(data, noise, uv[:-1], slim)
    with pytest.raises(ValueError, match="noise_map must be"):
        swiftw.dirty_image_interferometer_from(data, np.ones((500, 3)), uv, slim)
