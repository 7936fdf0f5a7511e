"""`show_config()`: what this installation of swiftw is and runs on, for bug reports and benchmarks."""
from __future__ import annotations

import platform
import sys
from typing import Any

import numpy as np

from . import _cpu
from ._threads import get_num_threads

__all__ = ["show_config"]


def show_config() -> dict[str, Any]:
    """The version, the kernel build in use and the threads, as a dict.

    Returns
    -------
    dict
        ``version``; ``cpu_variant``, the build of the kernels this process loaded
        (``"x86-64-v3"`` or ``"x86-64-v4"``, chosen at import from the CPU's features or from
        ``SWIFTW_CPU``); ``cpu_variants_built``, the builds this installation carries;
        ``cpu_features``, what the CPU reports and the OS enables; ``num_threads``; ``python``,
        ``numpy`` and ``platform``.

    Examples
    --------
    >>> swiftw.show_config()["cpu_variant"]      # doctest: +SKIP
    'x86-64-v3'
    """
    from . import __version__, _swiftw  # noqa: PLC0415  (the package is initialised by now)

    features = _cpu.cpu_features()
    return {
        "version": __version__,
        "cpu_variant": _swiftw.cpu_variant,
        "cpu_variants_built": _cpu.built_variants(),
        "cpu_features": sorted(name for name, present in features.items() if present),
        "num_threads": get_num_threads(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": f"{platform.system()} {platform.machine()}",
    }
