"""Issue 19, SPEC 3.9: the production library's 2026 extent-grid API in `swiftw.autoarray`
(`nufft_precision_operator_from`, `kernel_inputs_from`, `curvature_direct_conv`,
`InterferometerSparseOperator`) against dense NumPy references on the extent grid
(`bench/reference.py`, section 3.9): ragged rows padded as a Mapper pads them, rectangular
extents, every method, and the error paths."""
import inspect

import numpy as np
import pytest

from bench import reference as ref
import swiftw.autoarray as aa
from swiftw._extent import _curvature_direct_conv
from conftest import assert_close, make_problem

F_REL = 1e-10  # of max |F|: the direct and FFT methods, rounding only
CONV_PARAMS = ["preload", "iy", "ix", "flat", "indptr", "col", "val", "cscptr", "csc_row", "csc_val", "ny", "nx",
               "pix_pixels"]


def _extent_problem(rng, *, shape="circle", padding="minus_one"):
    p = make_problem(rng, n_grid=int(rng.integers(14, 21)), k=int(rng.integers(200, 500)),
                     s=int(rng.integers(30, 80)))
    native = p.native
    if shape == "band":  # a rectangular extent: the upper rows of the circle only
        keep = native[:, 0] <= np.median(native[:, 0])
        native, p.grid, p.dirty_image = native[keep], p.grid[keep], p.dirty_image[keep]
        p.M = native.shape[0]
    p.native = np.ascontiguousarray(native)
    p.ny, p.nx = ref.box_of(native)
    p.iy, p.ix = (native - native.min(axis=0)).T
    p.flat = np.ascontiguousarray(p.iy * p.nx + p.ix)
    p.preload = ref.w_tilde_preload_of_box(p.sigma, p.uv, p.ny, p.nx, p.d, p.d)
    p.idx, p.sizes, p.wts = ref.draw_image_mapping(rng, p.M, p.S, p.B, padding=padding)
    p.T = ref.mapping_matrix_per_image_pixel(p.idx, p.sizes, p.wts, p.S)
    p.F = ref.curvature_direct_conv(p.preload, p.flat, p.T, p.ny, p.nx)
    return p


def _inputs(p):
    return aa.kernel_inputs_from(p.idx, p.sizes, p.wts, p.flat, (p.ny, p.nx), p.S)


def _conv_args(p, inputs):
    return {"preload": p.preload, **{k: inputs[k] for k in CONV_PARAMS[1:]}}


def _triplets(p):
    """COO on the extent as a Mapper gives them: every (M, B) slot, padding columns -1."""
    cols = p.idx.copy()
    cols[np.arange(p.B)[None, :] >= p.sizes[:, None]] = -1
    return np.repeat(p.flat, p.B), cols.ravel(), p.wts.ravel()


def test_signatures():
    assert list(inspect.signature(aa.curvature_direct_conv).parameters) == CONV_PARAMS
    assert list(inspect.signature(aa.kernel_inputs_from).parameters) == [
        "pix_indexes_for_sub_slim_index", "pix_sizes_for_sub_slim_index", "pix_weights_for_sub_slim_index",
        "extent_index_for_masked_pixel", "extent_shape", "pix_pixels"]
    assert list(inspect.signature(aa.nufft_precision_operator_from).parameters) == [
        "noise_map_real", "uv_wavelengths", "shape_masked_pixels_2d", "grid_radians_2d", "method", "eps",
        "chunk_size", "chunk_k", "show_progress", "show_memory", "use_jax"]
    op = aa.InterferometerSparseOperator
    assert list(inspect.signature(op.from_nufft_precision_operator).parameters) == [
        "nufft_precision_operator", "dirty_image", "batch_size", "data_term", "noise_normalization"]
    assert list(inspect.signature(op.curvature_matrix_diag_from).parameters) == ["self", "rows", "cols", "vals", "S"]
    assert list(inspect.signature(op.curvature_matrix_off_diag_from).parameters) == [
        "self", "rows0", "cols0", "vals0", "rows1", "cols1", "vals1", "S0", "S1"]
    assert list(inspect.signature(op.apply_operator).parameters) == ["self", "Fbatch_flat"]


