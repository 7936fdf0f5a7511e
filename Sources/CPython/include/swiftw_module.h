/* The kernels the Swift bridge exports with @_cdecl; see Sources/PyBridge. */
#ifndef SWIFTW_MODULE_H
#define SWIFTW_MODULE_H
#include "swiftw_abi.h"

#define SWIFTW_KERNELS(X) \
    X(set_num_threads) \
    X(limits) \
    X(weighted_sum) \
    X(w_tilde) \
    X(w_compact) \
    X(w_compact_prefers_nufft) \
    X(w_compact_nufft) \
    X(w_tilde_via_compact) \
    X(w_tilde_via_preload) \
    X(w_tilde_data) \
    X(w_tilde_data_lattice) \
    X(w_tilde_data_nufft) \
    X(dirty_image_nufft) \
    X(mapping_matrix) \
    X(data_vector) \
    X(transpose_matmul) \
    X(curvature_dense_mapping) \
    X(curvature_w_tilde_sparse) \
    X(curvature_w_compact_sparse) \
    X(regularization) \
    X(w_tilde_preload) \
    X(aa_mapping_matrix) \
    X(aa_transpose_matmul) \
    X(aa_curvature_w_tilde) \
    X(aa_curvature_preload) \
    X(operator_create) \
    X(operator_curvature) \
    X(operator_curvature_vjp) \
    X(operator_costs) \
    X(operator_release) \
    X(aa_direct_conv) \
    X(extent_operator_create) \
    X(extent_operator_curvature) \
    X(set_lapack) \
    X(positive_only) \
    X(log_det_regularization)

#define SWIFTW_DECLARE(name) \
    int32_t swiftw_##name(const swiftw_array *, int64_t, const double *, int64_t, swiftw_status *);
SWIFTW_KERNELS(SWIFTW_DECLARE)

int64_t swiftw_get_num_threads(void);
#endif
