"""Benchmark peers: the same kernels written with Numba and JAX.

Every module here offers the functions of swiftw's top-level namespace that the benchmark
compares, with the same names, the same parameter names and order, and the same outputs. The
NumPy row is `bench.reference` itself (the one NumPy implementation, which every other is
checked against).

- `bench.peers.numba_kernels`: re-implementations of the reference Numba kernels as the
  "Numba vs JAX" study and PyAutoArray write them. Needs ``numba`` (``pip install swiftw[bench]``).
- `bench.peers.jax_kernels`: JAX versions in the style of the study (``jax.jit``, ``lax.scan``
  over visibilities, a dense ``T^T W T``), in float64. Needs ``jax``.

The Numba and JAX modules import cleanly without their library; calling one of their kernels
then raises `ModuleNotFoundError`. Use `available` to ask first.
"""
from __future__ import annotations

import importlib.util

__all__ = ["available", "numba_kernels", "jax_kernels"]


def available(library: str) -> bool:
    """Whether `library` ("numpy", "numba", "jax", ...) can be imported, without importing it."""
    return importlib.util.find_spec(library) is not None


def __getattr__(name: str):
    if name in ("numba_kernels", "jax_kernels"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
