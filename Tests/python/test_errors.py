"""SPEC section 2 at the boundary: what is refused, with which exception and message, and what is
accepted (lossless conversions) with the same answer as the canonical float64 / int64 C-contiguous
input.

- lossy conversion (float -> int indices, complex -> real): TypeError naming the parameter (and,
  per the SPEC, the dtype given and the dtype expected);
- wrong shape: ValueError naming the parameter (for a mismatch between two parameters, naming
  either of them is accepted);
- an index outside [0, S) other than the -1 sentinel, or a native index outside the grid:
  IndexError naming the parameter (and, per the SPEC, the row and the value).
"""

import numpy as np
import pytest

from bench import reference as ref
import swiftw
from conftest import IDX, NAT, SPEC_PARAMS, WTS, assert_close, call, small_problem, valid_kwargs

ALL_NAMES = list(SPEC_PARAMS)
INDEX_PARAMS = {IDX, NAT, "neighbors", "neighbors_sizes"}
REAL_ARRAY_PARAMS = {
    "noise_map_real", "uv_wavelengths", "grid_radians_slim", "visibilities_real", "w_compact", "w_tilde_preload",
    WTS, "mapping_matrix", "dirty_image", "w_tilde", "matrix", "data_vector", "curvature_reg_matrix",
}
IDX_NAMES = [n for n in ALL_NAMES if IDX in SPEC_PARAMS[n]]
NAT_NAMES = [n for n in ALL_NAMES if NAT in SPEC_PARAMS[n]]
NB_NAMES = [n for n in ALL_NAMES if "neighbors" in SPEC_PARAMS[n]]


def _raises(exc, name, kwargs, mode="positional"):
    with pytest.raises(exc) as info:
        call(name, mode, **kwargs)
    return str(info.value)


def _names_one_of(msg, params):
    return any(prm in msg for prm in params)


# ---------------------------------------------------------------------------------------------
# TypeError: lossy conversions
# ---------------------------------------------------------------------------------------------

FLOAT_INDEX_CASES = [(n, prm) for n in ALL_NAMES for prm in SPEC_PARAMS[n] if prm in INDEX_PARAMS]
COMPLEX_CASES = [(n, prm) for n in ALL_NAMES for prm in SPEC_PARAMS[n] if prm in REAL_ARRAY_PARAMS]


@pytest.mark.parametrize("name,param", FLOAT_INDEX_CASES)
def test_float_indices_raise_type_error(rng, name, param):
    p = small_problem(rng)
    kw = valid_kwargs(name, p)
    kw[param] = np.asarray(kw[param]).astype(np.float64)
    msg = _raises(TypeError, name, kw)
    assert param in msg, f"TypeError message does not name {param!r}: {msg!r}"


@pytest.mark.parametrize("name,param", FLOAT_INDEX_CASES[:6])
def test_float_indices_message_names_dtypes(rng, name, param):
    p = small_problem(rng)
    kw = valid_kwargs(name, p)
    kw[param] = np.asarray(kw[param]).astype(np.float64)
    msg = _raises(TypeError, name, kw)
    assert "float64" in msg and "int64" in msg, f"message should name the dtype given and expected: {msg!r}"


@pytest.mark.parametrize("name,param", COMPLEX_CASES)
def test_complex_to_real_raises_type_error(rng, name, param):
    p = small_problem(rng)
    kw = valid_kwargs(name, p)
    kw[param] = np.asarray(kw[param]) * (1.0 + 0.5j)
    msg = _raises(TypeError, name, kw, mode="keyword")
    assert param in msg, f"TypeError message does not name {param!r}: {msg!r}"


@pytest.mark.parametrize("name,param", COMPLEX_CASES[:6])
def test_complex_message_names_dtypes(rng, name, param):
    p = small_problem(rng)
    kw = valid_kwargs(name, p)
    kw[param] = np.asarray(kw[param]) * (1.0 + 0.5j)
    msg = _raises(TypeError, name, kw)
    assert "complex128" in msg and "float64" in msg, f"message should name the dtype given and expected: {msg!r}"


# ---------------------------------------------------------------------------------------------
# ValueError: shapes
# ---------------------------------------------------------------------------------------------


