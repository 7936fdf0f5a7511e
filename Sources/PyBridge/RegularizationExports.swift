import SwiftKernels
import SwiftwABI

/// log_det_regularization(out, neighbors, neighbors_sizes; coefficient, rows_end_at_sizes):
/// out (1,) := log det H of the constant regularisation (rows of `neighbors` end at their first
/// -1 (0) or at neighbors_sizes[i] (1, autoarray)). Needs `set_lapack` (dpbtrf, dpotrf) first.
/// Kernel: `logDetConstantRegularization` in Sources/SwiftKernels/Inversion/RegularizationLogDet.swift.
@_cdecl("swiftw_log_det_regularization")
public func swiftwLogDetRegularization(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 3, what: "arrays")
        let coefficient = try args.number(0, "coefficient")
        let rowsEndAtSizes = try args.integer(1, "rows_end_at_sizes", atMost: 1) == 1
        let sizes = try args.indices(2, "neighbors_sizes", shape: [nil])
        let neighbors = try args.indices(1, "neighbors", shape: [sizes.count, nil])
        let out = try args.output(0, "out", shape: [1])
        out[0] = try logDetConstantRegularization(coefficient: coefficient, neighbors: neighbors, width: args.shape(1)[1],
                                                  sizes: sizes, rowsEndAtSizes: rowsEndAtSizes)
    }
}
