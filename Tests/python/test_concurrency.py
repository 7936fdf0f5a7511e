"""Concurrency (issue 5): kernels release the GIL, so two Python threads run at once; any number
of concurrent calls give exactly (bitwise) the serial answers; the thread setting is safe to
change from another thread between and during calls; the process's SIGINT disposition is put
back after concurrent calls.

Timing on a shared 2-core machine is noisy: the wall-time test takes the best of a few tries and
stops at the first that passes.
"""

import ctypes
import hashlib
import mmap
import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from bench import reference as ref
import swiftw
import swiftw.autoarray as aa
from conftest import assert_close, make_problem, random_compact

# wall(two threads, one call each) / wall(one call), with 1 kernel thread each. A held GIL gives
# >= 2. The two vCPUs of this machine kind scale FMA-bound kernels by only ~1.2-1.4x even when a
# hashlib reference runs two-wide (they seem to share execution units on the host), so 1.85.
PARALLEL_RATIO = 1.85
TRIES = 3


# ---------------------------------------------------------------------------------------------
# two Python threads run at once
# ---------------------------------------------------------------------------------------------


def _calibrated_w_compact(rng, target_seconds):
    """A w_compact (direct) call that takes about `target_seconds` on one thread."""
    n = 48
    k = 20_000
    sigma = rng.uniform(0.5, 2.0, 4_000_000)
    uv = rng.normal(scale=3e4, size=(4_000_000, 2))

    def call(k):
        with swiftw.options(w_compact="direct"):
            return swiftw.w_compact_curvature_interferometer_from(n, sigma[:k], uv[:k], 0.1)

    call(k)
    t0 = time.perf_counter()
    call(k)
    per_k = (time.perf_counter() - t0) / k
    k = int(min(len(sigma), max(k, target_seconds / per_k)))
    return lambda: call(k)


def _wall(fns):
    threads = [threading.Thread(target=f) for f in fns]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def _gil_free_reference(seconds):
    """A workload known to run without the GIL for about `seconds`: hashlib over a large buffer
    (CPython releases the GIL while hashing more than 2 KiB)."""
    data = os.urandom(1 << 22)
    t0 = time.perf_counter()
    hashlib.sha256(data).digest()
    reps = max(1, int(seconds / max(time.perf_counter() - t0, 1e-6)))
    return lambda: [hashlib.sha256(data).digest() for _ in range(reps)]


@pytest.mark.parametrize("what", ["w_compact", "w_tilde"])
def test_two_python_threads_run_at_once(rng, restore_threads, what):
    """Two threads, each one ~0.5 s kernel on 1 kernel thread: about 1x the wall time of one call,
    not 2x (which is what holding the GIL would give).

    The machine is shared: a try counts only if, just before it and just after it, a known
    GIL-free workload (hashlib) ran two-wide at < 1.45x, i.e. two cores were free throughout. If
    no try is conclusive the test is skipped (it says so), never passed."""
    swiftw.set_num_threads(1)
    if what == "w_compact":
        fn = _calibrated_w_compact(rng, 0.5)
    else:
        p = make_problem(rng, n_grid=30, k=2000)
        fn = lambda: swiftw.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)  # noqa: E731
        fn()
        t0 = time.perf_counter()
        fn()
        reps = max(1, int(0.5 / (time.perf_counter() - t0)))
        inner = fn
        fn = lambda: [inner() for _ in range(reps)]  # noqa: E731
    reference = _gil_free_reference(0.2)
    tries = []
    for _ in range(TRIES):
        free = _wall([reference, reference]) / _wall([reference])
        if free >= 1.45:
            tries.append((round(free, 2), None))
            time.sleep(0.2)
            continue
        one = _wall([fn])
        two = _wall([fn, fn])
        assert one > 0.2, f"test too weak: one call takes {one:.3f} s"
        after = _wall([reference, reference]) / _wall([reference])
        if after >= 1.45:  # the host took a core during the try: it says nothing
            tries.append((round(after, 2), None))
            continue
        tries.append((round(max(free, after), 2), round(two / one, 2)))
        if two / one < PARALLEL_RATIO:
            break
    conclusive = [ratio for _, ratio in tries if ratio is not None]
    if not conclusive:
        pytest.skip(f"no two free cores (hashlib two-wide / one-wide: {[f for f, _ in tries]})")
    assert min(conclusive) < PARALLEL_RATIO, (
        f"two concurrent calls took {min(conclusive):.2f}x one call while a GIL-free reference ran at "
        f"<1.45x (tries (reference, swiftw): {tries}); the GIL seems to be held")


# ---------------------------------------------------------------------------------------------
# concurrent calls give the serial answers
# ---------------------------------------------------------------------------------------------