def _cols(x, n):
    """x with n columns (extra columns filled with copies of the first), C-contiguous."""
    x = np.asarray(x)
    return np.ascontiguousarray(np.concatenate([x, x[:, :1].repeat(n - x.shape[1], axis=1)], axis=1)
                                if n > x.shape[1] else x[:, :n])


def _rows(x, n):
    x = np.asarray(x)
    return np.ascontiguousarray(np.concatenate([x, x[: n - x.shape[0]]], axis=0) if n > x.shape[0] else x[:n])


SPARSE_W = ["curvature_matrix_via_w_tilde_sparse_mapping_matrix_from", "curvature_matrix_via_w_wilde_sparse_mapping_matrix_from"]
COMPACT = ["curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
           "curvature_matrix_via_w_tilde_curvature_preload_interferometer_from",
           "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from"]
LW = "log_likelihood_function_via_w_tilde_from"
LC = "log_likelihood_function_via_w_compact_from"

# (name, param, transform(x), parameters whose naming is acceptable)
SHAPE_CASES = [
    ("w_tilde_curvature_interferometer_from", "uv_wavelengths", lambda x: _cols(x, 3), ["uv_wavelengths"]),
    ("w_tilde_curvature_interferometer_from", "uv_wavelengths", lambda x: _cols(x, 1), ["uv_wavelengths"]),
    ("w_tilde_curvature_interferometer_from", "grid_radians_slim", lambda x: _cols(x, 3), ["grid_radians_slim"]),
    ("w_tilde_curvature_interferometer_from", "noise_map_real", lambda x: x[:-1].copy(), ["noise_map_real", "uv_wavelengths"]),
    ("w_tilde_curvature_interferometer_from", "noise_map_real", lambda x: np.stack([x, x], 1), ["noise_map_real"]),
    ("w_compact_curvature_interferometer_from", "uv_wavelengths", lambda x: _cols(x, 3), ["uv_wavelengths"]),
    ("w_compact_curvature_interferometer_from", "noise_map_real", lambda x: x[1:].copy(), ["noise_map_real", "uv_wavelengths"]),
    ("w_tilde_via_compact_from", "w_compact", lambda x: _cols(x, x.shape[1] + 1), ["w_compact"]),
    ("w_tilde_via_compact_from", "w_compact", lambda x: x.ravel().copy(), ["w_compact"]),
    ("w_tilde_via_compact_from", NAT, lambda x: _cols(x, 3), [NAT]),
    ("w_tilde_via_preload_from", "w_tilde_preload", lambda x: x.ravel().copy(), ["w_tilde_preload"]),
    ("w_tilde_via_preload_from", NAT, lambda x: _cols(x, 1), [NAT]),
    ("w_tilde_data_interferometer_from", "visibilities_real", lambda x: x[:-1].copy(), ["visibilities_real", "noise_map_real", "uv_wavelengths"]),
    ("w_tilde_data_interferometer_from", "grid_radians_slim", lambda x: _cols(x, 3), ["grid_radians_slim"]),
    ("mapping_matrix_from", WTS, lambda x: _cols(x, x.shape[1] + 1), [WTS, IDX]),
    ("mapping_matrix_from", WTS, lambda x: _rows(x, x.shape[0] - 1), [WTS, IDX]),
    ("mapping_matrix_from", IDX, lambda x: x.ravel().copy(), [IDX]),
    ("data_vector_from", "dirty_image", lambda x: x[:-1].copy(), ["dirty_image", "mapping_matrix"]),
    ("curvature_matrix_via_w_tilde_from", "w_tilde", lambda x: _cols(x, x.shape[1] + 1), ["w_tilde"]),
    ("curvature_matrix_via_w_tilde_from", "mapping_matrix", lambda x: _rows(x, x.shape[0] + 1), ["mapping_matrix", "w_tilde"]),
    ("sparse_mapping_matrix_transpose_matmul", "matrix", lambda x: _rows(x, x.shape[0] + 1), ["matrix", IDX, WTS]),
    ("sparse_mapping_matrix_transpose_matmul", WTS, lambda x: _cols(x, x.shape[1] - 1), [WTS, IDX]),
] + [
    (n, "w_tilde", lambda x: _cols(_rows(x, x.shape[0] + 1), x.shape[1] + 1), ["w_tilde", IDX, WTS]) for n in SPARSE_W
] + [
    (n, "w_tilde", lambda x: _cols(x, x.shape[1] - 1), ["w_tilde"]) for n in SPARSE_W
] + [
    (n, "w_compact", lambda x: _cols(x, x.shape[1] + 1), ["w_compact"]) for n in COMPACT
] + [
    (n, NAT, lambda x: _rows(x, x.shape[0] - 1), [NAT, IDX, WTS]) for n in COMPACT
] + [
    ("constant_regularization_matrix_from", "neighbors_sizes", lambda x: x[:-1].copy(), ["neighbors_sizes", "neighbors"]),
    ("constant_regularization_matrix_from", "neighbors", lambda x: x.ravel().copy(), ["neighbors"]),
    ("reconstruction_positive_negative_from", "curvature_reg_matrix", lambda x: _cols(x, x.shape[1] + 1), ["curvature_reg_matrix"]),
    ("reconstruction_positive_negative_from", "data_vector", lambda x: x[:-1].copy(), ["data_vector", "curvature_reg_matrix"]),
    (LW, "data", lambda x: x[:-1].copy(), ["data", "noise_map"]),
    (LW, "dirty_image", lambda x: x[:-1].copy(), ["dirty_image", "w_tilde", IDX, WTS]),
    (LW, "w_tilde", lambda x: _cols(_rows(x, x.shape[0] + 1), x.shape[1] + 1), ["w_tilde", "dirty_image", IDX, WTS]),
    (LW, "neighbors_sizes", lambda x: x[:-1].copy(), ["neighbors_sizes", "neighbors"]),
    (LW, WTS, lambda x: _cols(x, x.shape[1] + 1), [WTS, IDX]),
    (LC, "w_compact", lambda x: _cols(x, x.shape[1] + 1), ["w_compact"]),
    (LC, NAT, lambda x: _rows(x, x.shape[0] - 1), [NAT, IDX, WTS, "dirty_image"]),
    (LC, "noise_map", lambda x: x[1:].copy(), ["noise_map", "data"]),
]


