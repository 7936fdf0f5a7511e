/// Where a lattice sum is evaluated and how: the pixels' (row, col) in a box of boxRows x boxCols
/// with `x = x0 + spacing col`, `y = y0 - spacing row`, and the NUFFT plan (kernel, fine grid
/// rows x cols, deconvolution factors for |mode| = 0, 1, ...).
public struct LatticeSum {
    public let native: NativeIndices
    public let boxRows: Int, boxCols: Int
    public let y0: Double, x0: Double, spacing: Double
    public let kernel: SpreadKernel
    public let rows: Int, cols: Int
    public let correctionX: UnsafeBufferPointer<Double>, correctionY: UnsafeBufferPointer<Double>

    public init(native: NativeIndices, boxRows: Int, boxCols: Int, y0: Double, x0: Double, spacing: Double,
                kernel: SpreadKernel, rows: Int, cols: Int,
                correctionX: UnsafeBufferPointer<Double>, correctionY: UnsafeBufferPointer<Double>) {
        self.native = native
        self.boxRows = boxRows
        self.boxCols = boxCols
        self.y0 = y0
        self.x0 = x0
        self.spacing = spacing
        self.kernel = kernel
        self.rows = rows
        self.cols = cols
        self.correctionX = correctionX
        self.correctionY = correctionY
    }
}

/// A complex-strength cosine sum over lattice pixels by type-1 non-uniform FFTs.
///
///     out[i] = Re sum_k z_k exp(2 pi i (x_i u_k + y_i v_k)),   x_i = x0 + d col_i,  y_i = y0 - d row_i
///
/// With `f1 = d u`, `f2 = d v` (cycles per column and per row) and the modes centred by
/// `c = c' + C0`, `r = r' + R0` (C0 = boxCols / 2, R0 = boxRows / 2):
///
///     out(r, c) = Re A(c', r') - Im B(c', r'),
///     A, B = sum_k (Re, Im)(z_k exp(2 pi i phi_k)) exp(i (c' x_k + r' y_k)),   phi_k = x0 u + y0 v + C0 f1 - R0 f2
///
/// with `x_k = 2 pi f1`, `y_k = -2 pi f2`: two real-strength type-1 NUFFTs (`spread`, a real FFT,
/// deconvolution by `correctionX[|c'|] correctionY[|r'|]`). The real grids' spectra are
/// Hermitian, so modes with c' < 0 are read at (-c', -r') conjugated. Accuracy is the plan's
/// (about eps sum |z|); cost O(K (w + degree)) twice + two FFTs of the fine grid, instead of
/// O(K boxRows boxCols). A non-finite point or strength makes every pixel NaN, as the exact sum would.
func latticeSumNUFFT(points: Int, uv: UnsafeBufferPointer<Double>, _ p: LatticeSum,
                     out: UnsafeMutableBufferPointer<Double>, strength: (Int) -> (re: Double, im: Double)) {
    let (native, boxRows, boxCols, y0, x0, d) = (p.native, p.boxRows, p.boxCols, p.y0, p.x0, p.spacing)
    let (kernel, rows, cols, correctionX, correctionY) = (p.kernel, p.rows, p.cols, p.correctionX, p.correctionY)
    let c0 = boxCols / 2, r0 = boxRows / 2
    let fRows = Double(rows), fCols = Double(cols)
    let fft = RealFFT2D(rows, cols)
    let columns = fft.spectrumColumns
    let grid = Scratch(rows * cols)
    let spectra = (Scratch(rows * 2 * columns), Scratch(rows * 2 * columns))
    for (part, spectrum) in [(0, spectra.0), (1, spectra.1)] {
        let finite = spread(points: points, rows: rows, cols: cols, kernel: kernel, grid: grid.pointer) { k in
            let u = uv[2 * k], v = uv[2 * k + 1]
            let f1 = d * u, f2 = d * v
            let z = strength(k)
            let angle = sinCos2Pi(x0 * u + y0 * v + Double(c0) * f1 - Double(r0) * f2)
            // Re or Im of z exp(2 pi i phi_k).
            let weight = part == 0 ? z.re * angle.cos - z.im * angle.sin : z.re * angle.sin + z.im * angle.cos
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