@pytest.mark.parametrize("shape", ["circle", "band"])
@pytest.mark.parametrize("padding", ["minus_one", "garbage"])
def test_kernel_inputs_hold_the_mapping(rng, shape, padding):
    p = _extent_problem(rng, shape=shape, padding=padding)
    got = _inputs(p)
    assert (got["ny"], got["nx"], got["n_pix"], got["pix_pixels"]) == (p.ny, p.nx, p.M, p.S)
    assert got["nnz"] == int(p.sizes.sum())
    np.testing.assert_array_equal(got["iy"], p.iy)
    np.testing.assert_array_equal(got["ix"], p.ix)
    np.testing.assert_array_equal(got["flat"], p.flat)
    csr = np.zeros((p.M, p.S))
    for i in range(p.M):
        for t in range(got["indptr"][i], got["indptr"][i + 1]):
            csr[i, got["col"][t]] += got["val"][t]
    csc = np.zeros((p.M, p.S))
    for s in range(p.S):
        rows = got["csc_row"][got["cscptr"][s]:got["cscptr"][s + 1]]
        assert np.all(np.diff(rows) >= 0), "rows increase within a CSC column"
        for t in range(got["cscptr"][s], got["cscptr"][s + 1]):
            csc[got["csc_row"][t], s] += got["csc_val"][t]
    np.testing.assert_array_equal(csr, p.T)
    np.testing.assert_array_equal(csc, p.T)


@pytest.mark.parametrize("shape", ["circle", "band"])
@pytest.mark.parametrize("padding", ["minus_one", "garbage"])
def test_curvature_direct_conv_equals_dense(rng, shape, padding):
    p = _extent_problem(rng, shape=shape, padding=padding)
    args = _conv_args(p, _inputs(p))
    got = aa.curvature_direct_conv(**args)
    assert_close(got, p.F, scale=np.max(np.abs(p.F)), rel=F_REL, what="curvature_direct_conv")
    np.testing.assert_array_equal(got, got.T)
    for method in ("direct", "fft"):
        by = _curvature_direct_conv(*args.values(), method)
        assert_close(by, p.F, scale=np.max(np.abs(p.F)), rel=F_REL, what=f"method {method}")


def test_csc_in_another_order_is_the_same_mapping(rng):
    p = _extent_problem(rng)
    inputs = _inputs(p)
    for s in range(p.S):  # reverse each column's entries
        a, b = inputs["cscptr"][s], inputs["cscptr"][s + 1]
        inputs["csc_row"][a:b] = inputs["csc_row"][a:b][::-1].copy()
        inputs["csc_val"][a:b] = inputs["csc_val"][a:b][::-1].copy()
    got = aa.curvature_direct_conv(**_conv_args(p, inputs))
    assert_close(got, p.F, scale=np.max(np.abs(p.F)), rel=F_REL, what="reordered CSC")


def _corrupt(inputs, key, value_at):
    bad = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in inputs.items()}
    position, value = value_at(bad)
    bad[key][position] = value
    return bad


@pytest.mark.parametrize("key, value_at, error, words", [
    ("iy", lambda d: (0, d["ny"]), IndexError, "iy[0]"),
    ("ix", lambda d: (1, -1), IndexError, "ix[1]"),
    ("flat", lambda d: (2, d["flat"][2] + 1), IndexError, "flat[2]"),
    ("indptr", lambda d: (1, d["nnz"] + 5), IndexError, "indptr"),
    ("indptr", lambda d: (0, 1), IndexError, "indptr[0]"),
    ("col", lambda d: (3, d["pix_pixels"]), IndexError, "col[3]"),
    ("col", lambda d: (0, -1), IndexError, "col[0]"),
    ("cscptr", lambda d: (-1, d["nnz"] - 1), IndexError, "cscptr"),
    ("csc_row", lambda d: (4, d["n_pix"]), IndexError, "csc_row[4]"),
    ("csc_val", lambda d: (0, d["csc_val"][0] + 1.0), ValueError, "csc_row / csc_val"),
    ("val", lambda d: (0, d["val"][0] * 2.0), ValueError, "csc_row / csc_val"),
])
def test_curvature_direct_conv_checks_every_index(rng, key, value_at, error, words):
    p = _extent_problem(rng)
    bad = _corrupt(_inputs(p), key, value_at)
    with pytest.raises(error, match=words.replace("[", r"\[").replace("]", r"\]")):
        aa.curvature_direct_conv(**_conv_args(p, bad))


