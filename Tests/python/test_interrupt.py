"""Ctrl-C (issue 5): a long kernel stops with KeyboardInterrupt within about a second of SIGINT,
leaves its inputs untouched, keeps no buffer or reference to them, and the next call works.

Each case runs in a child process (`interrupt_child.py`): SIGINT goes to the whole process, and
a kernel that ignored it would otherwise hold the test-suite for its full duration. The child
first measures how long the uninterrupted call would take (from a fraction of the work), so the
test knows it is not vacuous: a kernel that ignored the interrupt would report a latency of
about that long, far above the limit. SIGINT is sent by `os.kill` from a timer thread 0.5 s
into the call, while the kernel runs without the GIL.
"""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD = os.path.join(HERE, "interrupt_child.py")

LATENCY_LIMIT = 1.0       # seconds from SIGINT to the exception (issue 5: "about a second")
MIN_FULL_SECONDS = 4.0    # the uninterrupted call must take at least this long, or the test proves nothing
                          # (the estimate runs high by up to 1.6x for F, whose fixed part is large;
                          # the call must outlast DELAY + LATENCY_LIMIT = 1.5 s)
CHILD_TIMEOUT = 60.0


def run_child(rng, **cfg):
    seed = int(rng.integers(0, 2**63 - 1))
    cfg = {"seed": seed, **cfg}
    proc = subprocess.run([sys.executable, CHILD, json.dumps(cfg)], capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT, env={**os.environ, "PYTHONPATH": HERE})
    assert proc.returncode == 0, f"child {cfg} exited with {proc.returncode}:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, f"child {cfg} printed no report:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return json.loads(lines[-1])


def check_report(r, threads):
    assert r["threads"] == threads
    assert r["estimated_full_seconds"] >= MIN_FULL_SECONDS, (
        f"test too weak: the uninterrupted call would take only {r['estimated_full_seconds']:.2f} s")
    assert r["ran_before_signal"] >= 0.3, "the signal came before the kernel had run"
    assert r["raised"] == "KeyboardInterrupt", f"the interrupted call raised {r['raised']!r}"
    assert r["latency"] <= LATENCY_LIMIT, (
        f"KeyboardInterrupt {r['latency']:.2f} s after SIGINT (the full call would take "
        f"~{r['estimated_full_seconds']:.1f} s)")
    assert r["inputs_unchanged"], "an input changed"
    assert r["inputs_freed"], "a reference to an input was kept after the interrupt"
    assert r["buffers_released"], "a buffer export of an input was not released after the interrupt"
    assert r["small_rel_error"] <= 1e-12, f"next call wrong: error {r['small_rel_error']:.2e} x sum(c)"
    assert r["medium_raised"] is None, f"the next (uninterrupted) call raised {r['medium_raised']}"
    assert r["medium_bitwise_equal"], "the next call's answer differs from the same call before the interrupt"


@pytest.mark.parametrize("threads", [1, 2])
def test_interrupt_w_compact_direct(rng, threads):
    """The issue's example: the exact w_compact at large K (N = 150, K = 3e6)."""
    check_report(run_child(rng, kernel="w_compact_direct", threads=threads, where="main"), threads)


@pytest.mark.parametrize("kernel", ["w_tilde", "w_tilde_data", "preload", "curvature_compact"])
def test_interrupt_other_long_kernels(rng, kernel):
    """w_tilde (M = 3000), the direct dirty-image weights (M = 3000, K = 1e6), the autoarray
    preload (150 x 150, K = 3e6), and F from w_compact (M ~ 70 000)."""
    check_report(run_child(rng, kernel=kernel, threads=2, where="main"), 2)


def test_interrupt_kernel_in_worker_thread(rng):
    """The kernel runs in a worker thread while the main thread waits: the main thread gets
    KeyboardInterrupt, and the worker's kernel stops too (raising KeyboardInterrupt, not
    returning an incomplete array) instead of running on for its full duration."""
    r = run_child(rng, kernel="w_compact_direct", threads=2, where="worker")
    assert not r.get("worker_stuck"), "the worker's kernel did not stop within 30 s of SIGINT"
    assert r["main_raised"] == "KeyboardInterrupt"
    assert r["main_latency"] <= LATENCY_LIMIT
    check_report(r, 2)


REPEAT_CHILD = r"""
import ctypes, json, os, signal, sys, threading, time
import numpy as np
import swiftw

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2

def malloc_in_use():
    info = libc.mallinfo2()
    return info.uordblks + info.hblkhd

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

rng = np.random.default_rng(int(sys.argv[1]))
swiftw.set_num_threads(2)
n, k = 120, 150_000
sigma = rng.uniform(0.5, 2.0, k)
uv = rng.normal(scale=2e4, size=(k, 2))

def one(delay):
    timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT))
    try:
        timer.start()
        swiftw.options(w_compact="direct")(swiftw.w_compact_curvature_interferometer_from)(n, sigma, uv, 0.1)
        out = "returned"
        timer.join()
    except KeyboardInterrupt:
        out = "interrupted"
    timer.join()
    return out

t0 = time.perf_counter()
swiftw.options(w_compact="direct")(swiftw.w_compact_curvature_interferometer_from)(n, sigma, uv, 0.1)
full = time.perf_counter() - t0
outcomes = [one(0.02) for _ in range(3)]   # warm-up
rss0, heap0 = rss(), malloc_in_use()
outcomes = [one(0.02 + 0.01 * (i % 5)) for i in range(25)]
print(json.dumps({"full": full, "outcomes": outcomes, "rss_growth": rss() - rss0,
                  "heap_growth": malloc_in_use() - heap0}))
"""


def test_repeated_interrupts_leak_nothing(rng):
    """25 interrupted calls: the C heap in use (glibc mallinfo2) and the resident size stay flat."""
    seed = int(rng.integers(0, 2**63 - 1))
    proc = subprocess.run([sys.executable, "-c", REPEAT_CHILD, str(seed)], capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert r["full"] >= 0.15, f"test too weak: the call takes only {r['full']:.3f} s"
    assert r["outcomes"].count("interrupted") >= 20, r["outcomes"]
    assert r["heap_growth"] < 1 << 20, f"C heap grew by {r['heap_growth'] / 2**20:.1f} MiB over 25 interrupts"
    assert r["rss_growth"] < 20 << 20, f"RSS grew by {r['rss_growth'] / 2**20:.1f} MiB over 25 interrupts"
