"""The mapping matrix T, the data vector, and the curvature matrix F = T^T W T."""
from __future__ import annotations

import numpy as np

from . import _swiftw
from ._options import method_of
from ._limits import limits
from ._validate import choice, count, floats, indices, output

__all__ = [
    "mapping_matrix_from",
    "data_vector_from",
    "curvature_matrix_via_w_tilde_from",
    "sparse_mapping_matrix_transpose_matmul",
    "curvature_matrix_via_w_tilde_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_wilde_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from",
    "curvature_matrix_via_w_tilde_curvature_preload_interferometer_from",
]

_MAPPING_DOC = """pix_indexes_for_sub_slim_index : (M, B) int64
        Source pixel of each of the B mappings of each image pixel; a row ends at its first -1.
        Any other index outside [0, pixels) raises IndexError.
    pix_weights_for_sub_slim_index : (M, B) float64
        The weight of each mapping.
    pixels : int
        S, the number of source pixels."""


def _mapping(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels):
    return (
        indices(pix_indexes_for_sub_slim_index, "pix_indexes_for_sub_slim_index", 2),
        floats(pix_weights_for_sub_slim_index, "pix_weights_for_sub_slim_index", 2),
        count(pixels, "pixels"),
    )


def mapping_matrix_from(
    pix_indexes_for_sub_slim_index: np.ndarray, pix_weights_for_sub_slim_index: np.ndarray, pixels: int
) -> np.ndarray:
    """The dense mapping matrix T (M, S): ``T[m, s] += weight[m, b]`` for each mapping b.

    Parameters
    ----------
    {mapping}

    Returns
    -------
    (M, S) float64
    """
    idx, w, s = _mapping(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    out = output((idx.shape[0], s), "the mapping matrix")
    _swiftw.mapping_matrix(out, idx, w, s)
    return out


def data_vector_from(mapping_matrix: np.ndarray, dirty_image: np.ndarray) -> np.ndarray:
    """The data vector ``dirty_image @ mapping_matrix``.

    Parameters
    ----------
    mapping_matrix : (M, S) float64
    dirty_image : (M,) float64

    Returns
    -------
    (S,) float64
    """
    t = floats(mapping_matrix, "mapping_matrix", 2)
    d = floats(dirty_image, "dirty_image", 1)
    out = output((t.shape[1],), "the data vector")
    _swiftw.data_vector(out, t, d)
    return out


def curvature_matrix_via_w_tilde_from(w_tilde: np.ndarray, mapping_matrix: np.ndarray) -> np.ndarray:
    """The curvature matrix ``F = T^T W T`` from a dense mapping matrix.

    The non-zeros of T are found once (M S reads); then F costs as for a sparse T.

    Parameters
    ----------
    w_tilde : (M, M) float64, symmetric
    mapping_matrix : (M, S) float64

    Returns
    -------
    (S, S) float64, symmetric
    """
    w = floats(w_tilde, "w_tilde", 2)
    t = floats(mapping_matrix, "mapping_matrix", 2)
    out = output((t.shape[1], t.shape[1]), "the curvature matrix")
    _swiftw.curvature_dense_mapping(out, w, t)
    return out


def sparse_mapping_matrix_transpose_matmul(
    matrix: np.ndarray,
    pix_indexes_for_sub_slim_index: np.ndarray,
    pix_weights_for_sub_slim_index: np.ndarray,
    pixels: int,
) -> np.ndarray:
    """``T^T @ matrix`` without forming T.

    Parameters
    ----------
    matrix : (M,) or (M, X) float64
    {mapping}

    Returns
    -------
    (S,) or (S, X) float64
    """
    a = floats(matrix, "matrix", (1, 2))
    idx, w, s = _mapping(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    out = output((s,) + a.shape[1:], "T^T @ matrix")
    _swiftw.transpose_matmul(out, a, idx, w, s)
    return out


def curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(
    w_tilde: np.ndarray,
    pix_indexes_for_sub_slim_index: np.ndarray,
    pix_weights_for_sub_slim_index: np.ndarray,
    pixels: int,
) -> np.ndarray:
    """The curvature matrix ``F = T^T W T`` with T given sparsely.

    Column s of ``W T`` is accumulated from the rows of W of the image pixels that map to s, and
    ``F[s, s'] = T[:, s']^T (W T)[:, s]`` for ``s' >= s``; F is mirrored. Cost: B M^2
    multiply-adds plus B M S / 2 gathers.

    Parameters
    ----------
    w_tilde : (M, M) float64, symmetric
    {mapping}

    Returns
    -------
    (S, S) float64, symmetric
    """
    w = floats(w_tilde, "w_tilde", 2)
    idx, pw, s = _mapping(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    out = output((s, s), "the curvature matrix", temporaries=limits()["curvature_scratch_per_output"])
    _swiftw.curvature_w_tilde_sparse(out, w, idx, pw, s)
    return out


METHODS = {"direct": 0, "fft": 1, "auto": 2}


def curvature_matrix_via_w_compact_sparse_mapping_matrix_from(
    w_compact: np.ndarray,
    native_index_for_slim_index: np.ndarray,
    pix_indexes_for_sub_slim_index: np.ndarray,
    pix_weights_for_sub_slim_index: np.ndarray,
    pixels: int,
) -> np.ndarray:
    """The curvature matrix ``F = T^T W T`` from the compact w-tilde, never forming W.

    W depends only on the native offset of two pixels. Column s of ``W T`` is built on the
    mask's bounding box, then ``F[s, s'] = T[:, s']^T (W T)[:, s]`` is gathered for the pairs
    not yet done (each pair once; F is mirrored).

    Parameters
    ----------
    w_compact : (N, 2N-1) float64
    native_index_for_slim_index : (M, 2) int64
    {mapping}

    Returns
    -------
    (S, S) float64, symmetric

    Notes
    -----
    The option ``curvature`` (`swiftw.set_options`, `swiftw.options`; or the `method` parameter
    of `CurvatureOperator.curvature_matrix`) picks the evaluation: "direct": each mapping adds a
    shifted window of the kernel along each grid row, as contiguous SIMD updates; cost
    nnz(column) x (masked pixels) multiply-adds per column. "fft": zero-padded real-FFT
    convolution of each column's image with the kernel (whose spectrum is real, as W is even);
    cost about 2.5 real FFTs of twice the box per column, whatever nnz(column) is. "auto"
    (default): the cheaper by the kernel's cost model (Sources/SwiftKernels/Curvature). All give
    F to rounding.
    """
    return _curvature_via_w_compact(w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
                                    pix_weights_for_sub_slim_index, pixels, method_of("curvature"))


def _curvature_via_w_compact(w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
                             pix_weights_for_sub_slim_index, pixels, method: str) -> np.ndarray:
    """F from the compact w-tilde by `method` ("auto", "direct" or "fft")."""
    m = choice(method, "method", tuple(METHODS))
    compact = floats(w_compact, "w_compact", 2)
    native = indices(native_index_for_slim_index, "native_index_for_slim_index", 2)
    idx, pw, s = _mapping(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
    out = output((s, s), "the curvature matrix", temporaries=limits()["curvature_scratch_per_output"])
    _swiftw.curvature_w_compact_sparse(out, compact, native, idx, pw, s, METHODS[m])
    return out


def curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from(
    w_compact: np.ndarray,
    native_index_for_slim_index: np.ndarray,
    pix_indexes_for_sub_slim_index: np.ndarray,
    pix_weights_for_sub_slim_index: np.ndarray,
    pixels: int,
) -> np.ndarray:
    """`curvature_matrix_via_w_compact_sparse_mapping_matrix_from` by the "direct" method, whatever
    the option ``curvature`` says."""
    return _curvature_via_w_compact(w_compact, native_index_for_slim_index, pix_indexes_for_sub_slim_index,
                                    pix_weights_for_sub_slim_index, pixels, "direct")


# The reference module's spellings.
curvature_matrix_via_w_wilde_sparse_mapping_matrix_from = curvature_matrix_via_w_tilde_sparse_mapping_matrix_from
curvature_matrix_via_w_tilde_curvature_preload_interferometer_from = (
    curvature_matrix_via_w_compact_sparse_mapping_matrix_from
)

for _f in (
    mapping_matrix_from,
    sparse_mapping_matrix_transpose_matmul,
    curvature_matrix_via_w_tilde_sparse_mapping_matrix_from,
    curvature_matrix_via_w_compact_sparse_mapping_matrix_from,
):
    _f.__doc__ = _f.__doc__.replace("{mapping}", _MAPPING_DOC)
