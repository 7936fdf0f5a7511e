import SwiftKernels
import SwiftwABI

// The C-ABI entry points, one per kernel. Each reads its arguments in the order the Python
// package passes them (the output first, then the inputs in the Python signature's order, then
// the numbers), validates shapes and indices, and calls the kernel. Parameter names in messages
// are the Python ones.

public typealias ArrayList = UnsafePointer<swiftw_array>?
public typealias NumberList = UnsafePointer<Double>?
public typealias Status = UnsafeMutablePointer<swiftw_status>?

/// fma(out, weights, *arrays): arrays = (out, a_0, ..., a_{A-1}), numbers = weights.
/// Kernel: `weightedSum` in Sources/SwiftKernels/WeightedSum/WeightedSum.swift.
@_cdecl("swiftw_weighted_sum")
public func swiftwWeightedSum(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        guard args.arrays.count >= 1 else { throw KernelError.value("missing out") }
        let count = args.arrays.count - 1
        guard args.numbers.count == count else {
            throw KernelError.value("weights has \(args.numbers.count) entries for \(count) arrays")
        }
        let shape = args.shape(0).map { Optional($0) }
        let weights = Array(args.numbers)
        if args.format(0) == 102 {
            let out = try args.floats(0, "out", shape: shape, writable: true)
            let sources: [UnsafePointer<Float>?] = try (0..<count).map { j in
                let p = try args.floats(j + 1, "arrays[\(j)]", shape: shape)
                return p.baseAddress == out.baseAddress ? nil : UnsafePointer(p.baseAddress)
            }
            weightedSum(out: out, weights: weights, arrays: sources)
        } else {
            let out = try args.output(0, "out", shape: shape)
            let sources: [UnsafePointer<Double>?] = try (0..<count).map { j in
                let p = try args.doubles(j + 1, "arrays[\(j)]", shape: shape)
                return p.baseAddress == UnsafePointer(out.baseAddress) ? nil : p.baseAddress
            }
            weightedSum(out: out, weights: weights, arrays: sources)
        }
    }
}

/// w_tilde_curvature_interferometer_from(noise_map_real, uv_wavelengths, grid_radians_slim).
/// Kernel: `wTilde` in Sources/SwiftKernels/WTilde/WTilde.swift.
@_cdecl("swiftw_w_tilde")
public func swiftwWTilde(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 4, what: "arrays")
        let noise = try args.doubles(1, "noise_map_real", shape: [nil])
        let k = noise.count
        let uv = try args.doubles(2, "uv_wavelengths", shape: [k, 2])
        let grid = try args.doubles(3, "grid_radians_slim", shape: [nil, 2])
        let m = grid.count / 2
        let out = try args.output(0, "out", shape: [m, m])
        wTilde(noise: noise, uv: uv, grid: grid, out: out)
    }
}

/// w_compact_curvature_interferometer_from(grid_size, noise_map_real, uv_wavelengths, pixel_scale).
/// Kernel: `wCompact` in Sources/SwiftKernels/WTilde/WCompact.swift.
@_cdecl("swiftw_w_compact")
public func swiftwWCompact(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 3, what: "arrays")
        let n = try args.integer(0, "grid_size", atLeast: 1, atMost: 1 << 20)
        let pixelScale = try args.number(1, "pixel_scale")
        let noise = try args.doubles(1, "noise_map_real", shape: [nil])
        let uv = try args.doubles(2, "uv_wavelengths", shape: [noise.count, 2])
        let out = try args.output(0, "out", shape: [n, 2 * n - 1])
        wCompact(noise: noise, uv: uv, gridSize: n, pixelScale: pixelScale, out: out)
    }
}

