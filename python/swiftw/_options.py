"""swiftw's options: which evaluation each kernel uses, and the NUFFT's accuracy.

The drop-in functions take exactly the parameters of the functions they replace, so their
options live here instead: `set_options` changes them for the whole process (like
`set_num_threads`), `options` changes them inside a ``with`` block for the current thread or
asyncio task only (a `contextvars.ContextVar`, as `scipy.fft.set_workers` does), and
`get_options` reads what applies here and now. swiftw's own objects take the same choices as
explicit parameters (`CurvatureOperator.curvature_matrix(..., method=)`).
"""
from __future__ import annotations

import contextlib
import contextvars
import threading
from typing import Iterator

from ._limits import checked_eps


__all__ = ["METHODS", "set_options", "get_options", "options", "method_of", "eps"]

METHODS: dict[str, tuple[str, ...]] = {
    # w_tilde_curvature_interferometer_from: angle addition for any pixels, or the compact form
    # unfolded when the pixels lie on a lattice.
    "w_tilde": ("auto", "direct", "compact"),
    # w_compact_curvature_interferometer_from: angle addition (exact) or the type-1 NUFFT (to eps).
    "w_compact": ("auto", "direct", "nufft"),
    # w_tilde_data_interferometer_from: any pixels, a lattice's angle addition, or the NUFFT.
    "w_tilde_data": ("auto", "direct", "lattice", "nufft"),
    # F from the compact form or the preload: shifted-window updates or a real-FFT convolution.
    "curvature": ("auto", "direct", "fft"),
}

_DEFAULTS: dict[str, object] = {name: "auto" for name in METHODS} | {"eps": 1e-12}

_lock = threading.Lock()
_process: dict[str, object] = dict(_DEFAULTS)
# Overrides of the current thread / task (set by `options`); None when there are none.
_local: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar("swiftw_options", default=None)


def _checked(changes: dict[str, object]) -> dict[str, object]:
    """`changes` validated: known names, a method each kernel offers, eps in the NUFFT's range."""
    checked: dict[str, object] = {}
    for name, value in changes.items():
        if name in METHODS:
            if not isinstance(value, str) or value not in METHODS[name]:
                raise ValueError(f"{name} must be one of {', '.join(map(repr, METHODS[name]))}, got {value!r}")
            checked[name] = value
        elif name == "eps":
            checked[name] = checked_eps(value)
        else:
            known = ", ".join([*METHODS, "eps"])
            raise TypeError(f"unknown option {name!r}; swiftw's options are {known}")
    return checked


def get_options() -> dict[str, object]:
    """The options that apply in this thread or task: the process-wide ones, overridden by any
    enclosing ``with swiftw.options(...)``."""
    local = _local.get()
    return dict(_process) if local is None else {**_process, **local}


def set_options(**changes: object) -> None:
    """Change options for the whole process (every thread), from the next call on.

    Parameters
    ----------
    w_tilde : {"auto", "direct", "compact"}
        How `w_tilde_curvature_interferometer_from` evaluates W.
    w_compact : {"auto", "direct", "nufft"}
        How `w_compact_curvature_interferometer_from` evaluates the compact form.
    w_tilde_data : {"auto", "direct", "lattice", "nufft"}
        How `w_tilde_data_interferometer_from` evaluates the dirty-image weights.
    curvature : {"auto", "direct", "fft"}
        How F is built from the compact form or the preload layout.
    eps : float
        Accuracy of the "nufft" methods: max |error| <= about eps times the sum of the weights.

    Names not listed raise TypeError; values a kernel does not offer raise ValueError.
    """
    checked = _checked(changes)
    with _lock:
        _process.update(checked)


@contextlib.contextmanager
def options(**changes: object) -> Iterator[dict[str, object]]:
    """Change options inside a ``with`` block, for the current thread or asyncio task only.

    Takes the names of `set_options`; yields the options in force inside the block. Nested
    blocks override the outer ones; leaving a block restores what was in force before it.

    Examples
    --------
    >>> with swiftw.options(w_compact="nufft", eps=1e-10):      # doctest: +SKIP
    ...     w_compact = swiftw.w_compact_curvature_interferometer_from(N, sigma, uv, 0.05)
    """
    checked = _checked(changes)
    outer = _local.get()
    token = _local.set({**(outer or {}), **checked})
    try:
        yield get_options()
    finally:
        _local.reset(token)


def method_of(kernel: str) -> str:
    """The method in force for `kernel` (a key of `METHODS`)."""
    local = _local.get()
    if local is not None and kernel in local:
        return local[kernel]  # type: ignore[return-value]
    return _process[kernel]  # type: ignore[return-value]


def eps() -> float:
    """The NUFFT accuracy in force."""
    local = _local.get()
    if local is not None and "eps" in local:
        return local["eps"]  # type: ignore[return-value]
    return _process["eps"]  # type: ignore[return-value]