@pytest.mark.parametrize("case", SHAPE_CASES, ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(SHAPE_CASES)])
def test_wrong_shape_raises_value_error(rng, case):
    name, param, transform, acceptable = case
    p = small_problem(rng)
    kw = valid_kwargs(name, p)
    kw[param] = transform(np.asarray(kw[param]))
    msg = _raises(ValueError, name, kw)
    assert _names_one_of(msg, acceptable), f"ValueError message names none of {acceptable}: {msg!r}"


def test_shape_message_names_both_shapes(rng):
    p = small_problem(rng)
    uv3 = _cols(p.uv, 3)
    with pytest.raises(ValueError) as info:
        swiftw.w_tilde_curvature_interferometer_from(p.sigma, uv3, p.grid)
    msg = str(info.value)
    assert "uv_wavelengths" in msg and "3" in msg and "2" in msg, msg


# ---------------------------------------------------------------------------------------------
# IndexError: out-of-range indices
# ---------------------------------------------------------------------------------------------


def _bad_source_value(kind, s):
    return {"S": s, "S+7919": s + 7919, "-2": -2, "huge": 2**40}[kind]


@pytest.mark.parametrize("kind", ["S", "S+7919", "-2", "huge"])
@pytest.mark.parametrize("name", IDX_NAMES)
def test_source_index_out_of_range(rng, name, kind):
    p = small_problem(rng)
    kw = valid_kwargs(name, p)
    idx = kw[IDX].copy()
    row = int(rng.integers(10, p.M))
    bad = _bad_source_value(kind, p.S)
    idx[row, 0] = bad
    kw[IDX] = idx
    msg = _raises(IndexError, name, kw)
    assert IDX in msg, f"IndexError message does not name {IDX}: {msg!r}"


@pytest.mark.parametrize("name", IDX_NAMES[:3] + [LW])
def test_source_index_message_names_row_and_value(rng, name):
    p = small_problem(rng)
    kw = valid_kwargs(name, p)
    idx = kw[IDX].copy()
    row = int(rng.integers(10, p.M))
    bad = p.S + 7919
    idx[row, 0] = bad
    kw[IDX] = idx
    msg = _raises(IndexError, name, kw)
    assert str(bad) in msg and str(row) in msg, f"message should give row {row} and value {bad}: {msg!r}"