def _jobs(rng):
    """(label, zero-argument call) across the top level and swiftw.autoarray."""
    p = make_problem(rng, n_grid=28, k=2000, s=150)
    big = make_problem(rng, n_grid=24, k=20000, s=50)
    w = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    wc = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    wc_rand = random_compact(rng, p.N)
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    sub = ref.draw_sub_mapping(rng, p.M, p.S, p.B)
    pre = ref.w_tilde_preload_from(p.N, p.sigma, p.uv, p.pixel_scale)
    y0 = p.grid[0, 0] + p.d * p.native[0, 0]
    x0 = p.grid[0, 1] - p.d * p.native[0, 1]
    grid_2d = ref.grid_radians_2d_from((p.N, p.N), y0, x0, p.d, p.d)
    image_idx, image_size, image_wts = ref.draw_image_mapping(rng, p.M, p.S, p.B)
    fma_out = rng.normal(size=300_001)
    fma_arrays = [rng.normal(size=300_001) for _ in range(3)]

    def fma():
        out = fma_out.copy()
        swiftw.fma(out, [0.5, -1.5, 2.0], *fma_arrays)
        return out

    return [
        ("w_tilde", lambda: swiftw.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)),
        ("w_compact direct", lambda: swiftw.options(w_compact="direct")(swiftw.w_compact_curvature_interferometer_from)(
            big.N, big.sigma, big.uv, big.pixel_scale)),
        ("w_compact nufft", lambda: swiftw.options(w_compact="nufft")(swiftw.w_compact_curvature_interferometer_from)(
            big.N, big.sigma, big.uv, big.pixel_scale)),
        ("w_tilde_data", lambda: swiftw.w_tilde_data_interferometer_from(big.visibilities_real, big.sigma, big.uv,
                                                                          big.grid)),
        ("w_tilde_data direct", lambda: swiftw.options(w_tilde_data="direct")(swiftw.w_tilde_data_interferometer_from)(
            big.visibilities_real, big.sigma, big.uv, big.grid)),
        ("w_tilde_via_compact", lambda: swiftw.w_tilde_via_compact_from(wc, p.native)),
        ("w_tilde_via_preload", lambda: swiftw.w_tilde_via_preload_from(pre, p.native)),
        ("mapping_matrix", lambda: swiftw.mapping_matrix_from(p.idx, p.wts, p.S)),
        ("F dense", lambda: swiftw.curvature_matrix_via_w_tilde_from(w, t)),
        ("T^T W", lambda: swiftw.sparse_mapping_matrix_transpose_matmul(w, p.idx, p.wts, p.S)),
        ("F sparse", lambda: swiftw.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w, p.idx, p.wts, p.S)),
        ("F compact", lambda: swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
            wc_rand, p.native, p.idx, p.wts, p.S)),
        ("F compact direct", lambda: swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(
            wc, p.native, p.idx, p.wts, p.S)),
        ("H", lambda: swiftw.constant_regularization_matrix_from(1.3, p.neighbors, p.neighbors_sizes)),
        ("log L w_compact", lambda: swiftw.log_likelihood_function_via_w_compact_from(
            p.dirty_image, p.data, p.noise_map, wc, p.native, p.idx, p.wts, p.neighbors, p.neighbors_sizes)),
        ("fma", fma),
        ("aa preload", lambda: aa.w_tilde_curvature_preload_interferometer_from(p.sigma, p.uv, (p.N, p.N), grid_2d)),
        ("aa mapping", lambda: aa.mapping_matrix_from(sub.pix_indexes, sub.pix_size, sub.pix_weights, p.S, p.M,
                                                      sub.slim, sub.sub_fraction)),
        ("aa F preload", lambda: aa.curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(
            pre, image_idx, image_size, image_wts, p.native, p.S)),
        ("aa log L preload", lambda: aa.log_likelihood_function_via_w_compact_from(
            p.dirty_image, p.data, p.noise_map, pre, sub.pix_indexes, sub.pix_size, sub.pix_weights, sub.slim,
            sub.sub_fraction, p.neighbors, p.neighbors_sizes, p.native)),
    ]


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("kernel_threads", [1, 2])
def test_concurrent_mixed_calls_equal_serial_bitwise(rng, restore_threads, kernel_threads):
    """Every job 3 times, shuffled, on 6 Python threads: each answer is bitwise the serial one
    (the kernels are deterministic for a fixed thread count; checked serially first)."""
    swiftw.set_num_threads(kernel_threads)
    jobs = _jobs(rng)
    serial = [fn() for _, fn in jobs]
    again = [fn() for _, fn in jobs]
    nondeterministic = [label for (label, _), a, b in zip(jobs, serial, again) if not _same(a, b)]
    assert not nondeterministic, f"not deterministic even serially: {nondeterministic}"
    order = [i for i in range(len(jobs)) for _ in range(3)]
    random.Random(int(rng.integers(0, 2**32))).shuffle(order)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda i: (i, jobs[i][1]()), order))
    wrong = sorted({jobs[i][0] for i, r in results if not _same(r, serial[i])})
    assert not wrong, f"concurrent answers differ from the serial ones: {wrong}"