/// w_compact's "auto" (WCompactMethod.swift): out (1,) = 1 if the NUFFT is cheaper, else 0;
/// numbers (grid_size, visibilities, eps).
/// Kernel: `wCompactPrefersNUFFT` in Sources/SwiftKernels/NUFFT/WCompactMethod.swift.
@_cdecl("swiftw_w_compact_prefers_nufft")
public func swiftwWCompactPrefersNUFFT(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 1, what: "arrays")
        let out = try args.output(0, "out", shape: [1])
        out[0] = wCompactPrefersNUFFT(gridSize: try args.integer(0, "grid_size"),
                                      visibilities: try args.integer(1, "visibilities"),
                                      eps: try args.number(2, "eps")) ? 1 : 0
    }
}

/// Reads a spreading kernel's coefficients ((degree + 1), 16) at array i with `width`.
func spreadKernel(_ args: Arguments, _ i: Int, width: Int) throws -> SpreadKernel {
    let coefficients = try args.doubles(i, "kernel coefficients", shape: [nil, 16])
    let degree = args.shape(i)[0] - 1
    guard degree >= 0, (2...16).contains(width) else {
        throw KernelError.value("spreading kernel: width \(width) must be in [2, 16] and the degree at least 0")
    }
    return SpreadKernel(width: width, degree: degree, coefficients: coefficients)
}

/// Checks a fine grid for the NUFFT: 5-smooth, even, at least twice the kernel width.
func fineGrid(_ size: Int, _ name: String, width: Int) throws -> Int {
    guard size >= 2 * width, size % 2 == 0, FFTSizes.isSmooth(size) else {
        throw KernelError.value("\(name) = \(size) must be even, 5-smooth and at least \(2 * width)")
    }
    return size
}

/// w_compact_curvature_interferometer_from(..., method="nufft"): arrays (out (N, 2N-1),
/// noise_map_real, uv_wavelengths, coefficients, correction_x (N,), correction_y (N,)), numbers
/// (grid_size, pixel_scale, width, rows, cols).
/// Kernel: `wCompactNUFFT` in Sources/SwiftKernels/NUFFT/WCompactNUFFT.swift.
@_cdecl("swiftw_w_compact_nufft")
public func swiftwWCompactNUFFT(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 6, what: "arrays")
        let n = try args.integer(0, "grid_size", atLeast: 1, atMost: 1 << 16)
        let pixelScale = try args.number(1, "pixel_scale")
        let width = try args.integer(2, "width", atLeast: 2, atMost: 16)
        let rows = try fineGrid(try args.integer(3, "rows", atMost: 1 << 16), "rows", width: width)
        let cols = try fineGrid(try args.integer(4, "cols", atMost: 1 << 16), "cols", width: width)
        guard rows >= 2 * n - 1, cols >= 2 * (2 * n - 1) - 1 else {
            throw KernelError.value("fine grid (\(rows), \(cols)) too small for grid_size \(n)")
        }
        let noise = try args.doubles(1, "noise_map_real", shape: [nil])
        let uv = try args.doubles(2, "uv_wavelengths", shape: [noise.count, 2])
        let kernel = try spreadKernel(args, 3, width: width)
        let correctionX = try args.doubles(4, "correction_x", shape: [n])
        let correctionY = try args.doubles(5, "correction_y", shape: [n])
        let out = try args.output(0, "out", shape: [n, 2 * n - 1])
        wCompactNUFFT(noise: noise, uv: uv, gridSize: n, pixelScale: pixelScale, kernel: kernel, rows: rows,
                      cols: cols, correctionX: correctionX, correctionY: correctionY, out: out)
    }
}

/// Reads (w_compact (N, 2N-1), native_index_for_slim_index (M, 2) on the N x N grid) at arrays
/// i, i+1: the compact w-tilde, N, and the checked native indices.
func compactAndNative(_ args: Arguments, _ i: Int) throws -> (UnsafeBufferPointer<Double>, Int, NativeIndices) {
    let n = args.shape(i).first ?? 0
    let compact = try args.doubles(i, "w_compact", shape: [n, 2 * n - 1])
    let pairs = try args.indices(i + 1, "native_index_for_slim_index", shape: [nil, 2])
    return (compact, n, try NativeIndices(pairs, gridRows: n, gridCols: n, name: "native_index_for_slim_index"))
}

