"""The extension `swiftw._swiftw`: the Swift kernels as the C shim exposes them.

Call them through the `swiftw` package, which converts dtypes and names parameters. Each kernel
takes its arrays (objects with a C-contiguous buffer: float64 'd', float32 'f', int64 'q',
uint8 'B') and numbers positionally, the output first; it validates shapes, ranges and indices
in Swift, releases the GIL while it runs, and returns None or raises TypeError, ValueError,
IndexError, MemoryError, OverflowError or KeyboardInterrupt. Each bridge entry
(Sources/PyBridge, `swiftw_<name>`) names the kernel file it calls.
"""
from typing_extensions import Buffer

Array = Buffer
Number = float | int

# settings and limits (Sources/PyBridge/Settings.swift)
def set_num_threads(n: Number, /) -> None: ...
def get_num_threads() -> int: ...
def limits(buffer: Array, /) -> None:
    """Writes "name value" lines and a NUL into the uint8 `buffer` (read by swiftw._limits)."""

# weighted sum
def weighted_sum(out: Array, /, *arrays_then_weights: Array | Number) -> None: ...

# the w-tilde family
def w_tilde(out: Array, noise_map_real: Array, uv_wavelengths: Array, grid_radians_slim: Array, /) -> None: ...
def w_compact(out: Array, noise_map_real: Array, uv_wavelengths: Array, grid_size: Number, pixel_scale: Number, /) -> None: ...
def w_compact_prefers_nufft(out: Array, grid_size: Number, visibilities: Number, eps: Number, /) -> None: ...
def w_compact_nufft(out: Array, noise_map_real: Array, uv_wavelengths: Array, coefficients: Array,
                    correction_x: Array, correction_y: Array, grid_size: Number, pixel_scale: Number,
                    width: Number, rows: Number, cols: Number, /) -> None: ...
def w_tilde_via_compact(out: Array, w_compact: Array, native_index_for_slim_index: Array, /) -> None: ...
def w_tilde_via_preload(out: Array, w_tilde_preload: Array, native_index_for_slim_index: Array, /) -> None: ...
def w_tilde_data(out: Array, visibilities_real: Array, noise_map_real: Array, uv_wavelengths: Array,
                 grid_radians_slim: Array, /) -> None: ...
def w_tilde_data_lattice(out: Array, visibilities_real: Array, noise_map_real: Array, uv_wavelengths: Array,
                         lattice: Array, rows: Number, cols: Number, y0: Number, x0: Number, spacing: Number,
                         /) -> None: ...
def w_tilde_data_nufft(out: Array, visibilities_real: Array, noise_map_real: Array, uv_wavelengths: Array,
                       lattice: Array, coefficients: Array, correction_x: Array, correction_y: Array,
                       rows: Number, cols: Number, y0: Number, x0: Number, spacing: Number, width: Number,
                       fine_rows: Number, fine_cols: Number, /) -> None: ...
def w_tilde_preload(out: Array, noise_map_real: Array, uv_wavelengths: Array, ny: Number, nx: Number,
                    sy: Number, sx: Number, /) -> None: ...

# mapping and curvature (method: 0 direct, 1 fft, 2 auto)
def mapping_matrix(out: Array, pix_indexes_for_sub_slim_index: Array, pix_weights_for_sub_slim_index: Array,
                   pixels: Number, /) -> None: ...
def data_vector(out: Array, mapping_matrix: Array, dirty_image: Array, /) -> None: ...
def transpose_matmul(out: Array, matrix: Array, pix_indexes_for_sub_slim_index: Array,
                     pix_weights_for_sub_slim_index: Array, pixels: Number, /) -> None: ...
def curvature_dense_mapping(out: Array, w_tilde: Array, mapping_matrix: Array, /) -> None: ...
def curvature_w_tilde_sparse(out: Array, w_tilde: Array, pix_indexes_for_sub_slim_index: Array,
                             pix_weights_for_sub_slim_index: Array, pixels: Number, /) -> None: ...
def curvature_w_compact_sparse(out: Array, w_compact: Array, native_index_for_slim_index: Array,
                               pix_indexes_for_sub_slim_index: Array, pix_weights_for_sub_slim_index: Array,
                               pixels: Number, method: Number, /) -> None: ...
def regularization(out: Array, neighbors: Array, neighbors_sizes: Array, coefficient: Number,
                   rows_end_at_sizes: Number, accumulate: Number = ..., /) -> None: ...

# swiftw.autoarray's sub-pixel mappings and preload layout
def aa_mapping_matrix(out: Array, pix_indexes_for_sub_slim_index: Array, pix_size_for_sub_slim_index: Array,
                      pix_weights_for_sub_slim_index: Array, slim_index_for_sub_slim_index: Array,
                      sub_fraction: Array, pixels: Number, /) -> None: ...
