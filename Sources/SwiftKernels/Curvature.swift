/// The curvature matrix `F = T^T W T` for a sparse mapping T.
///
/// Column by column of T: for source pixel s, `omega = W T[:, s]` is accumulated from the image
/// pixels that map to s (contiguous SIMD updates), then `F[s, s'] = T[:, s']^T omega` is a short
/// gather per column s'. F is symmetric, so each pair is computed once: source pixels are taken
/// in the order of their first omega slot, and for the a-th of them only the columns from the
/// a-th on are gathered, so omega is needed only from the a-th pixel's first slot on. For the
/// raster order of image pixels that halves the work of omega on average, whatever order the
/// caller numbered its source pixels in. The other half of F is mirrored. Threads take source
/// pixels (interleaved, since the triangle shrinks), each with its own `omega`.
///
/// `fillOmega(s, omega, from)` writes `(W T[:, s])` into `omega` (of `omegaSize` slots) at least
/// at the slots `>= from`; `omegaSlot[m]` says where image pixel m's value sits in it.
@inline(__always)
func curvature(_ mapping: SparseMapping, omegaSize: Int, omegaSlot: [Int],
               out: UnsafeMutableBufferPointer<Double>,
               fillOmega: (_ source: Int, _ omega: UnsafeMutablePointer<Double>, _ from: Int) -> Void) {
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
    let omegas = (0..<threads).map { _ in Scratch(omegaSize) }
    let omegaPointers = Buffer(omegas.map { $0.pointer })
    let f = out.baseAddress!
    parallelFor(sources, threads: threads) { tid, a in
        let s = sourceAt[a]
        let row = f + s * sources
        if entryStart[a] == entryStart[a + 1] {
            row.update(repeating: 0, count: sources)
            return
        }
        let omega = omegaPointers.pointer[tid]
        fillOmega(s, omega, first[s])
        for b in a..<sources {
            var sum = 0.0
            for e in entryStart[b]..<entryStart[b + 1] {
                sum += weight[e] * omega[slot[e]]
            }
            row[sourceAt[b]] = sum
        }
    }
    // Mirror: F[s, s'] was computed where s comes no later than s' in the order.
    let position = Buffer([Int](repeating: 0, count: sources))
    for a in 0..<sources { position.pointer[sourceAt[a]] = a }
    parallelFor(sources, threads: threads) { s in
        let ps = position.pointer[s]
        for sp in 0..<sources where position.pointer[sp] < ps {
            f[s * sources + sp] = f[sp * sources + s]
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
    curvature(mapping, omegaSize: m, omegaSlot: Array(0..<m), out: out) { s, omega, from in
        let count = m - from
        (omega + from).update(repeating: 0, count: count)
        for e in start[s]..<start[s + 1] {
            axpy(omega + from, weight[e], w + pixel[e] * m + from, count)
        }
    }
}

/// `F = T^T W T` from the compact w-tilde (N, 2N-1), never forming W: `curvatureOnGrid` with
/// `ext[dr, dc] = wCompact[dr, dc]`, or `wCompact[-dr, -dc]` for `dr < 0` (cos is even).
public func curvatureFromWCompact(_ wCompact: UnsafeBufferPointer<Double>, gridSize n: Int,
                                  native: NativeIndices, mapping: SparseMapping,
                                  out: UnsafeMutableBufferPointer<Double>) {
    let side = 2 * n - 1
    curvatureOnGrid(rows: n, cols: n, native: native, mapping: mapping, out: out) { dr, dc in
        dr >= 0 ? wCompact[dr * side + dc + n - 1] : wCompact[-dr * side - dc + n - 1]
    }
}

/// `F = T^T W T` from the PyAutoArray preload layout (2 Ny, 2 Nx), where
/// `W[i, j] = preload[row_j - row_i, col_j - col_i]` with Python's negative-index wrap:
/// `curvatureOnGrid` with `ext[dr, dc] = preload[-dr mod 2Ny, -dc mod 2Nx]`.
public func curvatureFromPreload(_ preload: UnsafeBufferPointer<Double>, rows p0: Int, cols p1: Int,
                                 native: NativeIndices, mapping: SparseMapping,
                                 out: UnsafeMutableBufferPointer<Double>) {
    curvatureOnGrid(rows: p0 / 2, cols: p1 / 2, native: native, mapping: mapping, out: out) { dr, dc in
        preload[((p0 - dr) % p0) * p1 + (p1 - dc) % p1]
    }
}

/// `F = T^T W T` for W that depends only on the native offset of two pixels, never forming W.
///
/// `w(dr, dc)` is W between pixels at native offset (dr, dc) = (row_i - row_j, col_i - col_j),
/// |dr| < rows, |dc| < cols; it is tabulated once as `ext` (2 rows - 1, 2 cols - 1). Omega lives
/// on the mask's bounding box of the native grid: one entry (r', c', w) adds
/// `w * ext[r - r' + rows-1, c - c' + cols-1]` along each grid row r, contiguous on both sides,
/// and only over the span of masked columns of the row. Cost: about B M^2 / 2 multiply-adds
/// (M per entry, halved by the order of `curvature`), B M S / 2 gathers.
func curvatureOnGrid(rows n: Int, cols nc: Int, native: NativeIndices, mapping: SparseMapping,
                     out: UnsafeMutableBufferPointer<Double>, w: (Int, Int) -> Double) {
    let m = mapping.imagePixels
    guard m > 0 else { out.initialize(repeating: 0); return }
    let side = 2 * nc - 1
    // Padded by a vector so whole-vector updates may run past a row's end (see below).
    let ext = Scratch((2 * n - 1) * side + 8)
    for dr in -(n - 1)...(n - 1) {
        for dc in -(nc - 1)...(nc - 1) {
            ext.pointer[(dr + n - 1) * side + dc + nc - 1] = w(dr, dc)
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
    let start = mapping.columnStart, pixel = mapping.columnPixel, weight = mapping.columnWeight
    let nativeRows = native.rows, nativeCols = native.cols
    let lows = Buffer(spanLo), highs = Buffer(spanHi)
    let spanLow = lows.buffer, spanHigh = highs.buffer
    curvature(mapping, omegaSize: height * width + 8, omegaSlot: slot, out: out) { s, omega, from in
        let first = start[s], last = start[s + 1]
        for r in (from / width)..<height where spanLow[r] <= spanHigh[r] {
            // Whole vectors: the update may run up to 7 slots past the span, into slots no gather
            // reads (outside every span, or the next row's span, which is overwritten when its row
            // comes) or into the padding of omega and ext.
            let lo = spanLow[r], count = (spanHigh[r] - lo + 8) & ~7
            let target = omega + r * width + lo - colMin
            // Where entry e's window starts in ext for this row segment.
            @inline(__always) func window(_ e: Int) -> UnsafePointer<Double> {
                let p = pixel[e]
                return UnsafePointer(e0 + (r + rowMin - nativeRows[p] + n - 1) * side + lo - nativeCols[p] + nc - 1)
            }
            var e = first
            // Four entries per pass over the row: the target is loaded and stored once per four.
            if e + 4 <= last {
                axpy4(target, weight[e], window(e), weight[e + 1], window(e + 1),
                      weight[e + 2], window(e + 2), weight[e + 3], window(e + 3),
                      count, accumulate: false)
                e += 4
            } else {
                target.update(repeating: 0, count: count)
            }
            while e + 4 <= last {
                axpy4(target, weight[e], window(e), weight[e + 1], window(e + 1),
                      weight[e + 2], window(e + 2), weight[e + 3], window(e + 3),
                      count, accumulate: true)
                e += 4
            }
            while e < last {
                axpy(target, weight[e], window(e), count)
                e += 1
            }
        }
    }
    withExtendedLifetime((ext, lows, highs)) {}
}
