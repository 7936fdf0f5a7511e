/// Image pixels ranked by omega slot: the order the panel holds them in (an omega row's pixels
/// are consecutive ranks). Depends only on the mask, so an operator builds it once per dataset.
/// A counting sort over the slots: cost O(M + rows x width).
struct PixelRanks {
    let rows: Int, width: Int
    /// Slot of rank r, the rank of image pixel m, and the first rank of each omega row
    /// (`rows + 1` entries).
    let slotAt: Buffer<Int>, rankOf: Buffer<Int>, rowRankStart: Buffer<Int>
    var count: Int { slotAt.count }

    /// `omegaSlot[m]` in `0 ..< rows * width` is where image pixel m sits in omega.
    init(omegaSlot: [Int], rows: Int, width: Int) {
        self.rows = rows
        self.width = width
        let pixels = omegaSlot.count, slots = rows * width
        let slotStart = Buffer<Int>(slots + 1, repeating: 0)
        for m in 0..<pixels { slotStart.pointer[omegaSlot[m] + 1] += 1 }
        for k in 0..<slots { slotStart.pointer[k + 1] += slotStart.pointer[k] }
        rowRankStart = Buffer(uninitialized: rows + 1)
        for r in 0...rows { rowRankStart.pointer[r] = slotStart.pointer[r * width] }
        slotAt = Buffer(uninitialized: pixels)
        rankOf = Buffer(uninitialized: pixels)
        for m in 0..<pixels {
            let k = omegaSlot[m], r = slotStart.pointer[k]
            slotStart.pointer[k] = r + 1
            rankOf.pointer[m] = r
            slotAt.pointer[r] = k
        }
    }
}

/// The mapping T as `curvature` reads it, built once per call.
///
/// Source pixels are placed by the first rank they map (so that the a-th place needs omega only
/// from its first rank on), and the mapping's entries are listed by place, with ranks resolved:
/// every entry's rank is at least its place's first rank. A counting sort (stable: a place's
/// entries in the order of their image pixels), cost O(M + S + nnz), no comparisons.
public struct CurvatureOrder {
    let ranks: PixelRanks
    /// Source pixels S.
    public let sources: Int
    var slotAt: Buffer<Int> { ranks.slotAt }
    var rowRankStart: Buffer<Int> { ranks.rowRankStart }
    /// Source pixel at place a, and the place of source pixel s.
    let sourceAt: Buffer<Int>, position: Buffer<Int>
    /// First rank of each source pixel (M for a column without entries: they come last).
    let firstRank: Buffer<Int>
    /// Entries of place a: `entryRank/entryPixel/entryWeight[entryStart[a] ..< entryStart[a + 1]]`
    /// (the rank and the image pixel it is the rank of).
    let entryStart: Buffer<Int>, entryRank: Buffer<Int>, entryPixel: Buffer<Int>, entryWeight: Buffer<Double>

    /// From a mapping already stored by column.
    init(_ mapping: SparseMapping, ranks: PixelRanks) {
        let pixels = ranks.count, sources = mapping.sourcePixels, rankOf = ranks.rankOf.pointer
        let start = mapping.columnStart, columnPixel = mapping.columnPixel, columnWeight = mapping.columnWeight
        let firstRank = Buffer<Int>(uninitialized: sources)
        for s in 0..<sources {
            var lowest = pixels
            for e in start[s]..<start[s + 1] { lowest = min(lowest, rankOf[columnPixel[e]]) }
            firstRank.pointer[s] = lowest
        }
        self.init(ranks: ranks, sources: sources, firstRank: firstRank) { sourceAt, entryStart in
            for a in 0..<sources { entryStart[a + 1] = entryStart[a] + start[sourceAt[a] + 1] - start[sourceAt[a]] }
        }
        var e = 0
        for a in 0..<sources {
            let s = sourceAt.pointer[a]
            for f in start[s]..<start[s + 1] {
                entryRank.pointer[e] = rankOf[columnPixel[f]]
                entryPixel.pointer[e] = columnPixel[f]
                entryWeight.pointer[e] = columnWeight[f]
                e += 1
            }
        }
    }

