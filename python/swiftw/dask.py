"""`swiftw.dask`: a dataset's once-per-dataset sums over visibilities chunked on a Dask cluster.

Every per-dataset quantity is a sum over visibilities (SPEC 3.11), so each chunk of visibilities
is reduced on a worker, by swiftw's own kernels on one thread (one worker process per core), to a
small partial -- the (N, 2N-1) compact form or the (2 ny, 2 nx) precision operator, the dirty image,
two scalars -- and the partials are added by a tree reduction of `split_every` partials a task, so
the scheduler moves O(workers x partial size) bytes, never the visibilities. The answer equals the
single-node call within the NUFFT contract (about 10 eps sum(c)), whatever the chunking. A chunk
with bad values (NaN or infinite inputs, a zero sigma, rows that do not match) fails the
computation with a message that names the chunk; the single-node calls instead return NaN. An
infinite sigma is a zero weight, as in the single-node calls (but makes the noise normalisation
infinite, which `dataset_terms` refuses). While a chunk runs, swiftw's thread count in that
process is `num_threads`; the process's own setting is restored when no chunk runs (this matters
with the local threaded scheduler, whose chunks run in the client's process).

Inputs are dask arrays chunked along K (visibilities) -- NumPy arrays are accepted and split into
chunks of 2^20 visibilities -- and the results are lazy: ``.compute()`` (or ``client.compute``)
gives the NumPy answer. Install with ``pip install "swiftw[dask]"``.

Examples
--------
Arrays already on disk or in memory (``da.from_zarr`` works the same way)::

    import dask.array as da
    import swiftw.dask as sd
    from dask.distributed import Client

    client = Client(n_workers=2, threads_per_worker=1)
    noise = da.from_array(noise_map_real, chunks=1_000_000)             # (K,)
    uv = da.from_array(uv_wavelengths, chunks=(1_000_000, 2))           # (K, 2)
    w_compact = sd.w_compact_curvature_interferometer_from(300, noise, uv, 0.05).compute()

A Measurement Set read by dask-ms (rows chunked; u, v in wavelengths are uvw / lambda per channel,
computed inside each chunk, so nothing is materialised on the client)::

    import dask.array as da
    from daskms import xds_from_ms, xds_from_table
    from scipy.constants import c as speed_of_light

    ms, = xds_from_ms("obs.ms", columns=["UVW", "DATA", "SIGMA", "FLAG"], chunks={"row": 500_000})
    spw, = xds_from_table("obs.ms::SPECTRAL_WINDOW")
    wavelength = speed_of_light / spw.CHAN_FREQ.data[0].compute()         # (C,), metres
    uvw = ms.UVW.data                                                     # (R, 3), metres
    u = (uvw[:, 0, None] / wavelength).ravel()                            # (R C,), lazy
    v = (uvw[:, 1, None] / wavelength).ravel()
    uv = da.stack([u, v], axis=1)                                         # (R C, 2)
    data = ms.DATA.data[:, :, 0].ravel()                                  # first correlation
    sigma = da.broadcast_to(ms.SIGMA.data[:, :1], ms.DATA.data.shape[:2]).ravel()
    noise = sigma + 1j * sigma
    terms = sd.dataset_terms(data, noise, uv, (ny, nx), grid_radians_2d, grid_radians_slim).compute()

(Drop flagged rows first, e.g. with ``da.where`` on the weights or by selecting rows; a flagged
visibility must not enter the sums.)
"""
from __future__ import annotations

import math

import numpy as np

try:
    import dask
    import dask.array as da
except ImportError as error:  # dask is an optional extra
    raise ImportError('swiftw.dask needs dask: pip install "swiftw[dask]" (or pip install "dask[distributed]")') from error

from . import _partials
from ._partials import Chunk, DatasetTerms
from ._validate import count, floats, number

__all__ = ["w_compact_curvature_interferometer_from", "nufft_precision_operator_from", "dataset_terms",
           "DatasetTerms", "DEFAULT_CHUNK"]

DEFAULT_CHUNK = 1 << 20  # visibilities per chunk when a NumPy array is given: ~16-48 MB a chunk


