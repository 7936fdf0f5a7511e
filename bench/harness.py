"""The benchmark: swiftw against NumPy, Numba and JAX peers, study-style tables.

``python -m bench [--size ci|small|medium|sma|alma|alma_high] [--threads 1|all|both]
[--json FILE] [--plot FILE] [--only GROUP[,GROUP...]]``

Groups mirror the tables of the "Numba vs JAX" study: fma, w_tilde, w_compact, w_tilde_data,
curvature_matrix, log_likelihood (plus cold_start: a new interpreter's import and first call).
In a group every implementation gets the same inputs (random, drawn once from a fixed seed), its
first call ("first use": compilation included for Numba and JAX) is checked against the NumPy
peer, and then it is timed: the median of several runs, adaptively fewer for slow calls, with
one thread and with all cores, Python's garbage collector paused while samples are taken (as
`timeit` does, for every row alike). A mismatch is printed loudly and makes the exit status 1.
At the production presets (sma, alma, alma_high) the curvature groups also time swiftw in calls
that alternate between one thread and all cores, for a speed-up that both see under the same
load (beside it, in turns, a compute-bound control: what the host gave such a kernel in the same
seconds), and its option `curvature="auto"` (`swiftw.options`) in calls that alternate with
"direct" and "fft".

The problem sizes are in one table, `SIZES`; the input builders (`problem`), the implementation
registry (`GROUPS`), the reference (`reference`) and the comparison (`compare`) are shared with
the pytest-benchmark suite in Tests/benchmarks.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import gc
import itertools
import json
import math
import os
import platform
import subprocess
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Any, Callable

import numpy as np

import swiftw

from . import reference as numpy_reference
from .peers import jax_kernels, numba_kernels

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

__all__ = [
    "Size", "SIZES", "SWEEPS", "Problem", "problem", "Run", "Impl", "Group", "GROUPS",
    "sizes_for", "skip_reason", "reference", "compare", "main",
]

# ================================================================================================
# sizes: one table. A preset maps each group it benchmarks to a Size; add a preset by a line.
# ================================================================================================


@dataclass(frozen=True)
class Size:
    """One benchmark problem.

    Attributes
    ----------
    N : int
        Side of the square native grid holding the circular mask.
    K : int
        Visibilities drawn (for curvature / likelihood presets, those used to build w_compact).
    S, B : int
        Source pixels and mappings per image pixel (B = 3: Delaunay barycentric weights).
    pixel_scale : float
        Arcseconds per pixel.
    radius : float or None
        Mask radius in arcseconds; None means N/2 pixels (M ~ 0.785 N^2).
    n, arrays : int
        Length and number of arrays of the fma group.
    K_nominal : int or None
        The K a preset stands for when `K` is a smaller stand-in (F's cost does not depend on K).
    mesh : str
        The source mesh: "delaunay" (B = 3 barycentric weights) or "rectangular" (a square grid
        of S = n^2 nodes over the mask, B = 4 bilinear weights).
    """

    N: int = 30
    K: int = 1024
    S: int = 256
    B: int = 3
    pixel_scale: float = 0.2
    radius: float | None = None
    n: int = 10**6
    arrays: int = 4
    K_nominal: int | None = None
    mesh: str = "delaunay"


_MEDIUM_F = Size(N=100, K=10**4, S=1000)
SIZES: dict[str, dict[str, Size]] = {
    "ci": dict(fma=Size(n=10**5), w_tilde=Size(N=12, K=128), w_compact=Size(N=16, K=256),
               w_tilde_data=Size(N=16, K=256), curvature_matrix=Size(N=20, K=256, S=64),
               curvature_rectangular=Size(N=20, K=256, S=49, B=4, mesh="rectangular"),
               log_likelihood=Size(N=20, K=256, S=64)),
    "small": dict(fma=Size(n=10**6, arrays=4), w_tilde=Size(N=30, K=1024), w_compact=Size(N=30, K=1024),
                  w_tilde_data=Size(N=30, K=1024), curvature_matrix=Size(N=30, K=1024, S=256),
                  log_likelihood=Size(N=30, K=1024, S=256), cold_start=Size(N=30, K=1024)),
    "medium": dict(fma=Size(n=10**7, arrays=8), w_compact=Size(N=60, K=10**5), w_tilde_data=Size(N=60, K=10**5),
                   curvature_matrix=_MEDIUM_F, log_likelihood=_MEDIUM_F, cold_start=Size(N=30, K=1024)),
    "sma": dict(curvature_matrix=Size(N=70, pixel_scale=0.1, radius=3.5, K=190, S=1500),
                curvature_rectangular=Size(N=70, pixel_scale=0.1, radius=3.5, K=190, S=784, B=4, mesh="rectangular")),
    "alma": dict(curvature_matrix=Size(N=140, pixel_scale=0.05, radius=3.5, K=4096, K_nominal=10**6, S=1500),
                 curvature_rectangular=Size(N=140, pixel_scale=0.05, radius=3.5, K=4096, K_nominal=10**6, S=784, B=4,
                                            mesh="rectangular")),
    "alma_high": dict(curvature_matrix=Size(N=280, pixel_scale=0.025, radius=3.5, K=4096, K_nominal=5 * 10**6,
                                            S=1500),
                      curvature_rectangular=Size(N=280, pixel_scale=0.025, radius=3.5, K=4096, K_nominal=5 * 10**6,
                                                 S=784, B=4, mesh="rectangular")),
    # Science scale (issue 4): w_compact by swiftw's NUFFT against FINUFFT; the exact sum would take hours.
    "science": dict(nufft=Size(N=300, K=10**7, pixel_scale=0.05)),
}

# w_compact time against K (at fixed N) and against N (at fixed K), for --plot.
SWEEPS: dict[str, dict[str, Any]] = {
    "ci": dict(N=16, Ks=(64, 256, 1024), K=256, Ns=(8, 16, 24)),
    "small": dict(N=30, Ks=(256, 1024, 4096, 16384), K=1024, Ns=(10, 20, 30, 45, 60)),
    "medium": dict(N=60, Ks=(10**3, 10**4, 10**5), K=10**4, Ns=(15, 30, 60, 100)),
}

# The extent-grid drop-in (issue 19) on the curvature_matrix inputs of each preset that has them.
for _preset in ("ci", "sma", "alma", "alma_high"):
    SIZES[_preset]["curvature_extent"] = SIZES[_preset]["curvature_matrix"]

SEED = 20250921  # the study's date: every input is drawn from this seed and the problem's size
TIME_LIMIT = 60.0  # seconds: a peer estimated to take longer per call at a size is skipped
SWEEP_TIME_LIMIT = 10.0  # seconds per call in the --plot sweep
UV_EXTENT = 0.4  # |uv| <= UV_EXTENT / pixel (in radians): up to 0.8 of the grid's Nyquist frequency


def sizes_for(group: str) -> list[str]:
    """The presets that define `group`, in table order."""
    return [name for name, groups in SIZES.items() if group in groups]


def _memory_limit() -> float:
    """Bytes a single implementation may need: half of the available memory, at most 8 GiB."""
    try:
        with open("/proc/meminfo") as f:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f}
        return min(0.5 * info["MemAvailable"], 8 * 2**30)
    except (OSError, KeyError, ValueError):
        return 4 * 2**30


# ================================================================================================
# inputs
# ================================================================================================


class Problem:
    """All inputs of a size, drawn lazily and deterministically (each from its own seed).

    A circular mask on an N x N grid; ``grid_radians_slim`` on the lattice
    ``y = y0 - d row``, ``x = x0 + d col`` centred on the grid; baselines uniform on a disc of
    radius ``UV_EXTENT / d``; ``sigma`` uniform in [0.5, 2]; a Delaunay source mesh of S points
    (a ring around the mask and random points inside) onto which each image pixel maps by its
    barycentric weights in the triangle that holds it (B = 3, weights summing to 1, so a source
    column has ~ B M / S non-zeros).
    """

    def __init__(self, size: Size):
        self.size = size

    def _rng(self, what: str) -> np.random.Generator:
        s = self.size
        return np.random.default_rng([SEED, zlib.crc32(what.encode()), s.N, s.K, s.S, s.B, s.n, s.arrays,
                                      int(round(s.pixel_scale * 1e6))])

    # ---- grid ----------------------------------------------------------------------------------
    @property
    def N(self) -> int:
        return self.size.N

    @property
    def pixel_scale(self) -> float:
        return self.size.pixel_scale

    @cached_property
    def d(self) -> float:
        """Pixel side in radians."""
        return self.size.pixel_scale * np.pi / 648000.0

    @cached_property
    def mask(self) -> np.ndarray:
        """(N, N) bool, True where masked (SPEC's mask_2d_circular_from, centred)."""
        n, ps = self.size.N, self.size.pixel_scale
        radius = self.size.radius if self.size.radius is not None else 0.5 * n * ps
        y = (np.arange(n) - (n - 1) / 2.0) * ps
        return radius**2 < y[:, None] ** 2 + y[None, :] ** 2

    @cached_property
    def native_index_for_slim_index(self) -> np.ndarray:
        return np.ascontiguousarray(np.argwhere(~self.mask).astype(np.int64))

    @property
    def M(self) -> int:
        return self.native_index_for_slim_index.shape[0]

    @cached_property
    def grid_radians_slim(self) -> np.ndarray:
        native, d, n = self.native_index_for_slim_index, self.d, self.size.N
        y = d * (n - 1) / 2.0 - d * native[:, 0]
        x = -d * (n - 1) / 2.0 + d * native[:, 1]
        return np.ascontiguousarray(np.stack([y, x], axis=1))

    # ---- visibilities --------------------------------------------------------------------------
    @cached_property
    def uv_wavelengths(self) -> np.ndarray:
        rng, k = self._rng("uv"), self.size.K
        r = (UV_EXTENT / self.d) * np.sqrt(rng.uniform(0.0, 1.0, k))
        theta = rng.uniform(0.0, 2 * np.pi, k)
        return np.ascontiguousarray(np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1))

    @cached_property
    def noise_map(self) -> np.ndarray:
        rng, k = self._rng("noise"), self.size.K
        return rng.uniform(0.5, 2.0, k) + 1j * rng.uniform(0.5, 2.0, k)

    @cached_property
    def noise_map_real(self) -> np.ndarray:
        return np.ascontiguousarray(self.noise_map.real)

    @cached_property
    def data(self) -> np.ndarray:
        rng, k = self._rng("data"), self.size.K
        signs = rng.choice([-1.0, 1.0], size=(2, k))
        parts = 3.0 * signs * rng.uniform(0.5, 2.0, size=(2, k))  # |Re| >= 1.5: w_tilde_data divides by it
        return parts[0] + 1j * parts[1]

    @cached_property
    def visibilities_real(self) -> np.ndarray:
        return np.ascontiguousarray(self.data.real)

    @cached_property
    def sum_c(self) -> float:
        """``sum_k sigma_k^-2``: the scale of every w-tilde value."""
        return float(np.sum(self.noise_map_real**-2.0))

    @cached_property
    def sum_data_weights(self) -> float:
        """``sum_k (sigma_k^2 / V_k)^2``: the scale of w_tilde_data."""
        return float(np.sum((self.noise_map_real**2 / self.visibilities_real) ** 2))

    @cached_property
    def dirty_image(self) -> np.ndarray:
        return self._rng("dirty").normal(size=self.M)

    # ---- source mesh ---------------------------------------------------------------------------
    @cached_property
    def _mesh(self):
        from scipy.spatial import Delaunay

        rng, s = self._rng("mesh"), self.size.S
        native = self.native_index_for_slim_index
        centre = (self.size.N - 1) / 2.0
        pixels = native.astype(np.float64) - centre
        radius = float(np.max(np.hypot(pixels[:, 0], pixels[:, 1]))) + 0.5
        ring = max(8, min(s // 4, int(4 * np.sqrt(s))))
        angle = 2 * np.pi * (np.arange(ring) + rng.uniform()) / ring
        ring_radius = 1.05 * radius / np.cos(np.pi / ring)  # the ring polygon contains the mask
        inner = radius * np.sqrt(rng.uniform(0.0, 1.0, s - ring))
        inner_angle = rng.uniform(0.0, 2 * np.pi, s - ring)
        points = np.concatenate([
            np.stack([ring_radius * np.cos(angle), ring_radius * np.sin(angle)], axis=1),
            np.stack([inner * np.cos(inner_angle), inner * np.sin(inner_angle)], axis=1),
        ])
        return Delaunay(points), pixels

    @cached_property
    def _mapping(self):
        if self.size.mesh == "rectangular":
            return self._rectangular_mapping
        tri, pixels = self._mesh
        simplex = tri.find_simplex(pixels)
        if np.any(simplex < 0):
            raise AssertionError("bench bug: an image pixel lies outside the source mesh")
        transform = tri.transform[simplex]
        bary = np.einsum("mij,mj->mi", transform[:, :2], pixels - transform[:, 2])
        weights = np.concatenate([bary, 1.0 - bary.sum(axis=1, keepdims=True)], axis=1)
        indexes = tri.simplices[simplex].astype(np.int64)
        return np.ascontiguousarray(indexes), np.ascontiguousarray(np.clip(weights, 0.0, 1.0))

    @cached_property
    def _rectangular_mapping(self):
        """Bilinear weights on a square grid of n x n = S nodes spanning the mask (B = 4)."""
        n = int(round(np.sqrt(self.size.S)))
        if n * n != self.size.S or self.size.B != 4:
            raise ValueError("a rectangular mesh needs S = n^2 and B = 4")
        centre = (self.size.N - 1) / 2.0
        pixels = self.native_index_for_slim_index.astype(np.float64) - centre
        extent = float(np.max(np.abs(pixels))) + 0.5
        spacing = 2 * extent / (n - 1)
        position = (pixels + extent) / spacing
        cell = np.clip(np.floor(position).astype(np.int64), 0, n - 2)
        t = position - cell
        (i, j), (ty, tx) = cell.T, t.T
        indexes = np.stack([i * n + j, i * n + j + 1, (i + 1) * n + j, (i + 1) * n + j + 1], axis=1)
        weights = np.stack([(1 - ty) * (1 - tx), (1 - ty) * tx, ty * (1 - tx), ty * tx], axis=1)
        return np.ascontiguousarray(indexes), np.ascontiguousarray(weights)

    @property
    def pix_indexes_for_sub_slim_index(self) -> np.ndarray:
        return self._mapping[0]

    @property
    def pix_weights_for_sub_slim_index(self) -> np.ndarray:
        return self._mapping[1]

    @cached_property
    def pix_size_for_sub_slim_index(self) -> np.ndarray:
        return np.cumprod(self.pix_indexes_for_sub_slim_index >= 0, axis=1).sum(axis=1).astype(np.int64)

    @property
    def pixels(self) -> int:
        return self.size.S

    @cached_property
    def _neighbours(self):
        tri, _ = self._mesh
        indptr, indices = tri.vertex_neighbor_vertices
        sizes = np.diff(indptr).astype(np.int64)
        neighbors = np.full((len(sizes), int(sizes.max())), -1, dtype=np.int64)
        for i in range(len(sizes)):
            neighbors[i, : sizes[i]] = indices[indptr[i]: indptr[i + 1]]
        return neighbors, sizes

    @property
    def neighbors(self) -> np.ndarray:
        return self._neighbours[0]

    @property
    def neighbors_sizes(self) -> np.ndarray:
        return self._neighbours[1]

    # ---- derived inputs ------------------------------------------------------------------------
    @cached_property
    def w_compact(self) -> np.ndarray:
        """Built once with swiftw (fast at any K); F's cost does not depend on K."""
        return swiftw.w_compact_curvature_interferometer_from(
            self.N, self.noise_map_real, self.uv_wavelengths, self.pixel_scale)

    @cached_property
    def w_tilde(self) -> np.ndarray:
        """W (M, M) unfolded from w_compact, for the "W in memory" rows."""
        return numpy_reference.w_tilde_via_compact_from(self.w_compact, self.native_index_for_slim_index)

    @cached_property
    def w_tilde_preload(self) -> np.ndarray:
        return numpy_reference.w_tilde_preload_via_compact_from(self.w_compact)

    @cached_property
    def extent_inputs(self) -> dict[str, Any]:
        """The arguments of `curvature_direct_conv` (PyAutoArray 2026): the precision operator of
        the mask's extent (from w_compact) and `kernel_inputs_from` of the mapping."""
        from swiftw._precision import _preload_from_compact

        native = self.native_index_for_slim_index
        iy, ix = (native - native.min(axis=0)).T
        ny, nx = (int(e) + 1 for e in native.max(axis=0) - native.min(axis=0))
        inputs = swiftw.autoarray.kernel_inputs_from(
            self.pix_indexes_for_sub_slim_index, self.pix_size_for_sub_slim_index, self.pix_weights_for_sub_slim_index,
            np.ascontiguousarray(iy * nx + ix), (ny, nx), self.pixels)
        return {"preload": _preload_from_compact(self.w_compact, ny, nx),
                **{k: inputs[k] for k in _EXTENT_ARGS[1:]}}

    # ---- fma -----------------------------------------------------------------------------------
    @cached_property
    def fma_inputs(self):
        rng = self._rng("fma")
        out = rng.normal(size=self.size.n)
        arrays = [rng.normal(size=self.size.n) for _ in range(self.size.arrays)]
        return out, [float(w) for w in rng.uniform(-1.0, 1.0, self.size.arrays)], arrays

    # ---- description ---------------------------------------------------------------------------
    def nonzeros_per_column(self) -> float:
        return float(self.pix_size_for_sub_slim_index.sum()) / self.size.S


@functools.lru_cache(maxsize=8)
def problem(size: Size) -> Problem:
    """The (cached) inputs of `size`."""
    return Problem(size)


def problem_for(group: str, preset: str) -> Problem:
    """The inputs of `group` at `preset`."""
    return problem(SIZES[preset][group])


# ================================================================================================
# implementations
# ================================================================================================


@dataclass
class Run:
    """A prepared call: `call()` runs the kernel on the problem's inputs and returns its result;
    `reset()`, if given, restores inputs that `call` modifies (fma's `out`)."""

    call: Callable[[], Any]
    reset: Callable[[], None] | None = None


@dataclass(frozen=True)
class Impl:
    """One row of a table.

    Attributes
    ----------
    label : str
    library : str
        "swiftw", "numpy", "numba", "jax", or "memory" (the fma floor row).
    make : callable
        ``make(problem) -> Run``.
    primary : bool
        The row that stands for its library (the pytest suite benchmarks these).
    parallel : bool
        Whether it uses more than one thread when it may.
    seconds : callable or None
        ``seconds(problem) -> float``: a rough one-thread time, to skip hopeless runs.
    memory : callable or None
        ``memory(problem) -> float``: bytes it needs beyond the inputs.
    scale_time : callable or None
        Maps the measured time to the reported one (the fma floor row).
    """

    label: str
    library: str
    make: Callable[[Problem], Run]
    primary: bool = True
    parallel: bool = True
    seconds: Callable[[Problem], float] | None = None
    memory: Callable[[Problem], float] | None = None
    scale_time: Callable[[Problem, float], float] | None = None


@dataclass(frozen=True)
class Group:
    """One table: what is computed, on which inputs, checked how."""

    name: str
    title: str
    describe: Callable[[Problem], str]
    scale: Callable[[Problem, Any], float]
    rtol: float
    impls: tuple[Impl, ...]
    scale_name: str = ""

    def primary(self, library: str) -> Impl:
        for impl in self.impls:
            if impl.library == library and impl.primary:
                return impl
        raise KeyError(f"group {self.name} has no {library} row")


def _pure(fn: Callable[..., Any], *names: str, **kwargs) -> Callable[[Problem], Run]:
    """A Run that calls ``fn(*[problem.<name>...], **kwargs)``."""

    def make(p: Problem) -> Run:
        args = [getattr(p, name) for name in names]
        return Run(lambda: fn(*args, **kwargs))

    return make


def _operator_run(p: Problem) -> Run:
    """The sampler-loop form: a `swiftw.CurvatureOperator` built once per dataset (here, not
    timed), then F for the mapping on every call."""
    op = swiftw.CurvatureOperator(p.w_compact, p.native_index_for_slim_index)
    args = (p.pix_indexes_for_sub_slim_index, p.pix_weights_for_sub_slim_index, p.pixels)
    return Run(lambda: op.curvature_matrix(*args))


def _extent_run(fn: Callable[..., Any]) -> Callable[[Problem], Run]:
    """A Run that calls ``fn(**problem.extent_inputs)`` (the production 2026 signature)."""

    def make(p: Problem) -> Run:
        args = p.extent_inputs
        return Run(lambda: fn(**args))

    return make


def _chain(first: Callable, first_names: tuple[str, ...], second: Callable, second_names: tuple[str, ...]):
    """A Run that computes ``second(first(...), *second_args)`` (e.g. w_compact then unfold)."""

    def make(p: Problem) -> Run:
        a = [getattr(p, name) for name in first_names]
        b = [getattr(p, name) for name in second_names]
        return Run(lambda: second(first(*a), *b))

    return make


# ---- fma -----------------------------------------------------------------------------------------


def _fma_run(fn: Callable) -> Callable[[Problem], Run]:
    def make(p: Problem) -> Run:
        pristine, weights, arrays = p.fma_inputs
        out = pristine.copy()

        def call():
            fn(out, weights, *arrays)
            return out

        def reset():
            np.copyto(out, pristine)

        return Run(call, reset)

    return make


def _split_run(p: Problem, work: Callable[[np.ndarray, np.ndarray, slice], Any]) -> Run:
    """A Run that applies ``work(a, b, part)`` to n-element arrays split over the current thread count."""
    a, b = p.fma_inputs[0], np.ones_like(p.fma_inputs[0])  # b is written once here: no page faults later
    state: dict[str, Any] = {}

    def call():
        threads = _current_threads()
        if state.get("threads") != threads:
            state["pool"] = ThreadPoolExecutor(threads) if threads > 1 else None
            state["threads"] = threads
            bounds = np.linspace(0, len(a), threads + 1).astype(int)
            state["parts"] = [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]
        if state["pool"] is None:
            work(a, b, slice(None))
        else:
            list(state["pool"].map(lambda part: work(a, b, part), state["parts"]))
        return None

    return Run(call)


def _copy_run(p: Problem) -> Run:
    """Copy n doubles (read n, write n), split over the threads: the copy bandwidth."""
    return _split_run(p, lambda a, b, part: np.copyto(b[part], a[part]))


def _read_run(p: Problem) -> Run:
    """A dot product of two n-double arrays (read 2n) by BLAS, on its own threads (limited to the
    column's thread count): the read bandwidth."""
    a, b = p.fma_inputs[0], np.ones_like(p.fma_inputs[0])
    return Run(lambda: float(np.dot(a, b)))


def _one_pass(p: Problem, seconds: float) -> float:
    """Time of one pass over fma's memory ((A + 2) n doubles) at the bandwidth of a kernel that moved
    2 n doubles in `seconds` (a copy, or a dot product)."""
    return seconds * (p.size.arrays + 2) / 2.0


# ---- cost model (one thread, rough; only used to skip hopeless runs) ------------------------------

_NS = dict(cos_numba=12.0, cos_numpy=20.0, cos_jax=20.0, scatter=2.5, pair=2.5, flop=0.08, fft=2.0, gather=1.5)


def _sec(key: str, units: float) -> float:
    return _NS[key] * 1e-9 * units


def _w_tilde_terms(p: Problem) -> float:
    return float(p.M) ** 2 * p.size.K


def _w_compact_terms(p: Problem) -> float:
    return p.N * (2.0 * p.N - 1) * p.size.K


def _fft_cost(p: Problem) -> float:
    side = numpy_reference.fft_shape(p.N)[0]
    return _sec("fft", 2.0 * p.size.S * side * side * math.log2(side * side)) + _sec("scatter", 3.0 * p.M * p.size.S)


def _dense_f_flops(p: Problem) -> float:
    return 2.0 * float(p.M) ** 2 * p.size.S


def _w_bytes(p: Problem) -> float:
    return 8.0 * float(p.M) ** 2


# ---- groups --------------------------------------------------------------------------------------

_NAT = "native_index_for_slim_index"
_IDX = "pix_indexes_for_sub_slim_index"
_WTS = "pix_weights_for_sub_slim_index"
_W_TILDE_ARGS = ("noise_map_real", "uv_wavelengths", "grid_radians_slim")
_W_COMPACT_ARGS = ("N", "noise_map_real", "uv_wavelengths", "pixel_scale")
_DATA_ARGS = ("visibilities_real", "noise_map_real", "uv_wavelengths", "grid_radians_slim")
_F_COMPACT_ARGS = ("w_compact", _NAT, _IDX, _WTS, "pixels")
_F_W_TILDE_ARGS = ("w_tilde", _IDX, _WTS, "pixels")
_F_PRELOAD_ARGS = ("w_tilde_preload", _IDX, "pix_size_for_sub_slim_index", _WTS, _NAT, "pixels")
_EXTENT_ARGS = ("preload", "iy", "ix", "flat", "indptr", "col", "val", "cscptr", "csc_row", "csc_val", "ny", "nx",
                "pix_pixels")
_LL_ARGS = ("dirty_image", "data", "noise_map", "w_compact", _NAT, _IDX, _WTS, "neighbors", "neighbors_sizes")


def _grid_text(p: Problem) -> str:
    return f"N={p.N} (M={p.M})"


def _k_text(p: Problem) -> str:
    k = f"K={p.size.K}"
    return k + (f" (standing in for K={p.size.K_nominal:.0e}: F does not depend on K)" if p.size.K_nominal else "")


def _f_text(p: Problem) -> str:
    mesh = "Delaunay" if p.size.mesh == "delaunay" else "rectangular (bilinear)"
    return (f"{_grid_text(p)}, pixel scale {p.pixel_scale}\", S={p.size.S}, B={p.size.B} {mesh} "
            f"(~{p.nonzeros_per_column():.0f} non-zeros per source column), w_compact from {_k_text(p)}")


def _max_abs(p: Problem, ref: Any) -> float:
    return float(np.max(np.abs(ref)))


GROUPS: dict[str, Group] = {
    "fma": Group(
        "fma", "weighted sum, in place: out += sum_a w_a * arrays[a]",
        lambda p: f"n={p.size.n:.0e}, {p.size.arrays} arrays, float64",
        _max_abs, 1e-12, scale_name="max|out|",
        impls=(
            Impl("numpy (loop of out += w*a)", "numpy", _fma_run(numpy_reference.fma), parallel=False),
            Impl("swiftw", "swiftw", _fma_run(swiftw.fma)),
            Impl("numba (@jit(parallel=True) _fma)", "numba", _fma_run(numba_kernels.fma)),
            Impl("jax (jit, copied back into out)", "jax", _fma_run(jax_kernels.fma)),
            Impl("memory floor: one pass at copy bandwidth", "memory", _copy_run,
                 scale_time=lambda p, t: _one_pass(p, t)),
            Impl("memory floor: one pass at read bandwidth (ddot)", "memory", _read_run,
                 scale_time=lambda p, t: _one_pass(p, t)),
        ),
    ),
    "w_tilde": Group(
        "w_tilde", "the w-tilde matrix W (M, M), exact",
        lambda p: f"{_grid_text(p)}, K={p.size.K}",
        lambda p, ref: p.sum_c, 1e-9, scale_name="sum(1/sigma^2)",
        impls=(
            Impl("numpy (vectorised, chunked over K)", "numpy",
                 _pure(numpy_reference.w_tilde_curvature_interferometer_from, *_W_TILDE_ARGS), parallel=False,
                 seconds=lambda p: _sec("cos_numpy", _w_tilde_terms(p) / 2), memory=lambda p: 2 * _w_bytes(p)),
            Impl("swiftw", "swiftw", _pure(swiftw.w_tilde_curvature_interferometer_from, *_W_TILDE_ARGS)),
            Impl("swiftw (w_compact, then unfold)", "swiftw",
                 _chain(swiftw.w_compact_curvature_interferometer_from, _W_COMPACT_ARGS,
                        swiftw.w_tilde_via_compact_from, (_NAT,)), primary=False),
            Impl("numba (triple loop, prange)", "numba",
                 _pure(numba_kernels.w_tilde_curvature_interferometer_from, *_W_TILDE_ARGS),
                 seconds=lambda p: _sec("cos_numba", _w_tilde_terms(p) / 2)),
            Impl("numba_compact (w_compact, then unfold)", "numba",
                 _chain(numba_kernels.w_compact_curvature_interferometer_from, _W_COMPACT_ARGS,
                        numba_kernels.w_tilde_via_compact_from, (_NAT,)), primary=False,
                 seconds=lambda p: _sec("cos_numba", _w_compact_terms(p))),
            Impl("jax (lax.scan over K)", "jax",
                 _pure(jax_kernels.w_tilde_curvature_interferometer_from, *_W_TILDE_ARGS),
                 seconds=lambda p: _sec("cos_jax", _w_tilde_terms(p)), memory=lambda p: 3 * _w_bytes(p)),
            Impl("jax_compact (w_compact, then unfold)", "jax",
                 _chain(jax_kernels.w_compact_curvature_interferometer_from, _W_COMPACT_ARGS,
                        jax_kernels.w_tilde_via_compact_from, (_NAT,)), primary=False,
                 seconds=lambda p: _sec("cos_jax", _w_compact_terms(p)), memory=lambda p: 5 * _w_bytes(p)),
        ),
    ),
    "w_compact": Group(
        "w_compact", "the compact w-tilde (N, 2N-1), exact",
        lambda p: f"N={p.N}, K={p.size.K}",
        lambda p, ref: p.sum_c, 1e-9, scale_name="sum(1/sigma^2)",
        impls=(
            Impl("numpy (vectorised, chunked over K)", "numpy",
                 _pure(numpy_reference.w_compact_curvature_interferometer_from, *_W_COMPACT_ARGS), parallel=False,
                 seconds=lambda p: _sec("cos_numpy", _w_compact_terms(p))),
            Impl("swiftw", "swiftw", _pure(swiftw.w_compact_curvature_interferometer_from, *_W_COMPACT_ARGS)),
            Impl("numba (loop over offsets and K, prange)", "numba",
                 _pure(numba_kernels.w_compact_curvature_interferometer_from, *_W_COMPACT_ARGS),
                 seconds=lambda p: _sec("cos_numba", _w_compact_terms(p))),
            Impl("jax (lax.scan over K)", "jax",
                 _pure(jax_kernels.w_compact_curvature_interferometer_from, *_W_COMPACT_ARGS),
                 seconds=lambda p: _sec("cos_jax", _w_compact_terms(p))),
        ),
    ),
    "w_tilde_data": Group(
        "w_tilde_data", "the dirty-image weights (M,), exact",
        lambda p: f"{_grid_text(p)}, K={p.size.K}",
        lambda p, ref: p.sum_data_weights, 1e-9, scale_name="sum((sigma^2/V)^2)",
        impls=(
            Impl("numpy (vectorised, chunked over K)", "numpy",
                 _pure(numpy_reference.w_tilde_data_interferometer_from, *_DATA_ARGS),
                 seconds=lambda p: _sec("cos_numpy", float(p.M) * p.size.K)),
            Impl("swiftw", "swiftw", _pure(swiftw.w_tilde_data_interferometer_from, *_DATA_ARGS)),
            Impl("numba (prange over pixels)", "numba",
                 _pure(numba_kernels.w_tilde_data_interferometer_from, *_DATA_ARGS),
                 seconds=lambda p: _sec("cos_numba", float(p.M) * p.size.K)),
            Impl("jax (lax.scan over chunks of K)", "jax", _pure(jax_kernels.w_tilde_data_interferometer_from, *_DATA_ARGS),
                 seconds=lambda p: _sec("cos_jax", float(p.M) * p.size.K)),
        ),
    ),
    "curvature_matrix": Group(
        "curvature_matrix", "the curvature matrix F = T^T W T (S, S)",
        _f_text, _max_abs, 1e-9, scale_name="max|F|",
        impls=(
            Impl("numpy (unfold W, sparse T)", "numpy",
                 _pure(numpy_reference.curvature_matrix_via_w_compact_sparse_mapping_matrix_from, *_F_COMPACT_ARGS,
                       method="dense"),
                 parallel=False, seconds=lambda p: _sec("gather", 4 * float(p.M) ** 2),
                 memory=lambda p: 2 * _w_bytes(p) + 8.0 * p.M * p.size.S),
            Impl("numpy (rfft2 convolution)", "numpy",
                 _pure(numpy_reference.curvature_matrix_via_w_compact_sparse_mapping_matrix_from, *_F_COMPACT_ARGS,
                       method="fft"),
                 primary=False, seconds=_fft_cost),
            Impl("swiftw", "swiftw",
                 _pure(swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from, *_F_COMPACT_ARGS)),
            Impl("swiftw (prepared operator)", "swiftw", _operator_run, primary=False),
            Impl("swiftw (W in memory)", "swiftw",
                 _pure(swiftw.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from, *_F_W_TILDE_ARGS),
                 primary=False, memory=_w_bytes),
            Impl("numba (w_compact, scatter)", "numba",
                 _pure(numba_kernels.curvature_matrix_via_w_compact_sparse_mapping_matrix_from, *_F_COMPACT_ARGS),
                 seconds=lambda p: _sec("scatter", p.size.B * float(p.M) ** 2), memory=lambda p: 8.0 * p.M * p.size.S),
            Impl("numba (W in memory, scatter)", "numba",
                 _pure(numba_kernels.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from, *_F_W_TILDE_ARGS),
                 primary=False, seconds=lambda p: _sec("scatter", p.size.B * float(p.M) ** 2),
                 memory=lambda p: _w_bytes(p) + 8.0 * p.M * p.size.S),
            Impl("numba (PyAutoArray preload pair loop)", "numba",
                 _pure(numba_kernels.autoarray_curvature_matrix_via_w_tilde_curvature_preload_interferometer_from,
                       *_F_PRELOAD_ARGS),
                 primary=False, parallel=False, seconds=lambda p: _sec("pair", p.size.B**2 * float(p.M) ** 2)),
            Impl("jax (unfold W, dense T^T W T)", "jax",
                 _pure(jax_kernels.curvature_matrix_via_w_compact_sparse_mapping_matrix_from, *_F_COMPACT_ARGS),
                 seconds=lambda p: _sec("flop", _dense_f_flops(p)), memory=lambda p: 4 * _w_bytes(p)),
            Impl("jax (W in memory, dense T^T W T)", "jax",
                 _pure(jax_kernels.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from, *_F_W_TILDE_ARGS),
                 primary=False, seconds=lambda p: _sec("flop", _dense_f_flops(p)), memory=lambda p: 2 * _w_bytes(p)),
        ),
    ),
    "log_likelihood": Group(
        "log_likelihood", "log-likelihood via w_compact (F, H, Cholesky)",
        _f_text, lambda p, ref: max(1.0, abs(float(ref))), 1e-8, scale_name="max(1, |log L|)",
        impls=(
            Impl("numpy (unfold W, sparse T, scipy cho)", "numpy",
                 _pure(numpy_reference.log_likelihood_function_via_w_compact_from, *_LL_ARGS),
                 seconds=lambda p: _sec("gather", 4 * float(p.M) ** 2), memory=lambda p: 2 * _w_bytes(p)),
            Impl("swiftw", "swiftw", _pure(swiftw.log_likelihood_function_via_w_compact_from, *_LL_ARGS)),
            Impl("numba (scatter F, LAPACK)", "numba",
                 _pure(numba_kernels.log_likelihood_function_via_w_compact_from, *_LL_ARGS),
                 seconds=lambda p: _sec("scatter", p.size.B * float(p.M) ** 2), memory=lambda p: 8.0 * p.M * p.size.S),
            Impl("jax (dense F, cho_factor)", "jax",
                 _pure(jax_kernels.log_likelihood_function_via_w_compact_from, *_LL_ARGS),
                 seconds=lambda p: _sec("flop", _dense_f_flops(p)), memory=lambda p: 4 * _w_bytes(p)),
        ),
    ),
}

# The production library's 2026 Numba path (PyAutoArray's `curvature_direct_conv`, SPEC 3.9), same F.
GROUPS["curvature_extent"] = Group(
    "curvature_extent", "the curvature matrix F = T^T W T (S, S) by the extent-grid drop-in curvature_direct_conv",
    _f_text, _max_abs, 1e-9, scale_name="max|F|",
    impls=(
        Impl("numpy (rfft2 convolution)", "numpy",
             _pure(numpy_reference.curvature_matrix_via_w_compact_sparse_mapping_matrix_from, *_F_COMPACT_ARGS,
                   method="fft"), seconds=_fft_cost),
        Impl("swiftw (swiftw.autoarray.curvature_direct_conv)", "swiftw", _extent_run(swiftw.autoarray.curvature_direct_conv)),
        Impl("numba (direct extent-grid convolution, serial)", "numba", _extent_run(numba_kernels.curvature_direct_conv),
             parallel=False),
    ),
)

# The same rows on a rectangular source mesh (issue 6: S = 784, B = 4 beside the Delaunay S = 1500, B = 3).
GROUPS["curvature_rectangular"] = dataclasses.replace(
    GROUPS["curvature_matrix"], name="curvature_rectangular",
    title="the curvature matrix F = T^T W T (S, S), rectangular source mesh")

GROUP_ORDER = ("fma", "w_tilde", "w_compact", "w_tilde_data", "curvature_matrix", "curvature_rectangular", "curvature_extent",
               "log_likelihood", "cold_start", "nufft")


# ================================================================================================
# threads
# ================================================================================================

_threads_now = [1]


def all_cores() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _current_threads() -> int:
    return _threads_now[0]


@contextlib.contextmanager
def threads(n: int):
    """Run swiftw, Numba, SciPy's FFT and (with threadpoolctl) BLAS on `n` threads; restore after."""
    before = (swiftw.get_num_threads(), numpy_reference.get_num_threads(), _threads_now[0])
    numba_before = numba_kernels.get_num_threads() if "numba" in sys.modules else None
    swiftw.set_num_threads(n)
    numpy_reference.set_num_threads(n)
    if numba_before is not None:
        numba_kernels.set_num_threads(min(n, _numba_max_threads()))
    _threads_now[0] = n
    with _blas_limit(n):
        try:
            yield
        finally:
            swiftw.set_num_threads(before[0])
            numpy_reference.set_num_threads(before[1])
            _threads_now[0] = before[2]
            if numba_before is not None:
                numba_kernels.set_num_threads(numba_before)


def _numba_max_threads() -> int:
    import numba

    return numba.config.NUMBA_NUM_THREADS


def _blas_limit(n: int):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n)


def jax_threads_fixed() -> bool:
    """XLA's CPU thread pool is sized when JAX starts: True unless it was started single-threaded."""
    return jax_kernels.single_thread_flags not in os.environ.get("XLA_FLAGS", "")


# ================================================================================================
# checks, skips, timing
# ================================================================================================


@dataclass
class Comparison:
    ok: bool
    error: float  # max |result - reference| / scale
    scale: float
    rtol: float
    detail: str = ""

    def text(self) -> str:
        if self.detail:
            return self.detail
        return f"{'ok' if self.ok else 'MISMATCH'} {self.error:.0e}"


def compare(group: Group, p: Problem, result: Any, ref: Any) -> Comparison:
    """``max|result - ref| / scale`` against the group's tolerance (scale: see `Group.scale`)."""
    scale = group.scale(p, ref)
    result, ref = np.asarray(result, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if result.shape != ref.shape:
        return Comparison(False, math.inf, scale, group.rtol, f"MISMATCH: shape {result.shape}, expected {ref.shape}")
    if not np.all(np.isfinite(result)):
        return Comparison(False, math.inf, scale, group.rtol, "MISMATCH: non-finite values")
    error = float(np.max(np.abs(result - ref))) / scale if ref.size else 0.0
    return Comparison(error <= group.rtol, error, scale, group.rtol)


def library_missing(library: str) -> bool:
    return library in ("numba", "jax") and not _importable(library)


@functools.cache
def _importable(library: str) -> bool:
    from .peers import available

    return available(library)


def skip_reason(impl: Impl, p: Problem, n_threads: int) -> str | None:
    """Why `impl` does not run at this size and thread count (None: it runs)."""
    if library_missing(impl.library):
        return f"skipped ({impl.library} not installed)"
    if impl.memory is not None and impl.memory(p) > _memory_limit():
        return f"skipped (needs ~{impl.memory(p) / 2**30:.1f} GiB)"
    if impl.seconds is not None:
        estimate = impl.seconds(p) / (n_threads if impl.parallel else 1)
        if estimate > TIME_LIMIT:
            return f"skipped (too slow at this size: ~{estimate:.0f} s estimated)"
    return None


@functools.lru_cache(maxsize=16)
def _reference(group_name: str, size: Size):
    group, p = GROUPS[group_name], problem(size)
    for impl in group.impls:
        if impl.library == "numpy" and skip_reason(impl, p, all_cores()) is None:
            run = impl.make(p)
            if run.reset:
                run.reset()
            start = time.perf_counter()
            result = run.call()
            seconds = time.perf_counter() - start
            return impl.label, np.copy(result), seconds
    return None, None, 0.0


def reference(group_name: str, preset: str):
    """The NumPy answer of `group_name` at `preset` (cached), or None if no NumPy row can run."""
    return _reference(group_name, SIZES[preset][group_name])[1]


def _time_once(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


SLOW = 2.0  # seconds: a call this slow is timed once per column (a warm-up call then counts)
# Seconds of rest before each implementation is timed: the thread pools of the row before (OpenBLAS,
# OpenMP under Numba, XLA's) spin for a while after their last call, on the cores the next row
# would use; measured here, swiftw's one-thread F at sma took 11 ms right after them, 8 ms after a rest.
SETTLE = 0.3


def _plan(seconds: float) -> tuple[int, int]:
    """(samples, calls per sample) for a call that takes `seconds`: about 1 s of samples per column,
    5 to 25 of them, each at least 2 ms long; 3 samples from 0.2 s; one above `SLOW`."""
    if seconds >= SLOW:
        return 1, 1
    if seconds >= 0.2:
        return 3, 1
    number = max(1, math.ceil(2e-3 / max(seconds, 1e-7)))
    return int(min(25, max(5, 1.0 / (seconds * number)))), number


@contextlib.contextmanager
def _gc_paused():
    """Python's garbage collector off while samples are taken: a collection pass over everything
    the peers imported would land in whichever sample happens to trigger it."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def measure(run: Run, prior: list[float] = ()) -> dict[str, Any]:
    """Median time of `run.call`.

    `prior` holds samples already taken at this thread count (a non-JIT first call). Without
    one, a warm-up call runs first (at this thread count); it counts as a sample if it is slow.
    """
    times = list(prior)
    time.sleep(SETTLE)
    if not times:
        warm = _time_once(run.call)[0]
        if warm >= SLOW:
            times.append(warm)
    samples, number = _plan(times[0] if times else warm)
    with _gc_paused():
        while len(times) < samples:
            start = time.perf_counter()
            for _ in range(number):
                run.call()
            times.append((time.perf_counter() - start) / number)
    return dict(median=float(np.median(times)), samples=len(times), number=number, times=times)


# ================================================================================================
# running a group
# ================================================================================================


@dataclass
class Row:
    """Results of one implementation in one group."""

    label: str
    library: str
    primary: bool
    first_use: float | None = None
    check: str = ""
    ok: bool = True
    error: float | None = None
    skipped: dict[int, str] = field(default_factory=dict)  # threads -> reason
    times: dict[int, dict[str, Any]] = field(default_factory=dict)  # threads -> measure()

    def median(self, n: int) -> float | None:
        return self.times[n]["median"] if n in self.times else None


_T0 = time.perf_counter()


def progress(message: str) -> None:
    """A progress line on stderr."""
    print(f"[bench {time.perf_counter() - _T0:7.1f}s] {message}", file=sys.stderr, flush=True)


def loud(message: str) -> None:
    bar = "!" * 100
    print(f"\n{bar}\n!!! {message}\n{bar}\n", file=sys.stderr, flush=True)


def _warm_libraries(impls) -> None:
    """Import Numba / JAX before timing first calls, so "first use" is compilation, not import."""
    libraries = {impl.library for impl in impls}
    if "numba" in libraries and not library_missing("numba"):
        numba_kernels._numba()
    if "jax" in libraries and not library_missing("jax"):
        jax_kernels._jax()


LOAD_AT_START: dict[str, float] = {}  # group -> 1-minute load average when it started


def run_group(group: Group, preset: str, thread_counts: list[int]) -> list[Row]:
    """Check and time every implementation of `group` at `preset`."""
    size = SIZES[preset][group.name]
    p = problem(size)
    LOAD_AT_START[group.name] = round(os.getloadavg()[0], 2)
    progress(f"{group.name}: building inputs ({group.describe(p)}); load average {LOAD_AT_START[group.name]}")
    _warm_libraries(group.impls)
    with threads(max(thread_counts)):
        ref_label, ref, ref_seconds = _reference(group.name, size)
    rows = []
    for impl in group.impls:
        rows.append(_run_impl(group, p, impl, thread_counts, ref, ref_label, ref_seconds))
    return rows


def _run_impl(group, p, impl, thread_counts, ref, ref_label, ref_seconds) -> Row:
    row = Row(impl.label, impl.library, impl.primary)
    for n in thread_counts:
        reason = skip_reason(impl, p, n)
        if impl.library == "jax" and n == 1 and len(thread_counts) > 1 and jax_threads_fixed():
            reason = "n/a (XLA threads fixed at start-up)"
        if reason:
            row.skipped[n] = reason
    runnable = sorted((n for n in thread_counts if n not in row.skipped), reverse=True)
    if not runnable:
        return row
    try:
        run = impl.make(p)
        with threads(runnable[0]):
            row.first_use = _first_use(group, p, impl, run, row, ref, ref_label, ref_seconds)
        jit = impl.library in ("numba", "jax")
        for n in runnable:
            if not impl.parallel and n != runnable[0]:
                row.times[n] = dict(row.times[runnable[0]], serial=True)  # one thread either way
                continue
            progress(f"{group.name}: {impl.label}, {n} thread{'s' if n > 1 else ''}")
            reuse = n == runnable[0] and not jit and row.first_use >= SLOW  # a slow first call is warm enough
            prior = [row.first_use] if reuse else []
            with threads(n):
                row.times[n] = measure(run, prior)
            if impl.scale_time:
                row.times[n]["measured"] = row.times[n]["median"]
                row.times[n]["median"] = impl.scale_time(p, row.times[n]["median"])
    except Exception as exc:  # a failing implementation is reported, the benchmark goes on
        row.ok, row.check = False, f"ERROR {type(exc).__name__}: {exc}"
        loud(f"{group.name}: {impl.label} raised {type(exc).__name__}: {exc}")
    return row


# The issue-6 presets: there, swiftw's all-core speed-up is also measured in alternating calls.
SCALING_PRESETS = ("sma", "alma", "alma_high")
SCALING_GROUPS = ("curvature_matrix", "curvature_rectangular")
SCALING: dict[str, list[dict[str, Any]]] = {}  # group -> run_scaling's result


def host_control() -> Callable[[], Any]:
    """The control of `run_scaling`: swiftw's w_compact by the direct sum (N = 40, K = 9000; about
    4 ms on one thread here). Its threads take separate visibilities into their own grids (25 KB,
    summed at the end) and share nothing else but the inputs (216 KB, read-only): no serial part
    to speak of, so its speed-up is what the host gives a compute-bound kernel in those seconds
    (1.8-2.2x on two threads here, 1.5x in a disturbed minute; BENCHMARKS.md)."""
    rng = np.random.default_rng(40)
    k = 9000
    noise, uv = rng.uniform(0.5, 2.0, k), rng.normal(0.0, 3e4, (k, 2))
    return functools.partial(swiftw.options(w_compact="direct")(swiftw.w_compact_curvature_interferometer_from),
                             40, noise, uv, 0.05)


def _alternating_pairs(call: Callable[[], Any], n_threads: int, pairs: int, times: dict[int, list[float]],
                       warm: bool = False) -> None:
    """`pairs` pairs of a one-thread and an `n_threads` call appended to `times`, the order
    alternating from pair to pair and carried on from the pairs already there. `warm`: one
    untimed call first, at the first pair's first thread count."""
    done = len(times[1])
    if warm:
        swiftw.set_num_threads(1 if done % 2 == 0 else n_threads)
        call()
    for i in range(done, done + pairs):
        for n in ((1, n_threads) if i % 2 == 0 else (n_threads, 1)):
            swiftw.set_num_threads(n)
            times[n].append(_time_once(call)[0])


def run_scaling(group: Group, p: Problem, n_threads: int, budget: float = 10.0) -> list[dict[str, Any]]:
    """swiftw's speed-up on `n_threads` threads over one, from calls that alternate between the two
    (pairs in both orders; the median of the per-pair ratios): the table's two columns are timed
    seconds apart, and on a shared host the second may meet other load than the first. Up to 100
    pairs in about `budget` seconds: at sma 15 pairs took 0.1 s, inside one phase of the host's load.
    Beside them, in turns of about 0.1 s, as many pairs of `host_control`: the speed-up the host
    gave a kernel with nothing serial in the same seconds."""
    out = []
    control = host_control()
    for impl in group.impls:
        if impl.library != "swiftw" or impl.label not in ("swiftw", "swiftw (prepared operator)"):
            continue
        progress(f"{group.name}: {impl.label}, 1 against {n_threads} threads, alternating, with the host control")
        run = impl.make(p)
        before = swiftw.get_num_threads()
        times: dict[int, list[float]] = {1: [], n_threads: []}
        control_times: dict[int, list[float]] = {1: [], n_threads: []}
        time.sleep(SETTLE)
        try:
            with _gc_paused():
                swiftw.set_num_threads(1)
                run.call(), control()  # warm-up (a first call pays for imports and buffers)
                seconds, control_seconds = _time_once(run.call)[0], _time_once(control)[0]  # the budget's size
                pairs = int(min(100, max(3, budget / (1.6 * (seconds + control_seconds)))))
                turn = int(max(1, 0.1 / (1.6 * max(seconds, control_seconds))))
                while len(times[1]) < pairs:
                    count = min(turn, pairs - len(times[1]))
                    _alternating_pairs(run.call, n_threads, count, times)
                    # Warmed: at alma_high a turn is one pair, right after 0.3 s of F.
                    _alternating_pairs(control, n_threads, count, control_times, warm=True)
        finally:
            swiftw.set_num_threads(before)

        def speedup(t: dict[int, list[float]]) -> float:
            return float(np.median([a / max(b, 1e-9) for a, b in zip(t[1], t[n_threads])]))

        out.append(dict(label=impl.label, threads=n_threads, pairs=len(times[1]), one=float(np.median(times[1])),
                        many=float(np.median(times[n_threads])), speedup=speedup(times),
                        control_one=float(np.median(control_times[1])),
                        control_many=float(np.median(control_times[n_threads])),
                        control_speedup=speedup(control_times)))
    return out


METHODS: dict[str, list[dict[str, Any]]] = {}  # group -> run_methods' result
CURVATURE_METHODS = ("auto", "direct", "fft")


def run_methods(group: Group, p: Problem, thread_counts: list[int], budget: float = 12.0) -> list[dict[str, Any]]:
    """swiftw's drop-in F with the option `curvature="auto"` against `"direct"` and `"fft"`, in rounds of one
    call each, the order going through all six permutations (each method follows each other as
    often), so that each meets the same host load as the others; per thread count the medians and
    the median over rounds of auto's time over the faster of the other two in that round."""
    fn = swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from
    args = [getattr(p, name) for name in _F_COMPACT_ARGS]
    calls = {m: functools.partial(swiftw.options(curvature=m)(fn), *args) for m in CURVATURE_METHODS}
    orders = list(itertools.permutations(CURVATURE_METHODS))
    out = []
    for n in thread_counts:
        progress(f"{group.name}: swiftw methods auto / direct / fft, {n} thread(s), alternating")
        with threads(n), _gc_paused():
            time.sleep(SETTLE)
            seconds = sum(_time_once(call)[0] for call in calls.values())  # warm-up, and the budget
            rounds = len(orders) * int(min(10, max(1, budget / len(thread_counts) / max(seconds, 1e-9) / len(orders))))
            times: dict[str, list[float]] = {m: [] for m in calls}
            for i in range(rounds):
                for m in orders[i % len(orders)]:
                    times[m].append(_time_once(calls[m])[0])
        medians = {m: float(np.median(v)) for m, v in times.items()}
        per_round = [a / min(d, f) for a, d, f in zip(times["auto"], times["direct"], times["fft"])]
        out.append(dict(threads=n, rounds=rounds, **medians, auto_over_faster=float(np.median(per_round))))
    return out


def run_extent_split(p: Problem, budget: float = 20.0) -> dict[str, float]:
    """One thread, in alternating calls (one turn: each of the four once): Numba's
    `curvature_direct_conv`, swiftw's, swiftw stopped once its inputs are in its own layout
    (checks, the operator on the extent, the mapping's order), and `kernel_inputs_from` (the
    NumPy marshalling of a Mapper's triplets that both kernels take). Medians in seconds."""
    from swiftw._extent import _curvature_direct_conv

    args = p.extent_inputs
    mapping = (p.pix_indexes_for_sub_slim_index, p.pix_size_for_sub_slim_index, p.pix_weights_for_sub_slim_index,
               args["flat"], (args["ny"], args["nx"]), p.pixels)
    calls = {
        "numba": lambda: numba_kernels.curvature_direct_conv(**args),
        "swiftw": lambda: swiftw.autoarray.curvature_direct_conv(**args),
        "swiftw_layout": lambda: _curvature_direct_conv(*args.values(), "auto", layout_only=True),
        "kernel_inputs_from": lambda: swiftw.autoarray.kernel_inputs_from(*mapping),
    }
    times: dict[str, list[float]] = {name: [] for name in calls}
    with threads(1), _gc_paused():
        for call in calls.values():
            call()  # compiled and warm
        start = time.perf_counter()
        while len(times["numba"]) < 3 or (time.perf_counter() - start < budget and len(times["numba"]) < 15):
            for name, call in calls.items():
                t0 = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(t)) for name, t in times.items()} | {"turns": len(times["numba"])}


def extent_split_text(r: dict[str, float]) -> str:
    kernel = r["swiftw"] - r["swiftw_layout"]
    return (f"one thread, {r['turns']} alternating turns (medians): numba {fmt_time(r['numba'])}, "
            f"swiftw {fmt_time(r['swiftw'])} = {r['numba'] / r['swiftw']:.1f}x faster; of swiftw's time, "
            f"{fmt_time(r['swiftw_layout'])} turns the CSR/CSC inputs into swiftw's layout (checks, operator on the "
            f"extent, the mapping's order) and {fmt_time(kernel)} is F ({r['numba'] / kernel:.1f}x numba's time); "
            f"kernel_inputs_from (NumPy, before either) {fmt_time(r['kernel_inputs_from'])}")


def methods_text(results: list[dict[str, Any]]) -> str:
    parts = [f"{r['threads']} thread{'s' if r['threads'] > 1 else ''}: auto {fmt_time(r['auto'])}, "
             f"direct {fmt_time(r['direct'])}, fft {fmt_time(r['fft'])}, auto / faster {r['auto_over_faster']:.2f}"
             f" ({r['rounds']} rounds)" for r in results]
    return ("   swiftw's curvature='auto' against 'direct' and 'fft', alternating calls (medians; auto / faster: "
            "median over rounds): " + "; ".join(parts))


def scaling_text(results: list[dict[str, Any]]) -> str:
    if not results:
        return ""
    n = results[0]["threads"]
    parts = [f"{r['label']} {fmt_time(r['one'])} / {fmt_time(r['many'])}: {r['speedup']:.2f}x ({r['pairs']} pairs; "
             f"the host control beside it {r['control_speedup']:.2f}x)" for r in results]
    return (f"   swiftw on {n} threads against 1, alternating calls (median per-pair ratio): " + "; ".join(parts)
            + "\n   host control: swiftw's w_compact by the direct sum (N=40, K=9000, compute-bound, nothing serial), "
            "timed in turns with those pairs: the speed-up this host gave such a kernel in the same seconds")


def _first_use(group, p, impl, run, row, ref, ref_label, ref_seconds) -> float:
    """Time the first call and check its result against the NumPy reference."""
    progress(f"{group.name}: {impl.label}, first call")
    if run.reset:
        run.reset()
    if impl.label == ref_label:
        seconds, result = ref_seconds, ref
    else:
        seconds, result = _time_once(run.call)
    if impl.library == "memory":
        row.check = "n/a"
    elif ref is None:
        row.check = "unchecked (no NumPy reference at this size)"
    elif impl.label == ref_label:
        row.check = "reference"
    else:
        cmp = compare(group, p, result, ref)
        row.ok, row.error, row.check = cmp.ok, cmp.error, cmp.text()
        if not cmp.ok:
            loud(f"{group.name}: {impl.label} does not match the NumPy reference: "
                 f"max|err|/{group.scale_name} = {cmp.error:.3e} > {group.rtol:g} {cmp.detail}".rstrip())
    return seconds


# ================================================================================================
# cold start: a new interpreter imports the library and calls one kernel
# ================================================================================================

_COLD_START_CODE = {
    "swiftw": "import swiftw as m",
    "numba": "from bench.peers import numba_kernels as m",
    "jax": "from bench.peers import jax_kernels as m",
}


def run_nufft(size: Size, thread_counts: list[int], eps: float = 1e-12) -> list[Row]:
    """w_compact at science scale: swiftw's NUFFT against FINUFFT's type-1 NUFFT (complex strengths
    1/sigma^2, modes (2N-1, 2N-1), isign +1), alternating calls, 3 of each per thread count. The
    check is swiftw against FINUFFT relative to sum(1/sigma^2) (the exact sum takes hours here)."""
    p = problem(size)
    n, k = p.N, size.K
    sigma, uv = p.noise_map_real, p.uv_wavelengths
    rows = [Row(f"swiftw (w_compact='nufft', eps={eps:g})", "swiftw", True),
            Row(f"finufft (nufft2d1, eps={eps:g})", "finufft", True)]
    try:
        import finufft
    except ImportError:
        finufft = None
        for count in thread_counts:
            rows[1].skipped[count] = "skipped (finufft not installed)"
    two_pi_d = 2 * np.pi * p.d

    def ours():
        with swiftw.options(w_compact="nufft", eps=eps):
            return swiftw.w_compact_curvature_interferometer_from(n, sigma, uv, size.pixel_scale)

    def theirs(threads):
        x = np.mod(two_pi_d * uv[:, 0] + np.pi, 2 * np.pi) - np.pi
        y = np.mod(-two_pi_d * uv[:, 1] + np.pi, 2 * np.pi) - np.pi
        f = finufft.nufft2d1(x, y, (1.0 / sigma**2).astype(np.complex128), (2 * n - 1, 2 * n - 1), eps=eps,
                             isign=1, nthreads=threads)
        return f.real[:, n - 1:].T  # w_compact[m, n'] = Re f[k1 = n', k2 = m]

    for count in thread_counts:
        swiftw.set_num_threads(count)
        progress(f"nufft: N={n}, K={k}, {count} thread(s)")
        samples: dict[int, list[float]] = {0: [], 1: []}
        for _ in range(3):
            start = time.perf_counter()
            mine = ours()
            samples[0].append(time.perf_counter() - start)
            if finufft is not None:
                start = time.perf_counter()
                reference = theirs(count)
                samples[1].append(time.perf_counter() - start)
                error = float(np.max(np.abs(mine - reference)) / p.sum_c)
                rows[0].error = error
                rows[0].ok = error <= 10 * eps
                rows[0].check = f"{'ok' if rows[0].ok else 'MISMATCH'} {error:.0e} vs finufft"
                rows[1].check = "reference"
        for i, row in enumerate(rows):
            if samples[i]:
                row.times[count] = dict(median=float(np.median(samples[i])), samples=3, number=1, times=samples[i])
    swiftw.set_num_threads(max(thread_counts))
    return rows


def run_cold_start(size: Size) -> list[Row]:
    """Wall time of ``python -c 'import <lib>; w_compact(...)'`` at `size` for each library."""
    rows = []
    for library, import_line in _COLD_START_CODE.items():
        row = Row(f"{library}: import + first w_compact call", library, True)
        if library_missing(library):
            row.skipped[0] = f"skipped ({library} not installed)"
            rows.append(row)
            continue
        code = (
            "import numpy as np\n" + import_line + "\n"
            f"r = np.random.default_rng(0); k = {size.K}\n"
            f"m.w_compact_curvature_interferometer_from({size.N}, r.uniform(0.5, 2, k), "
            f"r.uniform(-1e5, 1e5, (k, 2)), {size.pixel_scale})\n"
        )
        progress(f"cold_start: {library}")
        times = []
        for _ in range(3):
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPOSITORY)
            times.append(time.perf_counter() - start)
            if done.returncode != 0:
                row.ok, row.check = False, f"ERROR: {done.stderr.strip().splitlines()[-1]}"
                break
        else:
            row.times[0] = dict(median=float(np.median(times)), samples=3, number=1, times=times)
            row.check = "n/a"
        rows.append(row)
    return rows


