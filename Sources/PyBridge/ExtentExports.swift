import SwiftKernels
import SwiftwABI

// Entry points for the production library's 2026 extent-grid API (SPEC 3.9, `swiftw.autoarray`):
// `curvature_direct_conv` and `InterferometerSparseOperator`. F goes through `OffsetOperator`,
// whose cost model picks the direct or the FFT method.

/// The (2 ny, 2 nx) precision operator of array i, with ny, nx from its shape.
private func precisionOperator(_ args: Arguments, _ i: Int, _ name: String) throws -> (UnsafeBufferPointer<Double>, Int, Int) {
    let p = args.shape(i)
    guard p.count == 2, p[0] >= 2, p[1] >= 2, p[0] % 2 == 0, p[1] % 2 == 0 else {
        throw KernelError.value("\(name) has shape (\(p.map(String.init).joined(separator: ", "))), expected (2 ny, 2 nx) with ny, nx >= 1")
    }
    return (try args.doubles(i, name, shape: [p[0], p[1]]), p[0] / 2, p[1] / 2)
}

/// curvature_direct_conv: arrays (out (S, S), preload (2ny, 2nx), iy, ix, flat (M,), indptr (M+1,),
/// col, val (nnz,), cscptr (S+1,), csc_row, csc_val (nnz,)), numbers (ny, nx, pix_pixels, method,
/// layout_only). With layout_only 1 it stops once the inputs are in swiftw's layout (checked,
/// the operator and the mapping's order built) and leaves `out` alone: the benchmark's measure of
/// what that conversion costs per call.
@_cdecl("swiftw_aa_direct_conv")
public func swiftwAADirectConv(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 11, what: "arrays")
        let rows = try args.integer(0, "ny", atLeast: 1, atMost: 1 << 16)
        let cols = try args.integer(1, "nx", atLeast: 1, atMost: 1 << 16)
        let sources = try args.integer(2, "pix_pixels")
        let preload = try args.doubles(1, "preload", shape: [2 * rows, 2 * cols])
        let m = args.shape(2).first ?? 0
        let native = try NativeIndices(iy: try args.indices(2, "iy", shape: [m]), ix: try args.indices(3, "ix", shape: [m]),
                                       flat: try args.indices(4, "flat", shape: [m]), ny: rows, nx: cols)
        let nnz = args.shape(6).first ?? 0
        let mapping = try SparseMapping(
            csrStart: try args.indices(5, "indptr", shape: [m + 1]), column: try args.indices(6, "col", shape: [nnz]),
            value: try args.doubles(7, "val", shape: [nnz]), cscStart: try args.indices(8, "cscptr", shape: [sources + 1]),
            row: try args.indices(9, "csc_row", shape: [nil]), cscValue: try args.doubles(10, "csc_val", shape: [args.shape(9).first ?? 0]),
            imagePixels: m, sources: sources)
        let method = try args.method(3)
        let out = try args.output(0, "out", shape: [sources, sources])
        let op = OffsetOperator(preload: preload, rows: 2 * rows, cols: 2 * cols, native: native)
        if try args.integer(4, "layout_only", atMost: 1) == 1 {
            _ = op.order(mapping)
            return
        }
        op.curvature(mapping, method: method, out: out)
    }
}

/// InterferometerSparseOperator: arrays (handle (1,), nufft_precision_operator (2ny, 2nx)); the
/// operator covers every cell of the (ny, nx) extent (pixel f is extent-flat cell f).
@_cdecl("swiftw_extent_operator_create")
public func swiftwExtentOperatorCreate(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 2, what: "arrays")
        let (preload, rows, cols) = try precisionOperator(args, 1, "nufft_precision_operator")
        let native = try NativeIndices(extentRows: rows, cols: cols)
        try publish(args, OffsetOperator(preload: preload, rows: 2 * rows, cols: 2 * cols, native: native))
    }
}

/// F = T^T W T for COO triplets on the extent: arrays (out (S, S), rows, cols, vals (nnz,)),
/// numbers (handle, S, method).
@_cdecl("swiftw_extent_operator_curvature")
public func swiftwExtentOperatorCurvature(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 4, what: "arrays")
        let op = try registry.get(try args.integer(0, "handle", atLeast: 1))
        let sources = try args.integer(1, "S")
        let nnz = args.shape(1).first ?? 0
        let mapping = try SparseMapping(
            rows: try args.indices(1, "rows", shape: [nnz]), columns: try args.indices(2, "cols", shape: [nnz]),
            values: try args.doubles(3, "vals", shape: [nnz]), cells: op.native.count, sources: sources,
            names: ("rows", "cols"))
        let out = try args.output(0, "out", shape: [sources, sources])
        op.curvature(mapping, method: try args.method(2), out: out)
    }
}
