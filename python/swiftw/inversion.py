"""The positive-only inversion and the Bayesian evidence of a pixelised source (SPEC 3.8)."""
from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass

import numpy as np

from . import _swiftw
from ._validate import choice, complex_values, count, floats, number
from .likelihood import _log_det_regularization, _neighbours, noise_normalization_complex_from

__all__ = ["InversionResult", "reconstruction_positive_only_from"]

# The routines the Swift solver calls, in the order `_swiftw.set_lapack` takes them.
_LAPACK_ROUTINES = (("cython_lapack", "dpotrf"), ("cython_blas", "dtrsv"),
                    ("cython_blas", "dtrsm"), ("cython_blas", "dsyrk"),
                    ("cython_blas", "dgemm"), ("cython_lapack", "dpbtrf"))
_installed_in: int | None = None  # the process that installed them: a fork inherits valid addresses
_install_lock = threading.Lock()

#: Systems solved before the solver gives up. Block principal pivoting takes ~2-10; its
#: Lawson-Hanson finish takes about one per variable that changes sides, up to ~170 at S = 300 on
#: the nearly singular A of a tiny coefficient (cond ~1e6-1e11) in the tests.
MAX_ITERATIONS = 1000


def _install_lapack() -> None:
    """Hands SciPy's LAPACK/BLAS addresses (from its Cython PyCapsules) to Swift, once per process.

    Done on first use rather than at ``import swiftw``, which then need not import scipy.linalg;
    a forked child shares its parent's addresses, a spawned one installs its own.
    """
    global _installed_in
    if _installed_in is not None:
        return
    with _install_lock:
        if _installed_in is not None:
            return
        import scipy.linalg.cython_blas as cython_blas
        import scipy.linalg.cython_lapack as cython_lapack

        modules = {"cython_lapack": cython_lapack, "cython_blas": cython_blas}
        name_of = ctypes.pythonapi.PyCapsule_GetName
        name_of.restype, name_of.argtypes = ctypes.c_char_p, [ctypes.py_object]
        pointer_of = ctypes.pythonapi.PyCapsule_GetPointer
        pointer_of.restype, pointer_of.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
        addresses = []
        for module, routine in _LAPACK_ROUTINES:
            capsule = modules[module].__pyx_capi__[routine]
            addresses.append(pointer_of(capsule, name_of(capsule)) or 0)
        _swiftw.set_lapack(np.array(addresses, dtype=np.int64))
        _installed_in = os.getpid()


STRATEGIES = {"auto": 0, "passive_set": 1, "zero_set": 2}


def _solve(data_vector, curvature_reg_matrix, *, positive_only: bool = True, warm_start=None,
           max_iterations: int = MAX_ITERATIONS, strategy: str = "auto",
           built: bool = False) -> tuple[np.ndarray, float, int, int]:
    """(s, log det A, iterations, zeros) from the Swift solver; the arguments validated.

    `strategy` says how each step's system is solved: "zero_set" (the capacitance identity on the
    factor of all of A), "passive_set" (the same identity on a factor of A over the first passive
    set, grown for variables that join it) or "auto" (the cheaper of the two by flop count).
    `built` says that swiftw built A itself from checked inputs (F + H), so its n^2 scan for
    symmetry and finite entries is skipped."""
    _install_lapack()
    d = floats(data_vector, "data_vector", 1)
    a = floats(curvature_reg_matrix, "curvature_reg_matrix", 2)
    if a.shape != (d.shape[0], d.shape[0]):
        raise ValueError(f"curvature_reg_matrix has shape {a.shape}, expected {(d.shape[0], d.shape[0])} "
                         f"(data_vector has length {d.shape[0]})")
    limit = count(max_iterations, "max_iterations")
    if limit < 1:
        raise ValueError(f"max_iterations must be at least 1, got {limit}")
    out = np.empty(d.shape[0])
    info = np.empty(3)
    arrays = [out, info, a, d]
    if warm_start is not None:
        start = floats(warm_start, "warm_start", 1)
        if start.shape != d.shape:
            raise ValueError(f"warm_start has shape {start.shape}, expected {d.shape} (data_vector's)")
        arrays.append(start)
    _swiftw.positive_only(*arrays, int(bool(positive_only)), limit,
                          STRATEGIES[choice(strategy, "strategy", tuple(STRATEGIES))], int(bool(built)))
    return out, float(info[0]), int(info[1]), int(info[2])