@pytest.mark.parametrize("kind", ["S", "S+7919", "-2", "huge"])
@pytest.mark.parametrize("name", NB_NAMES)
def test_neighbor_index_out_of_range(rng, name, kind):
    p = small_problem(rng)
    kw = valid_kwargs(name, p)
    nb = kw["neighbors"].copy()
    row = int(rng.integers(10, p.S))
    nb[row, 0] = _bad_source_value(kind, p.S)
    kw["neighbors"] = nb
    msg = _raises(IndexError, name, kw)
    assert "neighbors" in msg, f"IndexError message does not name neighbors: {msg!r}"


@pytest.mark.parametrize("name", NB_NAMES)
def test_neighbors_sizes_beyond_row_refused(rng, name):
    """neighbors_sizes[i] > P would read past the row. The SPEC does not say whether to refuse it,
    but it must never read out of bounds: either an IndexError/ValueError, or a finite answer whose
    off-diagonal entries are those of the row's actual neighbours."""
    p = small_problem(rng)
    kw = valid_kwargs(name, p)
    sizes = kw["neighbors_sizes"].copy()
    full_rows = np.flatnonzero(p.neighbors_sizes == p.neighbors.shape[1])
    row = int(full_rows[0]) if full_rows.size else int(rng.integers(0, p.S))
    sizes[row] = kw["neighbors"].shape[1] + 5
    kw["neighbors_sizes"] = sizes
    try:
        got = call(name, "positional", **kw)
    except (IndexError, ValueError):
        return
    assert np.all(np.isfinite(got))
    if name == "constant_regularization_matrix_from":
        want = ref.constant_regularization_matrix_from(kw["coefficient"], p.neighbors, p.neighbors_sizes)
        off = ~np.eye(p.S, dtype=bool)
        np.testing.assert_allclose(got[off], want[off], rtol=1e-15, atol=0)


@pytest.mark.parametrize("where", ["row=N+50", "col=N", "row=-1", "col=huge"])
@pytest.mark.parametrize("name", NAT_NAMES)
def test_native_index_outside_grid(rng, name, where):
    p = small_problem(rng)
    kw = valid_kwargs(name, p)
    nat = kw[NAT].copy()
    r = int(rng.integers(10, p.M))
    # the grid is N x N: N = w_compact.shape[0], or preload.shape[0] / 2
    n_grid = p.N
    value = {"row=N+50": (0, n_grid + 50), "col=N": (1, n_grid), "row=-1": (0, -1), "col=huge": (1, 2**40)}[where]
    if name == "w_tilde_via_preload_from" and where == "col=N":
        value = (1, 2 * n_grid)  # the preload's grid extent is ambiguous up to 2N; 2N is outside either way
    nat[r, value[0]] = value[1]
    kw[NAT] = nat
    msg = _raises(IndexError, name, kw)
    assert NAT in msg, f"IndexError message does not name {NAT}: {msg!r}"


def test_sentinel_minus_one_is_not_an_error(rng):
    """-1 ends a row; rows that are -1 after the first entry must not raise."""
    p = small_problem(rng)
    assert np.any(p.idx == -1)
    for name in IDX_NAMES:
        call(name, "positional", **valid_kwargs(name, p))


# ---------------------------------------------------------------------------------------------
# accepted: lossless conversions give the canonical answer
# ---------------------------------------------------------------------------------------------

CONVERSION_NAMES = [n for n in ALL_NAMES if n not in ("mask_2d_centres_from", "mask_2d_circular_from")]


def _to_f32(x):
    return np.asarray(x, dtype=np.float32)


def _noncontig(x):
    x = np.asarray(x)
    if x.ndim == 0:
        return x
    if x.ndim == 1:
        big = np.zeros(2 * x.shape[0], dtype=x.dtype)
        big[::2] = x
        view = big[::2]
    else:
        view = np.asfortranarray(x)
        if view.flags.c_contiguous:  # a single row or column: use a strided view instead
            big = np.zeros((x.shape[0], 2 * x.shape[1]), dtype=x.dtype)
            big[:, ::2] = x
            view = big[:, ::2]
    assert not view.flags.c_contiguous or x.size <= 1
    return view


