"""The production library's Numba extent-grid path (PyAutoArray, Sept 2026; SPEC 3.9):
`kernel_inputs_from` and `curvature_direct_conv`, with F from swiftw's direct or FFT method."""
from __future__ import annotations

import numpy as np

from . import _swiftw
from ._limits import limits
from ._validate import choice, count, floats, indices, output
from .curvature import METHODS

__all__ = ["kernel_inputs_from", "curvature_direct_conv"]


def shape_2d(value, name: str) -> tuple[int, int]:
    """(ny, nx) of an extent given as a pair of positive whole numbers."""
    try:
        ny, nx = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be (ny, nx), got {value!r}") from None
    ny, nx = count(ny, f"{name}[0]"), count(nx, f"{name}[1]")
    if ny < 1 or nx < 1:
        raise ValueError(f"{name} must be at least (1, 1), got ({ny}, {nx})")
    return ny, nx


def kernel_inputs_from(
    pix_indexes_for_sub_slim_index: np.ndarray,
    pix_sizes_for_sub_slim_index: np.ndarray,
    pix_weights_for_sub_slim_index: np.ndarray,
    extent_index_for_masked_pixel: np.ndarray,
    extent_shape,
    pix_pixels: int,
) -> dict:
    """A Mapper's (M, B) triplets as the flat arrays `curvature_direct_conv` takes.

    Row i of the triplets holds its first ``pix_sizes_for_sub_slim_index[i]`` entries (a Mapper
    pads its rows to the longest; what lies beyond is never read). Weights are used as given (no
    sub-pixel fractions).

    Parameters
    ----------
    pix_indexes_for_sub_slim_index : (M, B) int64
    pix_sizes_for_sub_slim_index : (M,) int64
    pix_weights_for_sub_slim_index : (M, B) float64
    extent_index_for_masked_pixel : (M,) int64
        ``iy * nx + ix``, the masked pixel's cell on the (ny, nx) extent rectangle.
    extent_shape : (int, int)
        (ny, nx), the mask's extent.
    pix_pixels : int
        S, the source pixels.

    Returns
    -------
    dict
        ``iy, ix, flat`` (M,); the CSR ``indptr`` (M+1,), ``col, val`` (nnz,) over masked pixels;
        the CSC ``cscptr`` (S+1,), ``csc_row, csc_val`` (nnz,) over source pixels (rows in
        increasing order within a column); ``n_pix`` (M), ``nnz``, ``ny``, ``nx``, ``pix_pixels``.

    Raises
    ------
    IndexError
        A size outside [0, B], a valid entry's source index outside [0, S), or an extent index
        outside [0, ny nx), naming the row and the value.
    """
    idx = indices(pix_indexes_for_sub_slim_index, "pix_indexes_for_sub_slim_index", 2)
    sizes = indices(pix_sizes_for_sub_slim_index, "pix_sizes_for_sub_slim_index", 1)
    wts = floats(pix_weights_for_sub_slim_index, "pix_weights_for_sub_slim_index", 2)
    flat = indices(extent_index_for_masked_pixel, "extent_index_for_masked_pixel", 1)
    ny, nx = shape_2d(extent_shape, "extent_shape")
    s = count(pix_pixels, "pix_pixels")
    m, b = idx.shape
    for name, a in [("pix_sizes_for_sub_slim_index", sizes), ("extent_index_for_masked_pixel", flat)]:
        if a.shape != (m,):
            raise ValueError(f"{name} has shape {a.shape}, expected ({m},) (one per row of the triplets)")
    if wts.shape != idx.shape:
        raise ValueError(f"pix_weights_for_sub_slim_index has shape {wts.shape}, expected {idx.shape}")
    _first_outside(sizes, b + 1, "pix_sizes_for_sub_slim_index", f"[0, {b}] (B)")
    _first_outside(flat, ny * nx, "extent_index_for_masked_pixel", f"[0, {ny * nx}) (ny * nx)")
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(sizes, out=indptr[1:])
    valid = np.arange(b)[None, :] < sizes[:, None]
    col, val = idx[valid], wts[valid]  # row-major: CSR order
    bad = np.flatnonzero((col < 0) | (col >= s))
    if bad.size:
        row = int(np.searchsorted(indptr, bad[0], side="right")) - 1
        raise IndexError(f"pix_indexes_for_sub_slim_index[{row}, {bad[0] - indptr[row]}] = {col[bad[0]]} is outside "
                         f"[0, {s}) (pix_pixels); row {row} has {sizes[row]} valid entries")
    row_of = np.repeat(np.arange(m, dtype=np.int64), sizes)
    by_column = np.argsort(col, kind="stable")
    cscptr = np.zeros(s + 1, dtype=np.int64)
    np.cumsum(np.bincount(col, minlength=s), out=cscptr[1:])
    return {
        "iy": flat // nx, "ix": flat % nx, "flat": np.array(flat, copy=True),
        "indptr": indptr, "col": np.ascontiguousarray(col), "val": np.ascontiguousarray(val),
        "cscptr": cscptr, "csc_row": row_of[by_column], "csc_val": val[by_column],
        "n_pix": m, "nnz": int(indptr[-1]), "ny": ny, "nx": nx, "pix_pixels": s,
    }


