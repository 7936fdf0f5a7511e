"""Hardening against faults (issue 5), deterministic cases:

- Memory: an output that cannot exist raises MemoryError whose message gives its size, at once
  (before anything is allocated or computed); a kernel whose per-thread temporaries cannot exist
  is refused the same way (checked in a child process under an address-space limit, so that a
  missing guard shows as a failed allocation, not as a machine out of memory).
- Huge, negative and non-finite counts (grid_size, pixels, ...) raise an allowed exception fast.
- Degenerate sizes that once crashed the process (an empty mapping with a huge `pixels`, a huge
  thread count): run in child processes, they must raise an allowed exception or return.
- Arithmetic faults raise an allowed exception (no ZeroDivisionError).
- NaN / inf propagate as the formula would (one bad pixel poisons its row and column of W, not
  the whole matrix; a NaN visibility coordinate is not dropped by the NUFFT).
- A failing call leaves its inputs (and fma's `out`) untouched.
"""

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from bench import reference as ref
import swiftw
import swiftw.autoarray as aa
from conftest import draw_uv, make_problem, random_compact, random_preload, small_problem

ALLOWED = (TypeError, ValueError, IndexError, MemoryError, OverflowError)
HERE = os.path.dirname(os.path.abspath(__file__))


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def physical_memory():
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


class Hang(BaseException):
    """Raised by the alarm of `within` (a BaseException: `except Exception` does not swallow it)."""


def within(seconds, fn):
    """fn(), interrupted by SIGALRM after `seconds` (works for loops in Python; a hang inside a
    kernel would end when the kernel returns)."""
    def alarm(signum, frame):
        raise Hang(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------------------------------------
# outputs that cannot exist
# ---------------------------------------------------------------------------------------------


def _direct_w_compact(*args):
    with swiftw.options(w_compact="direct"):
        return swiftw.w_compact_curvature_interferometer_from(*args)


def _impossible_calls(p):
    """(label, call, the big dimensions the message must give). Every output is > 1e12 bytes."""
    wc = random_compact(np.random.default_rng(0), p.N)
    w = ref.w_tilde_via_compact_from(wc, p.native)
    big_m = 10**6
    grid = np.zeros((big_m, 2))
    grid[:, 1] = np.arange(big_m) * 1e-9
    native = np.zeros((big_m, 2), dtype=np.int64)
    s_big = 10**6
    nb = np.full((s_big, 1), -1, dtype=np.int64)
    sizes = np.zeros(s_big, dtype=np.int64)
    sub = ref.draw_sub_mapping(np.random.default_rng(1), p.M, p.S, p.B, sub_sizes=(1,))
    m_big = 10**5
    return [
        ("w_compact direct", lambda: _direct_w_compact(10**6, p.sigma, p.uv, p.pixel_scale), [10**6]),
        ("w_tilde", lambda: swiftw.w_tilde_curvature_interferometer_from(p.sigma, p.uv, grid), [big_m]),
        ("w_mm", lambda: swiftw.w_mm(p.sigma, p.uv, grid), [big_m]),
        ("aa w_tilde", lambda: aa.w_tilde_curvature_interferometer_from(p.sigma, p.uv, grid), [big_m]),
        ("w_tilde_via_compact", lambda: swiftw.w_tilde_via_compact_from(wc, native), [big_m]),
        ("w_tilde_via_preload", lambda: swiftw.w_tilde_via_preload_from(random_preload(np.random.default_rng(2), p.N),
                                                                       native), [big_m]),
        ("mapping_matrix", lambda: swiftw.mapping_matrix_from(p.idx, p.wts, 10**10), [10**10]),
        ("transpose_matmul", lambda: swiftw.sparse_mapping_matrix_transpose_matmul(
            np.zeros((p.M, 100)), p.idx, p.wts, 10**10), [10**10]),
        ("F sparse", lambda: swiftw.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w, p.idx, p.wts, 10**6),
         [10**6]),
        ("F wilde", lambda: swiftw.curvature_matrix_via_w_wilde_sparse_mapping_matrix_from(w, p.idx, p.wts, 10**6),
         [10**6]),
        ("F compact", lambda: swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
            wc, p.native, p.idx, p.wts, 10**6), [10**6]),
        ("F compact direct", lambda: swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(
            wc, p.native, p.idx, p.wts, 10**6), [10**6]),
        ("F preload (top level)", lambda: swiftw.curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(
            wc, p.native, p.idx, p.wts, 10**6), [10**6]),
        ("H", lambda: swiftw.constant_regularization_matrix_from(1.0, nb, sizes), [s_big]),
        ("aa H", lambda: aa.constant_regularization_matrix_from(1.0, nb, sizes), [s_big]),
        ("log L (H)", lambda: swiftw.log_likelihood_function_via_w_tilde_from(
            p.dirty_image, p.data, p.noise_map, w, p.idx, p.wts, nb, sizes), [s_big]),
        ("aa mapping", lambda: aa.mapping_matrix_from(sub.pix_indexes[:0], sub.pix_size[:0], sub.pix_weights[:0],
                                                      10**8, m_big, sub.slim[:0], np.ones(m_big)), [10**8]),
        ("aa F preload", lambda: aa.curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(
            random_preload(np.random.default_rng(3), p.N), p.idx, np.ones(p.M, np.int64), p.wts, p.native, 10**6),
         [10**6]),
        ("aa log L (H)", lambda: aa.log_likelihood_function_via_w_tilde_from(
            p.dirty_image, p.data, p.noise_map, w, sub.pix_indexes, sub.pix_size, sub.pix_weights, sub.slim,
            sub.sub_fraction, nb, sizes), [s_big]),
    ]


