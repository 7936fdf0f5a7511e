extension OffsetOperator {
    /// The vector-Jacobian product of `F = T^T W T` with respect to the mapping's weights: for a
    /// cotangent G (S, S) and the mapping's (M, B) arrays,
    ///
    ///     out[m, b] = sum_s' (W T)[m, s'] (G + G^T)[pix[m, b], s']
    ///
    /// (F is bilinear in T and T[m, s] is the sum of the weights w[m, b] with pix[m, b] = s), and
    /// 0 from a row's first -1 on. Columns s' of `W T` are built eight at a time, one box row at a
    /// time as the direct method builds them, then read at the row's masked pixels, so no M x S
    /// matrix is held. Cost: nnz x M multiply-adds for the columns (twice a direct F's, which
    /// needs only the rows from each column's first by symmetry) plus S x M x B / 8 vector
    /// products for the contraction; memory S^2 for G + G^T (by groups of eight columns) and
    /// (threads x M x B) sums.
    ///
    /// `order` must come from this operator for the same arrays; `indexes` is copied once and
    /// checked again here (it is read without the GIL).
    /// - Throws: `KernelError.index` naming `name`, the row and the value of an index outside
    ///   [0, S) that is not the -1 sentinel.
    public func curvatureWeightGradient(_ order: CurvatureOrder, indexes: UnsafeBufferPointer<Int64>, width b: Int,
                                        cotangent g: UnsafeBufferPointer<Double>, name: String,
                                        out: UnsafeMutableBufferPointer<Double>) throws {
        precondition(order.isFor(ranks), "an order made by this operator")
        let m = native.count, s = order.sources
        precondition(indexes.count == m * b && out.count == m * b && g.count == s * s)
        // The mapping's sources, read once; -1 from a row's first -1 on.
        let pix = Buffer<Int>(uninitialized: max(m * b, 1))
        for i in 0..<m {
            var ended = false
            for k in 0..<b {
                let v = ended ? -1 : indexes[i * b + k]
                if v == -1 { ended = true } else if v < 0 || v >= s {
                    throw SparseMapping.outside(name, i, k, v, sources: s)
                }
                pix.pointer[i * b + k] = Int(v)
            }
        }
        out.initialize(repeating: 0)
        guard m > 0 && s > 0 && b > 0 else { return }
        // Eight consecutive sources at a time: (G + G^T)[p, s'..s'+7] (the sum is symmetric) is then
        // one vector load, from a (S, 8) block per group that stays in cache (rows of G + G^T
        // would be a cache miss per entry), so the contraction is one vector product and sum per entry
        // (into scalar sums: M x B of them stay in cache, vector ones would not).
        let lanes = 8, groups = (s + lanes - 1) / lanes
        let sym = Buffer<Double>(groups * s * lanes, repeating: 0)
        for q0 in Swift.stride(from: 0, to: s, by: 64) {  // G's rows in tiles, so each of its lines is read once
            for group in 0..<groups {
                let block = sym.pointer + group * s * lanes, c = group * lanes, width = min(lanes, s - c)
                for q in q0..<min(q0 + 64, s) {  // eight values of G's row q, one of each of rows c..c+7
                    for l in 0..<width { block[q * lanes + l] = g[q * s + c + l] + g[(c + l) * s + q] }
                }
            }
        }
        // Image pixel and box column of each rank (ranks run along the box's rows).
        let pixelAt = Buffer<Int>(uninitialized: m), columnAt = Buffer<Int>(uninitialized: m)
        for i in 0..<m {
            let r = ranks.rankOf.pointer[i]
            pixelAt.pointer[r] = i
            columnAt.pointer[r] = ranks.slotAt.pointer[r] % width
        }
        let e0 = table.pointer, side = tableWidth, height = height, width = width
        let start = order.entryStart.pointer, pixel = order.entryPixel.pointer, weight = order.entryWeight.pointer
        let position = order.position.pointer
        let nativeRows = native.rows, nativeCols = native.cols, rowRankStart = ranks.rowRankStart.pointer
        let spanLow = spanLow.pointer, spanHigh = spanHigh.pointer
        var widest = 1
        for a in 0..<s { widest = max(widest, start[a + 1] - start[a]) }
        let threads = min(Threads.count, groups), rowSize = (width + 11) & ~3
        let offsets = Buffer<Int>(threads * lanes * widest, repeating: 0), weights = Scratch(threads * lanes * widest)
        let counts = Buffer<Int>(threads * lanes, repeating: 0)
        let rows = Scratch(threads * lanes * rowSize), sums = Scratch(threads * m * b)
        parallelFor(groups, threads: threads) { tid, group in
            let slot = tid * lanes
            var entries = 0
            for l in 0..<lanes {
                let source = group * lanes + l
                let range = source < s ? order.entries(position[source]) : 0..<0
                let offset = offsets.pointer + (slot + l) * widest, w = weights.pointer + (slot + l) * widest
                for (k, e) in range.enumerated() {
                    offset[k] = (height - 1 - nativeRows[pixel[e]]) * side + width - 1 - nativeCols[pixel[e]]
                    w[k] = weight[e]
                }
                counts.pointer[slot + l] = range.count
                entries += range.count
            }
            guard entries > 0 else { return }
            let row = rows.pointer + slot * rowSize, sum = sums.pointer + tid * m * b
            let gBlock = sym.pointer + group * s * lanes
            for r in 0..<height where spanLow[r] <= spanHigh[r] {
                // Whole vectors from a 4-aligned column, as in the direct method's rows (a lane
                // without entries gets zeros).
                let lo = spanLow[r] & ~3, count = (spanHigh[r] - lo + 8) & ~7
                for l in 0..<lanes {
                    addWindows(row + l * rowSize + lo, e0 + r * side + lo, offsets.pointer + (slot + l) * widest,
                               weights.pointer + (slot + l) * widest, entries: counts.pointer[slot + l], count)
                }
                for rank in rowRankStart[r]..<rowRankStart[r + 1] {
                    let i = pixelAt.pointer[rank], c = columnAt.pointer[rank]
                    var omega = Vec()
                    for l in 0..<lanes { omega[l] = row[l * rowSize + c] }
                    for k in 0..<b {
                        let p = pix.pointer[i * b + k]
                        if p < 0 { break }
                        sum[i * b + k] += horizontalSum(omega * UnsafeRawPointer(gBlock + p * lanes).loadUnaligned(as: Vec.self))
                    }
                }
            }
        }
        for t in 0..<threads {
            let sum = sums.pointer + t * m * b
            for i in 0..<(m * b) { out[i] += sum[i] }
        }
        withExtendedLifetime((pix, sym, pixelAt, columnAt, offsets, weights, counts, rows, sums)) {}
    }
}

/// The sum of a vector's lanes by halving (`SIMD.sum()` compiles to a scalar chain here).
@inline(__always)
private func horizontalSum(_ v: Vec) -> Double {
    let four = v.lowHalf + v.highHalf, two = four.lowHalf + four.highHalf
    return two[0] + two[1]
}
