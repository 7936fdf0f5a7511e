"""No leaks (issue 5): thousands of calls through success and error paths keep memory flat, and
every acquired buffer is released on every path.

Instruments:
- resident memory from /proc/self/statm, and the C heap in use from glibc's `mallinfo2`
  (uordblks + hblkhd: every malloc, including the Swift runtime's and NumPy's data, on every
  arena), which sees a leak of a few hundred bytes per call where RSS would not;
- buffer exports: inputs whose memory belongs to a `bytearray` (a NumPy view made by
  `np.frombuffer`). A bytearray refuses to resize while any export of it is alive
  (BufferError), so a Py_buffer that the shim acquired and never released -- or a reference to
  the input array it kept -- shows as a bytearray that cannot grow once the caller has dropped
  its arrays. (NumPy's own `ndarray.resize(refcheck=False)` does not see buffer exports, so it
  is not used.) The instrument is checked to see a deliberately held export;
- reference counts of the inputs, before and after.

Error paths include errors raised by the Swift bridge (TypeError for a buffer of the wrong format,
ValueError for a shape, IndexError for an index) and by the C shim itself (a non-contiguous
buffer, an integer too large for a double, too many arguments), reached through the private
`swiftw._swiftw` module where the public functions would convert the input first.
"""

import ctypes
import gc
import os
import sys

import numpy as np
import pytest

from bench import reference as ref
import swiftw
import swiftw.autoarray as aa
from conftest import random_compact, random_preload, small_problem
from swiftw import _swiftw


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]


_libc = ctypes.CDLL(None)
_HAVE_MALLINFO2 = hasattr(_libc, "mallinfo2")
if _HAVE_MALLINFO2:
    _libc.mallinfo2.restype = _MallInfo2


def heap_in_use():
    if not _HAVE_MALLINFO2:
        return 0
    info = _libc.mallinfo2()
    return int(info.uordblks + info.hblkhd)


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def backed(a):
    """(bytearray, float64/int64 ndarray view of it) holding a copy of `a`."""
    a = np.ascontiguousarray(a)
    store = bytearray(max(a.nbytes, 8))
    view = np.frombuffer(store, dtype=a.dtype, count=a.size).reshape(a.shape)
    view[...] = a
    return store, view


def resizable(store):
    try:
        store.extend(b"\0" * 8)
        return True
    except BufferError:
        return False


def test_instrument_sees_a_held_export():
    store, view = backed(np.arange(10.0))
    held = memoryview(view)
    del view
    gc.collect()
    assert not resizable(store), "a bytearray with a live export should refuse to resize"
    held.release()
    assert resizable(store)


# ---------------------------------------------------------------------------------------------
# the call mix
# ---------------------------------------------------------------------------------------------


