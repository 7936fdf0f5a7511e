import SwiftKernels
import SwiftwABI

/// The inputs both regularisation entries take: arrays (out, neighbors (S, P), neighbors_sizes (S,)),
/// numbers (coefficient, rows_end_at_sizes: 1 if rows end at neighbors_sizes (autoarray) else 0
/// (at the first -1), then any of the entry's own).
struct RegularizationArguments {
    let coefficient: Double
    let rowsEndAtSizes: Bool
    let neighbors: UnsafeBufferPointer<Int64>
    let width: Int
    let sizes: UnsafeBufferPointer<Int64>

    init(_ args: Arguments) throws {
        try args.count(expected: 3, what: "arrays")
        coefficient = try args.number(0, "coefficient")
        rowsEndAtSizes = try args.integer(1, "rows_end_at_sizes", atMost: 1) == 1
        sizes = try args.indices(2, "neighbors_sizes", shape: [nil])
        neighbors = try args.indices(1, "neighbors", shape: [sizes.count, nil])
        width = args.shape(1)[1]
    }
}

/// log_det_regularization(out, neighbors, neighbors_sizes; coefficient, rows_end_at_sizes):
/// out (1,) := log det H of the constant regularisation. Needs `set_lapack` (dpbtrf, dpotrf) first.
/// Kernel: `logDetConstantRegularization` in Sources/SwiftKernels/Inversion/RegularizationLogDet.swift.
@_cdecl("swiftw_log_det_regularization")
public func swiftwLogDetRegularization(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        let r = try RegularizationArguments(args)
        let out = try args.output(0, "out", shape: [1])
        out[0] = try logDetConstantRegularization(coefficient: r.coefficient, neighbors: r.neighbors, width: r.width,
                                                  sizes: r.sizes, rowsEndAtSizes: r.rowsEndAtSizes)
    }
}
