"""`CurvatureOperator`: what the likelihood needs of a dataset, prepared once for the sampler loop."""
from __future__ import annotations

import weakref

import numpy as np

from . import _swiftw
from ._options import method_of
from ._limits import limits
from ._validate import choice, floats, indices, output
from .curvature import METHODS, _mapping, sparse_mapping_matrix_transpose_matmul
from .inversion import MAX_ITERATIONS, InversionResult, inversion_from_parts
from .likelihood import _log_likelihood_from_parts, _neighbours

__all__ = ["CurvatureOperator"]


class CurvatureOperator:
    """The w-tilde operator of one dataset (mask + visibilities), for ``F = T^T W T`` in a loop.

    Built once from the compact w-tilde and the mask's native indices; it keeps, in Swift, what
    depends only on the dataset: the kernel tabulated on the mask's box, the masked spans, and
    (on first use of the FFT method) the kernel's spectrum. Each call then takes a source
    mapping and returns F, or the log-likelihood, with the same numbers as
    `curvature_matrix_via_w_compact_sparse_mapping_matrix_from` and
    `log_likelihood_function_via_w_compact_from`.

    Parameters
    ----------
    w_compact : (N, 2N-1) float64
        From `w_compact_curvature_interferometer_from`.
    native_index_for_slim_index : (M, 2) int64
        (row, col) of each image pixel on the N x N grid.

    Examples
    --------
    >>> op = swiftw.CurvatureOperator(w_compact, native_index_for_slim_index)
    >>> for sample in sampler:                      # doctest: +SKIP
    ...     F = op.curvature_matrix(pix_indexes, pix_weights, pixels)
    """

    def __init__(self, w_compact: np.ndarray, native_index_for_slim_index: np.ndarray) -> None:
        compact = floats(w_compact, "w_compact", 2)
        native = indices(native_index_for_slim_index, "native_index_for_slim_index", 2)
        handle = np.zeros(1, dtype=np.int64)
        _swiftw.operator_create(handle, compact, native)
        # What rebuilds it (pickle, copy): private copies, so a later change to the caller's
        # arrays cannot make a copy differ from this operator.
        self._w_compact = np.array(compact, copy=True)
        self._native = np.array(native, copy=True)
        self._handle = int(handle[0])
        self.image_pixels = native.shape[0]
        self._release = weakref.finalize(self, _swiftw.operator_release, self._handle)

    def __reduce__(self):
        """Pickles (and copies) by value: the arrays it was built from, rebuilt on load. The
        handle names Swift state of this process only and never leaves it."""
        return (type(self), (self._w_compact, self._native))

    def curvature_matrix(
        self,
        pix_indexes_for_sub_slim_index: np.ndarray,
        pix_weights_for_sub_slim_index: np.ndarray,
        pixels: int,
        *,
        method: str | None = None,
    ) -> np.ndarray:
        """``F = T^T W T`` (S, S) for this mapping; `method` "auto", "direct" or "fft" as in
        `curvature_matrix_via_w_compact_sparse_mapping_matrix_from` (None: the option
        ``curvature`` in force)."""
        m = choice(method_of("curvature") if method is None else method, "method", tuple(METHODS))
        idx, w, s = _mapping(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
        out = output((s, s), "the curvature matrix", temporaries=limits()["curvature_scratch_per_output"])
        _swiftw.operator_curvature(out, idx, w, self._handle, s, METHODS[m])
        return out

    def costs(
        self, pix_indexes_for_sub_slim_index: np.ndarray, pix_weights_for_sub_slim_index: np.ndarray, pixels: int
    ) -> dict[str, float]:
        """The cost model "auto" decides by: estimated work of each method for this mapping."""
        idx, w, s = _mapping(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels)
        out = np.empty(2)
        _swiftw.operator_costs(out, idx, w, self._handle, s)
        return {"direct": float(out[0]), "fft": float(out[1])}

    def _curvature_and_data_vector(self, dirty_image, pix_indexes, pix_weights, neighbors, neighbors_sizes,
                                   method: str) -> tuple[np.ndarray, np.ndarray]:
        """(F, d = T^T dirty_image) for the likelihood and the inversion."""
        d_img = floats(dirty_image, "dirty_image", 1)
        *_, pixels = _neighbours(neighbors, neighbors_sizes)
        data_vector = sparse_mapping_matrix_transpose_matmul(d_img, pix_indexes, pix_weights, pixels)
        return self.curvature_matrix(pix_indexes, pix_weights, pixels, method=method), data_vector

    def log_likelihood(
        self,
        dirty_image: np.ndarray,
        data: np.ndarray,
        noise_map: np.ndarray,
        pix_indexes_for_sub_slim_index: np.ndarray,
        pix_weights_for_sub_slim_index: np.ndarray,
        neighbors: np.ndarray,
        neighbors_sizes: np.ndarray,
        *,
        method: str | None = None,
    ) -> float:
        """The log-likelihood of `log_likelihood_function_via_w_compact_from`, with F from this
        operator: ``-0.5 (chi.chi - s.d + log det (F + H) - log det H + noise_normalization)``."""
        f, data_vector = self._curvature_and_data_vector(
            dirty_image, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, neighbors, neighbors_sizes,
            method)
        return _log_likelihood_from_parts(data, noise_map, f, data_vector, neighbors, neighbors_sizes,
                                          rows_end_at_sizes=False)

    def inversion(
        self,
        dirty_image: np.ndarray,
        data: np.ndarray,
        noise_map: np.ndarray,
        pix_indexes_for_sub_slim_index: np.ndarray,
        pix_weights_for_sub_slim_index: np.ndarray,
        neighbors: np.ndarray,
        neighbors_sizes: np.ndarray,
        *,
        coefficient: float = 1.0,
        positive_only: bool = True,
        warm_start: np.ndarray | None = None,
        max_iterations: int = MAX_ITERATIONS,
        method: str = "auto",
    ) -> InversionResult:
        """The source reconstruction and the terms of its evidence (SPEC 3.8), F from this operator.

        With ``A = F + H`` (H the constant regularisation of `coefficient`) and ``d = T^T dirty_image``,
        the reconstruction is ``argmin_{s >= 0} 1/2 s^T A s - d^T s`` (``positive_only=False``:
        ``A^-1 d``, and then ``log_evidence`` is `log_likelihood`'s value at coefficient 1).
        `warm_start`, a previous reconstruction (e.g. the last sample's), orders the factorisation by
        its values and, if it is a better point than the clipped unconstrained solution, seeds the
        zero set with its zeros (otherwise the solve starts from u's signs, as a cold one does);
        the answer is the same.
        `max_iterations` bounds the solves (ValueError beyond). See `swiftw.inversion.InversionResult`
        for the terms.
        """
        f, data_vector = self._curvature_and_data_vector(
            dirty_image, pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, neighbors, neighbors_sizes,
            method)
        return inversion_from_parts(data, noise_map, f, data_vector, neighbors, neighbors_sizes,
                                    coefficient=coefficient, positive_only=positive_only,
                                    warm_start=warm_start, max_iterations=max_iterations)
