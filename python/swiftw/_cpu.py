"""Which build of the kernels this process loads.

The wheel carries the Swift kernels compiled twice: for x86-64-v3 (AVX2 + FMA, every x86-64 CPU
since 2013-2015) and for x86-64-v4 (AVX-512). `load()` picks the best one the CPU and operating
system support, or the one SWIFTW_CPU names, and registers it as ``swiftw._swiftw``. There is no
baseline x86-64 build: without FMA the kernels' SIMD multiply-adds become library calls.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType

from . import _cpu_features

__all__ = ["VARIANTS", "built_variants", "cpu_features", "load"]

# Variant -> the CPU features its code may use (the x86-64 psABI levels, as far as swiftw's
# kernels go), best last.
VARIANTS: dict[str, tuple[str, ...]] = {
    "x86-64-v3": ("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "movbe"),
    "x86-64-v4": ("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "movbe",
                  "avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"),
}

_HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_features() -> dict[str, bool]:
    """The x86-64 features this CPU reports (CPUID) and the operating system enables (XGETBV)."""
    return _cpu_features.features()


def _path(variant: str) -> str:
    stem = "_swiftw_" + variant.replace("-", "_")
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = os.path.join(_HERE, stem + suffix)
        if os.path.exists(candidate):
            return candidate
    return ""


def built_variants() -> list[str]:
    """The variants present in this installation."""
    return [v for v in VARIANTS if _path(v)]


def _missing(variant: str, features: dict[str, bool]) -> list[str]:
    return [f for f in VARIANTS[variant] if not features.get(f, False)]


def choose(requested: str | None, features: dict[str, bool], built: list[str]) -> str:
    """The variant to load: `requested` (SWIFTW_CPU) if given, else the best one built that the
    CPU runs. Raises ImportError that says why when there is none."""
    if requested:
        if requested not in VARIANTS:
            raise ImportError(f"SWIFTW_CPU must be one of {', '.join(VARIANTS)}, got {requested!r}")
        if requested not in built:
            raise ImportError(f"SWIFTW_CPU={requested}: this installation has no {requested} build "
                              f"(it has: {', '.join(built) or 'none'})")
        missing = _missing(requested, features)
        if missing:
            raise ImportError(f"SWIFTW_CPU={requested}: this CPU (or its operating system) lacks "
                              f"{', '.join(missing)}, which the {requested} build uses")
        return requested
    runnable = [v for v in built if not _missing(v, features)]
    if runnable:
        return runnable[-1]
    if not built:
        raise ImportError("swiftw's compiled kernels are missing from this installation; reinstall swiftw")
    raise ImportError(f"swiftw needs an x86-64-v3 CPU at least (AVX2 and FMA); this one lacks "
                      f"{', '.join(_missing(built[0], features))}")


def load() -> tuple[ModuleType, str]:
    """Load the chosen build as ``swiftw._swiftw``; returns it and its variant name."""
    name = f"{__package__}._swiftw"
    if name in sys.modules:
        return sys.modules[name], sys.modules[name].cpu_variant
    variant = choose(os.environ.get("SWIFTW_CPU", "").strip() or None, cpu_features(), built_variants())
    path = _path(variant)
    # The module's init function is PyInit__swiftw whatever the file is called: the spec's name decides.
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.cpu_variant = variant
    sys.modules[name] = module
    return module, variant
