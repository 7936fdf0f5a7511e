/// The orders `curvature` works in, built once per call from the mapping.
///
/// Image pixels are ranked by omega slot (the panel holds them in this order, and an omega row's
/// pixels are consecutive ranks); source pixels are placed by the first rank they map (so that
/// the a-th place needs omega only from its first rank on), and the mapping's entries are listed
/// again by place, with ranks resolved. Both orders are counting sorts (stable): cost
/// O(M + S + rows x width + nnz), no comparisons.
struct CurvatureOrder {
    /// Slot of rank r, and the first rank of each omega row (`rows + 1` entries).
    let slotAt: Buffer<Int>, rowRankStart: Buffer<Int>
    /// Source pixel at place a, and the place of source pixel s.
    let sourceAt: Buffer<Int>, position: Buffer<Int>
    /// First rank of each source pixel (M for a column without entries: they come last).
    let firstRank: Buffer<Int>
    /// Entries of place a: `entryRank/entryWeight[entryStart[a] ..< entryStart[a + 1]]`.
    let entryStart: Buffer<Int>, entryRank: Buffer<Int>, entryWeight: Buffer<Double>

    /// `omegaSlot[m]` in `0 ..< rows * width` is where image pixel m sits in omega.
    init(_ mapping: SparseMapping, omegaSlot: [Int], rows: Int, width: Int) {
        let pixels = omegaSlot.count, sources = mapping.sourcePixels, slots = rows * width
        let start = mapping.columnStart, columnPixel = mapping.columnPixel, columnWeight = mapping.columnWeight
        // Ranks: pixels counted per slot, then placed in slot order.
        let slotStart = Buffer<Int>(slots + 1, repeating: 0)
        for m in 0..<pixels { slotStart.pointer[omegaSlot[m] + 1] += 1 }
        for k in 0..<slots { slotStart.pointer[k + 1] += slotStart.pointer[k] }
        rowRankStart = Buffer(uninitialized: rows + 1)
        for r in 0...rows { rowRankStart.pointer[r] = slotStart.pointer[r * width] }
        slotAt = Buffer(uninitialized: pixels)
        let rankOf = Buffer<Int>(uninitialized: pixels)
        for m in 0..<pixels {
            let k = omegaSlot[m], r = slotStart.pointer[k]
            slotStart.pointer[k] = r + 1
            rankOf.pointer[m] = r
            slotAt.pointer[r] = k
        }
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
