"""Threads (SPEC 3.7): set_num_threads / get_num_threads / SWIFTW_NUM_THREADS, the answer does not
depend on the thread count (to 1e-12 of its scale), calls from several Python threads at once are
correct, and the GIL is released while a kernel runs.
"""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from bench import reference as ref
import swiftw
from conftest import assert_close, make_problem, random_compact

THREAD_REL = 1e-12


def _affinity():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count()


def _child(code, env_value=None, single_cpu=False):
    env = dict(os.environ)
    env.pop("SWIFTW_NUM_THREADS", None)
    if env_value is not None:
        env["SWIFTW_NUM_THREADS"] = env_value
    preexec = None
    if single_cpu:
        cpu = min(os.sched_getaffinity(0))
        preexec = lambda: os.sched_setaffinity(0, {cpu})  # noqa: E731
    # Its own session, so that a hang is killed with any processes the child forked.
    with tempfile.TemporaryDirectory() as cwd:  # no stray ./swiftw shadows the installed package
        child = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=cwd, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, preexec_fn=preexec, start_new_session=True)
        try:
            out, err = child.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            pytest.fail(f"child hung (killed after 120 s): {code.strip()[:200]}")
    assert child.returncode == 0, f"child failed: {err}"
    return out.split()


# ---------------------------------------------------------------------------------------------
# controls
# ---------------------------------------------------------------------------------------------


def test_set_and_get_num_threads(restore_threads):
    for n in (1, 2, 1, 3):
        assert swiftw.set_num_threads(n) is None
        assert swiftw.get_num_threads() == n


def test_default_is_cpus_this_process_may_use():
    out = _child("import os, swiftw; print(swiftw.get_num_threads()); print(len(os.sched_getaffinity(0)))")
    assert int(out[0]) == int(out[1]), f"default {out[0]} threads, affinity allows {out[1]}"


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or _affinity() < 2, reason="needs >= 2 CPUs")
def test_default_follows_affinity_mask():
    out = _child("import swiftw; print(swiftw.get_num_threads())", single_cpu=True)
    assert int(out[0]) == 1, f"pinned to one CPU, default is {out[0]} threads"


@pytest.mark.parametrize("value", ["1", "2", "3"])
def test_environment_variable_read_at_import(value):
    out = _child("import swiftw; print(swiftw.get_num_threads())", env_value=value)
    assert int(out[0]) == int(value)


def test_environment_variable_then_set():
    out = _child("import swiftw; a = swiftw.get_num_threads(); swiftw.set_num_threads(2); "
                 "print(a); print(swiftw.get_num_threads())", env_value="1")
    assert out == ["1", "2"]


# ---------------------------------------------------------------------------------------------
# the answer does not depend on the number of threads
# ---------------------------------------------------------------------------------------------