/// w_tilde_via_compact_from(w_compact, native_index_for_slim_index).
/// Kernel: `wTildeViaCompact` in Sources/SwiftKernels/WTilde/WTildeGather.swift.
@_cdecl("swiftw_w_tilde_via_compact")
public func swiftwWTildeViaCompact(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 3, what: "arrays")
        let (compact, n, native) = try compactAndNative(args, 1)
        let m = native.rows.count
        let out = try args.output(0, "out", shape: [m, m])
        wTildeViaCompact(compact, gridSize: n, native: native, out: out)
    }
}

/// w_tilde_via_preload_from(w_tilde_preload, native_index_for_slim_index).
/// Kernel: `wTildeViaPreload` in Sources/SwiftKernels/WTilde/WTildeGather.swift.
@_cdecl("swiftw_w_tilde_via_preload")
public func swiftwWTildeViaPreload(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 3, what: "arrays")
        let preload = try args.doubles(1, "w_tilde_preload", shape: [nil, nil])
        let p = args.shape(1)
        let pairs = try args.indices(2, "native_index_for_slim_index", shape: [nil, 2])
        // The preload holds offsets |dy| < P0 / 2, |dx| < P1 / 2 only.
        let native = try NativeIndices(pairs, gridRows: p[0] / 2, gridCols: p[1] / 2, name: "native_index_for_slim_index",
                                       absolute: false)
        let m = native.rows.count
        let out = try args.output(0, "out", shape: [m, m])
        wTildeViaPreload(preload, rows: p[0], cols: p[1], native: native, out: out)
    }
}

/// The arrays of the dirty-image weights: (out, visibilities_real, noise_map_real, uv_wavelengths,
/// the pixels, ...), `arrays` in all; returns the three visibility arrays, checked.
private func visibilityArrays(_ args: Arguments, arrays: Int = 5) throws -> (UnsafeBufferPointer<Double>,
                                                                              UnsafeBufferPointer<Double>,
                                                                              UnsafeBufferPointer<Double>) {
    try args.count(expected: arrays, what: "arrays")
    let vis = try args.doubles(1, "visibilities_real", shape: [nil])
    let noise = try args.doubles(2, "noise_map_real", shape: [vis.count])
    let uv = try args.doubles(3, "uv_wavelengths", shape: [vis.count, 2])
    return (vis, noise, uv)
}

/// w_tilde_data_interferometer_from(visibilities_real, noise_map_real, uv_wavelengths, grid_radians_slim).
/// Kernel: `wTildeData` in Sources/SwiftKernels/WTilde/WTildeData.swift.
@_cdecl("swiftw_w_tilde_data")
public func swiftwWTildeData(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        let (vis, noise, uv) = try visibilityArrays(args)
        let grid = try args.doubles(4, "grid_radians_slim", shape: [nil, 2])
        let out = try args.output(0, "out", shape: [grid.count / 2])
        wTildeData(visibilities: vis, noise: noise, uv: uv, grid: grid, out: out)
    }
}

/// w_tilde_data_interferometer_from on a lattice: arrays (out, visibilities_real, noise_map_real,
/// uv_wavelengths, lattice (M, 2) of (row, col)), numbers (rows, cols, y0, x0, spacing).
/// Kernel: `wTildeDataOnLattice` in Sources/SwiftKernels/WTilde/WTildeData.swift.
@_cdecl("swiftw_w_tilde_data_lattice")
public func swiftwWTildeDataLattice(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        let (vis, noise, uv) = try visibilityArrays(args)
        let rows = try args.integer(0, "rows", atLeast: 1), cols = try args.integer(1, "cols", atLeast: 1)
        guard rows * cols <= 1 << 28 else { throw KernelError.memory("a lattice of \(rows) x \(cols) is too large") }
        let pairs = try args.indices(4, "lattice", shape: [nil, 2])
        let native = try NativeIndices(pairs, gridRows: rows, gridCols: cols, name: "lattice")
        let out = try args.output(0, "out", shape: [native.count])
        wTildeDataOnLattice(visibilities: vis, noise: noise, uv: uv, native: native, boxRows: rows, boxCols: cols,
                            y0: try args.number(2, "y0"), x0: try args.number(3, "x0"),
                            spacing: try args.number(4, "spacing"), out: out)
    }
}