def reconstruction_positive_only_from(data_vector: np.ndarray, curvature_reg_matrix: np.ndarray) -> np.ndarray:
    """The positive-only source reconstruction.

    ``s = argmin_{s >= 0} 1/2 s^T A s - d^T s`` for ``A = curvature_reg_matrix`` symmetric positive
    definite and ``d = data_vector``: the unique s with ``s >= 0``, ``g = A s - d >= 0`` and
    ``s_i g_i = 0``. Block principal pivoting in Swift, seeded by the unconstrained solution's
    signs: one LAPACK Cholesky factor of A (SciPy's), then each step's system solved on it by the
    capacitance identity over the zero set (or, when that is cheaper, on a factor of A over the
    first passive set), all without the GIL; if whole exchanges stop helping, Lawson and Hanson's
    active-set method finishes from that passive set on exact factorisations, as it does when rows
    of A do not confirm the answer (nearly singular A). Costs about 1.4-2.1 Cholesky
    factorisations of A at S = 1500 with 6-39% of the solution at zero (bench/inversion.py), more
    where exchanges stall on a nearly singular A.

    Parameters
    ----------
    data_vector : (S,) float64
    curvature_reg_matrix : (S, S) float64
        Symmetric positive definite.

    Returns
    -------
    (S,) float64

    Raises
    ------
    ValueError
        If the shapes disagree, an entry is NaN or inf, the matrix is not symmetric or not positive
        definite, or the solve does not converge in `MAX_ITERATIONS` passive-set solves.
    """
    return _solve(data_vector, curvature_reg_matrix)[0]


@dataclass(frozen=True)
class InversionResult:
    """The terms of PyAutoArray's evidence for one source reconstruction (SPEC 3.8).

    ``log_evidence = -1/2 (chi_squared + regularization_term + log_det_curvature_reg_matrix_term
    - log_det_regularization_matrix_term + noise_normalization)``.
    """

    reconstruction: np.ndarray
    chi_squared: float
    regularization_term: float
    log_det_curvature_reg_matrix_term: float
    log_det_regularization_matrix_term: float
    noise_normalization: float
    log_evidence: float
    #: Systems solved: the unconstrained one and one per pivoting step (1: the unconstrained solve alone).
    iterations: int
    #: Entries of the reconstruction at zero.
    zeros: int


def _regularization_term(s: np.ndarray, neighbors: np.ndarray, neighbors_sizes: np.ndarray, c2: float) -> float:
    """``s^T H s`` from the neighbour lists (rows end at their first -1): H is never formed."""
    valid = np.cumprod(neighbors >= 0, axis=1).astype(bool)
    rows, cols = np.nonzero(valid)
    coupled = float(s[rows] @ s[neighbors[rows, cols]])
    return 1e-8 * float(s @ s) + c2 * (float(neighbors_sizes @ (s * s)) - coupled)


def inversion_from_parts(data, noise_map, curvature, data_vector, neighbors, neighbors_sizes, *,
                         coefficient: float, positive_only: bool, warm_start, max_iterations: int) -> InversionResult:
    """The evidence terms from F (`curvature`, overwritten by A = F + H) and d = T^T dirty_image."""
    data = complex_values(data, "data")
    noise = complex_values(noise_map, "noise_map")
    if noise.shape != data.shape:
        raise ValueError(f"noise_map has shape {noise.shape}, expected data's shape {data.shape}")
    c = number(coefficient, "coefficient")
    nb, sizes, _ = _neighbours(neighbors, neighbors_sizes)
    a = curvature
    _swiftw.regularization(a, nb, sizes, c, 0, 1)  # A = F + H in F's memory (validates the neighbours)
    s, log_det_a, iterations, zeros = _solve(data_vector, a, positive_only=positive_only, warm_start=warm_start,
                                             max_iterations=max_iterations, built=True)
    regularization = _regularization_term(s, nb, sizes, c * c)
    # s^T F s = s^T A s - s^T H s, and s^T A s = s^T d: the gradient A s - d is zero wherever s is
    # not (the KKT conditions), so no product with A (18 MB at S = 1500) is needed.
    chi_squared = (-float(s @ data_vector) - regularization
                   + float(np.sum((data.real / noise.real) ** 2) + np.sum((data.imag / noise.imag) ** 2)))
    log_det_h = _log_det_regularization(nb, sizes, False, coefficient=c)
    normalization = noise_normalization_complex_from(noise)
    return InversionResult(
        reconstruction=s, chi_squared=chi_squared, regularization_term=regularization,
        log_det_curvature_reg_matrix_term=log_det_a, log_det_regularization_matrix_term=log_det_h,
        noise_normalization=normalization,
        log_evidence=-0.5 * (chi_squared + regularization + log_det_a - log_det_h + normalization),
        iterations=iterations, zeros=zeros,
    )