def _first_outside(a: np.ndarray, high: int, name: str, allowed: str) -> None:
    bad = np.flatnonzero((a < 0) | (a >= high))
    if bad.size:
        raise IndexError(f"{name}[{bad[0]}] = {a[bad[0]]} is outside {allowed}")


def curvature_direct_conv(
    preload: np.ndarray,
    iy: np.ndarray,
    ix: np.ndarray,
    flat: np.ndarray,
    indptr: np.ndarray,
    col: np.ndarray,
    val: np.ndarray,
    cscptr: np.ndarray,
    csc_row: np.ndarray,
    csc_val: np.ndarray,
    ny: int,
    nx: int,
    pix_pixels: int,
) -> np.ndarray:
    """The curvature matrix ``F = T^T W T`` (S, S), full and symmetric, from the extent layout.

    ``W[i, j] = preload[(iy_j - iy_i) mod 2ny, (ix_j - ix_i) mod 2nx]`` between masked pixels
    (even in the offset for a true precision operator), T from its CSR (rows: masked pixels) and
    CSC (columns: source pixels) forms, which must hold the same entries. F comes from swiftw's
    prepared-operator machinery: "direct" costs about nnz(s) x (masked pixels from the column's
    first row on) multiply-adds per column, "fft" 2.5 real FFTs of the padded extent per column;
    swiftw takes the cheaper by its cost model. Every index is checked first (in Swift).

    Parameters
    ----------
    preload : (2ny, 2nx) float64
        The NUFFT precision operator (`nufft_precision_operator_from`).
    iy, ix, flat : (M,) int64
        Extent row, column and ``iy * nx + ix`` of each masked pixel.
    indptr : (M+1,) int64; col : (nnz,) int64; val : (nnz,) float64
        T in CSR form.
    cscptr : (S+1,) int64; csc_row : (nnz,) int64; csc_val : (nnz,) float64
        T in CSC form.
    ny, nx : int
        The extent rectangle.
    pix_pixels : int
        S.
    Returns
    -------
    (S, S) float64

    Raises
    ------
    IndexError
        An index outside its range, a pointer array that decreases or does not end at nnz, or
        ``flat != iy * nx + ix``, naming the parameter, the position and the value.
    ValueError
        Wrong shapes, or a CSR and a CSC that do not hold the same entries.
    """
    return _curvature_direct_conv(preload, iy, ix, flat, indptr, col, val, cscptr, csc_row, csc_val, ny, nx,
                                  pix_pixels, "auto")


def _curvature_direct_conv(preload, iy, ix, flat, indptr, col, val, cscptr, csc_row, csc_val, ny, nx, pix_pixels,
                           method: str, layout_only: bool = False) -> np.ndarray:
    """`curvature_direct_conv` by `method` ("auto", "direct", "fft"); with `layout_only` it stops
    once the inputs are in swiftw's layout (checked, the operator on the extent and the mapping's
    order built) and returns an unwritten F: what that conversion costs, for the benchmark."""
    s = count(pix_pixels, "pix_pixels")
    args = [floats(preload, "preload", 2)] + [
        indices(a, name, 1) for a, name in [(iy, "iy"), (ix, "ix"), (flat, "flat"), (indptr, "indptr"), (col, "col")]
    ] + [floats(val, "val", 1), indices(cscptr, "cscptr", 1), indices(csc_row, "csc_row", 1),
         floats(csc_val, "csc_val", 1)]
    out = output((s, s), "the curvature matrix", temporaries=limits()["curvature_scratch_per_output"])
    _swiftw.aa_direct_conv(out, *args, count(ny, "ny"), count(nx, "nx"), s,
                           METHODS[choice(method, "method", tuple(METHODS))], int(layout_only))
    return out
