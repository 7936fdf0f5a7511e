"""Issue 6: F by the direct and the FFT method, `auto`, and the prepared CurvatureOperator, all
equal to the dense T^T W T to 1e-10 relative to max|F| on random ragged mappings."""
import numpy as np
import pytest

from bench import reference as ref
import swiftw
from conftest import make_problem


def _dense_f(p):
    w = ref.w_tilde_via_compact_from(p.w_compact, p.native)
    t = ref.mapping_matrix_from(p.idx, p.wts, p.S)
    return t.T @ w @ t


@pytest.fixture
def prob(rng):
    p = make_problem(rng)
    p.w_compact = ref.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    return p


@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
def test_methods_equal_dense(prob, method):
    expected = _dense_f(prob)
    with swiftw.options(curvature=method):
        got = swiftw.curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
            prob.w_compact, prob.native, prob.idx, prob.wts, prob.S)
    assert np.max(np.abs(got - expected)) <= 1e-10 * np.max(np.abs(expected))
    np.testing.assert_array_equal(got, got.T)


@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
def test_operator_equals_dense_and_reuses(prob, method):
    op = swiftw.CurvatureOperator(prob.w_compact, prob.native)
    expected = _dense_f(prob)
    for _ in range(2):  # the prepared state (and the FFT spectrum) serves repeated calls
        got = op.curvature_matrix(prob.idx, prob.wts, prob.S, method=method)
        assert np.max(np.abs(got - expected)) <= 1e-10 * np.max(np.abs(expected))
    # a different mapping on the same operator
    rng = np.random.default_rng(int(prob.S))
    idx2 = prob.idx.copy()
    valid = idx2 >= 0
    idx2[valid] = rng.integers(0, prob.S, int(valid.sum()))
    t2 = ref.mapping_matrix_from(idx2, prob.wts, prob.S)
    w = ref.w_tilde_via_compact_from(prob.w_compact, prob.native)
    expected2 = t2.T @ w @ t2
    got2 = op.curvature_matrix(idx2, prob.wts, prob.S, method=method)
    assert np.max(np.abs(got2 - expected2)) <= 1e-10 * np.max(np.abs(expected2))


def test_operator_log_likelihood_matches_function(prob):
    op = swiftw.CurvatureOperator(prob.w_compact, prob.native)
    args = (prob.dirty_image, prob.data, prob.noise_map)
    mapping = (prob.idx, prob.wts)
    want = swiftw.log_likelihood_function_via_w_compact_from(*args, prob.w_compact, prob.native, *mapping,
                                                             prob.neighbors, prob.neighbors_sizes)
    for method in ("direct", "fft"):
        got = op.log_likelihood(*args, *mapping, prob.neighbors, prob.neighbors_sizes, method=method)
        assert abs(got - want) <= 1e-9 * abs(want)


def _direct_cost(native, idx, pixels):
    """The direct method's cost model in NumPy: per source column with entries, its entries times
    the masked span (first to last masked column) of every box row from the column's first on."""
    rows = native[:, 0] - native[:, 0].min()
    cols = native[:, 1]
    span = np.zeros(rows.max() + 1)
    for r in range(rows.max() + 1):
        c = cols[rows == r]
        span[r] = c.max() - c.min() + 1 if c.size else 0
    from_row = np.cumsum(span[::-1])[::-1]  # masked slots from row r on
    total = 0.0
    for s in range(pixels):
        m, _ = np.nonzero((idx == s) & (np.cumsum(idx < 0, axis=1) == 0))
        if m.size:
            total += m.size * from_row[rows[m].min()]
    return total


def test_operator_costs_and_errors(prob):
    op = swiftw.CurvatureOperator(prob.w_compact, prob.native)
    costs = op.costs(prob.idx, prob.wts, prob.S)
    assert costs["direct"] == pytest.approx(_direct_cost(prob.native, prob.idx, prob.S), rel=1e-12)
    # The FFT's cost is per column with entries: leave half of them without.
    half = np.where(prob.idx >= prob.S // 2, 0, prob.idx)
    used = [np.unique(i[(i >= 0) & (np.cumsum(i < 0, axis=1) == 0)]).size for i in (prob.idx, half)]
    fft_half = op.costs(half, prob.wts, prob.S)["fft"]
    assert fft_half / costs["fft"] == pytest.approx(used[1] / used[0], rel=1e-12)
    bad = prob.idx.copy()
    bad[3, 0] = prob.S + 7
    with pytest.raises(IndexError, match="pix_indexes_for_sub_slim_index"):
        op.curvature_matrix(bad, prob.wts, prob.S)
    with pytest.raises(ValueError, match="method"):
        op.curvature_matrix(prob.idx, prob.wts, prob.S, method="fastest")
    with pytest.raises(ValueError):
        op.curvature_matrix(prob.idx[:-1], prob.wts[:-1], prob.S)  # rows != image pixels


def test_preload_methods_agree(prob):
    from swiftw import autoarray

    preload = ref.w_tilde_preload_from(prob.N, prob.sigma, prob.uv, prob.pixel_scale)
    sizes = np.argmax(np.concatenate([prob.idx, -np.ones((prob.M, 1), np.int64)], axis=1) < 0, axis=1)
    results = []
    for m in ("direct", "fft"):
        with swiftw.options(curvature=m):
            results.append(autoarray.curvature_matrix_via_w_tilde_curvature_preload_interferometer_from(
                preload, prob.idx, sizes, prob.wts, prob.native, prob.S))
    expected = _dense_f(prob)
    for got in results:
        assert np.max(np.abs(got - expected)) <= 1e-10 * np.max(np.abs(expected))