def _labels():
    return [c[0] for c in _impossible_calls(small_problem(np.random.default_rng(0)))]


@pytest.mark.parametrize("case", range(len(_labels())), ids=_labels())
def test_output_that_cannot_exist_raises_memory_error(rng, case):
    p = small_problem(rng)
    label, call, dims = _impossible_calls(p)[case]
    before = rss()
    t0 = time.perf_counter()
    with pytest.raises(MemoryError) as info:
        within(5.0, call)
    elapsed = time.perf_counter() - t0
    msg = str(info.value)
    assert elapsed < 1.0, f"{label}: MemoryError after {elapsed:.2f} s (work was done first)"
    assert rss() - before < 64 << 20, f"{label}: {(rss() - before) / 2**20:.0f} MiB touched before the MemoryError"
    assert any(str(d) in msg for d in dims), f"{label}: the message does not give the shape {dims}: {msg!r}"
    assert re.search(r"\d\s*(bytes|[KMGTPE]i?B)\b", msg), f"{label}: the message does not give the bytes: {msg!r}"


TEMPORARIES_CHILD = textwrap.dedent(r"""
    import json, os, resource, sys, time
    import numpy as np
    import swiftw
    method, n, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    swiftw.set_num_threads(64)
    rng = np.random.default_rng(0)
    k = 64 * 128 * 2
    sigma, uv = rng.uniform(0.5, 2.0, k), rng.normal(scale=1e3, size=(k, 2))
    t0 = time.perf_counter()
    try:
        swiftw.options(w_compact=method)(swiftw.w_compact_curvature_interferometer_from)(n, sigma, uv, 0.1)
        out = {"raised": None}
    except Exception as error:
        out = {"raised": type(error).__name__, "message": str(error)}
    out["seconds"] = time.perf_counter() - t0
    print(json.dumps(out))
""")


