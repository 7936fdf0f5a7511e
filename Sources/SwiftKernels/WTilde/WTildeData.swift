/// The dirty-image weights of w-tilde.
///
///     out[i] = sum_k (sigma_k^2 / V_k)^2 cos(2 pi (x_i u_k + y_i v_k))
///
/// (the weights exactly as the reference writes them). Direct: M K cosines, vectorised over
/// visibilities with `sinCos2Pi`; threads take pixels. `grid` is (M, 2) of (y, x), `uv` (K, 2).
public func wTildeData(visibilities: UnsafeBufferPointer<Double>, noise: UnsafeBufferPointer<Double>,
                       uv: UnsafeBufferPointer<Double>, grid: UnsafeBufferPointer<Double>,
                       out: UnsafeMutableBufferPointer<Double>) {
    let k = noise.count, m = grid.count / 2
    let padded = Panels.padded(k, 8)
    // Visibility-major copies, zero-weighted past K so the vector loop needs no tail.
    let weights = Scratch(padded), us = Scratch(padded), vs = Scratch(padded)
    for kk in 0..<k {
        let ratio = noise[kk] * noise[kk] / visibilities[kk]
        weights.pointer[kk] = ratio * ratio
        us.pointer[kk] = uv[2 * kk]
        vs.pointer[kk] = uv[2 * kk + 1]
    }
    let w = UnsafeRawPointer(weights.pointer), u = UnsafeRawPointer(us.pointer)
    let v = UnsafeRawPointer(vs.pointer)
    let stride = 8 * MemoryLayout<Double>.stride
    parallelFor(m) { i in
        let y = grid[2 * i], x = grid[2 * i + 1]
        var acc = Vec()
        var offset = 0
        for _ in 0..<(padded / 8) {
            let t = x * u.loadUnaligned(fromByteOffset: offset, as: Vec.self)
                + y * v.loadUnaligned(fromByteOffset: offset, as: Vec.self)
            acc.addProduct(w.loadUnaligned(fromByteOffset: offset, as: Vec.self), sinCos2Pi(t).cos)
            offset += stride
        }
        out[i] = acc.sum()
    }
    withExtendedLifetime((weights, us, vs)) {}
}

/// `wTildeData` for image pixels on a lattice: `x_i = x0 + d col_i`, `y_i = y0 - d row_i`.
///
/// Then `2 pi (x_i u + y_i v) = 2 pi [(x0 u + y0 v) + d u col_i - d v row_i]`, so the sum is a
/// `cosineGrid` over the lattice's box (rows x cols) with phase `x0 u + y0 v`, read at each
/// pixel. Exact to rounding; (rows + cols) sincos and 4 rows cols multiply-adds per visibility
/// instead of M cosines.
public func wTildeDataOnLattice(visibilities: UnsafeBufferPointer<Double>, noise: UnsafeBufferPointer<Double>,
                                uv: UnsafeBufferPointer<Double>, native: NativeIndices,
                                boxRows: Int, boxCols: Int, y0: Double, x0: Double, spacing d: Double,
                                out: UnsafeMutableBufferPointer<Double>) {
    let box = Scratch(boxRows * boxCols)
    cosineGrid(visibilities: noise.count, rows: boxRows, cols: boxCols, colShift: 0,
               out: UnsafeMutableBufferPointer(start: box.pointer, count: box.count)) { k in
        let ratio = noise[k] * noise[k] / visibilities[k]
        let u = uv[2 * k], v = uv[2 * k + 1]
        return (ratio * ratio, x0 * u + y0 * v, d * u, d * v)
    }
    for i in 0..<native.count {
        out[i] = box.pointer[native.rows[i] * boxCols + native.cols[i]]
    }
    withExtendedLifetime(box) {}
}

/// `wTildeDataOnLattice` by type-1 non-uniform FFTs, for large boxes and many visibilities:
/// `latticeSumNUFFT` with the real strengths `z_k = (sigma_k^2 / V_k)^2`. Accuracy is the plan's;
/// cost O(K (w + degree)) twice + two FFTs of the fine grid, instead of O(K rows cols).
public func wTildeDataNUFFT(visibilities: UnsafeBufferPointer<Double>, noise: UnsafeBufferPointer<Double>,
                            uv: UnsafeBufferPointer<Double>, lattice: LatticeSum, out: UnsafeMutableBufferPointer<Double>) {
    latticeSumNUFFT(points: noise.count, uv: uv, lattice, out: out) { k in
        let ratio = noise[k] * noise[k] / visibilities[k]
        return (ratio * ratio, 0)
    }
}
