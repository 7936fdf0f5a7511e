"""What one chunk of visibilities contributes to a dataset's sums (SPEC 3.11), on one worker.

Each function takes one chunk's NumPy arrays and returns its partial; the partials of all chunks
add up to the whole dataset's answer. Errors name the chunk, and a partial that is not finite (a
NaN or infinite input, a zero sigma, which the kernels turn into NaN sums) fails the computation
with the input and row that made it so.
"""
from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from ._extent import shape_2d
from ._options import options
from ._precision import _by_nufft, _grid_spacing
from ._threads import get_num_threads, set_num_threads
from ._validate import floats
from .dirty_image import complex_pairs, dirty_image_interferometer_from
from .likelihood import noise_normalization_complex_from
from .w_tilde import w_compact_curvature_interferometer_from

__all__ = ["Chunk", "DatasetTerms", "w_compact_partial", "precision_operator_partial", "dataset_partial",
           "precision_operator_from", "add_partials"]


class Chunk(NamedTuple):
    """Which chunk this is, for error messages: its number and, when dask knows them, its rows."""

    index: int
    start: int | None = None
    stop: int | None = None

    def __str__(self) -> str:
        rows = f" (visibilities {self.start}:{self.stop})" if self.start is not None else ""
        return f"chunk {self.index}{rows}"


class DatasetTerms(NamedTuple):
    """Everything a fit needs from the visibilities (SPEC 3.8, 3.9), as sums over them.

    nufft_precision_operator : (2 ny, 2 nx) float64, the preload layout of W (c_k = Re sigma_k^-2).
    dirty_image : (M,) float64, see `swiftw.dirty_image_interferometer_from`.
    data_term : float, ``sum_k (Re d_k / Re sigma_k)^2 + (Im d_k / Im sigma_k)^2``.
    noise_normalization : float, ``sum_k log(2 pi (Re sigma_k)^2) + log(2 pi (Im sigma_k)^2)``.
    """

    nufft_precision_operator: np.ndarray
    dirty_image: np.ndarray
    data_term: float
    noise_normalization: float


_lock = threading.Lock()
_active = 0
_saved = 0


@contextmanager
def _threads(n: int):
    """swiftw on `n` threads while any chunk runs in this process, the caller's setting after:
    chunks of the local threaded scheduler share the process, so the first sets and the last restores."""
    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = get_num_threads()
            set_num_threads(n)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                set_num_threads(_saved)


def chunks_running() -> int:
    """Chunks running in this process now (their thread setting is in force while this is > 0)."""
    with _lock:
        return _active


@contextmanager
def _named(chunk: Chunk):
    """Re-raise swiftw's error with the chunk's name in front."""
    try:
        yield
    except (ValueError, TypeError, IndexError, MemoryError) as error:
        raise type(error)(f"{chunk}: {error}") from error


def _finite(a: np.ndarray, name: str, positive: bool = False) -> None:
    bad = ~np.isfinite(a) | (a == 0) if positive else ~np.isfinite(a)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        what = "non-finite or zero" if positive else "non-finite"
        raise ValueError(f"{name} has {int(bad.sum())} {what} value(s), the first at row {row} of the chunk")


def _checked(partial, inputs: list[tuple[np.ndarray, str, bool]]):
    """`partial` if all its numbers are finite; else the error that names the input that made them
    not (a NaN, an infinity or a zero sigma turns the kernels' sums into NaN or inf): the inputs are
    scanned only then, so a good chunk pays nothing for the check."""
    values = partial if isinstance(partial, tuple) else (partial,)
    if all(np.all(np.isfinite(v)) for v in values):
        return partial
    for array, name, positive in inputs:
        _finite(array, name, positive)
    raise ValueError("the sums overflowed (every input is finite): rescale the noise map or the data")


def _visibility_arrays(noise_map_real, uv_wavelengths):
    noise = floats(noise_map_real, "noise_map_real", 1)
    uv = floats(uv_wavelengths, "uv_wavelengths", 2)
    if uv.shape != (noise.shape[0], 2):
        raise ValueError(f"uv_wavelengths has shape {uv.shape}, expected ({noise.shape[0]}, 2) as noise_map_real "
                         f"has shape {noise.shape}")
    return noise, uv


def w_compact_partial(noise_map_real, uv_wavelengths, chunk: Chunk, *, grid_size: int, pixel_scale: float,
                      eps: float, num_threads: int) -> np.ndarray:
    """This chunk's (N, 2N-1) compact w-tilde (`swiftw.w_compact_curvature_interferometer_from`)."""
    with _named(chunk), _threads(num_threads):
        noise, uv = _visibility_arrays(noise_map_real, uv_wavelengths)
        with options(eps=eps):
            partial = w_compact_curvature_interferometer_from(grid_size, noise, uv, pixel_scale)
        return _checked(partial, [(noise, "noise_map_real", True), (uv, "uv_wavelengths", False)])