def _as_dask(arrays: list, names: list[str]) -> list:
    """The arrays as dask arrays with the same chunks along K (axis 0) and one chunk across.

    The first dask array's chunks are the pattern; NumPy arrays are cut to it (or to
    `DEFAULT_CHUNK` rows if none is a dask array); dask arrays with other chunks are rechunked
    when the sizes are known. Unknown chunk sizes are paired block by block, and each block's
    shapes are checked on its worker."""
    pattern = next((a.chunks[0] for a in arrays if isinstance(a, da.Array)), None)
    out = []
    for a, name in zip(arrays, names):
        if not isinstance(a, da.Array):
            a = np.asarray(a)
            if a.ndim == 0:
                raise ValueError(f"{name} must be an array of one row per visibility, got a scalar")
            fits = pattern is not None and not any(map(math.isnan, pattern)) and sum(pattern) == a.shape[0]
            a = da.from_array(a, chunks=(pattern if fits else DEFAULT_CHUNK,) + a.shape[1:])
        if a.ndim == 0:
            raise ValueError(f"{name} must be an array of one row per visibility, got a scalar")
        if a.ndim > 1 and any(len(c) > 1 for c in a.chunks[1:]):
            a = a.rechunk({i: -1 for i in range(1, a.ndim)})
        out.append(a)
    known = [not any(math.isnan(c) for c in a.chunks[0]) for a in out]
    sizes = {a.shape[0] for a, k in zip(out, known) if k}
    if len(sizes) > 1:
        shapes = ", ".join(f"{n} {a.shape}" for a, n in zip(out, names))
        raise ValueError(f"the visibility arrays must have the same number of rows: {shapes}")
    if any(known):
        target = next(a.chunks[0] for a, k in zip(out, known) if k)
        out = [a.rechunk({0: target}) if k and a.chunks[0] != target else a for a, k in zip(out, known)]
    blocks = {a.numblocks[0] for a in out}
    if len(blocks) > 1:
        raise ValueError("the visibility arrays must come in the same number of chunks along K, got "
                         + ", ".join(f"{n}: {a.numblocks[0]}" for a, n in zip(out, names)))
    return out


def _chunks(array) -> list[Chunk]:
    sizes = array.chunks[0]
    if any(math.isnan(s) for s in sizes):
        return [Chunk(i) for i in range(len(sizes))]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    return [Chunk(i, int(starts[i]), int(starts[i + 1])) for i in range(len(sizes))]


def _reduce(partial, arrays: list, names: list[str], split_every, **options):
    """One delayed `partial` per chunk, added by a tree of `split_every` partials a task."""
    split = 4 if split_every is None else count(split_every, "split_every")
    if split < 2:
        raise ValueError(f"split_every must be at least 2, got {split}")
    arrays = _as_dask(arrays, names)
    blocks = [a.to_delayed().reshape(a.numblocks[0], -1)[:, 0] for a in arrays]
    parts = [dask.delayed(partial, pure=True)(*(b[i] for b in blocks), chunk, **options)
             for i, chunk in enumerate(_chunks(arrays[0]))]
    if not parts:
        raise ValueError("there are no visibilities (no chunks along K)")
    while len(parts) > 1:
        parts = [dask.delayed(_partials.add_partials, pure=True)(*parts[i:i + split])
                 for i in range(0, len(parts), split)]
    return parts[0]


def _threads(num_threads) -> int:
    n = count(num_threads, "num_threads")
    if n < 1:
        raise ValueError(f"num_threads must be at least 1, got {n}")
    return n


def _eps(eps) -> float:
    from ._limits import checked_eps

    return checked_eps(eps)


def w_compact_curvature_interferometer_from(grid_size: int, noise_map_real, uv_wavelengths, pixel_scale: float, *,
                                            eps: float = 1e-12, split_every: int | None = None,
                                            num_threads: int = 1) -> da.Array:
    """`swiftw.w_compact_curvature_interferometer_from` over visibilities chunked along K.

    ``w_compact[m, n] = sum_k c_k cos(D [(n - (N-1)) u_k - m v_k])``, ``c_k = sigma_k^-2``,
    ``D = pi^2 pixel_scale / 324000``: each chunk's sum by the single-node call (method "auto",
    the NUFFT for large chunks) on a worker, the partials added by a tree reduction.

    Parameters
    ----------
    grid_size : int
        N, the side of the square native grid.
    noise_map_real : (K,) dask or NumPy array of float64
    uv_wavelengths : (K, 2) dask or NumPy array of float64, chunked like `noise_map_real` along K
    pixel_scale : float
        Arcseconds per pixel.
    eps : float, keyword-only
        NUFFT accuracy per chunk: max |error| <= about eps sum(c) in all.
    split_every : int, keyword-only
        Partials added by one task of the tree reduction (>= 2; None: 4).
    num_threads : int, keyword-only
        swiftw threads per chunk on a worker (default 1: one worker process per core).

    Returns
    -------
    dask.array.Array of shape (N, 2N-1), lazy; ``.compute()`` gives the NumPy array.
    Cost: per visibility that of the single-node call; per chunk one NUFFT's FFT and one
    (N, 2N-1) partial sent to the scheduler.
    """
    n = count(grid_size, "grid_size")
    if n < 1:
        raise ValueError(f"grid_size must be at least 1, got {n}")
    total = _reduce(_partials.w_compact_partial, [noise_map_real, uv_wavelengths],
                    ["noise_map_real", "uv_wavelengths"], split_every, grid_size=n,
                    pixel_scale=number(pixel_scale, "pixel_scale"), eps=_eps(eps), num_threads=_threads(num_threads))
    return da.from_delayed(total, shape=(n, 2 * n - 1), dtype=np.float64)