def _compare(got, want, what):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    scale = max(float(np.max(np.abs(want))) if want.size else 1.0, 1e-300)
    assert_close(got, want, scale=scale, rel=1e-12, what=what)


@pytest.mark.parametrize("name", CONVERSION_NAMES)
def test_float32_reals_accepted(rng, name):
    p = small_problem(rng)
    kw = valid_kwargs(name, p)
    if name == "reconstruction_positive_negative_from":
        kw["curvature_reg_matrix"] = np.eye(p.S) * 3.0 + 0.01 * np.ones((p.S, p.S))
    changed = [prm for prm in kw if prm in REAL_ARRAY_PARAMS]
    if name.startswith("log_likelihood"):
        # rounding W to float32 may make A = F + H indefinite; the float32 path is exercised by
        # the other real inputs
        changed = [prm for prm in changed if prm not in ("w_tilde", "w_compact")]
    kw32 = dict(kw)
    for prm in changed:
        kw32[prm] = _to_f32(kw[prm])
    kw64 = {prm: (kw32[prm].astype(np.float64) if prm in changed else v) for prm, v in kw.items()}
    if name.startswith("log_likelihood") or name == "noise_normalization_complex_from":
        kw32["noise_map"] = kw["noise_map"].astype(np.complex64)
        kw64["noise_map"] = kw32["noise_map"].astype(np.complex128)
        if "data" in kw:
            kw32["data"] = kw["data"].astype(np.complex64)
            kw64["data"] = kw32["data"].astype(np.complex128)
    _compare(call(name, "positional", **kw32), call(name, "positional", **kw64), f"{name} float32")


@pytest.mark.parametrize("name", [n for n in CONVERSION_NAMES if INDEX_PARAMS & set(SPEC_PARAMS[n])])
def test_int32_indices_accepted(rng, name):
    p = small_problem(rng)
    kw = valid_kwargs(name, p)
    kw32 = {prm: (np.asarray(v).astype(np.int32) if prm in INDEX_PARAMS else v) for prm, v in kw.items()}
    _compare(call(name, "positional", **kw32), call(name, "positional", **kw), f"{name} int32")


@pytest.mark.parametrize("name", CONVERSION_NAMES)
def test_non_contiguous_views_accepted(rng, name):
    p = small_problem(rng)
    kw = valid_kwargs(name, p)
    kwv = {prm: (_noncontig(v) if isinstance(v, np.ndarray) else v) for prm, v in kw.items()}
    assert any(isinstance(v, np.ndarray) for v in kw.values())
    _compare(call(name, "keyword", **kwv), call(name, "keyword", **kw), f"{name} views")


@pytest.mark.parametrize("name", CONVERSION_NAMES)
def test_python_lists_accepted(rng, name):
    p = small_problem(rng)
    kw = valid_kwargs(name, p)
    kwl = {prm: (v.tolist() if isinstance(v, np.ndarray) else v) for prm, v in kw.items()}
    _compare(call(name, "positional", **kwl), call(name, "positional", **kw), f"{name} lists")


def test_numpy_scalars_accepted(rng):
    p = small_problem(rng)
    want = swiftw.w_compact_curvature_interferometer_from(p.N, p.sigma, p.uv, p.pixel_scale)
    got = swiftw.w_compact_curvature_interferometer_from(np.int32(p.N), p.sigma, p.uv, np.float64(p.pixel_scale))
    _compare(got, want, "numpy scalars")
    t1 = swiftw.mapping_matrix_from(p.idx, p.wts, np.int64(p.S))
    t2 = swiftw.mapping_matrix_from(p.idx, p.wts, p.S)
    _compare(t1, t2, "pixels as np.int64")


def test_mask_functions_accept_lists_and_arrays(rng):
    shape, scales, centre = (int(rng.integers(10, 40)), int(rng.integers(10, 40))), (0.1, 0.12), (0.05, -0.1)
    radius = 0.35 * min(shape) * 0.1 + 0.0123
    base = swiftw.mask_2d_circular_from(shape, scales, radius, centre)
    np.testing.assert_array_equal(swiftw.mask_2d_circular_from(list(shape), list(scales), radius, list(centre)), base)
    np.testing.assert_array_equal(
        swiftw.mask_2d_circular_from(np.array(shape), np.array(scales), radius, np.array(centre)), base)
