"""Work done in other processes by test_pickle.py: each function first builds an operator of its
own (of another dataset), so that a pickle carrying a registry number instead of the operator's
data would compute the wrong F here, then uses the operator it was sent.

Run as a script: `python pickle_worker.py IN OUT` loads (pickled operator, arguments) from IN and
writes F and the log-likelihood to OUT (a .npz).
"""
import pickle
import sys

import numpy as np

import swiftw

_OWN = []


def build_own(n_grid: int = 9) -> None:
    """An operator of this process's own, made before any operator arrives (it takes the first
    registry numbers here)."""
    rng = np.random.default_rng(12345)
    native = np.argwhere(np.ones((n_grid, n_grid), bool)).astype(np.int64)
    _OWN.append(swiftw.CurvatureOperator(rng.normal(size=(n_grid, 2 * n_grid - 1)), native))


def evaluate(op, task: dict) -> tuple:
    """F and the log-likelihood of `task` (a mapping and data) with operator `op`."""
    f = op.curvature_matrix(task["idx"], task["wts"], task["S"])
    like = op.log_likelihood(task["dirty_image"], task["data"], task["noise_map"], task["idx"], task["wts"],
                             task["neighbors"], task["neighbors_sizes"])
    return f, like


def evaluate_sent(payload) -> tuple:
    """Pool task: the operator arrives pickled with its task."""
    if not _OWN:
        build_own()
    op, task = payload
    return evaluate(op, task)


def evaluate_sparse(payload) -> np.ndarray:
    """Pool task: an InterferometerSparseOperator and COO triplets."""
    if not _OWN:
        build_own()
    op, rows, cols, vals, s = payload
    return op.curvature_matrix_diag_from(rows, cols, vals, S=s)


if __name__ == "__main__":
    build_own()
    with open(sys.argv[1], "rb") as f:
        op, task = pickle.load(f)
    f_matrix, like = evaluate(op, task)
    np.savez(sys.argv[2], F=f_matrix, log_likelihood=like)