# ================================================================================================
# tables
# ================================================================================================


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def fmt_ratio(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


def _swiftw_row(rows: list[Row]) -> Row | None:
    return next((r for r in rows if r.library == "swiftw" and r.primary), None)


def ratios(rows: list[Row], n: int) -> dict[str, dict[str, float]]:
    """Per row: time / fastest time, and time / swiftw's time (swiftw's speed-up over that row)."""
    medians = {r.label: r.median(n) for r in rows if r.median(n) is not None and r.library != "memory"}
    fastest = min(medians.values()) if medians else None
    reference_row = _swiftw_row(rows)
    swift = reference_row.median(n) if reference_row else None
    out = {}
    for r in rows:
        t = r.median(n)
        if t is None:
            continue
        out[r.label] = dict(
            to_fastest=t / fastest if fastest else None,
            swiftw_speedup=t / swift if swift else None,
        )
    return out


def table(group_title: str, description: str, rows: list[Row], thread_counts: list[int]) -> str:
    """The study-style table of one group."""
    width = max(len(r.label) for r in rows) + 2
    head = f"{'implementation':<{width}}{'first use':>11}"
    for n in thread_counts:
        label = f"{n} thread" + ("s" if n > 1 else "")
        head += f"{label:>13}{'ratio':>8}{'swiftw x':>10}"
    lines = [f"== {group_title}", f"   {description}", head + "   check", "-" * (len(head) + 18)]
    all_ratios = {n: ratios(rows, n) for n in thread_counts}
    for r in sorted(rows, key=lambda r: _sort_key(r, thread_counts)):
        line = f"{r.label:<{width}}{fmt_time(r.first_use):>11}"
        for n in thread_counts:
            if n in r.skipped or r.median(n) is None:
                line += f"{'-':>13}{'':>8}{'':>10}"
                continue
            q = all_ratios[n].get(r.label, {})
            line += f"{fmt_time(r.median(n)):>13}{fmt_ratio(q.get('to_fastest')):>8}{fmt_ratio(q.get('swiftw_speedup')):>10}"
        notes = sorted(set(r.skipped.values()))
        if any(t.get("serial") for t in r.times.values()):
            notes.append("serial: timed once, same in both columns")
        line += "   " + "; ".join(([r.check] if r.check else []) + notes)
        lines.append(line.rstrip())
    return "\n".join(lines)


def _sort_key(r: Row, thread_counts: list[int]):
    t = r.median(max(thread_counts))
    if t is None:
        t = r.median(min(thread_counts))
    return (t is None, t if t is not None else 0.0)


def fma_floor_note(rows: list[Row], p: Problem, thread_counts: list[int]) -> str:
    """swiftw's fma time over one pass ((A + 2) n doubles) at each measured bandwidth."""
    swift = _swiftw_row(rows)
    if swift is None:
        return ""
    lines = []
    for floor in (r for r in rows if r.library == "memory"):
        parts = []
        for n in thread_counts:
            if floor.median(n) and swift.median(n):
                bandwidth = 16.0 * p.size.n / floor.times[n]["measured"] / 1e9
                parts.append(f"{n} thread{'s' if n > 1 else ''}: {bandwidth:.1f} GB/s, "
                             f"swiftw / one pass = {swift.median(n) / floor.median(n):.2f}")
        if parts:
            lines.append(f"   {floor.label.split(': ', 1)[1]}: " + "; ".join(parts))
    return "\n".join(lines)


def _peer_speedup(rows: list[Row], library: str, n: int) -> str:
    """swiftw's speed-up over `library`'s primary row, or (marked *) over its fastest timed row."""
    q = ratios(rows, n)
    primary = next((r for r in rows if r.library == library and r.primary), None)
    if primary is not None and primary.median(n) is not None:
        return fmt_ratio(q[primary.label]["swiftw_speedup"])
    timed = [r for r in rows if r.library == library and r.median(n) is not None]
    if not timed:
        return "-"
    best = min(timed, key=lambda r: r.median(n))
    return fmt_ratio(q[best.label]["swiftw_speedup"]) + "*"


def summary(results: dict[str, list[Row]], thread_counts: list[int]) -> str:
    """swiftw's speed-up over each peer library, per group and thread count."""
    libraries = ("numpy", "numba", "jax")
    head = f"{'group':<18}" + "".join(f"{f'vs {lib} ({n}t)':>16}" for n in thread_counts for lib in libraries)
    lines = ["== swiftw speed-up (peer time / swiftw time; the library's primary row, * its fastest other row)",
             head, "-" * len(head)]
    for name, rows in results.items():
        if name in ("cold_start", "nufft"):  # no NumPy/Numba/JAX rows; the tables say it
            continue
        cells = [_peer_speedup(rows, lib, n) for n in thread_counts for lib in libraries]
        lines.append(f"{name:<18}" + "".join(f"{cell:>16}" for cell in cells))
    return "\n".join(lines)


# ================================================================================================
# machine, JSON, plot
# ================================================================================================


def machine() -> dict[str, Any]:
    """CPU, cores, memory, Python and library versions."""
    from importlib.metadata import PackageNotFoundError, version

    info: dict[str, Any] = dict(platform=platform.platform(), python=platform.python_version(), cores=all_cores())
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name"))
        flags = next(line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags"))
        info["simd"] = [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f") if f in flags]
        with open("/proc/meminfo") as f:
            info["memory_gib"] = round(int(f.readline().split()[1]) / 2**20, 1)
    except (OSError, StopIteration):
        info["cpu"] = platform.processor()
    versions = {}
    for package in ("swiftw", "numpy", "scipy", "numba", "llvmlite", "jax", "jaxlib", "threadpoolctl", "finufft", "ducc0"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    info["versions"] = versions
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    info["blas"] = _blas_info()
    info["swiftw"] = swiftw.show_config()
    try:
        info["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                        cwd=os.path.dirname(os.path.abspath(__file__)), check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        info["commit"] = None
    return info


def _blas_info() -> list[str]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return sorted({f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
                   for i in threadpool_info()})


def _row_json(r: Row, thread_counts: list[int], rows: list[Row]) -> dict[str, Any]:
    out = asdict(r)
    out["times"] = {str(n): v for n, v in r.times.items()}
    out["skipped"] = {str(n): v for n, v in r.skipped.items()}
    out["ratios"] = {str(n): ratios(rows, n).get(r.label) for n in thread_counts}
    return out


def write_json(path: str, preset: str, thread_counts, results, sweep, argv) -> None:
    groups = {}
    for name, rows in results.items():
        size = SIZES[preset][name]
        p = problem(size)
        groups[name] = dict(
            size=asdict(size), M=p.M if name != "fma" else None, load_average_at_start=LOAD_AT_START.get(name),
            description=GROUPS[name].describe(p) if name in GROUPS else "cold start",
            tolerance=dict(rtol=GROUPS[name].rtol, scale=GROUPS[name].scale_name) if name in GROUPS else None,
            rows=[_row_json(r, thread_counts, rows) for r in rows],
        )
        if name in SCALING:
            groups[name]["scaling"] = SCALING[name]
        if name in METHODS:
            groups[name]["methods"] = METHODS[name]
    document = dict(command=" ".join(["python -m bench"] + argv), preset=preset, threads=thread_counts,
                    machine=machine(), time_limit_s=TIME_LIMIT, groups=groups, sweep=sweep)
    with open(path, "w") as f:
        json.dump(document, f, indent=1, default=float)
    progress(f"wrote {path}")


def run_sweep(preset: str, n_threads: int) -> dict[str, Any]:
    """w_compact time against K and against N (primary rows, `n_threads` threads)."""
    sweep = SWEEPS.get(preset, SWEEPS["small"])
    group = GROUPS["w_compact"]
    base = SIZES.get(preset, SIZES["small"]).get("w_compact", SIZES["small"]["w_compact"])
    points = [("K", replace(base, N=sweep["N"], K=k)) for k in sweep["Ks"]]
    points += [("N", replace(base, N=n, K=sweep["K"])) for n in sweep["Ns"]]
    _warm_libraries(group.impls)
    out: dict[str, Any] = dict(threads=n_threads, N=sweep["N"], K=sweep["K"], by_K={}, by_N={})
    for impl in (i for i in group.impls if i.primary):
        for axis, size in points:
            p = Problem(size)
            if skip_reason(impl, p, n_threads) or (impl.seconds and impl.seconds(p) / n_threads > SWEEP_TIME_LIMIT):
                continue
            progress(f"sweep: {impl.label} at N={size.N}, K={size.K}")
            run = impl.make(p)
            with threads(n_threads):
                run.call()  # first call: compilation for Numba and JAX
                t = measure(run)["median"]
            key = "by_K" if axis == "K" else "by_N"
            out[key].setdefault(impl.library, []).append((size.K if axis == "K" else size.N, t))
    return out


def write_plot(path: str, sweep: dict[str, Any]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        progress("matplotlib is not installed: no plot (pip install matplotlib)")
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, xlabel, fixed in ((axes[0], "by_K", "K (visibilities)", f"N={sweep['N']}"),
                                   (axes[1], "by_N", "N (grid side)", f"K={sweep['K']}")):
        for library, points in sorted(sweep[key].items()):
            xs, ys = zip(*points)
            ax.loglog(xs, ys, "o-", label=library)
        ticks = sorted({x for points in sweep[key].values() for x, _ in points})
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel(xlabel)
        ax.set_ylabel("seconds (median)")
        ax.set_title(f"w_compact, {fixed}, {sweep['threads']} threads")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    progress(f"wrote {path}")


# ================================================================================================
# command line
# ================================================================================================


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark swiftw against NumPy, Numba and JAX peers (study-style tables).")
    parser.add_argument("--size", default="small", choices=list(SIZES), help="problem sizes (default: small)")
    parser.add_argument("--threads", default="both", choices=["1", "all", "both"],
                        help="one thread, all cores, or both columns (default)")
    parser.add_argument("--json", metavar="FILE", help="write every result and the machine to FILE")
    parser.add_argument("--plot", metavar="FILE", help="write a PNG of w_compact time against K and N")
    parser.add_argument("--only", metavar="GROUP", help=f"comma-separated groups among {', '.join(GROUP_ORDER)}")
    return parser.parse_args(argv)


def thread_columns(choice: str) -> list[int]:
    cores = all_cores()
    if choice == "1":
        return [1]
    if choice == "all":
        return [cores]
    return [1, cores] if cores > 1 else [1]


def selected_groups(preset: str, only: str | None) -> list[str]:
    available = [g for g in GROUP_ORDER if g in SIZES[preset]]
    if not only:
        return available
    wanted = [g.strip() for g in only.split(",") if g.strip()]
    unknown = [g for g in wanted if g not in GROUP_ORDER]
    if unknown:
        raise SystemExit(f"unknown group(s) {unknown}: choose among {', '.join(GROUP_ORDER)}")
    missing = [g for g in wanted if g not in SIZES[preset]]
    if missing:
        raise SystemExit(f"size {preset!r} has no {missing} (it has {', '.join(available)})")
    return [g for g in GROUP_ORDER if g in wanted]


def main(argv: list[str] | None = None) -> int:
    """``python -m bench ...``; returns the exit status (1 if any check failed)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    thread_counts = thread_columns(args.threads)
    if thread_counts == [1] and "jax" not in sys.modules:  # XLA reads its thread count at start-up
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + jax_kernels.single_thread_flags).strip()
    info = machine()
    config = info["swiftw"]
    print(f"swiftw {config['version']} ({config['cpu_variant']} kernels, commit {info['commit']}) benchmark, "
          f"size {args.size!r}; {info.get('cpu')}, {info['cores']} cores "
          f"({' '.join(info.get('simd', []))}), load average {info.get('load_average')}; python {info['python']}; "
          + ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v and k != "swiftw"), flush=True)
    busy = info.get("load_average", [0.0])[0]
    if busy > 0.5:
        loud(f"the machine is busy (load average {busy:.2f} before starting): timings will be noisy, "
             "the all-core column most of all")
    results: dict[str, list[Row]] = {}
    SCALING.clear()
    METHODS.clear()
    for name in selected_groups(args.size, args.only):
        if name == "cold_start":
            size = SIZES[args.size][name]
            results[name] = rows = run_cold_start(size)
            print("\n" + table(f"cold start: new interpreter, import, one w_compact call (N={size.N}, K={size.K})",
                               "median of 3 runs, wall time of the whole process", rows, [0]).replace(
                "0 thread", "wall time"), flush=True)
            continue
        if name == "nufft":
            size = SIZES[args.size][name]
            results[name] = rows = run_nufft(size, thread_counts)
            print("\n" + table(f"nufft: w_compact at N={size.N}, K={size.K:.0e}, pixel scale {size.pixel_scale}\"",
                               "swiftw's type-1 NUFFT against FINUFFT, same inputs, same process", rows, thread_counts),
                  flush=True)
            continue
        group = GROUPS[name]
        results[name] = rows = run_group(group, args.size, thread_counts)
        p = problem(SIZES[args.size][name])
        text = table(f"{name}: {group.title}", group.describe(p), rows, thread_counts)
        if name == "fma":
            text += "\n" + fma_floor_note(rows, p, thread_counts)
        if name == "curvature_extent" and not library_missing("numba"):
            try:
                text += "\n" + extent_split_text(run_extent_split(p))
            except Exception as exc:  # reported; the benchmark goes on
                loud(f"{name}: the alternating one-thread comparison raised {type(exc).__name__}: {exc}")
        if name in SCALING_GROUPS and args.size in SCALING_PRESETS and max(thread_counts) > 1:
            try:
                SCALING[name] = run_scaling(group, p, max(thread_counts))
                text += "\n" + scaling_text(SCALING[name])
            except Exception as exc:  # reported; the benchmark goes on
                loud(f"{name}: alternating one/all-core calls raised {type(exc).__name__}: {exc}")
        if name in SCALING_GROUPS and args.size in SCALING_PRESETS:
            try:
                METHODS[name] = run_methods(group, p, thread_counts)
                text += "\n" + methods_text(METHODS[name])
            except Exception as exc:  # reported; the benchmark goes on
                loud(f"{name}: the method comparison raised {type(exc).__name__}: {exc}")
        print("\n" + text, flush=True)
    print("\n" + summary(results, thread_counts))
    print("\nratio: time / fastest in the column; swiftw x: this row's time / swiftw's (swiftw's speed-up); "
          f"check: max|err| / scale against the NumPy reference; first use: the first call "
          f"(Numba and JAX compile then), with {max(thread_counts)} thread(s).")
    if any(r.library == "jax" for rows in results.values() for r in rows) and len(thread_counts) > 1:
        print("JAX's one-thread column is n/a: XLA sizes its thread pool at start-up; "
              "`--threads 1` starts JAX single-threaded.")
    sweep = None
    if args.plot:
        sweep = run_sweep(args.size, max(thread_counts))
        write_plot(args.plot, sweep)
    if args.json:
        write_json(args.json, args.size, thread_counts, results, sweep, argv)
    failed = [(g, r.label, r.check) for g, rows in results.items() for r in rows if not r.ok]
    if failed:
        loud("checks failed:\n" + "\n".join(f"    {g}: {label}: {check}" for g, label, check in failed))
        return 1
    return 0
