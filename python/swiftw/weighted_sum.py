"""`fma`: the study's in-place weighted sum, `out += sum_a weights[a] * arrays[a]`."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from . import _swiftw
from ._validate import floats, number

__all__ = ["fma", "_fma", "inplace_weighted_sum"]


def _same_view(a: np.ndarray, out: np.ndarray) -> bool:
    return (
        a.__array_interface__["data"][0] == out.__array_interface__["data"][0]
        and a.shape == out.shape
        and a.strides == out.strides
        and a.dtype == out.dtype
    )


def fma(out: np.ndarray, weights: Sequence[float], *arrays: np.ndarray) -> None:
    """Add a weighted sum of arrays to `out`, in place.

    ``out += weights[0] * arrays[0] + weights[1] * arrays[1] + ...``, evaluated per element in
    the order of `arrays`, exactly as the sequential loop
    ``for w, a in zip(weights, arrays): out += w * a`` would: an array that *is* `out` sees the
    running value. An array that only partly overlaps `out` is copied first. One pass over
    memory (each array read once, `out` read and written once), on all threads.

    Parameters
    ----------
    out : ndarray of float64 or float32
        Updated in place. A non-contiguous `out` is computed through a contiguous copy.
    weights : sequence of float
        One weight per array.
    *arrays : array_like
        Same shape as `out`; converted to `out`'s dtype if that loses nothing.

    Returns
    -------
    None
    """
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a NumPy array of float64 or float32, got {type(out).__name__}")
    if out.dtype not in (np.float64, np.float32):
        raise TypeError(f"out must be float64 or float32, got dtype {out.dtype}")
    if not out.flags.writeable:
        raise ValueError("out must be writable")
    try:
        weights = [number(w, f"weights[{i}]") for i, w in enumerate(weights)]
    except TypeError:
        if not hasattr(weights, "__iter__"):
            raise TypeError(f"weights must be a sequence of numbers, got {type(weights).__name__}") from None
        raise
    if len(weights) != len(arrays):
        raise ValueError(f"weights has {len(weights)} entries for {len(arrays)} arrays")
    target = out if out.flags.c_contiguous else np.ascontiguousarray(out)
    sources = []
    for i, a in enumerate(arrays):
        if isinstance(a, np.ndarray) and _same_view(a, out):
            sources.append(target)  # the running value
            continue
        a = floats(a, f"arrays[{i}]", out.ndim, dtype=out.dtype)
        if a.shape != out.shape:
            raise ValueError(f"arrays[{i}] has shape {a.shape}, expected out's shape {out.shape}")
        if np.shares_memory(a, out):
            a = a.copy()  # a partial overlap would see a mix of old and new values
        sources.append(a)
    if not sources or out.size == 0:
        return None
    _swiftw.weighted_sum(target, *sources, *weights)
    if target is not out:
        out[...] = target
    return None


_fma = fma
inplace_weighted_sum = fma
