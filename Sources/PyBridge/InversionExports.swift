import SwiftKernels
import SwiftwABI

// The positive-only inversion's entry points: installing SciPy's LAPACK and the solve.

/// set_lapack(addresses): addresses (6,) int64 of dpotrf, dtrsv, dtrsm, dsyrk, dgemm, dpbtrf (SciPy's Cython
/// LAPACK/BLAS, read from their PyCapsules in this process).
@_cdecl("swiftw_set_lapack")
public func swiftwSetLapack(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 1, what: "arrays")
        let p = try args.indices(0, "addresses", shape: [6])
        try LAPACK.install(potrf: Int(p[0]), trsv: Int(p[1]), trsm: Int(p[2]), syrk: Int(p[3]), gemm: Int(p[4]),
                           pbtrf: Int(p[5]))
    }
}

/// positive_only(out, info, curvature_reg_matrix, data_vector[, start]; positive_only, max_iterations[, strategy[,
/// built]]): out (S,) the reconstruction; info (3,) := (log det A, iterations, zeros); start (S,) a
/// previous solution whose zeros seed the zero set; strategy 0 auto, 1 passive set, 2 zero set; built 1
/// when swiftw built A itself (F + H from checked inputs), which skips the n^2 scan for symmetry
/// and finite entries (a non-finite entry of the factored triangle still fails the factorisation).
@_cdecl("swiftw_positive_only")
public func swiftwPositiveOnly(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        guard args.arrays.count == 4 || args.arrays.count == 5 else {
            throw KernelError.value("expected 4 or 5 arrays, got \(args.arrays.count)")
        }
        let positiveOnly = try args.integer(0, "positive_only", atMost: 1) == 1
        let maxIterations = try args.integer(1, "max_iterations", atLeast: 1)
        let strategy = args.numbers.count > 2
            ? PositiveOnlyStrategy(rawValue: try args.integer(2, "strategy", atMost: 2))! : .auto
        let built = args.numbers.count > 3 ? try args.integer(3, "built", atMost: 1) == 1 : false
        let d = try args.doubles(3, "data_vector", shape: [nil])
        let s = d.count
        let matrix = try args.doubles(2, "curvature_reg_matrix", shape: [s, s])
        let start = args.arrays.count == 5 ? try args.doubles(4, "warm_start", shape: [s]) : nil
        let out = try args.output(0, "out", shape: [s])
        let info = try args.output(1, "info", shape: [3])
        try checkFinite(d, name: "data_vector")
        if !built { try checkSymmetricFinite(matrix, n: s, name: "curvature_reg_matrix") }
        if let start { try checkFinite(start, name: "warm_start") }
        let outcome = try positiveOnlySolve(a: matrix, d: d, start: start, positiveOnly: positiveOnly,
                                            maxIterations: maxIterations, strategy: strategy, out: out)
        info[0] = outcome.logDeterminant
        info[1] = Double(outcome.iterations)
        info[2] = Double(outcome.zeros)
    }
}
