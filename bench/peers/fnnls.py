"""fnnls in NumPy: the production library's CPU solver, as a benchmark peer.

Written from the published algorithm (R. Bro, S. De Jong, "A fast non-negativity-constrained least
squares algorithm", J. Chemometrics 11 (1997) 393-401): Lawson and Hanson's active-set NNLS on the
cross products A = X^T X and d = X^T y, so it applies as is to ``min 1/2 s^T A s - d^T s, s >= 0``.
With ``seed=True`` the passive set starts at the unconstrained solution's positive entries (shrunk
until its solution is positive, so the start is feasible), as the production library seeds it; each passive-set system is
solved by one Cholesky factorisation (SciPy, LAPACK).
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve

__all__ = ["fnnls"]


def _passive_solution(a: np.ndarray, d: np.ndarray, passive: np.ndarray) -> np.ndarray:
    s = np.zeros_like(d)
    if passive.any():
        block = a[np.ix_(passive, passive)]
        s[passive] = cho_solve(cho_factor(block, lower=True, check_finite=False), d[passive], check_finite=False)
    return s


def fnnls(a: np.ndarray, d: np.ndarray, *, seed: bool = True, max_iterations: int | None = None) -> np.ndarray:
    """argmin_{s >= 0} 1/2 s^T A s - d^T s for A symmetric positive definite (Bro & De Jong).

    Outer loop: move the zero-set variable of largest gradient ``w = d - A s`` into the passive set;
    inner loop: while the passive solution has a non-positive entry, step from s towards it as far
    as feasibility allows and drop the variables that reach zero.
    """
    n = d.shape[0]
    tolerance = 10 * np.finfo(float).eps * np.linalg.norm(a, 1) * max(n, 1)
    limit = max_iterations if max_iterations is not None else 30 * max(n, 1)
    passive = np.zeros(n, dtype=bool)
    s = np.zeros(n)
    if seed:
        # The unconstrained solution's positive entries, shrunk until the passive solution is
        # positive: a feasible start with (usually) most of the final passive set.
        passive = np.ones(n, dtype=bool)
        s = _passive_solution(a, d, passive)
        while passive.any() and s[passive].min() <= 0:
            passive &= s > 0
            s = _passive_solution(a, d, passive)
    w = d - a @ s
    for _ in range(limit):
        free = ~passive & (w > tolerance)
        if not free.any():
            return s
        passive[np.argmax(np.where(~passive, w, -np.inf))] = True
        trial = _passive_solution(a, d, passive)
        while passive.any() and trial[passive].min() <= 0:
            blocking = passive & (trial <= 0)
            alpha = np.min(s[blocking] / (s[blocking] - trial[blocking]))
            s = s + alpha * (trial - s)
            passive &= s > tolerance
            s[~passive] = 0.0
            trial = _passive_solution(a, d, passive)
        s = trial
        w = d - a @ s
    raise RuntimeError(f"fnnls did not converge in {limit} iterations")
