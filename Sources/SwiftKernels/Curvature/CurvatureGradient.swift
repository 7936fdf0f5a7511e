import SwiftwABI

extension OffsetOperator {
    /// The vector-Jacobian product of `F = T^T W T` with respect to the mapping's weights: for a
    /// cotangent G (S, S) and the mapping's (M, B) arrays,
    ///
    ///     out[m, b] = sum_s' (W T)[m, s'] (G + G^T)[pix[m, b], s']
    ///
    /// (F is bilinear in T and T[m, s] is the sum of the weights w[m, b] with pix[m, b] = s), and
    /// 0 from a row's first -1 on. Columns s' of `W T` are built eight at a time (a group), one
    /// box row at a time as the direct method builds them, and interleaved by rank into a row's
    /// panel as F's are (`interleave`), so no M x S matrix is held; the group's eight columns of
    /// G + G^T are made for it (in cache while it runs). Cost: nnz x M multiply-adds for the
    /// columns (twice a direct F's, which needs only the rows from each column's first by
    /// symmetry), G read about 2.5 times (S^2 doubles; its column strips are strided), and
    /// S x M x B / 8 8-lane products for the contraction, summed four pixels at a time by a
    /// transpose; memory threads x (8 S + M x B) doubles. Measured (one thread, Delaunay
    /// S = 1500, B = 3, in units of a direct F): sma (M = 3852) 2.2 = columns 1.0 + G + G^T 0.65
    /// + contraction 0.6; alma (M = 15380) 2.1 = 1.6 + 0.1 + 0.5 (the columns grow as M^2, G's
    /// reads as S^2).
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
        // The mapping's sources by rank, as places, one plane per column k of the arrays
        // (`sourceOf[k * m + rank]`), s (a zero line of the cotangent's block) from a row's first
        // -1 on: a block's lines are kept by place, so that a box row's pixels, whose sources were
        // mostly first met in the rows just before, read lines close together.
        let rankOf = ranks.rankOf.pointer
        let sourceOf = Buffer<Int32>(uninitialized: max(m * b, 1))
        for i in 0..<m {
            var ended = false
            for k in 0..<b {
                let v = ended ? -1 : indexes[i * b + k]
                if v == -1 { ended = true } else if v < 0 || v >= s {
                    throw SparseMapping.outside(name, i, k, v, sources: s)
                }
                sourceOf.pointer[k * m + rankOf[i]] = ended ? Int32(s) : Int32(order.position.pointer[Int(v)])
            }
        }
        out.initialize(repeating: 0)
        guard m > 0 && s > 0 && b > 0 else { return }
        let lanes = 8, groups = (s + lanes - 1) / lanes
        let e0 = table.pointer, side = tableWidth, height = height, width = width
        let pixel = order.entryPixel.pointer, weight = order.entryWeight.pointer, position = order.position.pointer
        let nativeRows = native.rows, nativeCols = native.cols
        let rowRankStart = ranks.rowRankStart.pointer, slotAt = ranks.slotAt.pointer
        let spanLow = spanLow.pointer, spanHigh = spanHigh.pointer
        var widest = 1, longest = 1
        for a in 0..<s { widest = max(widest, order.entries(a).count) }
        for r in 0..<height { longest = max(longest, rowRankStart[r + 1] - rowRankStart[r]) }
        // Per thread: each lane's entries as (table offset, weight) and their number, a row of
        // each lane's omega, the row's panel, the group's block of G + G^T and the sums by rank.
        let threads = min(Threads.count, groups), rowSize = (width + 11) & ~3, blockSize = (s + 1) * lanes
        let offsets = Buffer<Int>(threads * lanes * widest, repeating: 0), weights = Scratch(threads * lanes * widest)
        let counts = Buffer<Int>(threads * lanes, repeating: 0)
        let rows = Scratch(threads * lanes * rowSize), panels = Scratch(threads * lanes * longest)
        let blocks = Scratch(threads * blockSize), sums = Scratch(threads * m * b)
        parallelFor(groups, threads: threads) { tid, group in
            let slot = tid * lanes, c = group * lanes
            var entries = 0
            for l in 0..<lanes {
                let range = c + l < s ? order.entries(position[c + l]) : 0..<0
                let offset = offsets.pointer + (slot + l) * widest, w = weights.pointer + (slot + l) * widest
                for (k, e) in range.enumerated() {
                    offset[k] = (height - 1 - nativeRows[pixel[e]]) * side + width - 1 - nativeCols[pixel[e]]
                    w[k] = weight[e]
                }
                counts.pointer[slot + l] = range.count
                entries += range.count
            }
            guard entries > 0 else { return }
            let block = blocks.pointer + tid * blockSize, sum = sums.pointer + tid * m * b
            symmetricBlock(g, sources: s, columns: c, lineOf: position, into: block)
            let row = rows.pointer + slot * rowSize, panel = panels.pointer + slot * longest
            @inline(__always) func omega(_ l: Int) -> UnsafePointer<Double> { UnsafePointer(row + l * rowSize) }
            let omegas = (omega(0), omega(1), omega(2), omega(3), omega(4), omega(5), omega(6), omega(7))
            for r in 0..<height where spanLow[r] <= spanHigh[r] {
                // Whole vectors from a 4-aligned column, as in the direct method's rows (a lane
                // without entries gets zeros).
                let lo = spanLow[r] & ~3, count = (spanHigh[r] - lo + 8) & ~7
                for l in 0..<lanes {
                    addWindows(row + l * rowSize + lo, e0 + r * side + lo, offsets.pointer + (slot + l) * widest,
                               weights.pointer + (slot + l) * widest, entries: counts.pointer[slot + l], count)
                }
                let rowRanks = rowRankStart[r]..<rowRankStart[r + 1]
                interleave(omegas, slotAt: slotAt, base: r * width, ranks: rowRanks, into: panel)
                contract(panel, rowRanks, block, sourceOf.pointer, planes: b, pixels: m, into: sum)
            }
        }
        for i in 0..<m {
            for k in 0..<b {
                let at = k * m + rankOf[i]
                if Int(sourceOf.pointer[at]) == s { break }  // the row ended
                var total = 0.0
                for t in 0..<threads { total += sums.pointer[t * m * b + at] }
                out[i * b + k] = total
            }
        }
        withExtendedLifetime((sourceOf, offsets, weights, counts, rows, panels, blocks, sums)) {}
    }
}

