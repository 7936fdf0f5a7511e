/// The dense mapping matrix: `T[m, s] = sum of the weights of row m's entries with index s`.
/// Cost: M S writes to zero it, B M to fill it.
public func mappingMatrix(_ mapping: SparseMapping, out: UnsafeMutableBufferPointer<Double>) {
    let sources = mapping.sourcePixels
    out.initialize(repeating: 0)
    for s in 0..<sources {
        for e in mapping.columnStart[s]..<mapping.columnStart[s + 1] {
            out[mapping.columnPixel[e] * sources + s] += mapping.columnWeight[e]
        }
    }
}

/// `T^T @ matrix` without forming T: `out[s, :] += w * matrix[m, :]` for every entry (m, s, w);
/// `matrix` is (M, X), `out` (S, X). Cost: B M X multiply-adds; threads take source pixels.
public func transposeMatmul(_ mapping: SparseMapping, matrix: UnsafeBufferPointer<Double>,
                            columns x: Int, out: UnsafeMutableBufferPointer<Double>) {
    parallelFor(mapping.sourcePixels, threads: x * mapping.imagePixels < 1 << 15 ? 1 : Threads.count) { s in
        let row = out.baseAddress! + s * x
        row.initialize(repeating: 0, count: x)
        for e in mapping.columnStart[s]..<mapping.columnStart[s + 1] {
            axpy(row, mapping.columnWeight[e], matrix.baseAddress! + mapping.columnPixel[e] * x, x)
        }
    }
}

/// The data vector `dirty_image @ T` of a dense mapping matrix T (M, S): `out[s] = sum_m d[m]
/// T[m, s]`, as contiguous row updates. Cost: M S multiply-adds.
public func dataVector(mappingMatrix t: UnsafeBufferPointer<Double>, dirtyImage: UnsafeBufferPointer<Double>,
                       sources: Int, out: UnsafeMutableBufferPointer<Double>) {
    out.initialize(repeating: 0)
    for m in 0..<dirtyImage.count {
        axpy(out.baseAddress!, dirtyImage[m], t.baseAddress! + m * sources, sources)
    }
}
