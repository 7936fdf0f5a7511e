"""The weights' VJP kernel of F (`_swiftw.operator_curvature_vjp`, used by `swiftw.jax`'s gradient)
against the NumPy reference on its edge cases: S not a multiple of eight (and below eight), one
column of weights, rows ended by -1, source pixels without entries, and several threads."""
import numpy as np
import pytest

from bench import reference as ref
import swiftw
from swiftw import _swiftw
from conftest import make_problem


@pytest.mark.parametrize("s, b", [(5, 1), (13, 3), (37, 1), (64, 4), (101, 3)])
@pytest.mark.parametrize("threads", [1, 2])
def test_vjp_kernel_edge_cases(rng, restore_threads, s, b, threads):
    p = make_problem(rng, n_grid=int(rng.integers(14, 20)), k=300, s=s, b=max(b, 2))
    if b == 1:  # one column, some rows without a source
        p.idx = rng.integers(0, s, size=(p.M, 1))
        p.idx[rng.uniform(size=p.M) < 0.1] = -1
        p.wts = rng.uniform(0.05, 1.0, size=(p.M, 1))
    w_compact = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    w_tilde = ref.w_tilde_via_compact_from(w_compact, p.native)
    op = swiftw.CurvatureOperator(w_compact, p.native)
    idx = p.idx.copy()
    if s > 8:
        idx[idx == s - 2] = -1  # a source pixel without entries
        idx = np.array([np.concatenate([r[r != -1], r[r == -1]]) for r in idx])  # -1 only at the ends
    g = rng.normal(size=(s, s))  # not symmetric: the kernel reads G + G^T
    swiftw.set_num_threads(threads)
    out = np.full(p.wts.shape, np.nan)
    _swiftw.operator_curvature_vjp(out, idx, p.wts, g, op._handle, s)
    want = ref.curvature_matrix_weight_vjp(w_tilde, idx, p.wts, s, g)
    assert np.max(np.abs(out - want)) <= 1e-10 * np.max(np.abs(want))
    assert np.all(out[np.cumprod(idx != -1, axis=1) == 0] == 0)  # from a row's first -1 on
