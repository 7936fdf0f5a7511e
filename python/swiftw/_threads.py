"""Thread settings: `set_num_threads`, `get_num_threads`, and SWIFTW_NUM_THREADS at import."""
from __future__ import annotations

import os

from . import _swiftw
from ._limits import limits

__all__ = ["set_num_threads", "get_num_threads", "default_num_threads"]


def default_num_threads() -> int:
    """SWIFTW_NUM_THREADS if set, else the number of CPUs this process may run on."""
    value = os.environ.get("SWIFTW_NUM_THREADS", "").strip()
    maximum = int(limits()["max_threads"])
    if value:
        try:
            n = int(value)
        except ValueError:
            raise ValueError(f"SWIFTW_NUM_THREADS must be a positive integer, got {value!r}") from None
        if not 1 <= n <= maximum:
            raise ValueError(f"SWIFTW_NUM_THREADS must be an integer in [1, {maximum}], got {value!r}")
        return n
    try:
        return min(maximum, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return min(maximum, os.cpu_count() or 1)


def set_num_threads(n: int) -> None:
    """Use `n` threads (>= 1) in every kernel from the next call on."""
    if isinstance(n, bool) or not isinstance(n, int) and not hasattr(n, "__index__"):
        raise TypeError(f"n must be an integer, got {type(n).__name__}")
    _swiftw.set_num_threads(int(n))  # the range is checked in Swift


def get_num_threads() -> int:
    """The number of threads kernels use."""
    return _swiftw.get_num_threads()
