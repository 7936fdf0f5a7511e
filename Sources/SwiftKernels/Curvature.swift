/// The curvature matrix `F = T^T W T` for a sparse mapping T.
///
/// Column by column of T: for source pixel s, `omega = W T[:, s]` is accumulated from the
/// image pixels that map to s (contiguous SIMD updates), then `F[s, s'] = T[:, s']^T omega` for
/// `s' >= s` is a short gather per column, and the lower half is mirrored. Threads take source
/// pixels (interleaved, since the triangle shrinks), each with its own `omega`.
///
/// `fillOmega(s, omega)` writes `W T[:, s]` into `omega` (of `omegaSize` slots) and
/// `omegaSlot[m]` says where image pixel m's value sits in it.
@inline(__always)
func curvature(_ mapping: SparseMapping, omegaSize: Int, omegaSlot: [Int],
               out: UnsafeMutableBufferPointer<Double>,
               fillOmega: (_ source: Int, _ omega: UnsafeMutablePointer<Double>) -> Void) {
    let sources = mapping.sourcePixels
    // The entries of each column with their omega slot resolved once.
    let slots = mapping.columnPixel.map { omegaSlot[$0] }
    let threads = Threads.count
    let omegas = (0..<threads).map { _ in Scratch(omegaSize) }
    let f = out.baseAddress!
    parallelFor(sources, threads: threads) { tid, s in
        let row = f + s * sources
        if mapping.columnStart[s] == mapping.columnStart[s + 1] {
            row.update(repeating: 0, count: sources)
            return
        }
        let omega = omegas[tid].pointer
        fillOmega(s, omega)
        for sp in s..<sources {
            var sum = 0.0
            for e in mapping.columnStart[sp]..<mapping.columnStart[sp + 1] {
                sum += mapping.columnWeight[e] * omega[slots[e]]
            }
            row[sp] = sum
        }
    }
    for s in 0..<sources {
        for sp in 0..<s { f[s * sources + sp] = f[sp * sources + s] }
    }
    withExtendedLifetime(omegas) {}
}

/// `F = T^T W T` from the w-tilde matrix W (M, M) in memory. Omega is `sum w W[m, :]` over the
/// column's entries (W is symmetric, so rows serve as columns). Cost: B M^2 multiply-adds for
/// omega, B M S / 2 for the gathers.
public func curvatureFromWTilde(_ wTilde: UnsafeBufferPointer<Double>, mapping: SparseMapping,
                                out: UnsafeMutableBufferPointer<Double>) {
    let m = mapping.imagePixels
    let w = wTilde.baseAddress!
    curvature(mapping, omegaSize: m, omegaSlot: Array(0..<m), out: out) { s, omega in
        omega.update(repeating: 0, count: m)
        for e in mapping.columnStart[s]..<mapping.columnStart[s + 1] {
            axpy(omega, mapping.columnWeight[e], w + mapping.columnPixel[e] * m, m)
        }
    }
}

/// `F = T^T W T` from the compact w-tilde (N, 2N-1), never forming W.
///
/// Omega lives on the mask's bounding box of the native grid. W between pixels at native offset
/// (dr, dc) is `ext[dr + N-1, dc + N-1]`, where `ext` (2N-1, 2N-1) unfolds w_compact by evenness
/// (`ext[-dr, -dc] = ext[dr, dc]`), so one entry (r', c', w) adds `w * ext[r - r' + N-1, c - c' +
/// N-1]` along each grid row r: contiguous on both sides. Only the span of masked columns of each
/// row is updated. Cost: B M (spans of the mask, ~M) multiply-adds, B M S / 2 gathers.
public func curvatureFromWCompact(_ wCompact: UnsafeBufferPointer<Double>, gridSize n: Int,
                                  native: NativeIndices, mapping: SparseMapping,
                                  out: UnsafeMutableBufferPointer<Double>) {
    let m = mapping.imagePixels
    guard m > 0 else { out.initialize(repeating: 0); return }
    let side = 2 * n - 1
    let ext = Scratch(side * side)
    for dr in -(n - 1)...(n - 1) {
        for dc in -(n - 1)...(n - 1) {
            ext.pointer[(dr + n - 1) * side + dc + n - 1] = dr >= 0
                ? wCompact[dr * side + dc + n - 1]
                : wCompact[-dr * side - dc + n - 1]
        }
    }
    let rowMin = native.rows.min()!, rowMax = native.rows.max()!
    let colMin = native.cols.min()!, colMax = native.cols.max()!
    let height = rowMax - rowMin + 1, width = colMax - colMin + 1
    // Masked column span of each box row (empty rows: lo > hi).
    var spanLo = [Int](repeating: Int.max, count: height), spanHi = [Int](repeating: Int.min, count: height)
    for i in 0..<m {
        let r = native.rows[i] - rowMin
        spanLo[r] = min(spanLo[r], native.cols[i])
        spanHi[r] = max(spanHi[r], native.cols[i])
    }
    let slot = (0..<m).map { (native.rows[$0] - rowMin) * width + native.cols[$0] - colMin }
    let e0 = ext.pointer
    curvature(mapping, omegaSize: height * width, omegaSlot: slot, out: out) { s, omega in
        for r in 0..<height where spanLo[r] <= spanHi[r] {
            let lo = spanLo[r], count = spanHi[r] - lo + 1
            let target = omega + r * width + lo - colMin
            target.update(repeating: 0, count: count)
            for e in mapping.columnStart[s]..<mapping.columnStart[s + 1] {
                let p = mapping.columnPixel[e]
                let dr = r + rowMin - native.rows[p]
                axpy(target, mapping.columnWeight[e],
                     e0 + (dr + n - 1) * side + lo - native.cols[p] + n - 1, count)
            }
        }
    }
    withExtendedLifetime(ext) {}
}