def _calls(rng):
    """(label, expected exception or None, zero-argument call)."""
    p = small_problem(rng)
    wc = random_compact(rng, p.N)
    wc_true = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)  # F + H is SPD
    pre = random_preload(rng, p.N)
    w = ref.w_tilde_via_compact_from(wc, p.native)
    sub = ref.draw_sub_mapping(rng, p.M, p.S, p.B, sub_sizes=(1, 2))
    bad_idx = p.idx.copy()
    bad_idx[int(rng.integers(0, p.M)), 0] = p.S + 3
    bad_slim = sub.slim.copy()
    bad_slim[0] = p.M
    out_f = np.empty((p.S, p.S))
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    noncontig = np.ascontiguousarray(np.repeat(w, 2, axis=1))[:, ::2]
    fma_out = rng.normal(size=1000)
    fma_in = rng.normal(size=1000)
    return [
        ("w_compact", None, lambda: swiftw.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)),
        ("w_compact nufft", None, lambda: swiftw.options(w_compact="nufft")(
            swiftw.w_compact_curvature_interferometer_from)(
            p.N, p.sigma, p.uv, p.pixel_scale)),
        ("F compact", None, lambda: swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
            wc, p.native, p.idx, p.wts, p.S)),
        ("F sparse", None, lambda: swiftw.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w, p.idx, p.wts, p.S)),
        ("log L", None, lambda: swiftw.log_likelihood_function_via_w_compact_from(
            p.dirty_image, p.data, p.noise_map, wc_true, p.native, p.idx, p.wts, p.neighbors, p.neighbors_sizes)),
        ("aa mapping", None, lambda: aa.mapping_matrix_from(sub.pix_indexes, sub.pix_size, sub.pix_weights, p.S, p.M,
                                                            sub.slim, sub.sub_fraction)),
        ("aa F preload", None, lambda: aa.curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(
            pre, p.idx, np.ones(p.M, np.int64), p.wts, p.native, p.S)),
        ("fma", None, lambda: swiftw.fma(fma_out, [1e-9], fma_in)),
        # errors raised by the Swift bridge
        ("Swift IndexError", IndexError, lambda: swiftw.mapping_matrix_from(bad_idx, p.wts, p.S)),
        ("Swift IndexError (F)", IndexError, lambda: swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
            wc, p.native, bad_idx, p.wts, p.S)),
        ("Swift IndexError (aa)", IndexError, lambda: aa.mapping_matrix_from(
            sub.pix_indexes, sub.pix_size, sub.pix_weights, p.S, p.M, bad_slim, sub.sub_fraction)),
        ("Swift ValueError", ValueError, lambda: swiftw.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(
            w[:, :-1], p.idx, p.wts, p.S)),
        ("Swift ValueError (native)", ValueError, lambda: swiftw.w_tilde_via_compact_from(
            wc, np.ascontiguousarray(p.native[:, :1]))),
        ("Swift TypeError", TypeError, lambda: _swiftw.curvature_w_tilde_sparse(
            out_f, w, p.idx.astype(np.float64), p.wts, p.S)),
        # errors raised by the Python layer
        ("Python TypeError", TypeError, lambda: swiftw.mapping_matrix_from(p.idx.astype(np.float64), p.wts, p.S)),
        ("Python ValueError", ValueError, lambda: swiftw.options(w_compact="nope")(
            swiftw.w_compact_curvature_interferometer_from)(
            p.N, p.sigma, p.uv, p.pixel_scale)),
        ("MemoryError", MemoryError, lambda: swiftw.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(
            w, p.idx, p.wts, 10**9)),
        # errors raised by the C shim after some buffers were acquired
        ("shim non-contiguous", (ValueError, BufferError, TypeError), lambda: _swiftw.curvature_dense_mapping(
            out_f, noncontig, t)),
        ("shim OverflowError", OverflowError, lambda: _swiftw.curvature_w_tilde_sparse(out_f, w, p.idx, p.wts, 2**1100)),
        ("shim too many arguments", ValueError, lambda: _swiftw.mapping_matrix(*([out_f] * 70))),
    ]


def _run(calls, n):
    seen = {}
    for i in range(n):
        label, expected, fn = calls[i % len(calls)]
        if expected is None:
            fn()
            outcome = None
        else:
            try:
                fn()
                outcome = "returned"
            except expected:
                outcome = expected
        seen[label] = outcome
    return seen


def test_memory_flat_over_thousands_of_calls(rng):
    calls = _calls(rng)
    seen = _run(calls, 2 * len(calls) * 10)  # warm-up: caches, thread pools, plans
    for label, expected, _ in calls:
        assert seen[label] == expected, f"{label}: expected {expected}, got {seen[label]}"
    gc.collect()
    rss0, heap0 = rss(), heap_in_use()
    _run(calls, 3000)
    gc.collect()
    rss_growth, heap_growth = rss() - rss0, heap_in_use() - heap0
    assert heap_growth < 512 << 10, f"C heap in use grew by {heap_growth / 2**20:.2f} MiB over 3000 calls"
    assert rss_growth < 20 << 20, f"RSS grew by {rss_growth / 2**20:.1f} MiB over 3000 calls"