/// The lattice and NUFFT plan of a lattice sum by NUFFT: arrays (lattice (M, 2) at 4, coefficients,
/// correction_x, correction_y), numbers (rows, cols, y0, x0, spacing, width, fine rows, fine cols), checked.
private func latticeSum(_ args: Arguments) throws -> LatticeSum {
    let rows = try args.integer(0, "rows", atLeast: 1, atMost: 1 << 16)
    let cols = try args.integer(1, "cols", atLeast: 1, atMost: 1 << 16)
    let pairs = try args.indices(4, "lattice", shape: [nil, 2])
    let native = try NativeIndices(pairs, gridRows: rows, gridCols: cols, name: "lattice")
    let width = try args.integer(5, "width", atLeast: 2, atMost: 16)
    let fineRows = try fineGrid(try args.integer(6, "fine rows", atMost: 1 << 16), "fine rows", width: width)
    let fineCols = try fineGrid(try args.integer(7, "fine cols", atMost: 1 << 16), "fine cols", width: width)
    guard fineRows >= rows, fineCols >= cols else {
        throw KernelError.value("fine grid (\(fineRows), \(fineCols)) smaller than the lattice (\(rows), \(cols))")
    }
    let kernel = try spreadKernel(args, 5, width: width)
    let modesX = cols - cols / 2, modesY = rows - rows / 2
    let correctionX = try args.doubles(6, "correction_x", shape: [nil])
    let correctionY = try args.doubles(7, "correction_y", shape: [nil])
    guard correctionX.count > modesX, correctionY.count > modesY else {
        throw KernelError.value("corrections too short for the lattice")
    }
    return LatticeSum(native: native, boxRows: rows, boxCols: cols, y0: try args.number(2, "y0"),
                      x0: try args.number(3, "x0"), spacing: try args.number(4, "spacing"), kernel: kernel,
                      rows: fineRows, cols: fineCols, correctionX: correctionX, correctionY: correctionY)
}

/// w_tilde_data_interferometer_from(..., method="nufft") on a lattice: arrays (out,
/// visibilities_real, noise_map_real, uv_wavelengths, lattice (M, 2), coefficients, correction_x,
/// correction_y), numbers (rows, cols, y0, x0, spacing, width, fine rows, fine cols).
/// Kernel: `wTildeDataNUFFT` in Sources/SwiftKernels/WTilde/WTildeData.swift.
@_cdecl("swiftw_w_tilde_data_nufft")
public func swiftwWTildeDataNUFFT(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        let (vis, noise, uv) = try visibilityArrays(args, arrays: 8)
        let lattice = try latticeSum(args)
        let out = try args.output(0, "out", shape: [lattice.native.count])
        wTildeDataNUFFT(visibilities: vis, noise: noise, uv: uv, lattice: lattice, out: out)
    }
}

/// The noise-weighted dirty image on a lattice by NUFFT: arrays (out, data (K, 2) of (real, imag),
/// noise_map (K, 2) of (real, imag) sigma, uv_wavelengths (K, 2), lattice (M, 2), coefficients,
/// correction_x, correction_y), numbers (rows, cols, y0, x0, spacing, width, fine rows, fine cols).
@_cdecl("swiftw_dirty_image_nufft")
public func swiftwDirtyImageNUFFT(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 8, what: "arrays")
        let data = try args.doubles(1, "visibilities", shape: [nil, 2])
        let k = data.count / 2
        let noise = try args.doubles(2, "noise_map", shape: [k, 2])
        let uv = try args.doubles(3, "uv_wavelengths", shape: [k, 2])
        let lattice = try latticeSum(args)
        let out = try args.output(0, "out", shape: [lattice.native.count])
        dirtyImageNUFFT(data: data, noise: noise, uv: uv, lattice: lattice, out: out)
    }
}

