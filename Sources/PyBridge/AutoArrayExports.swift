import SwiftKernels
import SwiftwABI

// Entry points for `swiftw.autoarray`, the production library's signatures: sub-pixel mappings
// (pix_size_for_sub_slim_index, slim_index_for_sub_slim_index, sub_fraction) and the (2Ny, 2Nx)
// preload layout.

/// Reads a sub-pixel mapping from arrays i ..< i+3 (indexes, sizes, weights) and, if `subPixels`,
/// i+3 ..< i+5 (slim_index_for_sub_slim_index, sub_fraction).
func subPixelMapping(_ args: Arguments, _ i: Int, imagePixels: Int?, subPixels: Bool,
                             pixels: Int) throws -> SparseMapping {
    let indexes = try args.indices(i, "pix_indexes_for_sub_slim_index", shape: [nil, nil])
    let shape = args.shape(i)
    let sizes = try args.indices(i + 1, "pix_size_for_sub_slim_index", shape: [shape[0]])
    let weights = try args.doubles(i + 2, "pix_weights_for_sub_slim_index", shape: [shape[0], shape[1]])
    guard subPixels else {
        if let m = imagePixels, m != shape[0] {
            throw KernelError.value("pix_indexes_for_sub_slim_index has \(shape[0]) rows, expected one per image pixel (\(m))")
        }
        return try SparseMapping(indexes: indexes, sizes: sizes, weights: weights, subPixels: shape[0],
                                 width: shape[1], slim: nil, fraction: nil, imagePixels: shape[0], sources: pixels)
    }
    let slim = try args.indices(i + 3, "slim_index_for_sub_slim_index", shape: [shape[0]])
    let fraction = try args.doubles(i + 4, "sub_fraction", shape: [imagePixels])
    return try SparseMapping(indexes: indexes, sizes: sizes, weights: weights, subPixels: shape[0],
                             width: shape[1], slim: slim, fraction: fraction, imagePixels: fraction.count,
                             sources: pixels)
}

/// w_tilde_curvature_preload_interferometer_from: arrays (out (2Ny, 2Nx), noise_map_real,
/// uv_wavelengths), numbers (Ny, Nx, spacing_y, spacing_x).
/// Kernel: `wTildePreload` in Sources/SwiftKernels/WTilde/WCompact.swift.
@_cdecl("swiftw_w_tilde_preload")
public func swiftwWTildePreload(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 3, what: "arrays")
        let rows = try args.integer(0, "shape_masked_pixels_2d[0]", atLeast: 1, atMost: 1 << 16)
        let cols = try args.integer(1, "shape_masked_pixels_2d[1]", atLeast: 1, atMost: 1 << 16)
        let noise = try args.doubles(1, "noise_map_real", shape: [nil])
        let uv = try args.doubles(2, "uv_wavelengths", shape: [noise.count, 2])
        let out = try args.output(0, "out", shape: [2 * rows, 2 * cols])
        wTildePreload(noise: noise, uv: uv, rows: rows, cols: cols, spacingY: try args.number(2, "spacing_y"),
                      spacingX: try args.number(3, "spacing_x"), out: out)
    }
}

/// mapping_matrix_from (sub-pixels): arrays (out (M, S), pix_indexes, pix_size, pix_weights,
/// slim_index_for_sub_slim_index, sub_fraction (M,)), numbers (pixels).
/// Kernel: `mappingMatrix` in Sources/SwiftKernels/Curvature/MappingProducts.swift.
@_cdecl("swiftw_aa_mapping_matrix")
public func swiftwAAMappingMatrix(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 6, what: "arrays")
        let pixels = try args.integer(0, "pixels")
        let mapping = try subPixelMapping(args, 1, imagePixels: nil, subPixels: true, pixels: pixels)
        let out = try args.output(0, "out", shape: [mapping.imagePixels, pixels])
        mappingMatrix(mapping, out: out)
    }
}

/// T^T @ matrix (sub-pixels): arrays (out, matrix (M,) or (M, X), pix_indexes, pix_size,
/// pix_weights, slim_index_for_sub_slim_index, sub_fraction), numbers (pixels).
/// Kernel: `transposeMatmul` in Sources/SwiftKernels/Curvature/MappingProducts.swift.
@_cdecl("swiftw_aa_transpose_matmul")
public func swiftwAATransposeMatmul(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 7, what: "arrays")
        let pixels = try args.integer(0, "pixels")
        let (matrix, rows, columns) = try matrixOperand(args, 1)
        let mapping = try subPixelMapping(args, 2, imagePixels: rows, subPixels: true, pixels: pixels)
        transposeMatmul(mapping, matrix: matrix, columns: columns, out: try transposeOutput(args, pixels: pixels))
    }
}

/// F = T^T W T (sub-pixels): arrays (out (S, S), w_tilde (M, M), pix_indexes, pix_size,
/// pix_weights, slim_index_for_sub_slim_index, sub_fraction), numbers (pixels).
/// Kernel: `curvatureFromWTilde` in Sources/SwiftKernels/Curvature/Curvature.swift.
@_cdecl("swiftw_aa_curvature_w_tilde")
public func swiftwAACurvatureWTilde(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 7, what: "arrays")
        let pixels = try args.integer(0, "pixels")
        let m = args.shape(1).first ?? 0
        let w = try args.doubles(1, "w_tilde", shape: [m, m])
        let mapping = try subPixelMapping(args, 2, imagePixels: m, subPixels: true, pixels: pixels)
        let out = try args.output(0, "out", shape: [pixels, pixels])
        curvatureFromWTilde(w, mapping: mapping, out: out)
    }
}

/// F = T^T W T from the preload layout: arrays (out (S, S), curvature_preload (2Ny, 2Nx),
/// native_index_for_slim_index (M, 2), pix_indexes, pix_size, pix_weights, and optionally
/// slim_index_for_sub_slim_index, sub_fraction), numbers (pixels, method).
/// Kernel: `curvatureFromPreload` in Sources/SwiftKernels/Curvature/Curvature.swift.
@_cdecl("swiftw_aa_curvature_preload")
public func swiftwAACurvaturePreload(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        guard args.arrays.count == 6 || args.arrays.count == 8 else {
            throw KernelError.value("expected 6 or 8 arrays, got \(args.arrays.count)")
        }
        let pixels = try args.integer(0, "pix_pixels")
        let preload = try args.doubles(1, "curvature_preload", shape: [nil, nil])
        let p = args.shape(1)
        guard p[0] % 2 == 0, p[1] % 2 == 0, p[0] > 0, p[1] > 0 else {
            throw KernelError.value("curvature_preload has shape (\(p[0]), \(p[1])), expected (2 Ny, 2 Nx)")
        }
        let pairs = try args.indices(2, "native_index_for_slim_index", shape: [nil, 2])
        let native = try NativeIndices(pairs, gridRows: p[0] / 2, gridCols: p[1] / 2, name: "native_index_for_slim_index",
                                       absolute: false)
        let mapping = try subPixelMapping(args, 3, imagePixels: native.count, subPixels: args.arrays.count == 8,
                                          pixels: pixels)
        let out = try args.output(0, "out", shape: [pixels, pixels])
        curvatureFromPreload(preload, rows: p[0], cols: p[1], native: native, mapping: mapping,
                             method: try args.method(1), out: out)
    }
}