/// `block[rowOf[q] * 8 + l] = G[q, c + l] + G[c + l, q]` for q in 0..<S (0 for lanes past S),
/// and a zero line at S: eight columns of the symmetric G + G^T, one 8-lane line per row, for a
/// group's contraction (from G's eight rows c... and a strip of its columns, in cache while the
/// group runs). Cost: 2 x 8 S loads.
@inline(__always)
private func symmetricBlock(_ g: UnsafeBufferPointer<Double>, sources s: Int, columns c: Int,
                            lineOf rowOf: UnsafePointer<Int>, into block: UnsafeMutablePointer<Double>) {
    let g = g.baseAddress!, lanes = 8, ahead = 32
    var q = 0
    if c + lanes <= s {
        // Four of G's rows at a time: 4-lane runs of rows c..c+7 transposed, plus one line of each row.
        @inline(__always) func run(_ l: Int) -> SIMD4<Double> { UnsafeRawPointer(g + (c + l) * s + q).loadUnaligned(as: SIMD4<Double>.self) }
        while q + 4 <= s {
            // G's lines c..c+7 of rows q... are a stride of S apart, on a page each: no hardware
            // prefetcher follows them, so they are asked for `ahead` rows early (two lines each).
            for t in 0..<4 where q + ahead + t < s {
                let line = g + (q + ahead + t) * s + c
                swiftw_prefetch(line)
                swiftw_prefetch(line + 7)
            }
            let (l0, l1, l2, l3) = transposed(run(0), run(1), run(2), run(3))
            let (h0, h1, h2, h3) = transposed(run(4), run(5), run(6), run(7))
            @inline(__always) func store(_ t: Int, _ low: SIMD4<Double>, _ high: SIMD4<Double>) {
                let line = UnsafeRawPointer(g + (q + t) * s + c).loadUnaligned(as: Vec.self)
                UnsafeMutableRawPointer(block + rowOf[q + t] * lanes).storeBytes(of: line + Vec(lowHalf: low, highHalf: high), as: Vec.self)
            }
            store(0, l0, h0)
            store(1, l1, h1)
            store(2, l2, h2)
            store(3, l3, h3)
            q += 4
        }
    }
    let width = min(lanes, s - c)
    while q < s {
        for l in 0..<lanes { block[rowOf[q] * lanes + l] = l < width ? g[q * s + c + l] + g[(c + l) * s + q] : 0 }
        q += 1
    }
    (block + s * lanes).update(repeating: 0, count: lanes)
}

/// `sum[k * pixels + rank] += <panel line of rank, block line of sources[k * pixels + rank]>` for
/// the ranks of one box row and every plane k: four ranks at a time, their four 8-lane products
/// folded to 4 lanes and summed across by a 4 x 4 transpose (one 4-lane add into the sums instead
/// of four horizontal sums); one at a time for the rest.
@inline(__always)
private func contract(_ panel: UnsafePointer<Double>, _ ranks: Range<Int>, _ block: UnsafePointer<Double>,
                      _ sources: UnsafePointer<Int32>, planes: Int, pixels: Int, into sum: UnsafeMutablePointer<Double>) {
    let panel = UnsafeRawPointer(panel), block = UnsafeRawPointer(block)
    @inline(__always) func line(_ p: UnsafeRawPointer, _ i: Int) -> Vec { p.loadUnaligned(fromByteOffset: i * 64, as: Vec.self) }
    var k = ranks.lowerBound, j = 0
    while k + 4 <= ranks.upperBound {
        let w0 = line(panel, j), w1 = line(panel, j + 1), w2 = line(panel, j + 2), w3 = line(panel, j + 3)
        for plane in 0..<planes {
            let source = sources + plane * pixels + k
            @inline(__always) func folded(_ w: Vec, _ t: Int) -> SIMD4<Double> {
                let v = w * line(block, Int(source[t]))
                return v.lowHalf + v.highHalf
            }
            let (x0, x1, x2, x3) = transposed(folded(w0, 0), folded(w1, 1), folded(w2, 2), folded(w3, 3))
            let target = UnsafeMutableRawPointer(sum + plane * pixels + k)
            target.storeBytes(of: target.loadUnaligned(as: SIMD4<Double>.self) + ((x0 + x1) + (x2 + x3)), as: SIMD4<Double>.self)
        }
        k += 4
        j += 4
    }
    while k < ranks.upperBound {
        let w = line(panel, j)
        for plane in 0..<planes {
            sum[plane * pixels + k] += horizontalSum(w * line(block, Int(sources[plane * pixels + k])))
        }
        k += 1
        j += 1
    }
}

/// The sum of a vector's lanes by halving (`SIMD.sum()` compiles to a scalar chain here).
@inline(__always)
private func horizontalSum(_ v: Vec) -> Double {
    let four = v.lowHalf + v.highHalf, two = four.lowHalf + four.highHalf
    return two[0] + two[1]
}