def test_error_path_memory_flat_per_path(rng):
    """Each error path alone, 400 times: the C heap does not grow (a leak of a few hundred bytes
    per call on any single path shows here, where the mix would dilute it)."""
    failures = []
    for label, expected, fn in _calls(rng):
        if expected is None:
            continue
        _run([(label, expected, fn)], 50)
        gc.collect()
        heap0 = heap_in_use()
        _run([(label, expected, fn)], 400)
        gc.collect()
        growth = heap_in_use() - heap0
        if growth > 32 << 10:
            failures.append(f"{label}: +{growth / 1024:.0f} KiB over 400 calls")
    assert not failures, "; ".join(failures)


# ---------------------------------------------------------------------------------------------
# every buffer released, no reference kept, on every path
# ---------------------------------------------------------------------------------------------


def _buffer_cases(rng):
    """(label, expected exception or None, arrays, call(arrays)); the arrays get bytearray-backed."""
    p = small_problem(rng)
    wc = random_compact(rng, p.N)
    wc_true = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)  # F + H is SPD
    w = ref.w_tilde_via_compact_from(wc, p.native)
    bad_idx = p.idx.copy()
    bad_idx[0, 0] = p.S
    sub = ref.draw_sub_mapping(rng, p.M, p.S, p.B, sub_sizes=(1, 2))
    s = p.S
    return [
        ("success", None, [wc, p.native, p.idx, p.wts],
         lambda a: swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(a[0], a[1], a[2], a[3], s)),
        ("success (aa)", None, [sub.pix_indexes, sub.pix_size, sub.pix_weights, sub.slim, sub.sub_fraction],
         lambda a: aa.mapping_matrix_from(a[0], a[1], a[2], s, p.M, a[3], a[4])),
        ("success (log L)", None, [p.dirty_image, wc_true, p.native, p.idx, p.wts, p.neighbors, p.neighbors_sizes],
         lambda a: swiftw.log_likelihood_function_via_w_compact_from(a[0], p.data, p.noise_map, *a[1:])),
        ("Swift IndexError", IndexError, [wc, p.native, bad_idx, p.wts],
         lambda a: swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(a[0], a[1], a[2], a[3], s)),
        ("Swift ValueError", ValueError, [w, p.idx, p.wts[:-1]],
         lambda a: swiftw.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(a[0], a[1], a[2], s)),
        ("Swift TypeError", TypeError, [w, p.idx.astype(np.float64), p.wts],
         lambda a: _swiftw.curvature_w_tilde_sparse(np.empty((s, s)), a[0], a[1], a[2], s)),
        ("Python TypeError", TypeError, [w, p.idx.astype(np.float64), p.wts],
         lambda a: swiftw.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(a[0], a[1], a[2], s)),
        ("MemoryError", MemoryError, [w, p.idx, p.wts],
         lambda a: swiftw.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(a[0], a[1], a[2], 10**9)),
        ("shim OverflowError", OverflowError, [w, p.idx, p.wts],
         lambda a: _swiftw.curvature_w_tilde_sparse(np.empty((s, s)), a[0], a[1], a[2], 2**1100)),
        ("shim non-contiguous after acquired ones", (ValueError, BufferError, TypeError), [w, p.idx, p.wts],
         lambda a: _swiftw.curvature_w_tilde_sparse(np.empty((s, s)), a[0], a[1], np.asfortranarray(
             np.repeat(a[2], 2, axis=1))[:, ::2], s)),
        ("shim too many arguments", ValueError, [w, p.idx, p.wts],
         lambda a: _swiftw.curvature_w_tilde_sparse(np.empty((s, s)), a[0], a[1], a[2], *([a[0]] * 64))),
    ]


def _case_ids():
    return [c[0] for c in _buffer_cases(np.random.default_rng(0))]