    /// Straight from the (M, B) arrays `pix_indexes_for_sub_slim_index` and
    /// `pix_weights_for_sub_slim_index`, with the checks and entries of `SparseMapping`'s
    /// initializer of the same arrays, but no column storage in between: one pass to check,
    /// count and find first ranks, one to place the entries (the drop-in and the prepared operator
    /// pay this on every F, so the pass it saves matters).
    /// - Throws: `KernelError.index` naming `name`, the row and the value of the first index
    ///   outside [0, S) that is not the -1 sentinel.
    init(indexes: UnsafeBufferPointer<Int64>, weights: UnsafeBufferPointer<Double>,
         width: Int, sources: Int, name: String, ranks: PixelRanks) throws {
        try SparseMapping.checkSources(sources, name: "pixels")
        let rows = ranks.count, rankOf = ranks.rankOf.pointer
        precondition(indexes.count >= rows * width && weights.count >= rows * width)
        // Per source: its entries counted by the first pass, then where its next entry goes.
        let perSource = Buffer<Int>(sources, repeating: 0), firstRank = Buffer<Int>(sources, repeating: rows)
        let count = perSource.pointer, first = firstRank.pointer
        for m in 0..<rows {
            let r = rankOf[m]
            for b in 0..<width {
                let s = indexes[m * width + b]
                if s == -1 { break }
                guard s >= 0 && s < sources else { throw SparseMapping.outside(name, m, b, s, sources: sources) }
                count[Int(s)] += 1
                first[Int(s)] = min(first[Int(s)], r)
            }
        }
        self.init(ranks: ranks, sources: sources, firstRank: firstRank) { sourceAt, entryStart in
            for a in 0..<sources { entryStart[a + 1] = entryStart[a] + count[sourceAt[a]] }
        }
        let next = perSource.pointer, position = position.pointer, entryStart = entryStart.pointer
        for s in 0..<sources { next[s] = entryStart[position[s]] }
        let rank = entryRank.pointer, pixel = entryPixel.pointer, weight = entryWeight.pointer
        for m in 0..<rows {
            let r = rankOf[m]
            for b in 0..<width {
                let s = Int(indexes[m * width + b])
                if s == -1 { break }
                // Checked again: the arrays are read twice without the GIL, and another thread
                // may have written them in between; nothing goes outside the counted entries, and
                // no entry comes before its place's first rank.
                guard s >= 0 && s < sources && next[s] < entryStart[position[s] + 1] && r >= first[s] else {
                    throw SparseMapping.changed(name)
                }
                let k = next[s]
                rank[k] = r
                pixel[k] = m
                weight[k] = weights[m * width + b]
                next[s] = k + 1
            }
        }
        // Every counted entry placed (else a place would hold unwritten entries).
        for s in 0..<sources where next[s] != entryStart[position[s] + 1] { throw SparseMapping.changed(name) }
    }

    /// Places from first ranks; `entryStart` (S + 1, [0] set) filled by `counts(sourceAt, entryStart)`,
    /// the entries allocated for the caller to fill.
    private init(ranks: PixelRanks, sources: Int, firstRank: Buffer<Int>,
                 counts: (_ sourceAt: UnsafePointer<Int>, _ entryStart: UnsafeMutablePointer<Int>) -> Void) {
        self.ranks = ranks
        self.sources = sources
        self.firstRank = firstRank
        let pixels = ranks.count, first = firstRank.pointer
        // Sources counted per first rank, then placed in that order.
        let rankStart = Buffer<Int>(pixels + 2, repeating: 0)
        for s in 0..<sources { rankStart.pointer[first[s] + 1] += 1 }
        for r in 0...pixels { rankStart.pointer[r + 1] += rankStart.pointer[r] }
        sourceAt = Buffer(uninitialized: sources)
        position = Buffer(uninitialized: sources)
        for s in 0..<sources {
            let a = rankStart.pointer[first[s]]
            rankStart.pointer[first[s]] = a + 1
            sourceAt.pointer[a] = s
            position.pointer[s] = a
        }
        entryStart = Buffer(uninitialized: sources + 1)
        entryStart.pointer[0] = 0
        counts(sourceAt.pointer, entryStart.pointer)
        let entries = max(entryStart.pointer[sources], 1)
        entryRank = Buffer(uninitialized: entries)
        entryPixel = Buffer(uninitialized: entries)
        entryWeight = Buffer(uninitialized: entries)
    }

    /// Whether the order was made for `ranks` (those of the operator that uses it).
    func isFor(_ ranks: PixelRanks) -> Bool { self.ranks.rankOf === ranks.rankOf }

    /// Entries of place a.
    @inline(__always)
    func entries(_ a: Int) -> Range<Int> { entryStart.pointer[a]..<entryStart.pointer[a + 1] }
}