@pytest.mark.parametrize("method", ["direct", "nufft"])
def test_temporaries_that_cannot_exist_are_refused(method):
    """64 threads, each with its own accumulator as large as the output: output ~ 1/16 of the
    machine's memory (which alone could exist), output plus temporaries ~ 4x the machine. The
    call must be refused with MemoryError up front. The child's address space is capped just
    above the output, so a kernel that allocated its temporaries anyway fails visibly."""
    phys = physical_memory()
    n = int(np.sqrt(phys / 16 / 16))
    output = 8 * n * (2 * n - 1)
    limit = output + (3 << 30)
    proc = subprocess.run([sys.executable, "-c", TEMPORARIES_CHILD, method, str(n), str(limit)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, f"child crashed ({proc.returncode}): {proc.stderr[-2000:]}"
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert r["raised"] == "MemoryError", f"grid_size {n} with 64 threads: {r}"
    assert r["seconds"] < 2.0, f"refused only after {r['seconds']:.1f} s"
    assert str(n) in r["message"], r["message"]


GRID_SIZE_CHILD = textwrap.dedent(r"""
    import json, resource, signal, sys, time
    import numpy as np
    import swiftw
    method = sys.argv[1]
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, resource.getrlimit(resource.RLIMIT_AS)[1]))

    class Hang(BaseException):
        pass

    def alarm(signum, frame):
        raise Hang()

    signal.signal(signal.SIGALRM, alarm)
    rng = np.random.default_rng(0)
    sigma, uv = rng.uniform(0.5, 2.0, 200), rng.normal(scale=1e3, size=(200, 2))
    report = []
    for text in sys.argv[2:]:
        n = eval(text)
        t0 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, 4.0)
        try:
            swiftw.options(w_compact=method)(swiftw.w_compact_curvature_interferometer_from)(n, sigma, uv, 0.1)
            out = {"raised": None}
        except Hang:
            out = {"raised": "hang (still running after 4 s)"}
        except Exception as error:
            out = {"raised": type(error).__name__, "message": str(error)[:300]}
        signal.setitimer(signal.ITIMER_REAL, 0)
        out.update(value=text, seconds=time.perf_counter() - t0)
        report.append(out)
    print(json.dumps(report))
""")

HUGE_GRID_SIZES = ["10**6", "10**7", "10**30 + 1", "1e300", "2**62 + 1"]


@pytest.mark.parametrize("method", ["direct", "nufft", "auto"])
def test_w_compact_huge_grid_size_refused_up_front(method):
    """grid_size so large the output cannot exist: MemoryError (naming the output's shape) or
    ValueError / OverflowError, within a second, whatever the method -- the NUFFT's plan (its
    fine grid and deconvolution factors, O(grid_size) memory and time) must not be built first.
    In a child process with 3 GiB of address space (a plan built first fails or hangs there)."""
    proc = subprocess.run([sys.executable, "-c", GRID_SIZE_CHILD, method, *HUGE_GRID_SIZES], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, f"child died ({proc.returncode}): {proc.stderr[-2000:]}"
    failures = []
    for r in json.loads(proc.stdout.strip().splitlines()[-1]):
        n = eval(r["value"])
        if r["raised"] not in ("MemoryError", "ValueError", "OverflowError"):
            failures.append(f"grid_size={r['value']}: {r['raised']}")
        elif r["seconds"] > 1.0:
            failures.append(f"grid_size={r['value']}: {r['raised']} only after {r['seconds']:.1f} s")
        elif r["raised"] == "MemoryError" and str(int(n)) not in r["message"]:
            failures.append(f"grid_size={r['value']}: MemoryError does not name the output ({int(n)}, "
                            f"{2 * int(n) - 1}): {r['message']!r}")
    assert not failures, "; ".join(failures)


# ---------------------------------------------------------------------------------------------
# huge, negative and non-finite counts
# ---------------------------------------------------------------------------------------------

BAD_COUNTS = [2**62, -(2**63), 2**63 - 1, 2**64, 10**30, 10**30 + 1, -1, float("nan"), float("inf"), 1e300, 2.5]


def _count_calls(p):
    wc = random_compact(np.random.default_rng(0), p.N)
    w = ref.w_tilde_via_compact_from(wc, p.native)
    pre = random_preload(np.random.default_rng(1), p.N)
    sizes = np.ones(p.M, np.int64)
    g2 = ref.grid_radians_2d_from((p.N, p.N), 0.0, 0.0, p.d, p.d)
    return {
        "grid_size (direct)": lambda x: _direct_w_compact(x, p.sigma, p.uv, p.pixel_scale),
        "pixels (mapping)": lambda x: swiftw.mapping_matrix_from(p.idx, p.wts, x),
        "pixels (T^T W)": lambda x: swiftw.sparse_mapping_matrix_transpose_matmul(w, p.idx, p.wts, x),
        "pixels (F sparse)": lambda x: swiftw.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w, p.idx, p.wts,
                                                                                                      x),
        "pixels (F compact)": lambda x: swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
            wc, p.native, p.idx, p.wts, x),
        "pixels (aa mapping)": lambda x: aa.mapping_matrix_from(p.idx, sizes, p.wts, x, p.M, np.arange(p.M),
                                                                np.ones(p.M)),
        "total_mask_pixels": lambda x: aa.mapping_matrix_from(p.idx, sizes, p.wts, p.S, x, np.arange(p.M),
                                                              np.ones(p.M)),
        "pix_pixels": lambda x: aa.curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(
            pre, p.idx, sizes, p.wts, p.native, x),
        "shape_masked_pixels_2d": lambda x: aa.w_tilde_curvature_preload_interferometer_from(p.sigma, p.uv, (x, x), g2),
        "shape_native": lambda x: swiftw.mask_2d_circular_from((x, x), (0.1, 0.1), 1.0, (0.0, 0.0)),
    }


@pytest.mark.parametrize("param", list(_count_calls(small_problem(np.random.default_rng(0)))))
def test_bad_counts_raise_allowed_exceptions_fast(rng, param):
    p = small_problem(rng)
    call = _count_calls(p)[param]
    failures = []
    for x in BAD_COUNTS:
        t0 = time.perf_counter()
        try:
            within(3.0, lambda: call(x))
            outcome = "returned"
        except ALLOWED as error:
            outcome = type(error).__name__
        except (Exception, Hang) as error:  # noqa: BLE001 -- collected and reported
            failures.append(f"{param}={x!r}: {type(error).__name__}: {error}")
            continue
        if time.perf_counter() - t0 > 1.0:
            failures.append(f"{param}={x!r}: {outcome} after {time.perf_counter() - t0:.1f} s")
        if outcome == "returned" and x not in (2.5,):
            failures.append(f"{param}={x!r}: accepted")
    assert not failures, "; ".join(failures)


# ---------------------------------------------------------------------------------------------
# degenerate sizes that must not crash the process (child processes)
# ---------------------------------------------------------------------------------------------

CRASH_CHILD = textwrap.dedent(r"""
    import json, resource, sys
    import numpy as np
    import swiftw, swiftw.autoarray as aa
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, resource.getrlimit(resource.RLIMIT_AS)[1]))
    ALLOWED = (TypeError, ValueError, IndexError, MemoryError, OverflowError)
    try:
        result = eval(sys.argv[1])
        out = {"outcome": "returned", "shape": list(np.shape(result))}
    except ALLOWED as error:
        out = {"outcome": type(error).__name__, "message": str(error)[:300]}
    print(json.dumps(out), flush=True)
""")

E0 = "np.zeros((0, 3), np.int64)"
W0 = "np.zeros((0, 3))"
CRASH_CASES = {
    "mapping_matrix, no rows, pixels=10**12": f"swiftw.mapping_matrix_from({E0}, {W0}, 10**12)",
    "mapping_matrix, no rows, pixels=2**31": f"swiftw.mapping_matrix_from({E0}, {W0}, 2**31)",
    "transpose_matmul, no columns, pixels=10**12":
        "swiftw.sparse_mapping_matrix_transpose_matmul(np.zeros((5, 0)), -np.ones((5, 3), np.int64), "
        "np.ones((5, 3)), 10**12)",
    "aa mapping_matrix, no pixels, pixels=10**12":
        f"aa.mapping_matrix_from({E0}, np.zeros(0, np.int64), {W0}, 10**12, 0, np.zeros(0, np.int64), np.zeros(0))",
    "CurvatureOperator.costs, pixels=10**12":
        "swiftw.CurvatureOperator(np.ones((1, 1)), np.zeros((1, 2), np.int64)).costs(np.zeros((1, 3), np.int64), "
        "np.ones((1, 3)), 10**12)",
    "curvature sparse, no rows, pixels=0": f"swiftw.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from("
                                           f"np.zeros((0, 0)), {E0}, {W0}, 0)",
    "huge thread count then F": "(swiftw.set_num_threads(2**40), swiftw.curvature_matrix_via_w_tilde_sparse_mapping_"
                                "matrix_from(np.eye(4), np.zeros((4, 1), np.int64), np.ones((4, 1)), 2))[1]",
    "huge thread count then w_compact": "(swiftw.set_num_threads(2**40), swiftw.options(w_compact='direct')("
                                        "swiftw.w_compact_curvature_interferometer_from)(4, np.ones(3000), "
                                        "np.ones((3000, 2)), 0.1))[1]",
}


@pytest.mark.parametrize("label", list(CRASH_CASES))
def test_degenerate_calls_do_not_crash(label):
    proc = subprocess.run([sys.executable, "-c", CRASH_CHILD, CRASH_CASES[label]], capture_output=True, text=True,
                          timeout=60)
    tail = proc.stderr.strip().splitlines()[:3]
    assert proc.returncode == 0, (
        f"{label}: the process died (exit {proc.returncode}): {' | '.join(tail)}\n  reproduce: "
        f"python3 -c \"import numpy as np, swiftw, swiftw.autoarray as aa; {CRASH_CASES[label]}\"")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert r["outcome"] in ("returned", "MemoryError", "ValueError", "OverflowError", "IndexError", "TypeError"), r


# ---------------------------------------------------------------------------------------------
# arithmetic faults
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn,args", [
    ("mask_2d_centres_from", ((5, 5), (0.0, 0.1), (0.0, 0.0))),
    ("mask_2d_centres_from", ((5, 5), (0.1, 0.0), (0.0, 0.0))),
    ("mask_2d_circular_from", ((5, 5), (0.0, 0.1), 1.0, (0.0, 0.0))),
])
@pytest.mark.parametrize("module", ["swiftw", "swiftw.autoarray"])
def test_zero_pixel_scale_raises_allowed_exception(fn, args, module):
    f = getattr(swiftw if module == "swiftw" else aa, fn)
    try:
        f(*args)
    except ALLOWED:
        pass


