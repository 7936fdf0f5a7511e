"""swiftw: Swift kernels for the interferometric lensing likelihood.

A drop-in for the Numba kernels of the PyAutoLens interferometer likelihood: the same function
names and parameter names, the same numbers (to rounding), no JIT warm-up. Arrays go to Swift
without a copy when they are float64 / int64 and C-contiguous; the GIL is released around every
kernel. Threads: `set_num_threads`, `get_num_threads`, or SWIFTW_NUM_THREADS at import.
The kernels' build for this CPU (x86-64-v3 or x86-64-v4) is chosen at import; SWIFTW_CPU forces
one, and `show_config()` says which.
"""
from __future__ import annotations

from ._cpu import load as _load_kernels

_swiftw = _load_kernels()[0]  # before the modules that call it

from ._options import get_options, options, set_options
from ._threads import default_num_threads, get_num_threads, set_num_threads
from ._config import show_config
from .curvature import (
    curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from,
    curvature_matrix_via_w_compact_sparse_mapping_matrix_from,
    curvature_matrix_via_w_tilde_curvature_preload_interferometer_from,
    curvature_matrix_via_w_tilde_from,
    curvature_matrix_via_w_tilde_sparse_mapping_matrix_from,
    curvature_matrix_via_w_wilde_sparse_mapping_matrix_from,
    data_vector_from,
    mapping_matrix_from,
    sparse_mapping_matrix_transpose_matmul,
)
from .dirty_image import dirty_image_interferometer_from
from .likelihood import (
    constant_regularization_matrix_from,
    log_likelihood_function_via_w_compact_from,
    log_likelihood_function_via_w_tilde_from,
    mask_2d_centres_from,
    mask_2d_circular_from,
    noise_normalization_complex_from,
    reconstruction_positive_negative_from,
)
from .w_tilde import (
    w_compact_curvature_interferometer_from,
    w_mm,
    w_tilde_curvature_interferometer_from,
    w_tilde_data_interferometer_from,
    w_tilde_via_compact_from,
    w_tilde_via_preload_from,
)
from .weighted_sum import _fma, fma, inplace_weighted_sum
from .operator import CurvatureOperator
from .inversion import reconstruction_positive_only_from
from . import autoarray  # noqa: E402  (the production library's signatures)

__version__ = "0.1.0"

__all__ = [
    "CurvatureOperator",
    "show_config",
    "reconstruction_positive_only_from",
    "set_num_threads",
    "get_num_threads",
    "set_options",
    "get_options",
    "options",
    "fma",
    "_fma",
    "inplace_weighted_sum",
    "w_mm",
    "w_tilde_curvature_interferometer_from",
    "w_compact_curvature_interferometer_from",
    "w_tilde_via_compact_from",
    "w_tilde_via_preload_from",
    "w_tilde_data_interferometer_from",
    "dirty_image_interferometer_from",
    "mapping_matrix_from",
    "data_vector_from",
    "curvature_matrix_via_w_tilde_from",
    "sparse_mapping_matrix_transpose_matmul",
    "curvature_matrix_via_w_tilde_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_wilde_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_from",
    "curvature_matrix_via_w_tilde_curvature_preload_interferometer_from",
    "curvature_matrix_via_w_compact_sparse_mapping_matrix_direct_from",
    "constant_regularization_matrix_from",
    "reconstruction_positive_negative_from",
    "noise_normalization_complex_from",
    "log_likelihood_function_via_w_tilde_from",
    "log_likelihood_function_via_w_compact_from",
    "mask_2d_centres_from",
    "mask_2d_circular_from",
]

set_num_threads(default_num_threads())
