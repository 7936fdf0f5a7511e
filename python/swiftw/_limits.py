"""The kernels' limits and scratch sizes, read from Swift (Sources/SwiftKernels/Runtime/Limits.swift)
so that none is copied into Python."""
from __future__ import annotations

import numbers
from functools import lru_cache

import numpy as np

from . import _swiftw

__all__ = ["limits", "cosine_grid_scratch", "nufft_scratch", "checked_eps"]


@lru_cache(maxsize=1)
def _read() -> dict[str, float]:
    buffer = np.zeros(4096, dtype=np.uint8)
    _swiftw.limits(buffer)
    text = buffer.tobytes().split(b"\0", 1)[0].decode()
    return {name: float(value) for name, value in (line.split() for line in text.splitlines())}


def limits() -> dict[str, float]:
    """A copy of the limits: ``max_threads``, the NUFFT's ``nufft_eps_min`` / ``nufft_eps_max``,
    ``nufft_max_modes`` and its scratch in fine grids, the scratch of the cosine-grid sums and of
    the curvature assembly (as multiples of their outputs)."""
    return dict(_read())


def cosine_grid_scratch() -> float:
    """Scratch of an angle-addition grid sum (w_compact, the preload, the lattice weights), in
    outputs: each thread's accumulators and the output's padded copy."""
    return _swiftw.get_num_threads() * _read()["cosine_grid_accumulators_per_thread"] + 1


def nufft_scratch(fine_grid: int, output: int) -> float:
    """Scratch of a NUFFT with a fine grid of `fine_grid` doubles, in outputs of `output` doubles."""
    bounds = _read()
    grids = _swiftw.get_num_threads() * bounds["nufft_fine_grids_per_thread"] + bounds["nufft_fine_grids_fixed"]
    return grids * fine_grid / max(output, 1)


def checked_eps(value, name: str = "eps") -> float:
    """`value` as a float in the NUFFT's accuracy range, else TypeError / ValueError naming `name`."""
    if isinstance(value, (bool, str, complex)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    low, high = _read()["nufft_eps_min"], _read()["nufft_eps_max"]
    if not low <= float(value) <= high:  # NaN too
        raise ValueError(f"{name} must be in [{low:g}, {high:g}] (what float64 can deliver), got {value!r}")
    return float(value)
