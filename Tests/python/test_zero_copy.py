"""Zero copy (SPEC 1: the shim never copies a float64 C-contiguous array), inputs left untouched,
results that are fresh arrays.

NumPy reports its allocations to tracemalloc, as does CPython's allocator: a copy of an input made
anywhere on the Python side (np.ascontiguousarray, astype, PyMem_Malloc in the shim) shows as a
peak of about the input's size. Each test first proves the instrument sees such a copy.
"""

import gc
import tracemalloc

import numpy as np
import pytest

from bench import reference as ref
import swiftw
from conftest import SPEC_PARAMS, draw_mappings, make_problem, small_problem, valid_kwargs

PEAK_FRACTION = 0.25  # peak allowed during the call, as a fraction of the large input's size


def _peak_during(fn):
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak - base


def _instrument_sees_copy_of(x):
    _, peak = _peak_during(lambda: np.array(x, copy=True))
    assert peak >= 0.9 * x.nbytes, f"tracemalloc does not see NumPy allocations here (peak {peak} B)"


@pytest.fixture
def big_w(rng):
    """A symmetric float64 C-contiguous W of about 12 MB and matching sparse mappings."""
    m = int(rng.integers(1200, 1300))
    a = rng.normal(size=(m, m))
    w = a + a.T
    del a
    s = int(rng.integers(80, 160))
    idx, wts = draw_mappings(rng, m, s, 3)
    assert w.flags.c_contiguous and w.dtype == np.float64
    return w, idx, wts, s


@pytest.mark.parametrize("name", ["curvature_matrix_via_w_tilde_sparse_mapping_matrix_from",
                                  "curvature_matrix_via_w_wilde_sparse_mapping_matrix_from"])
def test_sparse_curvature_does_not_copy_w_tilde(big_w, name):
    w, idx, wts, s = big_w
    _instrument_sees_copy_of(w)
    fn = getattr(swiftw, name)
    fn(w, idx, wts, s)  # warm-up: first-call allocations (caches, thread pools) are not copies
    f, peak = _peak_during(lambda: fn(w, idx, wts, s))
    assert f.shape == (s, s)
    assert peak < PEAK_FRACTION * w.nbytes, f"{name}: peak {peak / 1e6:.2f} MB during the call, W is {w.nbytes / 1e6:.2f} MB"


def test_dense_curvature_does_not_copy_w_tilde(big_w):
    w, idx, wts, s = big_w
    t = ref.mapping_matrix_from(idx, wts, s)
    _instrument_sees_copy_of(w)
    swiftw.curvature_matrix_via_w_tilde_from(w, t)
    f, peak = _peak_during(lambda: swiftw.curvature_matrix_via_w_tilde_from(w, t))
    assert peak < PEAK_FRACTION * w.nbytes, f"peak {peak / 1e6:.2f} MB, W is {w.nbytes / 1e6:.2f} MB"


def test_transpose_matmul_does_not_copy_matrix(big_w):
    w, idx, wts, s = big_w
    _instrument_sees_copy_of(w)
    swiftw.sparse_mapping_matrix_transpose_matmul(w, idx, wts, s)
    out, peak = _peak_during(lambda: swiftw.sparse_mapping_matrix_transpose_matmul(w, idx, wts, s))
    # the (S, M) result itself is allowed
    assert peak < PEAK_FRACTION * w.nbytes + out.nbytes, f"peak {peak / 1e6:.2f} MB, W is {w.nbytes / 1e6:.2f} MB"


def test_likelihood_does_not_copy_w_tilde(rng):
    p = make_problem(rng, n_grid=44, k=300, s=100)
    w = ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)
    _instrument_sees_copy_of(w)
    args = (p.dirty_image, p.data, p.noise_map, w, p.idx, p.wts, p.neighbors, p.neighbors_sizes)
    swiftw.log_likelihood_function_via_w_tilde_from(*args)
    _, peak = _peak_during(lambda: swiftw.log_likelihood_function_via_w_tilde_from(*args))
    assert peak < PEAK_FRACTION * w.nbytes, f"peak {peak / 1e6:.2f} MB, W is {w.nbytes / 1e6:.2f} MB"


def test_fma_does_not_copy(rng):
    n = 2_000_000
    out = rng.normal(size=n)
    arrays = [rng.normal(size=n) for _ in range(4)]
    _instrument_sees_copy_of(out)
    swiftw.fma(out, [0.1, 0.2, 0.3, 0.4], *arrays)
    _, peak = _peak_during(lambda: swiftw.fma(out, [0.1, 0.2, 0.3, 0.4], *arrays))
    assert peak < 0.1 * out.nbytes, f"fma: peak {peak / 1e6:.2f} MB with arrays of {out.nbytes / 1e6:.2f} MB"


@pytest.mark.parametrize("name", ["w_compact_curvature_interferometer_from", "w_tilde_data_interferometer_from"])
def test_many_visibilities_not_copied(rng, name):
    """K = 3e5 visibilities: no Python-side copy of uv_wavelengths and no O(K) temporaries."""
    p = make_problem(rng, n_grid=12, k=300_000, s=30)
    _instrument_sees_copy_of(p.uv)
    if name == "w_compact_curvature_interferometer_from":
        fn = lambda: swiftw.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)  # noqa: E731
    else:
        fn = lambda: swiftw.w_tilde_data_interferometer_from(p.visibilities_real, p.sigma, p.uv, p.grid)  # noqa: E731
    fn()
    _, peak = _peak_during(fn)
    assert peak < PEAK_FRACTION * p.uv.nbytes, f"{name}: peak {peak / 1e6:.2f} MB, uv is {p.uv.nbytes / 1e6:.2f} MB"


# ---------------------------------------------------------------------------------------------
# inputs untouched, results fresh
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SPEC_PARAMS))
def test_inputs_untouched_and_result_fresh(rng, name):
    p = small_problem(rng)
    kw = valid_kwargs(name, p)
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    fn = getattr(swiftw, name)
    result = fn(*[kw[prm] for prm in SPEC_PARAMS[name]])
    for k, v in kw.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(v, before[k], err_msg=f"{name} modified its input {k}")
    if isinstance(result, np.ndarray):
        for k, v in kw.items():
            if isinstance(v, np.ndarray):
                assert not np.shares_memory(result, v), f"{name}: result shares memory with input {k}"
        assert result.flags.writeable, f"{name}: result is read-only"
        if result.ndim >= 1:
            assert result.flags.c_contiguous, f"{name}: result not C-contiguous"


def test_repeated_calls_are_independent(rng):
    """Two calls return two arrays: writing into one does not change the other."""
    p = small_problem(rng)
    a = swiftw.mapping_matrix_from(p.idx, p.wts, p.S)
    b = swiftw.mapping_matrix_from(p.idx, p.wts, p.S)
    assert not np.shares_memory(a, b)
    a[...] = 12345.0
    np.testing.assert_array_equal(b, ref.mapping_matrix_from(p.idx, p.wts, p.S))
