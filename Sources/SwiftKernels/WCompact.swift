/// The compact w-tilde: the w-tilde value of every native pixel offset.
///
///     wCompact[m, n] = sum_k c_k cos(D [(n - (N-1)) u_k - m v_k]),  0 <= m < N, 0 <= n < 2N-1
///
/// with `c_k = 1 / sigma_k^2` and `D = 2 pi d`, `d = pixel_scale * pi / 648000`.
///
/// Angle addition, `cos(a - b) = cos a cos b + sin a sin b` with `a = D n' u_k`, `b = D m v_k`,
/// turns the sum into one real matrix product over the stacked depth (cos rows, then sin rows):
/// `wCompact = [c cos b; c sin b]^T [cos a; sin a]`. It is exact to rounding, costs (3N - 1)
/// sincos and 8 N^2 flops per visibility at register-blocked speed, and works through the
/// visibilities in chunks of `chunk`, so memory is O(N^2) whatever K is. Threads take ranges
/// of chunks, each with its own accumulator, summed at the end.
public func wCompact(noise: UnsafeBufferPointer<Double>, uv: UnsafeBufferPointer<Double>,
                     gridSize n: Int, pixelScale: Double,
                     out: UnsafeMutableBufferPointer<Double>) {
    let k = noise.count
    let cols = 2 * n - 1
    let rowsPadded = Panels.padded(n, 2 * Panels.rowBlock)  // whole vectors of 8 rows
    let colsPadded = Panels.padded(cols, Panels.colBlock)
    let chunk = 128
    let chunks = (k + chunk - 1) / chunk
    let d = pixelScale * Double.pi / 648000
    let threads = min(Threads.count, max(chunks, 1))
    let accumulators = (0..<threads).map { _ in Scratch(rowsPadded * colsPadded) }

    parallelRanges(chunks, threads: threads) { tid, range in
        let acc = accumulators[tid].pointer
        let lpStore = Scratch(rowsPadded * 2 * chunk), rpStore = Scratch(colsPadded * 2 * chunk)
        let lp = lpStore.pointer, rp = rpStore.pointer
        let rowOffsets = Vec(0, 1, 2, 3, 4, 5, 6, 7)
        for c in range {
            let k0 = c * chunk, kc = min(chunk, k - k0)
            let depth = 2 * kc
            for kk in 0..<kc {
                let sigma = noise[k0 + kk]
                let weight = 1 / (sigma * sigma)
                let du = d * uv[2 * (k0 + kk)], dv = d * uv[2 * (k0 + kk) + 1]
                // R: cos and sin of a = 2 pi d n' u, in column blocks of 8.
                var jb = 0
                while jb * 8 < colsPadded {
                    let nPrime = rowOffsets + Double(jb * 8 - (n - 1))
                    let (s, co) = sinCos2Pi(nPrime * du)
                    let panel = rp + jb * 8 * depth
                    Panels.store(co, panel + kk * 8)
                    Panels.store(s, panel + (kc + kk) * 8)
                    jb += 1
                }
                // L: c cos b and c sin b with b = 2 pi d m v, in row blocks of 4 (two per vector).
                var ib = 0
                while ib * 4 < rowsPadded {
                    let m = rowOffsets + Double(ib * 4)
                    let (s, co) = sinCos2Pi(m * dv)
                    let first = lp + ib * 4 * depth
                    let second = first + 4 * depth
                    Panels.storeRowLanes(weight * co, first + kk * 4, second + kk * 4)
                    Panels.storeRowLanes(weight * s, first + (kc + kk) * 4, second + (kc + kk) * 4)
                    ib += 2
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
    for row in 0..<n {
        for col in 0..<cols {
            var sum = 0.0
            for t in 0..<threads { sum += accumulators[t].pointer[row * colsPadded + col] }
            out[row * cols + col] = sum
        }
    }
}
