"""Recognise image-pixel coordinates that lie on a lattice, for the separable (angle-addition)
evaluation of cosine sums over pixels."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Lattice", "lattice_of"]

# A lattice fit is used only if it changes no phase by more than this (radians): the answer then
# differs from the direct sum by at most about this times sum(|weights|), i.e. by rounding.
PHASE_TOLERANCE = 1e-12


class Lattice(NamedTuple):
    """``x_i = x0 + spacing * col_i``, ``y_i = y0 - spacing * row_i`` with (row, col) in `native`."""

    native: np.ndarray  # (M, 2) int64 (row, col), rows in [0, rows), cols in [0, cols)
    rows: int
    cols: int
    y0: float
    x0: float
    spacing: float


def lattice_of(grid_radians_slim: np.ndarray, uv_wavelengths: np.ndarray) -> Lattice | None:
    """The lattice that `grid_radians_slim` (M, 2) of (y, x) lies on, or None.

    The spacing is the smallest gap between distinct coordinates; pixel indices are rounded and
    (x0, y0, spacing) refitted by least squares. The fit is accepted only if every phase
    ``2 pi (x u + y v)`` it implies is within `PHASE_TOLERANCE` of the given one for the largest
    |u| + |v|, and if the lattice's box holds no more than four times the pixels (else the direct
    sum is cheaper).
    """
    m = grid_radians_slim.shape[0]
    if m < 2 or not np.all(np.isfinite(grid_radians_slim)):
        return None
    y, x = grid_radians_slim[:, 0], grid_radians_slim[:, 1]
    span = max(np.ptp(x), np.ptp(y))
    if span == 0:
        return None
    gaps = np.concatenate([np.diff(np.sort(x)), np.diff(np.sort(y))])
    gaps = gaps[gaps > 1e-6 * span]
    if gaps.size == 0:
        return None
    spacing = float(gaps.min())
    cols = np.rint((x - x.min()) / spacing)
    rows = np.rint((y.max() - y) / spacing)
    if max(cols.max(), rows.max()) > 1 << 20:
        return None
    # Two fits of (x0, y0, spacing): anchored at the extreme pixels with the spacing of the
    # extremes (exact for an exact lattice), and least squares (best for rounded coordinates).
    widest = max(cols.max(), rows.max())
    anchored = (x.min(), y.max(), (x.max() - x.min()) / widest if cols.max() >= rows.max() else (y.max() - y.min()) / widest)
    a = np.zeros((2 * m, 3))
    a[:m, 0], a[:m, 2] = 1.0, cols
    a[m:, 1], a[m:, 2] = 1.0, -rows
    fitted = tuple(np.linalg.lstsq(a, np.concatenate([x, y]), rcond=None)[0])

    def residual(fit):
        x0, y0, s = fit
        return max(np.max(np.abs(x - x0 - s * cols)), np.max(np.abs(y - y0 + s * rows)))

    (x0, y0, spacing), residual = min(((fit, residual(fit)) for fit in (anchored, fitted)), key=lambda p: p[1])
    reach = 0.0
    if uv_wavelengths.size:  # max |u| + max |v|, without a K-sized temporary
        u, v = uv_wavelengths[:, 0], uv_wavelengths[:, 1]
        reach = max(u.max(), -u.min()) + max(v.max(), -v.min())
    if not np.isfinite(reach) or 2 * np.pi * residual * reach > PHASE_TOLERANCE:
        return None
    n_rows, n_cols = int(rows.max()) + 1, int(cols.max()) + 1
    if n_rows * n_cols > 4 * m + 64:
        return None
    native = np.stack([rows, cols], axis=1).astype(np.int64)
    return Lattice(native, n_rows, n_cols, float(y0), float(x0), float(spacing))