/// The arrays (pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index) at i, i+1, both
/// (M, B), M = `rows` if given.
private func mappingArrays(_ args: Arguments, _ i: Int, rows: Int?)
    throws -> (indexes: UnsafeBufferPointer<Int64>, weights: UnsafeBufferPointer<Double>, rows: Int, width: Int) {
    let indexes = try args.indices(i, "pix_indexes_for_sub_slim_index", shape: [rows, nil])
    let shape = args.shape(i)
    let weights = try args.doubles(i + 1, "pix_weights_for_sub_slim_index", shape: [shape[0], shape[1]])
    return (indexes, weights, shape[0], shape[1])
}

/// Reads (pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index) at arrays i, i+1 with
/// `pixels` source pixels.
func sparseMapping(_ args: Arguments, _ i: Int, rows: Int?, pixels: Int) throws -> SparseMapping {
    let (indexes, weights, rows, width) = try mappingArrays(args, i, rows: rows)
    return try SparseMapping(indexes: indexes, weights: weights, rows: rows, width: width,
                             sources: pixels, name: "pix_indexes_for_sub_slim_index")
}

/// The mapping of arrays i, i+1 (as `sparseMapping`, one row per image pixel of `op`) in the
/// order `op.curvature` reads, made straight from the arrays.
func curvatureOrder(_ args: Arguments, _ i: Int, _ op: OffsetOperator, pixels: Int) throws -> CurvatureOrder {
    let (indexes, weights, _, width) = try mappingArrays(args, i, rows: op.native.count)
    return try op.order(indexes: indexes, weights: weights, width: width, sources: pixels,
                        name: "pix_indexes_for_sub_slim_index")
}

/// mapping_matrix_from(pix_indexes_for_sub_slim_index, pix_weights_for_sub_slim_index, pixels).
/// Kernel: `mappingMatrix` in Sources/SwiftKernels/Curvature/MappingProducts.swift.
@_cdecl("swiftw_mapping_matrix")
public func swiftwMappingMatrix(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 3, what: "arrays")
        let pixels = try args.integer(0, "pixels")
        let mapping = try sparseMapping(args, 1, rows: nil, pixels: pixels)
        let out = try args.output(0, "out", shape: [mapping.imagePixels, pixels])
        mappingMatrix(mapping, out: out)
    }
}

/// data_vector_from(mapping_matrix, dirty_image).
/// Kernel: `dataVector` in Sources/SwiftKernels/Curvature/MappingProducts.swift.
@_cdecl("swiftw_data_vector")
public func swiftwDataVector(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 3, what: "arrays")
        let t = try args.doubles(1, "mapping_matrix", shape: [nil, nil])
        let shape = args.shape(1)
        let dirty = try args.doubles(2, "dirty_image", shape: [shape[0]])
        let out = try args.output(0, "out", shape: [shape[1]])
        dataVector(mappingMatrix: t, dirtyImage: dirty, sources: shape[1], out: out)
    }
}

/// The `matrix` of T^T @ matrix at array i, (M,) or (M, X): the buffer, M and X (1 for 1-D).
func matrixOperand(_ args: Arguments, _ i: Int) throws -> (UnsafeBufferPointer<Double>, Int, Int) {
    let shape = args.shape(i)
    guard shape.count == 1 || shape.count == 2 else {
        throw KernelError.value("matrix must be 1-D or 2-D, got \(shape.count) dimensions")
    }
    let matrix = try args.doubles(i, "matrix", shape: shape.map { $0 })
    return (matrix, shape[0], shape.count == 2 ? shape[1] : 1)
}

/// The output of T^T @ matrix at array 0: (S,) for a 1-D matrix (array 1), else (S, X).
func transposeOutput(_ args: Arguments, pixels: Int) throws -> UnsafeMutableBufferPointer<Double> {
    let shape = args.shape(1)
    return try args.output(0, "out", shape: shape.count == 2 ? [pixels, shape[1]] : [pixels])
}