def _kernels(rng):
    """(label, zero-argument call, scale) for every kernel, on sizes where splitting pays."""
    p = make_problem(rng, n_grid=30, k=3000, s=200)
    small = make_problem(rng, n_grid=24, k=600)
    big_k = make_problem(rng, n_grid=24, k=30000, s=50)
    w = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    wc = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    wc_rand = random_compact(rng, p.N)
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    fma_n = 3_000_001
    fma_out = rng.normal(size=fma_n)
    fma_arrays = [rng.normal(size=fma_n) for _ in range(3)]
    f_scale = float(np.max(np.abs(t.T @ w @ t)))

    def fma_call():
        out = fma_out.copy()
        swiftw.fma(out, [0.3, -1.2, 2.5], *fma_arrays)
        return out

    ll_args = (p.dirty_image, p.data, p.noise_map, w, p.idx, p.wts, p.neighbors, p.neighbors_sizes)
    llc_args = (p.dirty_image, p.data, p.noise_map, wc, p.native, p.idx, p.wts, p.neighbors, p.neighbors_sizes)
    return [
        ("w_tilde", lambda: swiftw.w_tilde_curvature_interferometer_from(small.sigma, small.uv, small.grid), small.sum_c),
        ("w_compact", lambda: swiftw.w_compact_curvature_interferometer_from(big_k.N, big_k.sigma, big_k.uv,
                                                                             big_k.pixel_scale), big_k.sum_c),
        ("w_tilde_via_compact", lambda: swiftw.w_tilde_via_compact_from(wc, p.native), p.sum_c),
        ("w_tilde_data", lambda: swiftw.w_tilde_data_interferometer_from(big_k.visibilities_real, big_k.sigma, big_k.uv,
                                                                         big_k.grid),
         float(np.sum(ref.w_tilde_data_weights(big_k.visibilities_real, big_k.sigma)))),
        ("mapping_matrix", lambda: swiftw.mapping_matrix_from(p.idx, p.wts, p.S), 1.0),
        ("data_vector", lambda: swiftw.data_vector_from(t, p.dirty_image), float(np.max(np.abs(p.dirty_image) @ t))),
        ("F dense", lambda: swiftw.curvature_matrix_via_w_tilde_from(w, t), f_scale),
        ("T^T W", lambda: swiftw.sparse_mapping_matrix_transpose_matmul(w, p.idx, p.wts, p.S),
         float(np.max(np.abs(t).T @ np.abs(w)))),
        ("F sparse", lambda: swiftw.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w, p.idx, p.wts, p.S),
         f_scale),
        ("F compact", lambda: swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
            wc, p.native, p.idx, p.wts, p.S), f_scale),
        ("F compact direct", lambda: swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(
            wc, p.native, p.idx, p.wts, p.S), f_scale),
        ("F compact random", lambda: swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
            wc_rand, p.native, p.idx, p.wts, p.S),
         float(np.max(np.abs(ref.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
             wc_rand, p.native, p.idx, p.wts, p.S))))),
        ("log L w_tilde", lambda: swiftw.log_likelihood_function_via_w_tilde_from(*ll_args), 1e4),
        ("log L w_compact", lambda: swiftw.log_likelihood_function_via_w_compact_from(*llc_args), 1e4),
        ("fma", fma_call, float(np.max(np.abs(fma_out)) + 4 * np.max(np.abs(fma_arrays)))),
    ]


def test_one_thread_equals_two_threads(rng, restore_threads):
    kernels = _kernels(rng)
    results = {}
    for n in (1, 2):
        swiftw.set_num_threads(n)
        results[n] = [np.asarray(fn()) for _, fn, _ in kernels]
    failures = []
    for (label, _, scale), a, b in zip(kernels, results[1], results[2]):
        if label.startswith("log L"):
            scale = max(abs(float(a)), 1.0)
        err = float(np.max(np.abs(a - b))) if a.size else 0.0
        if not err <= THREAD_REL * scale:
            failures.append(f"{label}: max|1 thread - 2 threads| = {err:.3e} = {err / scale:.2e} x scale")
    assert not failures, "; ".join(failures)


def test_results_correct_with_one_thread(rng, restore_threads):
    """The single-thread path (the production setting under a process pool) against the reference."""
    swiftw.set_num_threads(1)
    p = make_problem(rng)
    w = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    wc = swiftw.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    assert_close(wc, ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale),
                 scale=p.sum_c, rel=1e-10, what="w_compact, 1 thread")
    f = swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, p.native, p.idx, p.wts, p.S)
    want = ref.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w, p.idx, p.wts, p.S)
    assert_close(f, want, scale=np.max(np.abs(want)), rel=1e-10, what="F compact, 1 thread")


# ---------------------------------------------------------------------------------------------
# the helper threads kept between calls: forked children, one CPU
# ---------------------------------------------------------------------------------------------

# A child interpreter: w_compact on 1 and 2 threads, then in forked pool workers (a sampler's
# process pool forks after the parent ran on all cores); prints max|x - one thread| / sum(c).
_FORK_CODE = """
import multiprocessing as mp, numpy as np, swiftw
rng = np.random.default_rng({seed})
sigma = rng.uniform(0.5, 2.0, 3000)
uv = rng.normal(scale=3e4, size=(3000, 2))
def w(threads):
    swiftw.set_num_threads(threads)
    return swiftw.options(w_compact="direct")(swiftw.w_compact_curvature_interferometer_from)(16, sigma, uv, 0.1)
one = w(1)
results = [w(2), w(2)]
if {fork}:
    with mp.get_context("fork").Pool(2) as pool:
        results += pool.map(w, [2, 2, 1, 2, 2, 2])
print(max(float(np.max(np.abs(x - one))) for x in results) / float(np.sum(sigma ** -2.0)))
"""


