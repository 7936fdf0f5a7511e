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

/// The orders `curvature` works in, built once per call from the mapping.
///
/// Source pixels are placed by the first rank they map (so that the a-th place needs omega only
/// from its first rank on), and the mapping's entries are listed again by place, with ranks
/// resolved. A counting sort (stable): cost O(M + S + nnz), no comparisons.
struct CurvatureOrder {
    let ranks: PixelRanks
    var slotAt: Buffer<Int> { ranks.slotAt }
    var rowRankStart: Buffer<Int> { ranks.rowRankStart }
    /// Source pixel at place a, and the place of source pixel s.
    let sourceAt: Buffer<Int>, position: Buffer<Int>
    /// First rank of each source pixel (M for a column without entries: they come last).
    let firstRank: Buffer<Int>
    /// Entries of place a: `entryRank/entryWeight[entryStart[a] ..< entryStart[a + 1]]`.
    let entryStart: Buffer<Int>, entryRank: Buffer<Int>, entryWeight: Buffer<Double>

    init(_ mapping: SparseMapping, ranks: PixelRanks) {
        self.ranks = ranks
        let pixels = ranks.count, sources = mapping.sourcePixels, rankOf = ranks.rankOf
        let start = mapping.columnStart, columnPixel = mapping.columnPixel, columnWeight = mapping.columnWeight
        // Places: sources counted per first rank, then placed in that order.
        firstRank = Buffer(uninitialized: sources)
        let rankStart = Buffer<Int>(pixels + 2, repeating: 0)
        for s in 0..<sources {
            var lowest = pixels
            for e in start[s]..<start[s + 1] { lowest = min(lowest, rankOf.pointer[columnPixel[e]]) }
            firstRank.pointer[s] = lowest
            rankStart.pointer[lowest + 1] += 1
        }
        for r in 0...pixels { rankStart.pointer[r + 1] += rankStart.pointer[r] }
        sourceAt = Buffer(uninitialized: sources)
        position = Buffer(uninitialized: sources)
        for s in 0..<sources {
            let a = rankStart.pointer[firstRank.pointer[s]]
            rankStart.pointer[firstRank.pointer[s]] = a + 1
            sourceAt.pointer[a] = s
            position.pointer[s] = a
        }
        // Entries by place.
        entryStart = Buffer(uninitialized: sources + 1)
        entryRank = Buffer(uninitialized: max(start[sources], 1))
        entryWeight = Buffer(uninitialized: max(start[sources], 1))
        var e = 0
        entryStart.pointer[0] = 0
        for a in 0..<sources {
            let s = sourceAt.pointer[a]
            for f in start[s]..<start[s + 1] {
                entryRank.pointer[e] = rankOf.pointer[columnPixel[f]]
                entryWeight.pointer[e] = columnWeight[f]
                e += 1
            }
            entryStart.pointer[a + 1] = e
        }
    }
}
