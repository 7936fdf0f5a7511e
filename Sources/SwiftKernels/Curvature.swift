/// The curvature matrix `F = T^T W T` for a sparse mapping T.
///
/// Column by column of T: for source pixel s, `omega = W T[:, s]` is accumulated from the image
/// pixels that map to s (contiguous SIMD updates), then `F[s, s'] = T[:, s']^T omega` is a short
/// gather per column s'. F is symmetric, so each pair is computed once: source pixels are taken
/// in the order of their first omega slot, and for the a-th of them only the columns from the
/// a-th on are gathered, so omega is needed only from the a-th pixel's first slot on. For the
/// raster order of image pixels that halves the work of omega on average, whatever order the
/// caller numbered its source pixels in. The other half of F is mirrored. Threads take source
/// pixels four at a time (interleaved, since the triangle shrinks), each with its own omegas.
///
/// `fillOmega(thread, s, omega, from)` writes `(W T[:, s])` into `omega` (of `omegaSize` slots) at least
/// at the slots `>= from`; `omegaSlot[m]` says where image pixel m's value sits in it.
@inline(__always)
func curvature(_ mapping: SparseMapping, omegaSize: Int, omegaSlot: [Int],
               out: UnsafeMutableBufferPointer<Double>,
               fillOmega: (_ thread: Int, _ source: Int, _ omega: UnsafeMutablePointer<Double>, _ from: Int) -> Void) {
    let sources = mapping.sourcePixels
    let start = mapping.columnStart
    var firstSlot = [Int](repeating: Int.max, count: sources)
    for s in 0..<sources {
        for e in start[s]..<start[s + 1] { firstSlot[s] = min(firstSlot[s], omegaSlot[mapping.columnPixel[e]]) }
    }
    let order = (0..<sources).sorted { firstSlot[$0] < firstSlot[$1] }
    // The entries again, in that order, with their omega slots resolved.
    var orderedStart = [0], orderedSlot: [Int] = [], orderedWeight: [Double] = []
    for s in order {
        for e in start[s]..<start[s + 1] {
            orderedSlot.append(omegaSlot[mapping.columnPixel[e]])
            orderedWeight.append(mapping.columnWeight[e])
        }
        orderedStart.append(orderedSlot.count)
    }
    let tables = (Buffer(order), Buffer(orderedStart), Buffer(orderedSlot), Buffer(orderedWeight), Buffer(firstSlot))
    let sourceAt = tables.0.buffer, entryStart = tables.1.buffer, slot = tables.2.buffer
    let weight = tables.3.buffer, first = tables.4.buffer
    let threads = Threads.count
    // Up to four source pixels at a time, so each gathered entry (slot, weight) serves several
    // omegas, as long as their omegas stay in L2 together (large masks: one at a time).
    let omegaBytes = omegaSize * MemoryLayout<Double>.stride
    let block = omegaBytes * 4 <= 640 << 10 ? 4 : (omegaBytes * 2 <= 640 << 10 ? 2 : 1)
    let omegas = (0..<(threads * block)).map { _ in Scratch(omegaSize) }
    let omegaPointers = Buffer(omegas.map { $0.pointer })
    let f = out.baseAddress!
    parallelFor((sources + block - 1) / block, threads: threads) { tid, q in
        let a0 = q * block, count = min(block, sources - a0)
        let o = omegaPointers.pointer + tid * block
        for j in 0..<count where entryStart[a0 + j] < entryStart[a0 + j + 1] {
            fillOmega(tid, sourceAt[a0 + j], o[j], first[sourceAt[a0 + j]])
        }
        // Omegas of missing lanes repeat the first: their sums are computed and not stored.
        let o0 = o[0], o1 = o[count > 1 ? 1 : 0], o2 = o[count > 2 ? 2 : 0], o3 = o[count > 3 ? 3 : 0]
        let rows = (0..<4).map { f + sourceAt[a0 + min($0, count - 1)] * sources }
        let r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3]
        // Columns b >= a0; those below a lane's own position are overwritten by the mirror.
        for b in a0..<sources {
            var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
            for e in entryStart[b]..<entryStart[b + 1] {
                let k = slot[e], w = weight[e]
                s0 += w * o0[k]
                s1 += w * o1[k]
                s2 += w * o2[k]
                s3 += w * o3[k]
            }
            let column = sourceAt[b]
            r3[column] = s3
            r2[column] = s2
            r1[column] = s1
            r0[column] = s0
        }
        // Empty columns of T give zero rows of F.
        for j in 0..<count where entryStart[a0 + j] == entryStart[a0 + j + 1] {
            (f + sourceAt[a0 + j] * sources).update(repeating: 0, count: sources)
        }
    }
    // Mirror: F[s, s'] is kept where s comes no later than s' in the order, in 32 x 32 tiles.
    let position = Buffer([Int](repeating: 0, count: sources))
    for a in 0..<sources { position.pointer[sourceAt[a]] = a }
    let tile = 32, tiles = (sources + tile - 1) / tile
    parallelFor(tiles, threads: threads) { ti in
        let position = position.pointer
        for tj in 0..<tiles {
            for s in (ti * tile)..<min(sources, ti * tile + tile) {
                let ps = position[s]
                for sp in (tj * tile)..<min(sources, tj * tile + tile) where position[sp] < ps {
                    f[s * sources + sp] = f[sp * sources + s]
                }
            }
        }
    }
    withExtendedLifetime((omegas, omegaPointers, tables, position)) {}
}

