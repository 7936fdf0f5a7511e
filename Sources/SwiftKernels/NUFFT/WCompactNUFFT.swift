/// The compact w-tilde by a type-1 non-uniform FFT.
///
///     wCompact[m, n] = Re sum_k c_k exp(i (n' x_k + m y_k)),  n' = n - (N-1),  x_k = D u_k,  y_k = -D v_k
///
/// (the same sum as `wCompact`). The K points are spread onto a periodic real grid of
/// `rows` (y) x `cols` (x), at least twice the 2N-1 modes each way, with the exponential of
/// semicircle kernel (`spread`); one real 2D FFT (`RealFFT2D`) of the grid; then each wanted mode
/// is divided by the kernel's Fourier transform (`correctionX[|n'|] correctionY[m]`, computed by
/// quadrature when the plan is made). Only the real part and half the modes are needed: the grid
/// is real, so its spectrum is Hermitian and Re F(n', m) = Re F(-n', -m); the real FFT keeps
/// the columns n' >= 0 and the rest is read at (-n', -m). Accuracy is the plan's (about eps
/// sum(c)); cost O(K (w + degree) + rows cols log(rows cols)) instead of O(K N^2).
public func wCompactNUFFT(noise: UnsafeBufferPointer<Double>, uv: UnsafeBufferPointer<Double>,
                          gridSize n: Int, pixelScale: Double, kernel: SpreadKernel,
                          rows: Int, cols: Int,
                          correctionX: UnsafeBufferPointer<Double>, correctionY: UnsafeBufferPointer<Double>,
                          out: UnsafeMutableBufferPointer<Double>) {
    let d = pixelScale * Double.pi / 648000
    let grid = Scratch(rows * cols)
    let fRows = Double(rows), fCols = Double(cols)
    let finite = spread(points: noise.count, rows: rows, cols: cols, kernel: kernel, grid: grid.pointer) { k in
        // Coordinates in grid units: t = size * (phase / 2 pi mod 1), the phase in cycles.
        let x = d * uv[2 * k], y = -d * uv[2 * k + 1]
        let sigma = noise[k]
        return (fCols * (x - x.rounded(.down)), fRows * (y - y.rounded(.down)), 1 / (sigma * sigma))
    }
    if Interrupt.requested { return }
    guard finite else { out.initialize(repeating: .nan); return }  // as cos(inf) or cos(NaN) makes the sum
    let fft = RealFFT2D(rows, cols)
    let spectrumColumns = fft.spectrumColumns
    let spectrum = Scratch(rows * 2 * spectrumColumns)
    fft.forward(grid.pointer, spectrum.pointer)
    let side = 2 * n - 1
    for m in 0..<n {
        for nPrime in -(n - 1)...(n - 1) {
            // Re F(n', m) at n' >= 0, else Re F(-n', -m).
            let row = nPrime >= 0 ? m : (rows - m) % rows
            let value = spectrum.pointer[2 * (row * spectrumColumns + abs(nPrime))]
            out[m * side + nPrime + n - 1] = value * correctionX[abs(nPrime)] * correctionY[m]
        }
    }
    withExtendedLifetime((grid, spectrum)) {}
}