/// sparse_mapping_matrix_transpose_matmul(matrix, pix_indexes..., pix_weights..., pixels).
/// Kernel: `transposeMatmul` in Sources/SwiftKernels/Curvature/MappingProducts.swift.
@_cdecl("swiftw_transpose_matmul")
public func swiftwTransposeMatmul(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 4, what: "arrays")
        let pixels = try args.integer(0, "pixels")
        let (matrix, rows, columns) = try matrixOperand(args, 1)
        let mapping = try sparseMapping(args, 2, rows: rows, pixels: pixels)
        transposeMatmul(mapping, matrix: matrix, columns: columns, out: try transposeOutput(args, pixels: pixels))
    }
}

/// curvature_matrix_via_w_tilde_from(w_tilde, mapping_matrix).
/// Kernel: `curvatureFromWTilde` in Sources/SwiftKernels/Curvature/Curvature.swift.
@_cdecl("swiftw_curvature_dense_mapping")
public func swiftwCurvatureDenseMapping(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 3, what: "arrays")
        let t = try args.doubles(2, "mapping_matrix", shape: [nil, nil])
        let shape = args.shape(2)
        let w = try args.doubles(1, "w_tilde", shape: [shape[0], shape[0]])
        let out = try args.output(0, "out", shape: [shape[1], shape[1]])
        let mapping = SparseMapping(dense: t, rows: shape[0], sources: shape[1])
        curvatureFromWTilde(w, mapping: mapping, out: out)
    }
}

/// curvature_matrix_via_w_tilde_sparse_mapping_matrix_from(w_tilde, pix_indexes..., pix_weights..., pixels).
/// Kernel: `curvatureFromWTilde` in Sources/SwiftKernels/Curvature/Curvature.swift.
@_cdecl("swiftw_curvature_w_tilde_sparse")
public func swiftwCurvatureWTildeSparse(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 4, what: "arrays")
        let pixels = try args.integer(0, "pixels")
        let m = args.shape(1).first ?? 0
        let w = try args.doubles(1, "w_tilde", shape: [m, m])
        let mapping = try sparseMapping(args, 2, rows: m, pixels: pixels)
        let out = try args.output(0, "out", shape: [pixels, pixels])
        curvatureFromWTilde(w, mapping: mapping, out: out)
    }
}

/// curvature_matrix_via_w_compact_sparse_mapping_matrix_from(w_compact, native_index_for_slim_index,
/// pix_indexes..., pix_weights..., pixels); numbers (pixels, method: 0 direct, 1 fft, 2 auto).
/// Kernel: `OffsetOperator.curvature` in Sources/SwiftKernels/Curvature/OffsetOperator.swift.
@_cdecl("swiftw_curvature_w_compact_sparse")
public func swiftwCurvatureWCompactSparse(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 5, what: "arrays")
        let pixels = try args.integer(0, "pixels")
        let method = try args.method(1)
        let (compact, n, native) = try compactAndNative(args, 1)
        let op = OffsetOperator(wCompact: compact, gridSize: n, native: native)
        let order = try curvatureOrder(args, 3, op, pixels: pixels)
        let out = try args.output(0, "out", shape: [pixels, pixels])
        op.curvature(order, method: method, out: out)
    }
}

/// constant_regularization_matrix_from(coefficient, neighbors, neighbors_sizes): out (S, S) := H;
/// numbers as `RegularizationArguments` reads them, then optionally 1 to add H to `out` instead of
/// writing it. Kernel: `constantRegularization` in Sources/SwiftKernels/Inversion/Regularization.swift.
@_cdecl("swiftw_regularization")
public func swiftwRegularization(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        let r = try RegularizationArguments(args)
        let accumulate = args.numbers.count > 2 ? try args.integer(2, "accumulate", atMost: 1) == 1 : false
        let out = try args.output(0, "out", shape: [r.sizes.count, r.sizes.count])
        try constantRegularization(coefficient: r.coefficient, neighbors: r.neighbors, width: r.width, sizes: r.sizes,
                                   rowsEndAtSizes: r.rowsEndAtSizes, accumulate: accumulate, out: out)
    }
}