@pytest.mark.parametrize("case", range(len(_case_ids())), ids=_case_ids())
def test_buffers_released_and_no_reference_kept(rng, case):
    label, expected, arrays, call = _buffer_cases(rng)[case]
    stores, views = zip(*(backed(a) for a in arrays))
    views = list(views)
    counts = [sys.getrefcount(v) for v in views]
    for _ in range(3):
        if expected is None:
            call(views)
        else:
            with pytest.raises(expected):
                call(views)
    gc.collect()
    after = [sys.getrefcount(v) for v in views]
    assert after == counts, f"{label}: reference counts of the inputs changed: {counts} -> {after}"
    del views
    gc.collect()
    stuck = [i for i, store in enumerate(stores) if not resizable(store)]
    assert not stuck, f"{label}: the buffers of inputs {stuck} are still exported after the call"


def test_output_argument_released_on_errors(rng):
    """The output buffer the Python layer hands to the bridge is released too: an output backed
    by a bytearray can grow after a failing kernel call."""
    p = small_problem(rng)
    bad_idx = p.idx.copy()
    bad_idx[0, 0] = -5
    for idx, expected in ((p.idx, None), (bad_idx, IndexError)):
        store, out = backed(np.zeros((p.M, p.S)))
        if expected is None:
            _swiftw.mapping_matrix(out, idx, p.wts, p.S)
            np.testing.assert_array_equal(out, ref.mapping_matrix_from(idx, p.wts, p.S))
        else:
            with pytest.raises(expected):
                _swiftw.mapping_matrix(out, idx, p.wts, p.S)
        del out
        gc.collect()
        assert resizable(store)


# ---------------------------------------------------------------------------------------------
# CurvatureOperator: released with the Python object; keeps no pointer into its inputs
# ---------------------------------------------------------------------------------------------

needs_operator = pytest.mark.skipif(not hasattr(swiftw, "CurvatureOperator"), reason="no CurvatureOperator")


@needs_operator
def test_curvature_operators_are_released(rng):
    """300 operators created, used (both methods, and an error path) and dropped: the C heap in
    use stays flat."""
    p = small_problem(rng)
    wc = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    bad_idx = p.idx.copy()
    bad_idx[0, 0] = p.S

    def cycle():
        op = swiftw.CurvatureOperator(wc, p.native)
        op.curvature_matrix(p.idx, p.wts, p.S, method="fft")
        op.curvature_matrix(p.idx, p.wts, p.S, method="direct")
        with pytest.raises(IndexError):
            op.curvature_matrix(bad_idx, p.wts, p.S)

    for _ in range(30):
        cycle()
    gc.collect()
    heap0 = heap_in_use()
    for _ in range(300):
        cycle()
    gc.collect()
    growth = heap_in_use() - heap0
    assert growth < 256 << 10, f"C heap grew by {growth / 2**20:.2f} MiB over 300 operators"


@needs_operator
def test_curvature_operator_keeps_no_pointer_into_its_inputs(rng):
    """The operator is built from arrays whose memory belongs to bytearrays; the arrays are then
    dropped and the bytearrays grown (their memory moves) and overwritten. The operator must have
    released its buffers and must still give the right F (it owns what it keeps)."""
    p = small_problem(rng)
    wc = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    want = ref.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, p.native, p.idx, p.wts, p.S)
    stores, views = zip(*(backed(a) for a in (wc, p.native)))
    op = swiftw.CurvatureOperator(*views)
    del views
    gc.collect()
    for store in stores:
        assert resizable(store), "the operator still holds a buffer export of an input"
        store.extend(b"\xff" * (1 << 20))  # reallocates: the old memory is freed
        store[:] = b"\xff" * len(store)
    for method in ("direct", "fft"):
        got = op.curvature_matrix(p.idx, p.wts, p.S, method=method)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * np.max(np.abs(want)), err_msg=method)