def test_thread_setting_changed_from_another_thread(rng, restore_threads):
    """A thread keeps changing set_num_threads (1..4) while 4 Python threads run kernels: no
    crash, no exception, every answer equals the serial answer to rounding (a kernel may see a
    different thread count, which changes only the order of sums), and get_num_threads only ever
    reports a value that was set."""
    jobs = _jobs(rng)
    swiftw.set_num_threads(1)
    serial = [np.asarray(fn(), dtype=np.float64) for _, fn in jobs]
    stop = threading.Event()
    seen = set()

    def toggler():
        r = random.Random(1)
        while not stop.is_set():
            swiftw.set_num_threads(r.randint(1, 4))
            seen.add(swiftw.get_num_threads())
            time.sleep(0.0005)

    tog = threading.Thread(target=toggler)
    tog.start()
    try:
        order = list(range(len(jobs))) * 3
        random.Random(int(rng.integers(0, 2**32))).shuffle(order)
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda i: (i, np.asarray(jobs[i][1](), dtype=np.float64)), order))
    finally:
        stop.set()
        tog.join()
    assert seen <= {1, 2, 3, 4}, seen
    failures = []
    for i, r in results:
        want = serial[i]
        scale = max(float(np.max(np.abs(want))) if want.size else 1.0, 1.0)
        if r.shape != want.shape or not np.allclose(r, want, rtol=0, atol=1e-11 * scale):
            failures.append(f"{jobs[i][0]}: max diff {float(np.max(np.abs(r - want))):.3e} (scale {scale:.3e})")
    assert not failures, "; ".join(failures)


def test_results_with_threads_changed_between_calls_are_right(rng, restore_threads):
    """set_num_threads between calls (1, 2, 3, 8 threads): every answer matches the reference."""
    p = make_problem(rng)
    want_wc = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    w = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    want_f = ref.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w, p.idx, p.wts, p.S)
    for n in (1, 2, 3, 8, 1):
        swiftw.set_num_threads(n)
        assert swiftw.get_num_threads() == n
        wc = swiftw.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
        assert_close(wc, want_wc, scale=p.sum_c, rel=1e-10, what=f"w_compact, {n} threads")
        f = swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, p.native, p.idx, p.wts, p.S)
        assert_close(f, want_f, scale=np.max(np.abs(want_f)), rel=1e-9, what=f"F, {n} threads")