def nufft_precision_operator_from(noise_map_real, uv_wavelengths, shape_masked_pixels_2d, grid_radians_2d, *,
                                  eps: float = 1e-12, split_every: int | None = None,
                                  num_threads: int = 1) -> da.Array:
    """The (2 ny, 2 nx) precision operator (PyAutoArray's preload) over visibilities chunked along K.

    ``out[dy mod 2ny, dx mod 2nx] = sum_k c_k cos(2 pi (sx dx u_k - sy dy v_k))`` for |dy| < ny,
    |dx| < nx, row ny and column nx zero, with the spacings (sy, sx) of the regular
    `grid_radians_2d`: the numbers of `swiftw.autoarray.w_tilde_curvature_preload_interferometer_from`,
    each chunk's by swiftw's compact form (the NUFFT for large chunks) on a worker.

    Parameters
    ----------
    noise_map_real : (K,) dask or NumPy array of float64
    uv_wavelengths : (K, 2) dask or NumPy array of float64
    shape_masked_pixels_2d : (int, int)
        (ny, nx), the mask's extent, at least (2, 2).
    grid_radians_2d : (>= ny, >= nx, 2) NumPy array of float64
        The native grid of (y, x) in radians (regular; y falls with the row, x rises with the column).
    eps, split_every, num_threads
        As in `w_compact_curvature_interferometer_from`.

    Returns
    -------
    dask.array.Array of shape (2 ny, 2 nx), lazy.
    """
    shape, spacing = _partials.regular_spacing(shape_masked_pixels_2d, grid_radians_2d)
    total = _reduce(_partials.precision_operator_partial, [noise_map_real, uv_wavelengths],
                    ["noise_map_real", "uv_wavelengths"], split_every, shape=shape, spacing=spacing,
                    eps=_eps(eps), num_threads=_threads(num_threads))
    return da.from_delayed(total, shape=(2 * shape[0], 2 * shape[1]), dtype=np.float64)


def dataset_terms(visibilities, noise_map, uv_wavelengths, shape_masked_pixels_2d, grid_radians_2d,
                  grid_radians_slim, *, eps: float = 1e-12, split_every: int | None = None, num_threads: int = 1):
    """In one pass over the visibilities, everything a fit needs from them.

    Each chunk's visibilities are read once, on a worker, for the four sums of `DatasetTerms`:

    - ``nufft_precision_operator`` (2 ny, 2 nx): as `nufft_precision_operator_from` with
      ``noise_map_real = noise_map.real`` (production's convention);
    - ``dirty_image`` (M,): ``sum_k (Re d_k / Re sigma_k^2) cos(phi_ik) - (Im d_k / Im sigma_k^2) sin(phi_ik)``,
      ``phi_ik = 2 pi (x_i u_k + y_i v_k)`` over `grid_radians_slim` -- the D-side image of
      ``chi^2 = s^T F s - 2 s^T T^T dirty_image + data_term`` (`swiftw.dirty_image_interferometer_from`,
      PyAutoArray's ``transformer.image_from(data.real / noise.real**2 + 1j data.imag / noise.imag**2)``;
      not `swiftw.w_tilde_data_interferometer_from`);
    - ``data_term``: ``sum_k (Re d_k / Re sigma_k)^2 + (Im d_k / Im sigma_k)^2`` (SPEC 3.8);
    - ``noise_normalization``: ``sum_k log(2 pi (Re sigma_k)^2) + log(2 pi (Im sigma_k)^2)``.

    Parameters
    ----------
    visibilities : (K,) complex128, or (K, 2) float64 of (real, imaginary); dask or NumPy
    noise_map : (K,) complex128, (K, 2) float64, or (K,) float64 (the same sigma for both parts)
    uv_wavelengths : (K, 2) float64
    shape_masked_pixels_2d, grid_radians_2d
        As in `nufft_precision_operator_from`.
    grid_radians_slim : (M, 2) NumPy array of float64
        (y, x) of the unmasked pixels, on the lattice of `grid_radians_2d`.
    eps, split_every, num_threads
        As in `w_compact_curvature_interferometer_from`; eps also bounds the dirty image's
        error, by about eps sum_k |d_k| / sigma_k^2.

    Returns
    -------
    dask.delayed.Delayed whose ``.compute()`` gives a `DatasetTerms` of NumPy arrays and floats.
    Cost: per visibility, the precision operator's NUFFT and two more spreads for the dirty image.
    """
    shape, spacing = _partials.regular_spacing(shape_masked_pixels_2d, grid_radians_2d)
    grid = floats(grid_radians_slim, "grid_radians_slim", 2)
    if grid.shape[1:] != (2,):
        raise ValueError(f"grid_radians_slim must be (M, 2), got shape {grid.shape}")
    return _reduce(_partials.dataset_partial, [visibilities, noise_map, uv_wavelengths],
                   ["visibilities", "noise_map", "uv_wavelengths"], split_every, shape=shape, spacing=spacing,
                   grid_radians_slim=grid, eps=_eps(eps), num_threads=_threads(num_threads))
