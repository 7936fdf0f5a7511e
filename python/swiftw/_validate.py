"""Argument conversion at the Python boundary.

Every public function passes its array arguments through `floats` or `indices`: a float64 (or
int64) C-contiguous array goes through untouched (no copy); anything that converts losslessly
(float32, int32, a non-contiguous view, a list) is converted once; a lossy conversion raises
TypeError naming the parameter. Shapes are checked in Swift, which names the parameter too.
"""
from __future__ import annotations

import functools
import operator
import os

import numpy as np

__all__ = ["floats", "indices", "count", "number", "complex_values", "choice", "output"]


def _describe(a: np.ndarray) -> str:
    return f"dtype {a.dtype}"


def _ready(x, dtype, ndim: int | tuple[int, ...]) -> bool:
    """Whether `x` already is what a kernel reads: an ndarray of `dtype`, C-contiguous, of an
    allowed dimension (the common case in a sampler loop, checked first: it costs no NumPy call)."""
    return (type(x) is np.ndarray and x.dtype == dtype and x.flags.c_contiguous
            and (x.ndim == ndim if isinstance(ndim, int) else x.ndim in ndim))


def floats(x, name: str, ndim: int | tuple[int, ...], dtype=np.float64) -> np.ndarray:
    """`x` as a C-contiguous float array (float64 by default) of `ndim` dimensions."""
    if _ready(x, dtype, ndim):
        return x
    a = np.asarray(x)
    kind = a.dtype.kind
    target = np.dtype(dtype)
    lossless = (
        kind == "b"
        or (kind in "iu" and a.dtype.itemsize <= 4)
        or (kind == "f" and np.can_cast(a.dtype, target, "safe"))
    )
    if kind in "iu" and not lossless:
        # int64 converts exactly while every value is below 2**53 (for float64).
        limit = 2 ** np.finfo(target).nmant + 1
        lossless = a.size == 0 or int(np.max(np.abs(a.astype(np.float64)))) < limit
    if not lossless:
        what = "complex" if kind == "c" else str(a.dtype)
        raise TypeError(
            f"{name} must be {target} (real), got {_describe(a)}: converting {what} to {target} "
            "would lose information"
        )
    _check_ndim(a, name, ndim)
    return np.ascontiguousarray(a, dtype=target)


def indices(x, name: str, ndim: int | tuple[int, ...]) -> np.ndarray:
    """`x` as a C-contiguous int64 array of `ndim` dimensions (float indices are refused)."""
    if _ready(x, np.int64, ndim):
        return x
    a = np.asarray(x)
    kind = a.dtype.kind
    if a.size == 0 and kind == "f":
        kind = "i"  # an empty list arrives as float64; it holds no index to lose
    if kind not in "iu" or (kind == "u" and a.dtype.itemsize == 8 and a.size and a.max() > 2**63 - 1):
        raise TypeError(f"{name} must hold integers (int64), got {_describe(a)}")
    _check_ndim(a, name, ndim)
    return np.ascontiguousarray(a, dtype=np.int64)


def complex_values(x, name: str) -> np.ndarray:
    """`x` as a 1-D complex128 array; a real (K, 2) array is read as (real, imag) pairs."""
    a = np.asarray(x)
    if a.dtype.kind in "fiu" and a.ndim == 2 and a.shape[1] == 2:
        a = a[:, 0] + 1j * a[:, 1]
    if a.dtype.kind not in "cfiu":
        raise TypeError(f"{name} must be complex128, got {_describe(a)}")
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D (complex visibilities), got shape {a.shape}")
    return np.asarray(a, dtype=np.complex128)


def count(x, name: str) -> int:
    """A non-negative whole number (a NumPy integer or an integral float is accepted)."""
    if isinstance(x, (float, np.floating)) and float(x).is_integer():
        x = int(x)
    try:
        n = operator.index(x)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(x).__name__} {x!r}") from None
    if n < 0:
        raise ValueError(f"{name} must be non-negative, got {n}")
    return n


def number(x, name: str) -> float:
    """A real number."""
    if isinstance(x, (complex, np.complexfloating)):
        raise TypeError(f"{name} must be a real number, got {x!r}")
    try:
        return float(x)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__} {x!r}") from None


def _check_ndim(a: np.ndarray, name: str, ndim: int | tuple[int, ...]) -> None:
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if a.ndim not in allowed:
        want = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(f"{name} must be {want}, got shape {a.shape}")


def choice(x, name: str, options: tuple[str, ...]) -> str:
    """One of `options` (a string)."""
    if not isinstance(x, str) or x not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, got {x!r}")
    return x


@functools.lru_cache(maxsize=1)
def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 1 << 62


def _gib(nbytes: int) -> str:
    return f"{nbytes / 2**30:.3g} GiB"


def output(shape: tuple[int, ...], what: str, temporaries: float = 0.0) -> np.ndarray:
    """A new float64 array for a kernel's result, refused up front if it cannot exist.

    `temporaries` is the kernel's scratch memory as a multiple of the output. If output plus
    scratch exceed this machine's physical memory, MemoryError names the array, its shape and
    the bytes needed, before anything is allocated or computed.
    """
    elements = 1
    for extent in shape:
        elements *= int(extent)
    nbytes = 8 * elements
    needed = int(nbytes * (1 + temporaries))
    limit = _physical_memory()
    if needed > limit:
        raise MemoryError(
            f"{what} of shape {tuple(int(e) for e in shape)} needs {_gib(needed)} "
            f"({_gib(nbytes)} for the result), more than this machine's {_gib(limit)}"
        )
    try:
        return np.empty(shape)
    except (MemoryError, ValueError) as error:
        raise MemoryError(f"{what} of shape {tuple(shape)} ({_gib(nbytes)}) cannot be allocated: {error}") from None
