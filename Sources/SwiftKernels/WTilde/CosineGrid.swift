/// A weighted cosine sum on a regular grid, by angle addition: the engine of w_compact and of the
/// dirty-image weights on a lattice.
///
///     out[m, n] = sum_k weight_k cos(2 pi [phase_k + colRate_k (n - colShift) - rowRate_k m])
///
/// for `0 <= m < rows`, `0 <= n < cols` (angles in cycles). With `a = 2 pi (phase + colRate n')`
/// and `b = 2 pi rowRate m`, `cos(a - b) = cos a cos b + sin a sin b` makes the sum one real
/// matrix product over the stacked depth (cos rows, then sin rows):
/// `out = [w cos b; w sin b]^T [cos a; sin a]`, exact to rounding. Cost per visibility:
/// rows + cols sincos and 4 rows cols multiply-adds at register-blocked speed. Visibilities go
/// in chunks of 128, so memory is O(rows cols) whatever K is; threads take ranges of chunks, each
/// with its own accumulator, summed at the end.
///
/// The per-visibility values come from `visibility(k) -> (weight, phase, colRate, rowRate)`.
/// Scratch: `CosineGrid.accumulatorsPerThread` grids of the output's size per thread.
@inline(__always)
func cosineGrid(visibilities k: Int, rows: Int, cols: Int, colShift: Int,
                out: UnsafeMutableBufferPointer<Double>,
                visibility: (Int) -> (weight: Double, phase: Double, colRate: Double, rowRate: Double)) {
    let rowsPadded = Panels.padded(rows, 2 * Panels.rowBlock)  // whole vectors of 8 rows
    let colsPadded = Panels.padded(cols, Panels.colBlock)
    let chunk = 128
    let chunks = (k + chunk - 1) / chunk
    let threads = min(Threads.count, max(chunks, 1))
    let accumulators = (0..<threads).map { _ in Scratch(rowsPadded * colsPadded * CosineGrid.accumulatorsPerThread) }
    let accumulatorPointers = Buffer(accumulators.map { $0.pointer })
    let lanes = Vec(0, 1, 2, 3, 4, 5, 6, 7)

    parallelRanges(chunks, threads: threads) { tid, range in
        let acc = accumulatorPointers.pointer[tid]
        let lpStore = Scratch(rowsPadded * 2 * chunk), rpStore = Scratch(colsPadded * 2 * chunk)
        let lp = lpStore.pointer, rp = rpStore.pointer
        for c in range where !Interrupt.requested {
            let k0 = c * chunk, kc = min(chunk, k - k0)
            let depth = 2 * kc
            for kk in 0..<kc {
                let (weight, phase, colRate, rowRate) = visibility(k0 + kk)
                // R: cos a and sin a, in column blocks of 8.
                for jb in 0..<(colsPadded / 8) {
                    let nPrime = lanes + Double(jb * 8 - colShift)
                    let (s, co) = sinCos2Pi(phase + nPrime * colRate)
                    let panel = rp + jb * 8 * depth
                    Panels.store(co, panel + kk * 8)
                    Panels.store(s, panel + (kc + kk) * 8)
                }
                // L: w cos b and w sin b, in row blocks of 4 (two per vector).
                for ib in stride(from: 0, to: rowsPadded / 4, by: 2) {
                    let (s, co) = sinCos2Pi((lanes + Double(ib * 4)) * rowRate)
                    let first = lp + ib * 4 * depth, second = first + 4 * depth
                    Panels.storeRowLanes(weight * co, first + kk * 4, second + kk * 4)
                    Panels.storeRowLanes(weight * s, first + (kc + kk) * 4, second + (kc + kk) * 4)
                }
            }
            for ib in 0..<(rowsPadded / 4) {
                for jb in 0..<(colsPadded / 8) {
                    Panels.accumulateTile(lp: lp + ib * 4 * depth, rp: rp + jb * 8 * depth,
                                          depth: depth, out: acc + ib * 4 * colsPadded + jb * 8,
                                          ldo: colsPadded)
                }
            }
        }
        withExtendedLifetime((lpStore, rpStore)) {}
    }
    for row in 0..<rows {
        for col in 0..<cols {
            var sum = 0.0
            for t in 0..<threads { sum += accumulatorPointers.pointer[t][row * colsPadded + col] }
            out[row * cols + col] = sum
        }
    }
    withExtendedLifetime((accumulators, accumulatorPointers)) {}
}

/// What `cosineGrid` allocates, exported (`Limits`) so that Python refuses a call that cannot fit.
public enum CosineGrid {
    /// Each thread sums its visibilities into its own grid of the output's size.
    public static let accumulatorsPerThread = 1
}