def test_curvature_direct_conv_shapes(rng):
    p = _extent_problem(rng)
    args = _conv_args(p, _inputs(p))
    with pytest.raises(ValueError, match="preload"):
        aa.curvature_direct_conv(**{**args, "preload": p.preload[:-2]})
    with pytest.raises(ValueError, match="cscptr"):
        aa.curvature_direct_conv(**{**args, "pix_pixels": p.S + 1})
    with pytest.raises(ValueError, match="ix"):
        aa.curvature_direct_conv(**{**args, "ix": args["ix"][:-1]})
    with pytest.raises(TypeError, match="col"):
        aa.curvature_direct_conv(**{**args, "col": args["col"].astype(np.float64)})


def test_kernel_inputs_errors(rng):
    p = _extent_problem(rng)
    sizes = p.sizes.copy()
    sizes[3] = p.B + 1
    with pytest.raises(IndexError, match=r"pix_sizes_for_sub_slim_index\[3\]"):
        aa.kernel_inputs_from(p.idx, sizes, p.wts, p.flat, (p.ny, p.nx), p.S)
    idx = p.idx.copy()
    idx[5, 0] = p.S
    with pytest.raises(IndexError, match=r"pix_indexes_for_sub_slim_index\[5, 0\]"):
        aa.kernel_inputs_from(idx, p.sizes, p.wts, p.flat, (p.ny, p.nx), p.S)
    flat = p.flat.copy()
    flat[0] = p.ny * p.nx
    with pytest.raises(IndexError, match=r"extent_index_for_masked_pixel\[0\]"):
        aa.kernel_inputs_from(p.idx, p.sizes, p.wts, flat, (p.ny, p.nx), p.S)
    with pytest.raises(ValueError, match="pix_sizes_for_sub_slim_index"):
        aa.kernel_inputs_from(p.idx, p.sizes[:-1], p.wts, p.flat, (p.ny, p.nx), p.S)


# ---------------------------------------------------------------------------------------------
# the precision operator
# ---------------------------------------------------------------------------------------------


def _grid_2d(p):
    return ref.grid_radians_2d_from((p.ny + 2, p.nx + 1), float(rng_free_origin[0]), float(rng_free_origin[1]),
                                     p.d, p.d)


rng_free_origin = (0.0123, -0.0456)  # the operator depends on the spacings only


def _grid_tolerance(p, grid) -> float:
    """Error bound relative to sum(c): the spacing is read off the grid's coordinates, which carry
    rounding of eps |coordinate|, a phase error of (max phase) x eps x max|coordinate| / spacing."""
    phase = 2 * np.pi * np.max(np.abs(p.uv[:, 0]) * p.d * p.nx + np.abs(p.uv[:, 1]) * p.d * p.ny)
    return max(1e-10, 8 * phase * np.finfo(float).eps * float(np.max(np.abs(grid))) / p.d)


