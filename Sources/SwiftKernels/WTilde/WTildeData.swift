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

/// `wTildeDataOnLattice` by type-1 non-uniform FFTs, for large boxes and many visibilities.
///
/// With `f1 = d u`, `f2 = d v` (cycles per column and per row) and the modes centred by
/// `c = c' + C0`, `r = r' + R0` (C0 = cols / 2, R0 = rows / 2):
///
///     out(r, c) = Re sum_k w_k exp(2 pi i [phi_k + c' f1 - r' f2]),   phi_k = x0 u + y0 v + C0 f1 - R0 f2
///               = Re A(c', r') - Im B(c', r'),   A, B = sum_k w_k (cos, sin)(2 pi phi_k) exp(i (c' x_k + r' y_k))
///
/// with `x_k = 2 pi f1`, `y_k = -2 pi f2`: two real-strength type-1 NUFFTs (`spread`, a real FFT,
/// deconvolution by `correctionX[|c'|] correctionY[|r'|]`). The real grids' spectra are
/// Hermitian, so modes with c' < 0 are read at (-c', -r') conjugated. Accuracy is the plan's;
/// cost O(K (w + degree)) twice + two FFTs of the fine grid, instead of O(K rows cols).
public func wTildeDataNUFFT(visibilities: UnsafeBufferPointer<Double>, noise: UnsafeBufferPointer<Double>,
                            uv: UnsafeBufferPointer<Double>, native: NativeIndices,
                            boxRows: Int, boxCols: Int, y0: Double, x0: Double, spacing d: Double,
                            kernel: SpreadKernel, rows: Int, cols: Int,
                            correctionX: UnsafeBufferPointer<Double>, correctionY: UnsafeBufferPointer<Double>,
                            out: UnsafeMutableBufferPointer<Double>) {
    let c0 = boxCols / 2, r0 = boxRows / 2
    let fRows = Double(rows), fCols = Double(cols)
    let fft = RealFFT2D(rows, cols)
    let columns = fft.spectrumColumns
    let grid = Scratch(rows * cols)
    let spectra = (Scratch(rows * 2 * columns), Scratch(rows * 2 * columns))
    for (part, spectrum) in [(0, spectra.0), (1, spectra.1)] {
        let finite = spread(points: noise.count, rows: rows, cols: cols, kernel: kernel, grid: grid.pointer) { k in
            let u = uv[2 * k], v = uv[2 * k + 1]
            let f1 = d * u, f2 = d * v
            let ratio = noise[k] * noise[k] / visibilities[k]
            let angle = sinCos2Pi(x0 * u + y0 * v + Double(c0) * f1 - Double(r0) * f2)
            let weight = ratio * ratio * (part == 0 ? angle.cos : angle.sin)
            return (fCols * (f1 - f1.rounded(.down)), fRows * (-f2 - (-f2).rounded(.down)), weight)
        }
        if Interrupt.requested { return }
        guard finite else { out.initialize(repeating: .nan); return }  // as the exact sum would be
        fft.forward(grid.pointer, spectrum.pointer)
    }
    let a = spectra.0.pointer, b = spectra.1.pointer
    for i in 0..<native.count {
        let kx = native.cols[i] - c0, ky = native.rows[i] - r0
        // The true sum at (kx, ky) is conj(F(kx, ky)) = F(-kx, -ky) of the forward transform F.
        let (row, col, sign) = kx >= 0 ? (((ky % rows) + rows) % rows, kx, -1.0) : (((-ky % rows) + rows) % rows, -kx, 1.0)
        let index = 2 * (row * columns + col)
        let scale = correctionX[abs(kx)] * correctionY[abs(ky)]
        // Re A - Im B, with Im of the true sum = sign * Im F.
        out[i] = (a[index] - sign * b[index + 1]) * scale
    }
    withExtendedLifetime((grid, spectra)) {}
}