def test_forked_children_run_threaded_kernels(rng):
    """The parent's helper thread does not exist in a forked child: the child starts its own
    (a child waiting for the parent's would hang)."""
    out = _child(_FORK_CODE.format(seed=int(rng.integers(2**31)), fork=True))
    assert float(out[0]) <= THREAD_REL, f"forked children: max|2 threads - 1 thread| = {out[0]} x sum(c)"


def test_more_threads_than_cpus(rng):
    """Pinned to one CPU, two threads run on Dispatch (no helper spins on the one CPU), same answer."""
    out = _child(_FORK_CODE.format(seed=int(rng.integers(2**31)), fork=False), single_cpu=True)
    assert float(out[0]) <= THREAD_REL, f"one CPU: max|2 threads - 1 thread| = {out[0]} x sum(c)"


# ---------------------------------------------------------------------------------------------
# concurrency and the GIL
# ---------------------------------------------------------------------------------------------


def test_concurrent_calls_from_python_threads(rng):
    problems = [make_problem(rng, n_grid=26, k=800) for _ in range(4)]
    wcs = [ref.w_compact_curvature_interferometer_from(q.N, q.sigma, q.uv, q.pixel_scale) for q in problems]
    wants = [ref.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, q.native, q.idx, q.wts, q.S)
             for q, wc in zip(problems, wcs)]

    def job(i):
        q = problems[i]
        outs = []
        for _ in range(3):
            wc = swiftw.w_compact_curvature_interferometer_from(q.N, q.sigma, q.uv, q.pixel_scale)
            outs.append((wc, swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
                wcs[i], q.native, q.idx, q.wts, q.S)))
        return outs

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(job, range(4)))
    for i, outs in enumerate(results):
        q = problems[i]
        for wc, f in outs:
            assert_close(wc, wcs[i], scale=q.sum_c, rel=1e-10, what=f"w_compact in thread {i}")
            assert_close(f, wants[i], scale=np.max(np.abs(wants[i])), rel=1e-10, what=f"F in thread {i}")


def test_gil_released_during_kernel(rng, restore_threads):
    """While one Python thread is inside a long kernel, another Python thread keeps running."""
    swiftw.set_num_threads(1)
    p = make_problem(rng, n_grid=30, k=500)

    def kernel():
        return swiftw.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)

    t0 = time.perf_counter()
    kernel()
    alone = time.perf_counter() - t0
    reps = max(1, int(np.ceil(0.2 / max(alone, 1e-4))))  # keep the worker busy >= ~0.2 s

    def spin(stop, clock_limit=None):
        """The loop whose rate we measure; the same body with and without the kernel running."""
        count, start = 0, time.perf_counter()
        while not stop.is_set():
            count += 1
            if clock_limit is not None and time.perf_counter() - start > clock_limit:
                break
            elif clock_limit is None:
                time.perf_counter()
        return count, time.perf_counter() - start

    never = threading.Event()
    spins, secs = spin(never, clock_limit=0.1)
    rate = spins / secs

    done = threading.Event()
    started = threading.Event()

    def worker():
        started.set()
        for _ in range(reps):
            kernel()
        done.set()

    th = threading.Thread(target=worker)
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    try:
        th.start()
        started.wait()
        count, elapsed = spin(done)
    finally:
        th.join()
        sys.setswitchinterval(old_interval)
    expected = rate * elapsed
    assert elapsed > 0.05, "test too weak: the kernel finished too quickly"
    assert count >= 0.2 * expected, (
        f"main thread ran {count} spins in {elapsed:.3f} s while the kernel ran (expected ~{expected:.0f} "
        f"if the GIL were released)"
    )


def test_thread_limit_is_the_kernels(restore_threads):
    """The most threads is Swift's (exported through `_swiftw.limits()`), checked in Swift only."""
    from swiftw._limits import limits

    most = int(limits()["max_threads"])
    assert most >= 2
    swiftw.set_num_threads(most)
    assert swiftw.get_num_threads() == most
    for bad in (0, -3, most + 1):
        with pytest.raises(ValueError, match=rf"n must be a whole number in \[1, {most}\], got"):
            swiftw.set_num_threads(bad)
        assert swiftw.get_num_threads() == most
