"""`nufft_precision_operator_from` (PyAutoArray 2026, SPEC 3.9): the (2ny, 2nx) precision
operator of the mask's extent, by swiftw's type-1 NUFFT or by the exact sum."""
from __future__ import annotations

import math
import sys
from typing import Iterator, Optional

import numpy as np

from . import _swiftw
from ._extent import shape_2d
from ._limits import checked_eps, cosine_grid_scratch, nufft_scratch
from ._nufft import nufft_plan
from ._validate import choice, count, floats, output

__all__ = ["nufft_precision_operator_from", "preload_inputs"]

_ARCSEC_PER_RADIAN = 648000.0 / math.pi


def nufft_precision_operator_from(
    noise_map_real: np.ndarray,
    uv_wavelengths: np.ndarray,
    shape_masked_pixels_2d,
    grid_radians_2d: np.ndarray,
    *,
    method: str = "nufft",
    eps: float = 1.0e-12,
    chunk_size: Optional[int] = None,
    chunk_k: int = 2048,
    show_progress: bool = False,
    show_memory: bool = False,
    use_jax: bool = False,
) -> np.ndarray:
    """The NUFFT precision operator: W-tilde of every pixel offset on the mask's extent.

    ``P[dy mod 2ny, dx mod 2nx] = sum_k c_k cos(2 pi (sx dx u_k - sy dy v_k))`` for
    ``|dy| < ny``, ``|dx| < nx``, row ny and column nx zero, ``c_k = sigma_k^-2``, (sy, sx) the
    spacings of `grid_radians_2d` (regular: y = y0 - sy row, x = x0 + sx col).

    Parameters
    ----------
    noise_map_real : (K,) float64
    uv_wavelengths : (K, 2) float64
    shape_masked_pixels_2d : (int, int)
        (ny, nx), the mask's extent.
    grid_radians_2d : (>=ny, >=nx, 2) float64
        The native (y, x) grid in radians; only its spacings are used.
    method : {"nufft", "numpy"}, keyword-only
        "nufft" (default): swiftw's type-1 NUFFT (exponential of semicircle kernel), O(K w^2 +
        N^2 log N) with N = max(ny, nx), max error about ``eps * sum(c)``; square pixels only
        (as the production library). "numpy": the exact sum (to rounding) by angle addition, O(K
        ny nx) at matrix-multiply speed, any spacings. "jax" is not available (NotImplementedError).
    eps : float, keyword-only
        Accuracy of "nufft", in [1e-14, 1e-1].
    chunk_size : int or None, keyword-only
        "nufft": visibilities per transform (the transform is linear in c: the chunks add);
        None, one transform.
    chunk_k : int, keyword-only
        "numpy": visibilities per step of the progress bar (the sum's memory does not grow
        with K either way).
    show_progress : bool, keyword-only
        A progress bar over the chunks: tqdm's if tqdm is installed, else a plain counter on
        stderr.
    show_memory : bool, keyword-only
        With `show_progress`, also report the process's peak resident memory after each chunk.
    use_jax : bool, keyword-only
        With method "numpy", asks for the production library's JAX brute force, which swiftw does
        not have: NotImplementedError. Ignored under "nufft" (as in the production library).

    Returns
    -------
    (2ny, 2nx) float64
    """
    method = choice(method, "method", ("nufft", "numpy", "jax"))
    if method == "jax" or (method == "numpy" and use_jax):
        raise NotImplementedError(
            "swiftw builds the precision operator on the CPU only: use method='nufft' (a type-1 NUFFT, "
            "seconds at ALMA sizes) or method='numpy' (the exact sum); use_jax applies to PyAutoArray's own builders")
    noise, uv, ny, nx, sy, sx = preload_inputs(noise_map_real, uv_wavelengths, shape_masked_pixels_2d, grid_radians_2d)
    k = noise.shape[0]
    if method == "numpy":
        step = _positive(chunk_k, "chunk_k")
        chunks = _chunks(k, step if show_progress else max(k, 1), show_progress, show_memory)
        return _sum_over(chunks, lambda lo, hi: _exact(noise[lo:hi], uv[lo:hi], ny, nx, sy, sx), (2 * ny, 2 * nx))
    eps = checked_eps(eps)
    # Spacings read off a grid of offset coordinates carry their rounding (~1e-12 relative).
    if not math.isclose(sy, sx, rel_tol=1e-9, abs_tol=0.0):
        raise ValueError(f"method='nufft' needs square pixels: grid_radians_2d has spacings {sy!r} (y) and {sx!r} (x); "
                         "use method='numpy'")
    step = max(k, 1) if chunk_size is None else _positive(chunk_size, "chunk_size")
    chunks = _chunks(k, step, show_progress, show_memory)
    return _sum_over(chunks, lambda lo, hi: _by_nufft(noise[lo:hi], uv[lo:hi], ny, nx, (sy + sx) / 2, eps), (2 * ny, 2 * nx))