def precision_operator_from(noise, uv, ny: int, nx: int, sy: float, sx: float, eps: float) -> np.ndarray:
    """The (2 ny, 2 nx) preload ``[dy mod 2ny, dx mod 2nx] = sum_k c_k cos(2 pi (sx dx u_k - sy dy v_k))``
    (row ny and column nx zero) by the NUFFT of `swiftw.autoarray.nufft_precision_operator_from`
    (the same numbers for square pixels); unequal spacings are made square by scaling v by sy / sx.
    Cost: that of the compact form of side max(ny, nx)."""
    if math.isclose(sy, sx, rel_tol=1e-9, abs_tol=0.0):
        return _by_nufft(noise, uv, ny, nx, (sy + sx) / 2, eps)
    return _by_nufft(noise, uv * np.array([1.0, sy / sx]), ny, nx, sx, eps)


def precision_operator_partial(noise_map_real, uv_wavelengths, chunk: Chunk, *, shape: tuple[int, int],
                               spacing: tuple[float, float], eps: float, num_threads: int) -> np.ndarray:
    """This chunk's (2 ny, 2 nx) precision operator (`precision_operator_from`)."""
    with _named(chunk), _threads(num_threads):
        noise, uv = _visibility_arrays(noise_map_real, uv_wavelengths)
        partial = precision_operator_from(noise, uv, *shape, *spacing, eps)
        return _checked(partial, [(noise, "noise_map_real", True), (uv, "uv_wavelengths", False)])


def dataset_partial(visibilities, noise_map, uv_wavelengths, chunk: Chunk, *, shape: tuple[int, int],
                    spacing: tuple[float, float], grid_radians_slim: np.ndarray, eps: float,
                    num_threads: int) -> DatasetTerms:
    """This chunk's `DatasetTerms`, reading its visibilities once."""
    with _named(chunk), _threads(num_threads):
        data = complex_pairs(visibilities, "visibilities")
        noise = complex_pairs(noise_map, "noise_map")
        uv = floats(uv_wavelengths, "uv_wavelengths", 2)
        if noise.shape != data.shape or uv.shape != data.shape:
            raise ValueError(f"visibilities ({data.shape[0]}), noise_map ({noise.shape[0]}) and uv_wavelengths "
                             f"(shape {uv.shape}) must have one row per visibility")
        sigma_real = np.ascontiguousarray(noise[:, 0])
        operator = precision_operator_from(sigma_real, uv, *shape, *spacing, eps)
        dirty = dirty_image_interferometer_from(data, noise, uv, grid_radians_slim, eps=eps)
        with np.errstate(all="ignore"):  # a bad input is reported below, by name
            data_term = float(np.sum((data / noise) ** 2))
            normalization = noise_normalization_complex_from(noise[:, 0] + 1j * noise[:, 1])
        _checked((operator, dirty, data_term, normalization),
                 [(data, "visibilities", False), (noise, "noise_map", True), (uv, "uv_wavelengths", False)])
        return DatasetTerms(operator, dirty, data_term, normalization)


def add_partials(*parts):
    """The sum of partials: arrays, floats, or `DatasetTerms` added field by field."""
    if isinstance(parts[0], DatasetTerms):
        return DatasetTerms(*(add_partials(*fields) for fields in zip(*parts)))
    if isinstance(parts[0], np.ndarray):
        total = parts[0].copy()
        for part in parts[1:]:
            total += part
        return total
    return float(sum(parts))


def regular_spacing(shape_masked_pixels_2d, grid_radians_2d) -> tuple[tuple[int, int], tuple[float, float]]:
    """((ny, nx), (sy, sx)) of the mask's extent and the regular grid (checked as the single-node call does)."""
    ny, nx = shape_2d(shape_masked_pixels_2d, "shape_masked_pixels_2d")
    grid = floats(grid_radians_2d, "grid_radians_2d", 3)
    if grid.shape[0] < ny or grid.shape[1] < nx or grid.shape[2] != 2:
        raise ValueError(f"grid_radians_2d has shape {grid.shape}, expected at least ({ny}, {nx}, 2)")
    if min(ny, nx) < 2:
        raise ValueError(f"shape_masked_pixels_2d must be at least (2, 2) to fix the grid's spacing, got {(ny, nx)}")
    sy, sx = _grid_spacing(grid[:ny, :nx], "grid_radians_2d")
    if not (sx > 0 and sy > 0):
        raise ValueError(f"grid_radians_2d must have y falling with the row and x rising with the column, "
                         f"got spacings (sy, sx) = {(sy, sx)}")
    return (ny, nx), (sy, sx)