# ---------------------------------------------------------------------------------------------
# one CurvatureOperator shared by several threads
# ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(swiftw, "CurvatureOperator"), reason="no CurvatureOperator")
@pytest.mark.parametrize("method", ["fft", "direct", "auto"])
def test_shared_curvature_operator_first_use_from_many_threads(rng, restore_threads, method):
    """A fresh operator used for the first time by 8 threads at once (the FFT method prepares the
    kernel's spectrum on first use): every answer is bitwise the serial one, over many fresh
    operators (small grids, so the first uses overlap)."""
    swiftw.set_num_threads(1)
    p = make_problem(rng, n_grid=int(rng.integers(12, 20)), k=300, s=60)
    wc = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    want = swiftw.CurvatureOperator(wc, p.native).curvature_matrix(p.idx, p.wts, p.S, method=method)
    assert_close(want, ref.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, p.native, p.idx, p.wts, p.S),
                 scale=np.max(np.abs(want)), rel=1e-10, what=f"operator F ({method})")
    threads = 8
    wrong = 0
    for _ in range(40):
        op = swiftw.CurvatureOperator(wc, p.native)
        barrier = threading.Barrier(threads)
        results = [None] * threads

        def job(i):
            barrier.wait()
            results[i] = op.curvature_matrix(p.idx, p.wts, p.S, method=method)

        workers = [threading.Thread(target=job, args=(i,)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        wrong += sum(not _same(r, want) for r in results)
    assert wrong == 0, f"{wrong} of {40 * threads} concurrent first uses differ from the serial answer"


def _before_guard_page(shape, dtype):
    """A zeroed array whose last byte is followed by an unreadable page (Linux), so that a read
    past its end faults instead of reading a neighbour's memory."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    page = mmap.PAGESIZE
    span = (nbytes + page - 1) // page * page
    region = mmap.mmap(-1, span + page)
    base = ctypes.addressof(ctypes.c_char.from_buffer(region))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mprotect(ctypes.c_void_p(base + span), ctypes.c_size_t(page), 0) != 0:
        pytest.skip("mprotect is not available")
    array = np.frombuffer(region, dtype=dtype, count=int(np.prod(shape)), offset=span - nbytes).reshape(shape)
    _GUARDED.append(region)  # the mapping outlives the array
    return array


_GUARDED = []


def _race(call, write, calls=60):
    """`call()` `calls` times while another thread runs `write()` in a loop (NumPy copies, which
    release the GIL, so the writes land while a kernel reads). Returns how many calls raised
    IndexError (any other exception, or a crash, fails the test)."""
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            write()

    thread = threading.Thread(target=writer)
    thread.start()
    refused = 0
    try:
        for _ in range(calls):
            try:
                call()
            except IndexError:
                refused += 1
    finally:
        stop.set()
        thread.join()
    return refused


@pytest.mark.parametrize("form", ["indexes", "sub-pixels", "neighbors"])
def test_indices_written_by_another_thread_during_calls(rng, restore_threads, form):
    """Index arrays are read without the GIL, and some twice (count, then place): another Python
    thread rewriting them meanwhile, between valid values and -1 / out-of-range ones, may make a
    call fail with IndexError, never read or write out of bounds (the sub-pixel indexes end at an
    unreadable page: a read past them crashes the test). Large arrays, so that most calls overlap a
    write; once the writer stops, the answer equals the reference again."""
    swiftw.set_num_threads(2)
    if form == "indexes":
        m, b, s = 400_000, 3, 100
        good = rng.integers(0, s, size=(m, b)).astype(np.int64)
        bad = good.copy()
        bad[::7, 1] = -1
        bad[::13, 2] = s + 5
        arg, weights, matrix = good.copy(), rng.uniform(size=(m, b)), rng.uniform(size=m)

        def call():
            return swiftw.sparse_mapping_matrix_transpose_matmul(matrix, arg, weights, s)

        want = np.bincount(good.ravel(), weights=(weights * matrix[:, None]).ravel(), minlength=s)
    elif form == "sub-pixels":
        q, s = 400_000, 4
        arg, weights = np.ones(q, np.int64), np.ones((q, 1))
        # The last rows end at an unreadable page: a size read past the width (1) faults there.
        indexes = _before_guard_page((q, 1), np.int64)
        indexes[:] = rng.integers(0, s, size=(q, 1))
        slim, fraction = np.zeros(q, np.int64), np.ones(1)
        good, bad = arg.copy(), arg.copy()
        bad[-2:] = (0, 2)  # the last size past the width; the pixel's total unchanged

        def call():
            return aa.mapping_matrix_from(indexes, arg, weights, s, 1, slim, fraction)

        want = np.bincount(indexes.ravel(), minlength=s)[None, :].astype(float)
    else:
        s, p = 2000, 8
        good = np.full((s, p), -1, np.int64)
        good[:, :4] = rng.integers(0, s, size=(s, 4))
        bad = good.copy()
        bad[::3, 1] = s + 3
        bad[1::3, 2] = -5
        arg, sizes = good.copy(), np.full(s, 4, np.int64)

        def call():
            return swiftw.constant_regularization_matrix_from(1.5, arg, sizes)

        want = ref.constant_regularization_matrix_from(1.5, good, sizes)

    def write():
        if form == "sub-pixels":  # the last two sizes only, element by element (the kernel runs meanwhile)
            arg[-2], arg[-1] = bad[-2], bad[-1]
            arg[-1], arg[-2] = good[-1], good[-2]
        else:
            np.copyto(arg, bad)
            np.copyto(arg, good)

    refused = _race(call, write)
    assert refused > 0, "no call overlapped a write: the test did not exercise the race"
    assert_close(call(), want, scale=np.max(np.abs(want)), rel=1e-12, what=f"{form} after the writer stopped")


# ---------------------------------------------------------------------------------------------
# the SIGINT disposition is put back
# ---------------------------------------------------------------------------------------------


def _sigint_handler_address():
    """The C-level SIGINT handler of the process (sa_handler, the first field of struct sigaction)."""
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(512)  # larger than struct sigaction
    assert libc.sigaction(signal.SIGINT, None, buf) == 0
    return ctypes.c_void_p.from_buffer(buf).value


def test_sigint_disposition_restored_after_concurrent_calls(rng):
    """swiftw installs its own SIGINT handler while kernels run; after any number of overlapping
    calls from several threads, the process's handler is Python's again."""
    before = _sigint_handler_address()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    p = make_problem(rng, n_grid=24, k=3000)

    def job(_):
        for _ in range(10):
            with swiftw.options(w_compact="direct"):
                swiftw.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
            swiftw.w_tilde_via_compact_from(random_compact(np.random.default_rng(0), p.N), p.native)
        return True

    with ThreadPoolExecutor(max_workers=5) as pool:
        assert all(pool.map(job, range(10)))
    assert _sigint_handler_address() == before
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