/// `F = T^T W T` from the w-tilde matrix W (M, M) in memory. Omega is `sum w W[m, :]` over the
/// column's entries (W is symmetric, so rows serve as columns). Cost: B M^2 multiply-adds for
/// omega, B M S / 2 for the gathers.
public func curvatureFromWTilde(_ wTilde: UnsafeBufferPointer<Double>, mapping: SparseMapping,
                                out: UnsafeMutableBufferPointer<Double>) {
    let m = mapping.imagePixels
    let w = wTilde.baseAddress!
    let start = mapping.columnStart, pixel = mapping.columnPixel, weight = mapping.columnWeight
    curvature(mapping, omegaSize: m, omegaSlot: Array(0..<m), out: out) { _, s, omega, from in
        let count = m - from
        (omega + from).update(repeating: 0, count: count)
        for e in start[s]..<start[s + 1] {
            axpy(omega + from, weight[e], w + pixel[e] * m + from, count)
        }
    }
}

/// `F = T^T W T` from the compact w-tilde (N, 2N-1), never forming W: an `OffsetOperator` with
/// `W(dr, dc) = wCompact[dr, dc + N-1]`, or `wCompact[-dr, -dc + N-1]` for `dr < 0` (cos is even).
public func curvatureFromWCompact(_ wCompact: UnsafeBufferPointer<Double>, gridSize n: Int,
                                  native: NativeIndices, mapping: SparseMapping,
                                  method: CurvatureMethod = .direct,
                                  out: UnsafeMutableBufferPointer<Double>) {
    OffsetOperator(wCompact: wCompact, gridSize: n, native: native).curvature(mapping, method: method, out: out)
}

/// `F = T^T W T` from the PyAutoArray preload layout (2 Ny, 2 Nx), where
/// `W[i, j] = preload[row_j - row_i, col_j - col_i]` with Python's negative-index wrap.
public func curvatureFromPreload(_ preload: UnsafeBufferPointer<Double>, rows p0: Int, cols p1: Int,
                                 native: NativeIndices, mapping: SparseMapping,
                                 method: CurvatureMethod = .direct,
                                 out: UnsafeMutableBufferPointer<Double>) {
    OffsetOperator(preload: preload, rows: p0, cols: p1, native: native).curvature(mapping, method: method, out: out)
}