def aa_transpose_matmul(out: Array, matrix: Array, pix_indexes_for_sub_slim_index: Array,
                        pix_size_for_sub_slim_index: Array, pix_weights_for_sub_slim_index: Array,
                        slim_index_for_sub_slim_index: Array, sub_fraction: Array, pixels: Number, /) -> None: ...
def aa_curvature_w_tilde(out: Array, w_tilde: Array, pix_indexes_for_sub_slim_index: Array,
                         pix_size_for_sub_slim_index: Array, pix_weights_for_sub_slim_index: Array,
                         slim_index_for_sub_slim_index: Array, sub_fraction: Array, pixels: Number, /) -> None: ...
def aa_curvature_preload(out: Array, curvature_preload: Array, native_index_for_slim_index: Array,
                         pix_indexes_for_sub_slim_index: Array, pix_size_for_sub_slim_index: Array,
                         pix_weights_for_sub_slim_index: Array, *rest: Array | Number) -> None:
    """`rest`: optionally slim_index_for_sub_slim_index and sub_fraction, then pix_pixels and the method."""

# the prepared operator (swiftw.CurvatureOperator); handles are small integers held by Python
def operator_create(handle: Array, w_compact: Array, native_index_for_slim_index: Array, /) -> None: ...
def operator_curvature(out: Array, pix_indexes_for_sub_slim_index: Array, pix_weights_for_sub_slim_index: Array,
                       handle: Number, pixels: Number, method: Number, /) -> None: ...
def operator_costs(out: Array, pix_indexes_for_sub_slim_index: Array, pix_weights_for_sub_slim_index: Array,
                   handle: Number, pixels: Number, /) -> None: ...
def operator_release(handle: Number, /) -> None: ...
def operator_curvature_vjp(out: Array, pix_indexes_for_sub_slim_index: Array, pix_weights_for_sub_slim_index: Array,
                           cotangent: Array, handle: Number, pixels: Number, /) -> None:
    """d <G, F> / d pix_weights: ``out[m, b] = sum_s' (W T)[m, s'] (G + G^T)[pix[m, b], s']``."""

# the extent grid (swiftw.autoarray, PyAutoArray's 2026 API; Sources/PyBridge/ExtentExports.swift)
def aa_direct_conv(out: Array, preload: Array, iy: Array, ix: Array, flat: Array, indptr: Array, col: Array,
                   val: Array, cscptr: Array, csc_row: Array, csc_val: Array, ny: Number, nx: Number,
                   pix_pixels: Number, method: Number, layout_only: Number, /) -> None: ...
def extent_operator_create(handle: Array, nufft_precision_operator: Array, /) -> None: ...
def extent_operator_curvature(out: Array, rows: Array, cols: Array, vals: Array, handle: Number, pixels: Number,
                              method: Number, /) -> None: ...

# the dirty image (swiftw.dirty_image_interferometer_from; Sources/SwiftKernels/WTilde/DirtyImage.swift)
def dirty_image_nufft(out: Array, visibilities: Array, noise_map: Array, uv_wavelengths: Array, native: Array,
                      coefficients: Array, correction_x: Array, correction_y: Array, rows: Number, cols: Number,
                      y0: Number, x0: Number, spacing: Number, width: Number, fine_rows: Number, fine_cols: Number,
                      /) -> None: ...

# the positive-only inversion (swiftw.inversion; Sources/PyBridge/InversionExports.swift)
def set_lapack(addresses: Array, /) -> None:
    """SciPy's dpotrf, dtrsv, dtrsm, dsyrk, dgemm and dpbtrf (int64 addresses), once per process."""
def positive_only(out: Array, info: Array, curvature_reg_matrix: Array, data_vector: Array,
                  *rest: Array | Number) -> None:
    """`rest`: optionally the warm start, then positive_only (0/1), the iteration limit, the strategy and
    built (0/1: A was built by swiftw from checked inputs, so its n^2 scan is skipped)."""
def log_det_regularization(out: Array, neighbors: Array, neighbors_sizes: Array, coefficient: Number,
                           rows_end_at_sizes: Number, /) -> None:
    """out (1,) := log det H, banded after reverse Cuthill-McKee (needs set_lapack; RegularizationExports.swift)."""

# XLA FFI (swiftw.jax; Sources/CPython/xla_ffi.c): {} when built without jaxlib's header
def xla_ffi_handlers() -> dict[str, object]: ...
def xla_ffi_token() -> int: ...

# set by swiftw._cpu when it loads this build: "x86-64-v3" or "x86-64-v4"
cpu_variant: str