@pytest.mark.parametrize("shape", ["circle", "band"])
def test_precision_operator_methods_equal_the_exact_sum(rng, shape):
    p = _extent_problem(rng, shape=shape)
    grid = _grid_2d(p)
    scale = float(np.sum(p.c))
    rel = _grid_tolerance(p, grid)
    exact = aa.nufft_precision_operator_from(p.sigma, p.uv, (p.ny, p.nx), grid, method="numpy")
    assert_close(exact, p.preload, scale=scale, rel=rel, what="method numpy")
    nufft = aa.nufft_precision_operator_from(p.sigma, p.uv, (p.ny, p.nx), grid)
    assert_close(nufft, p.preload, scale=scale, rel=rel, what="method nufft, eps 1e-12")
    assert not np.any(nufft[p.ny, :]) and not np.any(nufft[:, p.nx])
    chunked = aa.nufft_precision_operator_from(p.sigma, p.uv, (p.ny, p.nx), grid, chunk_size=int(p.K // 3))
    assert_close(chunked, p.preload, scale=scale, rel=rel, what="nufft in chunks")
    coarse = aa.nufft_precision_operator_from(p.sigma, p.uv, (p.ny, p.nx), grid, eps=1e-6)
    assert_close(coarse, p.preload, scale=scale, rel=1e-5, what="nufft, eps 1e-6")


def test_precision_operator_progress_and_options(rng, capsys):
    p = _extent_problem(rng)
    grid = _grid_2d(p)
    shown = aa.nufft_precision_operator_from(p.sigma, p.uv, (p.ny, p.nx), grid, method="numpy", chunk_k=97,
                                             show_progress=True, show_memory=True)
    assert_close(shown, p.preload, scale=float(np.sum(p.c)), rel=_grid_tolerance(p, grid), what="numpy with a progress bar")
    captured = capsys.readouterr()
    assert captured.err or captured.out, "a progress display was written"
    with pytest.raises(NotImplementedError, match="CPU"):
        aa.nufft_precision_operator_from(p.sigma, p.uv, (p.ny, p.nx), grid, method="numpy", use_jax=True)
    with pytest.raises(NotImplementedError):
        aa.nufft_precision_operator_from(p.sigma, p.uv, (p.ny, p.nx), grid, method="jax")
    ignored = aa.nufft_precision_operator_from(p.sigma, p.uv, (p.ny, p.nx), grid, use_jax=True)
    assert_close(ignored, p.preload, scale=float(np.sum(p.c)), rel=_grid_tolerance(p, grid), what="use_jax ignored under nufft")
    with pytest.raises(ValueError, match="method"):
        aa.nufft_precision_operator_from(p.sigma, p.uv, (p.ny, p.nx), grid, method="fast")
    with pytest.raises(ValueError, match="eps"):
        aa.nufft_precision_operator_from(p.sigma, p.uv, (p.ny, p.nx), grid, eps=0.5)
    with pytest.raises(ValueError, match="chunk_size"):
        aa.nufft_precision_operator_from(p.sigma, p.uv, (p.ny, p.nx), grid, chunk_size=0)
    oblong = ref.grid_radians_2d_from((p.ny, p.nx), 0.0, 0.0, p.d, 1.5 * p.d)
    with pytest.raises(ValueError, match="square pixels"):
        aa.nufft_precision_operator_from(p.sigma, p.uv, (p.ny, p.nx), oblong)
    want = ref.w_tilde_preload_of_box(p.sigma, p.uv, p.ny, p.nx, p.d, 1.5 * p.d)
    got = aa.nufft_precision_operator_from(p.sigma, p.uv, (p.ny, p.nx), oblong, method="numpy")
    assert_close(got, want, scale=float(np.sum(p.c)), rel=1e-10, what="numpy, oblong pixels")


# ---------------------------------------------------------------------------------------------
# InterferometerSparseOperator
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["circle", "band"])
def test_sparse_operator_diag_equals_dense(rng, shape):
    p = _extent_problem(rng, shape=shape, padding="garbage")
    op = aa.InterferometerSparseOperator.from_nufft_precision_operator(p.preload, p.dirty_image, batch_size=16)
    assert (op.y_shape, op.x_shape, op.M, op.batch_size) == (p.ny, p.nx, p.ny * p.nx, 16)
    rows, cols, vals = _triplets(p)
    got = op.curvature_matrix_diag_from(rows, cols, vals, S=p.S)
    assert_close(got, p.F, scale=np.max(np.abs(p.F)), rel=F_REL, what="diag, a Mapper's padded triplets")
    # duplicates add, and a column outside [0, S) is dropped wherever it comes from
    extra = rng.integers(0, rows.size, 20)
    rows2 = np.concatenate([rows, rows[extra], [0, 1]])
    cols2 = np.concatenate([cols, cols[extra], [p.S, -5]])
    vals2 = np.concatenate([vals, vals[extra], [1.0, 1.0]])
    t2 = ref.extent_mapping_matrix_from_triplets(rows2, cols2, vals2, p.ny * p.nx, p.S)
    want2 = ref.extent_curvature_matrix(p.preload, p.ny, p.nx, t2)
    got2 = op.curvature_matrix_diag_from(rows2, cols2, vals2, S=p.S)
    assert_close(got2, want2, scale=np.max(np.abs(want2)), rel=F_REL, what="diag, duplicates and dropped columns")
    for method in ("direct", "fft"):
        by = op._curvature(rows, cols, vals, p.S, method)
        assert_close(by, p.F, scale=np.max(np.abs(p.F)), rel=F_REL, what=f"diag by {method}")


def test_sparse_operator_off_diag_and_apply(rng):
    p = _extent_problem(rng)
    op = aa.InterferometerSparseOperator.from_nufft_precision_operator(p.preload, p.dirty_image)
    rows0, cols0, vals0 = _triplets(p)
    s1 = int(rng.integers(10, 40))
    nnz1 = int(rng.integers(50, 200))
    rows1 = rng.choice(p.flat, nnz1)
    cols1 = rng.integers(-1, s1, nnz1)
    vals1 = rng.uniform(0.1, 1.0, nnz1)
    cells = p.ny * p.nx
    t0 = ref.extent_mapping_matrix_from_triplets(rows0, cols0, vals0, cells, p.S)
    t1 = ref.extent_mapping_matrix_from_triplets(rows1, cols1, vals1, cells, s1)
    want = ref.extent_curvature_matrix(p.preload, p.ny, p.nx, t0, t1)
    got = op.curvature_matrix_off_diag_from(rows0, cols0, vals0, rows1, cols1, vals1, S0=p.S, S1=s1)
    assert got.shape == (p.S, s1)
    assert_close(got, want, scale=np.max(np.abs(want)), rel=F_REL, what="off-diagonal block")
    batch = rng.normal(size=(cells, 5))
    want_g = ref.extent_convolution_matrix(p.preload, p.ny, p.nx) @ batch
    assert_close(op.apply_operator(batch), want_g, scale=np.max(np.abs(want_g)), rel=1e-10, what="apply_operator")


def test_sparse_operator_errors(rng):
    p = _extent_problem(rng)
    with pytest.raises(ValueError, match="nufft_precision_operator"):
        aa.InterferometerSparseOperator.from_nufft_precision_operator(p.preload[:, :-1], p.dirty_image)
    op = aa.InterferometerSparseOperator.from_nufft_precision_operator(p.preload, p.dirty_image)
    rows, cols, vals = _triplets(p)
    bad = rows.copy()
    bad[int(np.flatnonzero(cols >= 0)[0])] = p.ny * p.nx
    with pytest.raises(IndexError, match="rows"):
        op.curvature_matrix_diag_from(bad, cols, vals, S=p.S)
    with pytest.raises(IndexError, match=r"rows1\[\d+\]"):
        op.curvature_matrix_off_diag_from(rows, cols, vals, bad, cols, vals, S0=p.S, S1=p.S)
    with pytest.raises(ValueError, match="rows, cols and vals"):
        op.curvature_matrix_diag_from(rows[:-1], cols, vals, S=p.S)
    with pytest.raises(ValueError, match="Fbatch_flat"):
        op.apply_operator(np.ones((p.ny * p.nx + 1, 2)))