# ---------------------------------------------------------------------------------------------
# NaN / inf propagate as the formula would
# ---------------------------------------------------------------------------------------------


def test_nan_pixel_poisons_only_its_row_and_column_of_w_tilde(rng):
    """W[i, j] involves pixels i and j only: a NaN (or inf) coordinate of pixel i makes row i and
    column i NaN, as the formula does -- not the whole matrix."""
    p = make_problem(rng, n_grid=12, k=200)
    for bad in (np.nan, np.inf):
        grid = p.grid.copy()
        i = int(rng.integers(0, p.M))
        grid[i, int(rng.integers(0, 2))] = bad
        got = swiftw.w_tilde_curvature_interferometer_from(p.sigma, p.uv, grid)
        expected = np.zeros((p.M, p.M), dtype=bool)
        expected[i, :] = expected[:, i] = True
        assert np.array_equal(np.isnan(got), expected), (
            f"coordinate {bad} at pixel {i}: {int(np.isnan(got).sum())} NaN entries, the formula gives "
            f"{int(expected.sum())} (row and column {i})")
        keep = np.arange(p.M) != i
        want = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid[keep])
        np.testing.assert_allclose(got[np.ix_(keep, keep)], want, rtol=0, atol=1e-10 * p.sum_c)


@pytest.mark.parametrize("method", ["direct", "nufft", "auto"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_visibility_coordinate_is_not_dropped(rng, method, bad):
    """Every entry of w_compact sums over every visibility: a NaN or infinite (u, v) makes every
    entry NaN (cos of it is NaN), whichever method evaluates it -- it must not be dropped."""
    p = make_problem(rng, n_grid=10, k=300)
    uv = p.uv.copy()
    uv[int(rng.integers(0, p.K)), int(rng.integers(0, 2))] = bad
    try:
        with swiftw.options(w_compact=method):
            got = swiftw.w_compact_curvature_interferometer_from(p.N, p.sigma, uv, p.pixel_scale)
    except ValueError as error:
        assert "uv_wavelengths" in str(error)
        return
    assert np.all(np.isnan(got)), (
        f"method={method}: {int(np.sum(~np.isnan(got)))} of {got.size} entries are finite although every term "
        f"sum includes cos({bad})")


# ---------------------------------------------------------------------------------------------
# a failing call leaves its inputs untouched
# ---------------------------------------------------------------------------------------------


def test_failing_calls_leave_inputs_untouched(rng):
    p = small_problem(rng)
    wc = random_compact(rng, p.N)
    bad_idx = p.idx.copy()
    bad_idx[-1, 0] = p.S
    inputs = [wc, p.native, bad_idx, p.wts]
    copies = [a.copy() for a in inputs]
    with pytest.raises(IndexError):
        swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(*inputs, p.S)
    assert all(np.array_equal(a, c) for a, c in zip(inputs, copies))

    out = rng.normal(size=1000)
    before = out.copy()
    good = rng.normal(size=1000)
    for bad in (rng.normal(size=999), np.array(["x"] * 1000), rng.normal(size=1000) * 1j):
        with pytest.raises((ValueError, TypeError)):
            swiftw.fma(out, [1.0, 2.0, 3.0], good, good, bad)
        np.testing.assert_array_equal(out, before)
    with pytest.raises((ValueError, TypeError)):
        swiftw.fma(out, [1.0, float("nan")], good)  # weight count mismatch
    np.testing.assert_array_equal(out, before)
