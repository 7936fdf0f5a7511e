/// The w-tilde matrix of every pair of image pixels (the study's `w_mm`).
///
///     W[i, j] = sum_k c_k cos(2 pi [(x_i - x_j) u_k + (y_i - y_j) v_k]),   c_k = 1 / sigma_k^2
///
/// Angle addition with `t_ik = x_i u_k + y_i v_k` gives `W = C diag(c) C^T + S diag(c) S^T`
/// where `C[i, k] = cos 2 pi t_ik` and `S[i, k] = sin 2 pi t_ik`: M K sincos and 2 M^2 K flops
/// (half of them, as W is symmetric) instead of M^2 K cosines, exact to rounding. Visibilities go
/// in chunks so memory is O(M^2 + M chunk); each chunk packs its panels in parallel over pixel
/// groups, then threads take column blocks of the upper triangle. `grid` is (M, 2) of (y, x),
/// `uv` (K, 2) of (u, v), `out` (M, M).
public func wTilde(noise: UnsafeBufferPointer<Double>, uv: UnsafeBufferPointer<Double>,
                   grid: UnsafeBufferPointer<Double>, out: UnsafeMutableBufferPointer<Double>) {
    let k = noise.count, m = grid.count / 2
    guard m > 0 else { return }
    let padded = Panels.padded(m, 8)
    let chunk = 128
    // W depends only on differences of coordinates: centre them, so the phases (and their
    // rounding) stay as small as the mask, wherever it sits
    // (Over finite coordinates only: a NaN pixel must spoil only its own row and column.)
    var yMean = 0.0, xMean = 0.0, finite = 0.0
    for i in 0..<m where grid[2 * i].isFinite && grid[2 * i + 1].isFinite {
        yMean += grid[2 * i]
        xMean += grid[2 * i + 1]
        finite += 1
    }
    if finite > 0 {
        yMean /= finite
        xMean /= finite
    }
    let xs = Scratch(padded), ys = Scratch(padded)
    for i in 0..<m {
        ys.pointer[i] = grid[2 * i] - yMean
        xs.pointer[i] = grid[2 * i + 1] - xMean
    }
    let acc = Scratch(padded * padded)
    let lpStore = Scratch(padded * 2 * chunk), rpStore = Scratch(padded * 2 * chunk)
    let lp = lpStore.pointer, rp = rpStore.pointer, a = acc.pointer
    let groups = padded / 8
    var k0 = 0
    while k0 < k && !Interrupt.requested {
        let kc = min(chunk, k - k0), depth = 2 * kc
        parallelFor(groups) { g in
            let x = UnsafeRawPointer(xs.pointer + 8 * g).loadUnaligned(as: Vec.self)
            let y = UnsafeRawPointer(ys.pointer + 8 * g).loadUnaligned(as: Vec.self)
            let r = rp + g * 8 * depth
            let first = lp + 2 * g * 4 * depth, second = first + 4 * depth
            for kk in 0..<kc {
                let sigma = noise[k0 + kk]
                let weight = 1 / (sigma * sigma)
                let (s, c) = sinCos2Pi(x * uv[2 * (k0 + kk)] + y * uv[2 * (k0 + kk) + 1])
                Panels.store(c, r + kk * 8)
                Panels.store(s, r + (kc + kk) * 8)
                Panels.storeRowLanes(weight * c, first + kk * 4, second + kk * 4)
                Panels.storeRowLanes(weight * s, first + (kc + kk) * 4, second + (kc + kk) * 4)
            }
        }
        parallelFor(groups) { jb in
            // Row blocks of 4 that reach the diagonal of column block jb: ib * 4 <= jb * 8 + 7.
            for ib in 0..<(2 * jb + 2) {
                Panels.accumulateTile(lp: lp + ib * 4 * depth, rp: rp + jb * 8 * depth,
                                      depth: depth, out: a + ib * 4 * padded + jb * 8, ldo: padded)
            }
        }
        k0 += kc
    }
    parallelFor(m) { i in
        for j in 0..<m {
            out[i * m + j] = i <= j ? a[i * padded + j] : a[j * padded + i]
        }
    }
    withExtendedLifetime((xs, ys, acc, lpStore, rpStore)) {}
}