def preload_inputs(noise_map_real, uv_wavelengths, shape_masked_pixels_2d, grid_radians_2d):
    """(noise, uv, ny, nx, sy, sx): the checked arrays, the extent, and the spacings of the
    grid's first (ny, nx) points, which must be regular (y = y0 - sy row, x = x0 + sx col)."""
    ny, nx = shape_2d(shape_masked_pixels_2d, "shape_masked_pixels_2d")
    grid = floats(grid_radians_2d, "grid_radians_2d", 3)
    if grid.shape[0] < ny or grid.shape[1] < nx or grid.shape[2] != 2:
        raise ValueError(f"grid_radians_2d has shape {grid.shape}, expected at least ({ny}, {nx}, 2)")
    sy, sx = _grid_spacing(grid[:ny, :nx], "grid_radians_2d")
    noise = floats(noise_map_real, "noise_map_real", 1)
    uv = floats(uv_wavelengths, "uv_wavelengths", 2)
    if uv.shape != (noise.shape[0], 2):
        raise ValueError(f"uv_wavelengths has shape {uv.shape}, expected ({noise.shape[0]}, 2)")
    return noise, uv, ny, nx, sy, sx


def _grid_spacing(grid: np.ndarray, name: str) -> tuple[float, float]:
    """(sy, sx) of a regular (Ny, Nx, 2) grid of (y, x): y = y00 - sy row, x = x00 + sx col."""
    ny, nx = grid.shape[:2]
    sy = float(grid[0, 0, 0] - grid[1, 0, 0]) if ny > 1 else 0.0
    sx = float(grid[0, 1, 1] - grid[0, 0, 1]) if nx > 1 else 0.0
    rows, cols = np.arange(ny)[:, None], np.arange(nx)[None, :]
    deviation = max(
        np.max(np.abs(grid[:, :, 0] - (grid[0, 0, 0] - sy * rows))),
        np.max(np.abs(grid[:, :, 1] - (grid[0, 0, 1] + sx * cols))),
    )
    if not deviation <= 1e-9 * max(abs(sy), abs(sx), 1e-300) * max(ny, nx):
        raise ValueError(f"{name} is not a regular grid (y = y0 - sy row, x = x0 + sx col)")
    return sy, sx


def _positive(x, name: str) -> int:
    n = count(x, name)
    if n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n}")
    return n


def _exact(noise, uv, ny, nx, sy, sx) -> np.ndarray:
    out = output((2 * ny, 2 * nx), "the precision operator", temporaries=cosine_grid_scratch())
    _swiftw.w_tilde_preload(out, noise, uv, ny, nx, sy, sx)
    return out


def _by_nufft(noise, uv, ny, nx, spacing, eps) -> np.ndarray:
    """The compact form (n, 2n-1), n = max(ny, nx), by the NUFFT, laid out as the (2ny, 2nx)
    operator: ``P[dy, dx] = w_compact[dy, dx + n-1]`` for dy >= 0, ``w_compact[-dy, -dx + n-1]``
    (cos is even) for dy < 0."""
    n = max(ny, nx)
    compact = output((n, 2 * n - 1), "w_compact", temporaries=nufft_scratch(16 * n * n, n * (2 * n - 1)))
    plan = nufft_plan(eps, n, n)
    _swiftw.w_compact_nufft(compact, noise, uv, plan.coefficients, plan.correction_x, plan.correction_y,
                            n, spacing * _ARCSEC_PER_RADIAN, plan.width, plan.rows, plan.cols)
    return _preload_from_compact(compact, ny, nx)


def _preload_from_compact(compact: np.ndarray, ny: int, nx: int) -> np.ndarray:
    """The (2ny, 2nx) operator from a compact form (n, 2n-1), n >= max(ny, nx)."""
    n = compact.shape[0]
    dy = np.arange(-(ny - 1), ny)[:, None]
    dx = np.arange(-(nx - 1), nx)[None, :]
    sign = np.where(dy >= 0, 1, -1)
    out = np.zeros((2 * ny, 2 * nx))
    out[dy % (2 * ny), dx % (2 * nx)] = compact[np.abs(dy), sign * dx + n - 1]
    return out


def _sum_over(chunks: Iterator[tuple[int, int]], part, shape) -> np.ndarray:
    """The sum of `part(lo, hi)` over the chunks (the operator is linear in the weights)."""
    total = None
    for lo, hi in chunks:
        piece = part(lo, hi)
        total = piece if total is None else total + piece
    return total if total is not None else np.zeros(shape)


def _chunks(k: int, step: int, show_progress: bool, show_memory: bool) -> Iterator[tuple[int, int]]:
    """(lo, hi) visibility ranges of `step`, with a progress bar if asked."""
    bounds = [(lo, min(k, lo + step)) for lo in range(0, k, step)]
    if not show_progress:
        yield from bounds
        return
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    bar = tqdm(total=len(bounds), desc="Accumulating visibilities (precision operator)") if tqdm else None
    for i, bound in enumerate(bounds):
        yield bound
        note = _memory_note() if show_memory else ""
        if bar is not None:
            bar.update(1)
            if note:
                bar.write(note)
        else:
            print(f"precision operator: chunk {i + 1}/{len(bounds)}{' ' + note if note else ''}", file=sys.stderr)
    if bar is not None:
        bar.close()


def _memory_note() -> str:
    try:
        import resource
    except ImportError:
        return ""
    return f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB"
