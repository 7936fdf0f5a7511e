"""`InterferometerSparseOperator` (PyAutoArray 2026, SPEC 3.9): W on the mask's extent rectangle,
prepared once per dataset from the precision operator, for F of COO mapping triplets."""
from __future__ import annotations

import weakref
from typing import Any, Optional

import numpy as np

from . import _swiftw
from ._threads import get_num_threads
from ._limits import limits
from ._validate import count, floats, indices, output
from .curvature import METHODS

__all__ = ["InterferometerSparseOperator"]


class InterferometerSparseOperator:
    """W-tilde on the (ny, nx) extent rectangle, ``W[p, q] = P[(q_y - p_y) mod 2ny, (q_x - p_x) mod
    2nx]`` for extent cells p, q and the precision operator P (2ny, 2nx), prepared once in Swift
    (the kernel tabulated on the extent; its spectrum on first use of the FFT method).

    Build it with `from_nufft_precision_operator`. Mapping triplets ``(rows, cols, vals)`` have
    extent-flat rows (``iy * nx + ix``); triplets whose column lies outside [0, S) (a Mapper's
    -1 padding) are dropped, and duplicates add. F comes from swiftw's direct or FFT method, the
    cheaper by its cost model. Pickles and copies by value (the precision operator and the
    other fields; the Swift state is rebuilt on load).

    Attributes
    ----------
    nufft_precision_operator : (2ny, 2nx) float64
    dirty_image, data_term, noise_normalization
        Stored as given, for the caller.
    y_shape, x_shape, M : int
        ny, nx and ny nx.
    batch_size : int
        Kept for the production signature: swiftw's kernels choose their own blocking.
    """

    def __init__(self, nufft_precision_operator: np.ndarray, dirty_image: Any, *, batch_size: int = 128,
                 data_term: Any = None, noise_normalization: Any = None) -> None:
        preload = floats(nufft_precision_operator, "nufft_precision_operator", 2)
        h2, w2 = preload.shape
        if h2 % 2 or w2 % 2 or h2 < 2 or w2 < 2:
            raise ValueError(f"nufft_precision_operator has shape {preload.shape}, expected (2 ny, 2 nx), even and non-empty")
        self.nufft_precision_operator = np.array(preload, copy=True)
        self.dirty_image = dirty_image
        self.batch_size = count(batch_size, "batch_size")
        self.data_term = data_term
        self.noise_normalization = noise_normalization
        self.y_shape, self.x_shape = h2 // 2, w2 // 2
        self.M = self.y_shape * self.x_shape
        self._spectrum: Optional[np.ndarray] = None
        handle = np.zeros(1, dtype=np.int64)
        _swiftw.extent_operator_create(handle, self.nufft_precision_operator)
        self._handle = int(handle[0])
        self._release = weakref.finalize(self, _swiftw.operator_release, self._handle)

    @classmethod
    def from_nufft_precision_operator(cls, nufft_precision_operator: np.ndarray, dirty_image: Any, *,
                                      batch_size: int = 128, data_term: Any = None,
                                      noise_normalization: Any = None) -> "InterferometerSparseOperator":
        """The operator of a precision operator (2ny, 2nx), as the production library builds it."""
        return cls(nufft_precision_operator, dirty_image, batch_size=batch_size, data_term=data_term,
                   noise_normalization=noise_normalization)

    def __reduce__(self):
        """By value: what rebuilds it; the Swift handle never leaves this process."""
        return (_rebuild, (self.nufft_precision_operator, self.dirty_image, self.batch_size, self.data_term,
                           self.noise_normalization))

    def apply_operator(self, Fbatch_flat: np.ndarray) -> np.ndarray:
        """``W @ Fbatch_flat`` for (M, B) columns on the extent (extent-flat rows): a zero-padded
        real-FFT convolution with P, ``irfft2(rfft2(F padded to (2ny, 2nx)) rfft2(P))`` cut to
        (ny, nx). Cost per column: three real FFTs of (2ny, 2nx) (scipy.fft, this process's
        threads)."""
        from scipy import fft

        f = floats(Fbatch_flat, "Fbatch_flat", 2)
        if f.shape[0] != self.M:
            raise ValueError(f"Fbatch_flat has shape {f.shape}, expected ({self.M}, B) (M = ny nx = {self.M})")
        ny, nx = self.y_shape, self.x_shape
        if self._spectrum is None:
            self._spectrum = fft.rfft2(self.nufft_precision_operator, workers=get_num_threads())
        images = f.T.reshape(f.shape[1], ny, nx)
        spectra = fft.rfft2(images, s=(2 * ny, 2 * nx), workers=get_num_threads())
        g = fft.irfft2(spectra * self._spectrum, s=(2 * ny, 2 * nx), workers=get_num_threads())[:, :ny, :nx]
        return np.ascontiguousarray(g.reshape(f.shape[1], self.M).T)

    def _curvature(self, rows, cols, vals, s: int, method: str = "auto") -> np.ndarray:
        r = indices(rows, "rows", 1)
        c = indices(cols, "cols", 1)
        v = floats(vals, "vals", 1)
        if not r.shape == c.shape == v.shape:
            raise ValueError(f"rows, cols and vals have shapes {r.shape}, {c.shape}, {v.shape}: expected one length")
        out = output((s, s), "the curvature matrix", temporaries=limits()["curvature_scratch_per_output"])
        _swiftw.extent_operator_curvature(out, r, c, v, self._handle, s, METHODS[method])
        return out

    def curvature_matrix_diag_from(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, *, S: int) -> np.ndarray:
        """``F = T^T W T`` (S, S), symmetric, for the mapping T (ny nx, S) of the COO triplets.

        Parameters
        ----------
        rows : (nnz,) int64
            Extent-flat cells, in [0, ny nx) for every kept triplet (else IndexError).
        cols : (nnz,) int64
            Source pixels; triplets outside [0, S) are dropped.
        vals : (nnz,) float64
        S : int
        """
        return self._curvature(rows, cols, vals, count(S, "S"))

    def curvature_matrix_off_diag_from(self, rows0: np.ndarray, cols0: np.ndarray, vals0: np.ndarray,
                                       rows1: np.ndarray, cols1: np.ndarray, vals1: np.ndarray, *,
                                       S0: int, S1: int) -> np.ndarray:
        """``F01 = T0^T W T1`` (S0, S1) for two mappers' triplets (as in
        `curvature_matrix_diag_from`). Computed as the off-diagonal block of F of the joint
        mapping [T0 | T1], by the same kernels: about (S0 + S1)^2 / (2 S0 S1) times the work of
        the block alone."""
        s0, s1 = count(S0, "S0"), count(S1, "S1")
        c0 = indices(cols0, "cols0", 1)
        c1 = indices(cols1, "cols1", 1)
        joint_cols = np.concatenate([np.where((c0 >= 0) & (c0 < s0), c0, -1),
                                     np.where((c1 >= 0) & (c1 < s1), c1 + s0, -1)])
        r0, r1 = indices(rows0, "rows0", 1), indices(rows1, "rows1", 1)
        for name, a, b in [("rows0", r0, c0), ("vals0", vals0, c0), ("rows1", r1, c1), ("vals1", vals1, c1)]:
            if np.shape(a) != b.shape:
                raise ValueError(f"{name} has shape {np.shape(a)}, expected {b.shape} (one per column index)")
        # Checked here too, so that an error names the mapper's own array and position (Swift
        # checks the joint triplets again).
        for name, rows, kept in [("rows0", r0, joint_cols[:c0.size] >= 0), ("rows1", r1, joint_cols[c0.size:] >= 0)]:
            bad = np.flatnonzero(kept & ((rows < 0) | (rows >= self.M)))
            if bad.size:
                raise IndexError(f"{name}[{bad[0]}] = {rows[bad[0]]} is outside the extent's [0, {self.M}) cells")
        joint = self._curvature(np.concatenate([r0, r1]), joint_cols,
                                np.concatenate([floats(vals0, "vals0", 1), floats(vals1, "vals1", 1)]), s0 + s1)
        return np.ascontiguousarray(joint[:s0, s0:])


def _rebuild(preload, dirty_image, batch_size, data_term, noise_normalization) -> InterferometerSparseOperator:
    return InterferometerSparseOperator(preload, dirty_image, batch_size=batch_size, data_term=data_term,
                                        noise_normalization=noise_normalization)
