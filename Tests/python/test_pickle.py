"""Operators that hold Swift state survive processes (issue 19): they pickle by value, rebuild
on load, copies are independent, and every check compares numbers with the NumPy reference.

A pickle that carried only the registry number would, in a process that has operators of its
own, compute F of one of those: so every other process here (a script, and spawn / forkserver /
fork pools) builds an operator of another dataset first (`pickle_worker.build_own`).
"""
import copy
import multiprocessing as mp
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from bench import reference as ref
import pickle_worker
import swiftw
import swiftw.autoarray as aa
from conftest import assert_close, make_problem

F_REL = 1e-10  # of max |F|: same arithmetic as the drop-in, rounding only
LIKE_REL = 1e-9


def _problem(rng):
    p = make_problem(rng, n_grid=int(rng.integers(14, 19)), k=int(rng.integers(200, 400)),
                     s=int(rng.integers(30, 60)))
    p.w_compact = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    p.F = ref.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(p.w_compact, p.native, p.idx, p.wts, p.S)
    p.like = ref.log_likelihood_function_via_w_compact_from(p.dirty_image, p.data, p.noise_map, p.w_compact,
                                                            p.native, p.idx, p.wts, p.neighbors, p.neighbors_sizes)
    p.task = dict(idx=p.idx, wts=p.wts, S=p.S, dirty_image=p.dirty_image, data=p.data, noise_map=p.noise_map,
                  neighbors=p.neighbors, neighbors_sizes=p.neighbors_sizes)
    return p


def _check(p, f, like, what):
    assert_close(f, p.F, scale=np.max(np.abs(p.F)), rel=F_REL, what=f"F {what}")
    assert abs(like - p.like) <= LIKE_REL * max(1.0, abs(p.like)), f"log-likelihood {what}: {like} vs {p.like}"


@pytest.fixture
def prob(rng):
    return _problem(rng)


def test_round_trip_and_copies_are_independent(prob):
    op = swiftw.CurvatureOperator(prob.w_compact, prob.native)
    data = pickle.dumps(op)
    assert b"_handle" not in data, "the registry number stays in this process"
    loaded = pickle.loads(data)
    shallow, deep = copy.copy(op), copy.deepcopy(op)
    handles = {op._handle, loaded._handle, shallow._handle, deep._handle}
    assert len(handles) == 4, "every copy owns its own Swift operator"
    del op  # the original's Swift state is released; the copies keep theirs
    for name, each in [("pickle", loaded), ("copy", shallow), ("deepcopy", deep)]:
        _check(prob, *pickle_worker.evaluate(each, prob.task), name)


def test_copy_does_not_follow_later_changes_of_the_inputs(prob):
    compact = prob.w_compact.copy()
    op = swiftw.CurvatureOperator(compact, prob.native)
    compact *= 3.0  # after construction: neither the operator nor its copies may see this
    _check(prob, *pickle_worker.evaluate(pickle.loads(pickle.dumps(op)), prob.task), "after the input changed")


def test_load_in_another_process(prob, tmp_path):
    """Pickled here, loaded by a fresh interpreter that built an operator of its own first."""
    src, out = tmp_path / "op.pkl", tmp_path / "out.npz"
    with open(src, "wb") as f:
        pickle.dump((swiftw.CurvatureOperator(prob.w_compact, prob.native), prob.task), f)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run([sys.executable, pickle_worker.__file__, str(src), str(out)], check=True, env=env, timeout=120)
    got = np.load(out)
    _check(prob, got["F"], float(got["log_likelihood"]), "loaded in another process")


@pytest.mark.parametrize("method", ["spawn", "forkserver", "fork"])
def test_pool_start_methods(rng, method):
    if method not in mp.get_all_start_methods():
        pytest.skip(f"no {method} start method on this platform")
    problems = [_problem(rng) for _ in range(2)]
    ops = [swiftw.CurvatureOperator(p.w_compact, p.native) for p in problems]
    ops[0].curvature_matrix(problems[0].idx, problems[0].wts, problems[0].S)  # helper threads exist before fork
    with mp.get_context(method).Pool(2, initializer=pickle_worker.build_own) as pool:
        results = pool.map(pickle_worker.evaluate_sent, [(op, p.task) for op, p in zip(ops, problems)] * 2)
    for i, (f, like) in enumerate(results):
        _check(problems[i % 2], f, like, f"through a {method} pool, task {i}")


def _forked_child(conn, task):
    conn.send(pickle_worker.evaluate(_FORK_OPERATOR[0], task))
    conn.close()


_FORK_OPERATOR = []


def test_forked_child_uses_parent_operator(prob):
    """A child forked after the parent used the operator on all its threads (not pickled: the
    child has the parent's memory) gets the right numbers."""
    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork on this platform")
    op = swiftw.CurvatureOperator(prob.w_compact, prob.native)
    _check(prob, *pickle_worker.evaluate(op, prob.task), "in the parent")
    _FORK_OPERATOR[:] = [op]
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_forked_child, args=(child, prob.task))
    proc.start()
    assert parent.poll(60), "the forked child did not answer"
    f, like = parent.recv()
    proc.join(30)
    _FORK_OPERATOR.clear()
    assert proc.exitcode == 0
    _check(prob, f, like, "in a forked child")


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_sparse_operator_by_value(rng, method):
    """InterferometerSparseOperator holds Swift state too: copies and pool tasks give its F."""
    from test_extent import _extent_problem, _triplets

    if method not in mp.get_all_start_methods():
        pytest.skip(f"no {method} start method on this platform")
    p = _extent_problem(rng)
    op = aa.InterferometerSparseOperator.from_nufft_precision_operator(p.preload, p.dirty_image, batch_size=32,
                                                                       data_term=1.5, noise_normalization=-2.5)
    rows, cols, vals = _triplets(p)
    data = pickle.dumps(op)
    assert b"_handle" not in data, "the registry number stays in this process"
    copies = [pickle.loads(data), copy.copy(op), copy.deepcopy(op)]
    assert len({op._handle, *(c._handle for c in copies)}) == 4
    del op
    for each in copies:
        assert (each.batch_size, each.data_term, each.noise_normalization) == (32, 1.5, -2.5)
        np.testing.assert_array_equal(each.dirty_image, p.dirty_image)
    with mp.get_context(method).Pool(1, initializer=pickle_worker.build_own) as pool:
        results = pool.map(pickle_worker.evaluate_sparse, [(copies[0], rows, cols, vals, p.S)])
    for f in [results[0]] + [c.curvature_matrix_diag_from(rows, cols, vals, S=p.S) for c in copies]:
        assert_close(f, p.F, scale=np.max(np.abs(p.F)), rel=F_REL, what=f"sparse operator F ({method})")
