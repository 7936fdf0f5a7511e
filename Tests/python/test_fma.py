"""SPEC 3.1: fma(out, weights, *arrays) -- out += sum_a weights[a] * arrays[a], in place.

Tolerance: per element, |err| <= c * eps * (|out0| + sum_a |w_a a_a|) * (A + 1), i.e. a few
roundings per term, in the dtype of `out`.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from bench import reference as ref
import swiftw

NAMES = ["fma", "_fma", "inplace_weighted_sum"]


def _bound(out0, weights, arrays, dtype):
    eps = np.finfo(dtype).eps
    mag = np.abs(out0.astype(np.float64))
    for w, a in zip(weights, arrays):
        mag = mag + abs(float(w)) * np.abs(np.asarray(a, dtype=np.float64))
    return 4.0 * eps * (len(arrays) + 1) * mag


def _check(out, expected, bound, what):
    err = np.abs(out.astype(np.float64) - expected.astype(np.float64))
    bad = err > bound
    assert not np.any(bad), (
        f"{what}: {int(bad.sum())} elements beyond rounding; first at {np.argwhere(bad)[0]}: "
        f"got {out[bad][0]!r}, expected {expected[bad][0]!r}"
    )


def _run(name, rng, n, n_arrays, dtype, weights_as):
    out = rng.normal(size=n).astype(dtype) + dtype(0.25)
    arrays = [rng.normal(size=n).astype(dtype) for _ in range(n_arrays)]
    weights = list(rng.uniform(-3, 3, n_arrays))
    if weights_as == "array":
        weights = np.array(weights)
    elif weights_as == "tuple":
        weights = tuple(weights)
    elif weights_as == "ints":
        weights = [int(w) or 1 for w in weights]
    out0 = out.copy()
    expected = out.copy()
    ref.fma(expected, weights, *[a.copy() for a in arrays])
    copies = [a.copy() for a in arrays]
    result = getattr(swiftw, name)(out, weights, *arrays)
    assert result is None, "fma returns None"
    assert out.dtype == dtype
    _check(out, expected, _bound(out0, weights, arrays, dtype), f"{name} n={n} A={n_arrays} {np.dtype(dtype).name}")
    for a, c in zip(arrays, copies):
        np.testing.assert_array_equal(a, c, err_msg="fma modified an input array")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 7, 8, 9, 31, 1023, 100_003])
def test_fma_matches_sequential_loop(rng, name, dtype, n):
    for n_arrays in (1, 2, 4, 5):
        _run(name, rng, n, n_arrays, dtype, "list")


@pytest.mark.parametrize("weights_as", ["list", "tuple", "array", "ints"])
def test_fma_weights_containers(rng, weights_as):
    _run("fma", rng, 4097, 3, np.float64, weights_as)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fma_large_threaded(rng, dtype):
    """Big enough to be split across threads and SIMD lanes, with a ragged tail."""
    _run("fma", rng, 2_000_003, 4, dtype, "list")


def test_fma_no_arrays_leaves_out_unchanged(rng):
    out = rng.normal(size=1000)
    before = out.copy()
    assert swiftw.fma(out, []) is None
    np.testing.assert_array_equal(out, before)


def test_fma_two_dimensional_out(rng):
    out = rng.normal(size=(37, 53))
    a, b = rng.normal(size=(37, 53)), rng.normal(size=(37, 53))
    expected = out + 1.5 * a - 0.25 * b
    swiftw.fma(out, [1.5, -0.25], a, b)
    np.testing.assert_allclose(out, expected, rtol=1e-14, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# aliasing
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [5, 1000, 300_001])
def test_fma_out_among_arrays_sees_running_value(rng, name, dtype, n):
    """fma(out, [2, 3], a, out): out = out0 + 2a, then out += 3 out -> 4 (out0 + 2a)."""
    out = (rng.normal(size=n) + 0.5).astype(dtype)
    a = rng.normal(size=n).astype(dtype)
    expected = out.copy()
    for w, arr in zip([2.0, 3.0], [a, expected]):
        expected += dtype(w) * arr  # the sequential Numba loop
    mag = 4.0 * (np.abs(out.astype(np.float64)) + 2.0 * np.abs(a.astype(np.float64)))
    bound = 8 * np.finfo(dtype).eps * mag
    getattr(swiftw, name)(out, [2.0, 3.0], a, out)
    _check(out, expected, bound, f"{name} fma(out, [2, 3], a, out)")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fma_out_first_and_repeated(rng, dtype):
    n = 50_001
    out = (rng.normal(size=n) + 0.5).astype(dtype)
    a = rng.normal(size=n).astype(dtype)
    weights = [1.5, -0.5, 2.0, 0.75]
    arrays = [out, a, out, a]
    expected = out.copy()
    for w, arr in zip(weights, [expected, a, expected, a]):
        expected += dtype(w) * arr
    mag = np.abs(expected.astype(np.float64)) + 10 * (np.abs(out.astype(np.float64)) + np.abs(a.astype(np.float64)))
    bound = 16 * np.finfo(dtype).eps * mag
    swiftw.fma(out, weights, *arrays)
    _check(out, expected, bound, "fma(out, w, out, a, out, a)")


def test_fma_same_memory_view_is_out(rng):
    """out[:] is a different object over exactly the same elements; the Numba loop would see the
    running value through it, so fma must too."""
    n = 10_001
    out = rng.normal(size=n) + 0.5
    a = rng.normal(size=n)
    expected = (out + 2.0 * a) * 4.0
    swiftw.fma(out, [2.0, 3.0], a, out[:])
    np.testing.assert_allclose(out, expected, rtol=1e-14, atol=1e-14 * np.max(np.abs(expected)))


@pytest.mark.parametrize("shift", [1, 3, 8, 17, 1000])
@pytest.mark.parametrize("direction", ["array_ahead", "array_behind"])
@pytest.mark.parametrize("n", [64, 200_000])
def test_fma_partial_overlap_is_as_if_copied(rng, shift, direction, n):
    base = rng.normal(size=n + shift) + 0.5
    if direction == "array_ahead":
        out, a = base[:n], base[shift:]
    else:
        out, a = base[shift:], base[:n]
    b = rng.normal(size=n)
    out0, a0 = out.copy(), a.copy()
    expected = out0 + 0.5 * b + 2.0 * a0  # b first: it changes memory that `a` reads
    swiftw.fma(out, [0.5, 2.0], b, a)
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-13 * np.max(np.abs(expected)),
                               err_msg=f"overlap shift={shift} {direction}")


def test_fma_reversed_view_of_out(rng):
    n = 100_001
    out = rng.normal(size=n) + 0.5
    out0 = out.copy()
    swiftw.fma(out, [1.0], out[::-1])
    np.testing.assert_allclose(out, out0 + out0[::-1], rtol=1e-14, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# views and errors
# ---------------------------------------------------------------------------------------------


def test_fma_non_contiguous_arrays(rng):
    n = 10_000
    out = rng.normal(size=n)
    a_big = rng.normal(size=3 * n)
    b_big = rng.normal(size=(n, 2))
    a, b = a_big[::3], b_big[:, 1]
    expected = out + 0.5 * a - 1.25 * b
    swiftw.fma(out, [0.5, -1.25], a, b)
    np.testing.assert_allclose(out, expected, rtol=1e-14, atol=1e-14)


def test_fma_non_contiguous_out_written_in_place_or_refused(rng):
    """A strided `out` must either be updated in place or refused; never silently left alone."""
    base = rng.normal(size=2 * 5001)
    out = base[::2]
    a = rng.normal(size=5001)
    expected_base = base.copy()
    expected_base[::2] += 2.0 * a
    try:
        swiftw.fma(out, [2.0], a)
    except (TypeError, ValueError):
        return
    np.testing.assert_allclose(base, expected_base, rtol=1e-14, atol=1e-14)


def test_fma_read_only_out_refused(rng):
    out = rng.normal(size=100)
    out.flags.writeable = False
    before = out.copy()
    with pytest.raises((TypeError, ValueError)):
        swiftw.fma(out, [1.0], rng.normal(size=100))
    np.testing.assert_array_equal(out, before)


def test_fma_shape_mismatch(rng):
    out = rng.normal(size=100)
    with pytest.raises(ValueError):
        swiftw.fma(out, [1.0, 2.0], rng.normal(size=100), rng.normal(size=99))


def test_fma_weight_count_mismatch(rng):
    out = rng.normal(size=100)
    before = out.copy()
    with pytest.raises((ValueError, TypeError)):
        swiftw.fma(out, [1.0, 2.0, 3.0], rng.normal(size=100), rng.normal(size=100))
    np.testing.assert_array_equal(out, before)


# ---------------------------------------------------------------------------------------------
# property-based
# ---------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 3000),
    n_arrays=st.integers(0, 6),
    dtype=st.sampled_from([np.float64, np.float32]),
    seed=st.integers(0, 2**63 - 1),
    alias_at=st.one_of(st.none(), st.integers(0, 5)),
)
def test_fma_property(n, n_arrays, dtype, seed, alias_at):
    rng = np.random.default_rng(seed)
    out = (rng.normal(size=n) * 10 ** rng.uniform(-3, 3)).astype(dtype)
    arrays = [(rng.normal(size=n) * 10 ** rng.uniform(-3, 3)).astype(dtype) for _ in range(n_arrays)]
    weights = list(rng.uniform(-2, 2, n_arrays))
    if alias_at is not None and alias_at < n_arrays:
        arrays[alias_at] = out
    expected = out.copy()
    ref_arrays = [expected if a is out else a.copy() for a in arrays]
    for w, a in zip(weights, ref_arrays):
        expected += dtype(w) * a
    # running-value magnitudes bound the rounding
    mag = np.abs(out.astype(np.float64))
    for w, a in zip(weights, arrays):
        mag = mag + abs(w) * (mag if a is out else np.abs(a.astype(np.float64)))
    bound = 8 * np.finfo(dtype).eps * (n_arrays + 1) * mag
    swiftw.fma(out, weights, *arrays)
    _check(out, expected, bound, f"property n={n} A={n_arrays} alias={alias_at}")
