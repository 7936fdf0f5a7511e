"""SPEC 3.5: the mapping matrix T, the data vector and the curvature matrix F = T^T W T.

F tolerances are relative to max|F|; T^T X products are relative to max(|T|^T |X|) (the
forward-error scale of a dot product).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bench import reference as ref
import swiftw
from conftest import MODES, assert_close, assert_symmetric, call, draw_mappings, make_problem, random_compact

F_REL = 1e-10  # max|err| <= F_REL * max|F|

COMPACT_NAMES = [
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_tilde_curvature_preload_interferometer_from",
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from",
]
SPARSE_W_NAMES = [
    "curvature_matrix_via_w_tilde_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_wilde_sparse_mapping_matrix_from",
]


def _w(p):
    return ref.w_tilde_curvature_interferometer_from(p.sigma, p.uv, p.grid)


def _check_f(got, want, what):
    assert isinstance(got, np.ndarray) and got.dtype == np.float64, f"{what}: {type(got)}"
    scale = float(np.max(np.abs(want)))
    assert_close(got, want, scale=scale, rel=F_REL, what=what)
    assert_symmetric(got, rel=1e-12, what=what)


def _with_garbage_after_sentinel(rng, idx, wts, s):
    """Copy of (idx, wts) where, in some rows, valid source indices follow the first -1 (they
    must be ignored: a row ends at its first -1), and the expected (idx, wts) with them cleared."""
    idx2 = idx.copy()
    b = idx.shape[1]
    rows = np.flatnonzero(idx[:, -1] == -1)
    assert rows.size > 0, "test bug: no ragged rows"
    for r in rows:
        first = int(np.flatnonzero(idx[r] == -1)[0])
        for col in range(first + 1, b):
            idx2[r, col] = rng.integers(0, s)
    return idx2, wts


# ---------------------------------------------------------------------------------------------
# mapping matrix
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_mapping_matrix_from(problem, mode):
    p = problem
    got = call("mapping_matrix_from", mode, pix_indexes_for_sub_slim_index=p.idx,
               pix_weights_for_sub_slim_index=p.wts, pixels=p.S)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (p.M, p.S)
    want = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    assert_close(got, want, scale=np.max(p.wts), rel=1e-15, what="T")
    # the fixture really is ragged, and the weights behind the -1 really are non-zero
    assert np.any(p.idx == -1) and np.all(p.wts > 0)


def test_mapping_matrix_ignores_entries_after_first_sentinel(rng):
    p = make_problem(rng)
    idx2, wts = _with_garbage_after_sentinel(rng, p.idx, p.wts, p.S)
    got = swiftw.mapping_matrix_from(idx2, wts, p.S)
    assert_close(got, ref.mapping_matrix_from(p.idx, p.wts, p.S), scale=np.max(p.wts), rel=1e-15,
                 what="T with valid indices after the first -1")


def test_mapping_matrix_accumulates_duplicates(rng):
    """T[m, s] += weight: a source index repeated within a row adds up."""
    m, s, b = 300, 40, 4
    idx = rng.integers(0, 6, size=(m, b))  # few distinct values: many duplicates
    idx[::3, 2:] = -1
    wts = rng.uniform(0.1, 1.0, size=(m, b))
    got = swiftw.mapping_matrix_from(idx, wts, s)
    assert_close(got, ref.mapping_matrix_from(idx, wts, s), scale=np.max(wts), rel=1e-14, what="T with duplicates")


def test_mapping_matrix_empty_rows(rng):
    """A row that starts with -1 maps its image pixel to nothing (a zero row of T)."""
    p = make_problem(rng)
    idx = p.idx.copy()
    empty = rng.choice(p.M, size=max(1, p.M // 10), replace=False)
    idx[empty, :] = -1
    got = swiftw.mapping_matrix_from(idx, p.wts, p.S)
    assert_close(got, ref.mapping_matrix_from(idx, p.wts, p.S), scale=np.max(p.wts), rel=1e-15, what="T empty rows")
    assert np.all(got[empty] == 0.0)


def test_mapping_matrix_pixels_beyond_used(rng):
    """pixels larger than any index used gives trailing zero columns."""
    p = make_problem(rng)
    got = swiftw.mapping_matrix_from(p.idx, p.wts, p.S + 17)
    assert got.shape == (p.M, p.S + 17)
    assert_close(got, ref.mapping_matrix_from(p.idx, p.wts, p.S + 17), scale=np.max(p.wts), rel=1e-15, what="T")


# ---------------------------------------------------------------------------------------------
# data vector, dense curvature matrix
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_data_vector_from(problem, mode):
    p = problem
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    got = call("data_vector_from", mode, mapping_matrix=t, dirty_image=p.dirty_image)
    assert isinstance(got, np.ndarray) and got.shape == (p.S,) and got.dtype == np.float64
    scale = np.max(np.abs(p.dirty_image) @ np.abs(t))
    assert_close(got, ref.data_vector_from(t, p.dirty_image), scale=scale, rel=1e-13, what="data vector")


@pytest.mark.parametrize("mode", MODES)
def test_curvature_matrix_via_w_tilde_from(problem, mode):
    p = problem
    w = _w(p)
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    got = call("curvature_matrix_via_w_tilde_from", mode, w_tilde=w, mapping_matrix=t)
    assert got.shape == (p.S, p.S)
    _check_f(got, ref.curvature_matrix_via_w_tilde_from(w, t), "F dense")


def test_curvature_matrix_via_w_tilde_from_general_mapping(rng):
    """A dense, signed mapping matrix (not just the sparse pattern) and a random symmetric W."""
    m, s = int(rng.integers(100, 400)), int(rng.integers(10, 90))
    t = rng.normal(size=(m, s))
    a = rng.normal(size=(m, m))
    w = a + a.T
    _check_f(swiftw.curvature_matrix_via_w_tilde_from(w, t), t.T @ w @ t, "F dense general")


# ---------------------------------------------------------------------------------------------
# T^T X without forming T
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_sparse_mapping_matrix_transpose_matmul_square(problem, mode):
    p = problem
    w = _w(p)
    got = call("sparse_mapping_matrix_transpose_matmul", mode, matrix=w,
               pix_indexes_for_sub_slim_index=p.idx, pix_weights_for_sub_slim_index=p.wts, pixels=p.S)
    assert isinstance(got, np.ndarray) and got.shape == (p.S, p.M) and got.dtype == np.float64
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    scale = np.max(np.abs(t).T @ np.abs(w))
    assert_close(got, ref.sparse_mapping_matrix_transpose_matmul(w, p.idx, p.wts, p.S), scale=scale, rel=1e-13,
                 what="T^T W")


def test_sparse_mapping_matrix_transpose_matmul_rectangular(rng):
    p = make_problem(rng)
    x = rng.normal(size=(p.M, int(rng.integers(1, 40))))
    got = swiftw.sparse_mapping_matrix_transpose_matmul(x, p.idx, p.wts, p.S)
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    assert_close(got, t.T @ x, scale=np.max(np.abs(t).T @ np.abs(x)), rel=1e-13, what="T^T X")


def test_sparse_mapping_matrix_transpose_matmul_sentinel(rng):
    p = make_problem(rng)
    idx2, wts = _with_garbage_after_sentinel(rng, p.idx, p.wts, p.S)
    x = rng.normal(size=(p.M, 9))
    got = swiftw.sparse_mapping_matrix_transpose_matmul(x, idx2, wts, p.S)
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    assert_close(got, t.T @ x, scale=np.max(np.abs(t).T @ np.abs(x)), rel=1e-13, what="T^T X after -1")


# ---------------------------------------------------------------------------------------------
# F from W (in memory) and sparse T
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SPARSE_W_NAMES)
@pytest.mark.parametrize("mode", MODES)
def test_curvature_matrix_via_w_tilde_sparse(problem, name, mode):
    p = problem
    w = _w(p)
    got = call(name, mode, w_tilde=w, pix_indexes_for_sub_slim_index=p.idx,
               pix_weights_for_sub_slim_index=p.wts, pixels=p.S)
    assert got.shape == (p.S, p.S)
    _check_f(got, ref.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w, p.idx, p.wts, p.S), name)


@pytest.mark.parametrize("name", SPARSE_W_NAMES)
def test_curvature_matrix_via_w_tilde_sparse_edge_cases(rng, name):
    """Valid indices after the first -1 are ignored; duplicates accumulate; empty rows are empty."""
    p = make_problem(rng)
    w = _w(p)
    idx2, wts = _with_garbage_after_sentinel(rng, p.idx, p.wts, p.S)
    got = getattr(swiftw, name)(w, idx2, wts, p.S)
    _check_f(got, ref.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w, p.idx, p.wts, p.S), f"{name} after -1")

    idx3 = p.idx.copy()
    idx3[::5, 1] = idx3[::5, 0]  # duplicate within a row
    idx3[1::7, :] = -1  # empty rows
    got = getattr(swiftw, name)(w, idx3, wts, p.S)
    _check_f(got, ref.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w, idx3, wts, p.S), f"{name} dup/empty")


def test_sparse_and_dense_curvature_agree(problem):
    p = problem
    w = _w(p)
    t = swiftw.mapping_matrix_from(p.idx, p.wts, p.S)
    dense = swiftw.curvature_matrix_via_w_tilde_from(w, t)
    sparse = swiftw.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w, p.idx, p.wts, p.S)
    assert_close(sparse, dense, scale=np.max(np.abs(dense)), rel=F_REL, what="sparse vs dense F")


# ---------------------------------------------------------------------------------------------
# F from the compact form and sparse T
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", COMPACT_NAMES)
@pytest.mark.parametrize("mode", MODES)
def test_curvature_matrix_via_w_compact(problem, name, mode):
    p = problem
    wc = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    got = call(name, mode, w_compact=wc, native_index_for_slim_index=p.native,
               pix_indexes_for_sub_slim_index=p.idx, pix_weights_for_sub_slim_index=p.wts, pixels=p.S)
    assert got.shape == (p.S, p.S)
    want = ref.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, p.native, p.idx, p.wts, p.S)
    _check_f(got, want, name)
    # and it is the F of the direct W of the same lattice
    f_direct = ref.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(_w(p), p.idx, p.wts, p.S)
    assert_close(got, f_direct, scale=np.max(np.abs(f_direct)), rel=F_REL, what=f"{name} vs F from direct W")


@pytest.mark.parametrize("name", COMPACT_NAMES)
def test_curvature_matrix_via_w_compact_random_compact(rng, name):
    """A random (row-0-even) compact array checks the offset bookkeeping, not just cos symmetry."""
    p = make_problem(rng)
    wc = random_compact(rng, p.N)
    got = getattr(swiftw, name)(wc, p.native, p.idx, p.wts, p.S)
    _check_f(got, ref.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, p.native, p.idx, p.wts, p.S),
             f"{name} random compact")


@pytest.mark.parametrize("name", COMPACT_NAMES)
def test_curvature_matrix_via_w_compact_edge_cases(rng, name):
    p = make_problem(rng)
    wc = random_compact(rng, p.N)
    idx2, wts = _with_garbage_after_sentinel(rng, p.idx, p.wts, p.S)
    got = getattr(swiftw, name)(wc, p.native, idx2, wts, p.S)
    want = ref.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, p.native, p.idx, p.wts, p.S)
    _check_f(got, want, f"{name} after -1")

    idx3 = p.idx.copy()
    idx3[::5, 1] = idx3[::5, 0]
    idx3[1::7, :] = -1
    got = getattr(swiftw, name)(wc, p.native, idx3, wts, p.S)
    want = ref.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, p.native, idx3, wts, p.S)
    _check_f(got, want, f"{name} dup/empty")


@pytest.mark.parametrize("name", COMPACT_NAMES)
def test_curvature_matrix_via_w_compact_scattered_pixels(rng, name):
    """Image pixels anywhere on the grid and in any order (not a row-major disc)."""
    n_grid = int(rng.integers(8, 30))
    m = int(rng.integers(20, min(600, n_grid * n_grid)))
    flat = rng.choice(n_grid * n_grid, size=m, replace=False)
    native = np.stack([flat // n_grid, flat % n_grid], axis=1).astype(np.int64)
    s = int(rng.integers(10, 120))
    idx, wts = draw_mappings(rng, m, s, int(rng.integers(3, 5)))
    wc = random_compact(rng, n_grid)
    got = getattr(swiftw, name)(wc, native, idx, wts, s)
    _check_f(got, ref.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, native, idx, wts, s),
             f"{name} scattered")


def test_compact_and_w_tilde_routes_agree(problem):
    p = problem
    wc = swiftw.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    w = swiftw.w_tilde_via_compact_from(wc, p.native)
    a = swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(wc, p.native, p.idx, p.wts, p.S)
    b = swiftw.curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w, p.idx, p.wts, p.S)
    c = swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(wc, p.native, p.idx, p.wts, p.S)
    scale = np.max(np.abs(b))
    assert_close(a, b, scale=scale, rel=F_REL, what="compact vs w_tilde route")
    assert_close(c, b, scale=scale, rel=F_REL, what="compact direct vs w_tilde route")


# ---------------------------------------------------------------------------------------------
# property-based: small and degenerate shapes (M, S, B, N down to 1)
# ---------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_grid=st.integers(1, 9),
    s=st.integers(1, 12),
    b=st.integers(1, 5),
    seed=st.integers(0, 2**63 - 1),
    data=st.data(),
)
def test_small_shapes_property(n_grid, s, b, seed, data):
    rng = np.random.default_rng(seed)
    m = data.draw(st.integers(1, n_grid * n_grid), label="m")
    flat = rng.choice(n_grid * n_grid, size=m, replace=False)
    native = np.stack([flat // n_grid, flat % n_grid], axis=1).astype(np.int64)
    idx = rng.integers(-1, s, size=(m, b))  # -1 anywhere, duplicates allowed
    wts = rng.uniform(-1.0, 1.0, size=(m, b)) + 1.5
    wc = random_compact(rng, n_grid)
    w = ref.w_tilde_via_compact_from(wc, native)

    t = swiftw.mapping_matrix_from(idx, wts, s)
    t_ref = ref.mapping_matrix_from(idx, wts, s)
    assert_close(t, t_ref, scale=np.max(wts), rel=1e-14, what="T")
    f_ref = t_ref.T @ w @ t_ref
    scale = max(float(np.max(np.abs(t_ref).T @ np.abs(w) @ np.abs(t_ref))), 1e-300)
    for name in SPARSE_W_NAMES:
        assert_close(getattr(swiftw, name)(w, idx, wts, s), f_ref, scale=scale, rel=1e-12, what=name)
    for name in COMPACT_NAMES:
        assert_close(getattr(swiftw, name)(wc, native, idx, wts, s), f_ref, scale=scale, rel=1e-12, what=name)
    assert_close(swiftw.curvature_matrix_via_w_tilde_from(w, t_ref), f_ref, scale=scale, rel=1e-12, what="dense F")
    x = rng.normal(size=(m, 3))
    assert_close(swiftw.sparse_mapping_matrix_transpose_matmul(x, idx, wts, s), t_ref.T @ x,
                 scale=max(float(np.max(np.abs(t_ref).T @ np.abs(x))), 1e-300), rel=1e-13, what="T^T X")
