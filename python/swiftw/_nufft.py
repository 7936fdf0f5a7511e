"""Plans for the type-1 NUFFT: the spreading kernel, its polynomial pieces, the fine grid and the
deconvolution factors.

The kernel is the "exponential of semicircle" ``phi(z) = exp(beta (sqrt(1 - z^2) - 1))`` on
[-1, 1] (Barnett, Magland, af Klinteberg, SIAM J. Sci. Comput. 41, 2019): with width
``w = ceil(log10(1/eps)) + 1`` grid points, ``beta = 2.30 w`` and a fine grid twice the modes
(oversampling 2), its aliasing error is about eps relative to sum(|c|).
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from ._limits import limits

__all__ = ["NufftPlan", "nufft_plan", "next_smooth_even", "width_of"]


class NufftPlan(NamedTuple):
    width: int
    beta: float
    coefficients: np.ndarray  # (degree + 1, 16): coefficient of x^d of point i at [d, i]
    rows: int
    cols: int
    correction_x: np.ndarray  # (modes,) 1 / (kernel transform) for |k| = 0 ... modes-1, columns
    correction_y: np.ndarray  # same, rows


def next_smooth_even(n: int) -> int:
    """The smallest even 2^a 3^b 5^c >= n (a >= 1), in O(log^2 n) steps."""
    n = max(2, int(n))
    best = None
    p5 = 1
    while p5 < 2 * n:
        p35 = p5
        while p35 < 2 * n:
            m = 2 * p35  # even
            while m < n:
                m *= 2
            best = m if best is None else min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def _phi(z: np.ndarray, beta: float) -> np.ndarray:
    return np.exp(beta * (np.sqrt(np.maximum(0.0, 1.0 - z * z)) - 1.0))


def _pieces(width: int, beta: float, degree: int) -> np.ndarray:
    """Monomial coefficients in x = 2s - 1 of phi((s + i - w/2) / (w/2)), s in [0, 1), per point i,
    by Chebyshev interpolation of the given degree."""
    from numpy.polynomial import chebyshev

    nodes = np.cos(np.pi * (np.arange(degree + 1) + 0.5) / (degree + 1))
    s = (nodes + 1) / 2
    coefficients = np.zeros((degree + 1, 16))
    half = width / 2
    for i in range(width):
        values = _phi((s + i - half) / half, beta)
        cheb = chebyshev.chebfit(nodes, values, degree)
        monomial = chebyshev.cheb2poly(cheb)  # may come back shorter (trailing zeros trimmed)
        coefficients[: monomial.size, i] = monomial
    return coefficients


def _correction(width: int, beta: float, size: int, modes: int) -> np.ndarray:
    """1 / ((w/2) int_{-1}^{1} phi(z) cos(pi k w z / size) dz) for k = 0 ... modes-1 (Gauss-Legendre):
    the factor that undoes the kernel on mode k of a grid of `size`."""
    z, weights = np.polynomial.legendre.leggauss(4 * width + 60)
    k = np.arange(modes)[:, None]
    transform = (width / 2) * np.sum(weights * _phi(z, beta) * np.cos(np.pi * k * width * z / size), axis=1)
    return 1.0 / transform


def width_of(eps: float) -> int:
    """The kernel's width for accuracy eps, ``ceil(log10(1/eps)) + 1`` within the kernel's lanes
    (as NUFFTAccuracy.width in Swift, which owns the bounds)."""
    bounds = limits()
    return int(min(bounds["nufft_width_max"], max(bounds["nufft_width_min"], math.ceil(math.log10(1.0 / eps)) + 1)))


@lru_cache(maxsize=32)
def nufft_plan(eps: float, modes_x: int, modes_y: int) -> NufftPlan:
    """A plan for modes |k_x| < modes_x, |k_y| < modes_y at accuracy `eps` (relative to sum |c|)."""
    bounds = limits()
    if not (bounds["nufft_eps_min"] <= eps <= bounds["nufft_eps_max"]):
        raise ValueError(f"eps must be in [{bounds['nufft_eps_min']:g}, {bounds['nufft_eps_max']:g}] "
                         f"(what float64 can deliver), got {eps!r}")
    most = int(bounds["nufft_max_modes"])
    if max(modes_x, modes_y) > most:
        raise MemoryError(f"a NUFFT of {2 * modes_x - 1} x {2 * modes_y - 1} modes needs a fine grid of "
                          f"{16 * modes_x * modes_y * 8 / 2**30:.3g} GiB or more; swiftw supports up to {most} "
                          "modes a side")
    width = width_of(eps)
    beta = 2.30 * width
    degree = width + 3
    cols = next_smooth_even(max(2 * (2 * modes_x - 1), 2 * width))
    rows = next_smooth_even(max(2 * (2 * modes_y - 1), 2 * width))
    coefficients = _pieces(width, beta, degree)
    return NufftPlan(width, beta, coefficients, rows, cols,
                     _correction(width, beta, cols, modes_x), _correction(width, beta, rows, modes_y))
