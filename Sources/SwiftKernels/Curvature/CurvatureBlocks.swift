import SwiftwABI

/// The part of `curvature` that does not depend on how omega is made: per block of eight places,
/// the gather of G = F (in place order) from the panel, the hand-over of G's lower half through
/// `lower`, and the writing of F's rows. Compiled once, not once per omega method.
///
/// Buffers: per thread a panel (rank, 8 lanes), two sets of lines (place b, 8 lanes: G(block's
/// places, b); one block may wait in a set for its assembly while the thread gathers the next into
/// the other) and a stage (a chunk of F's eight rows on their way out); `lower`, S^2 / 2 doubles:
/// block qb's run holds, for every earlier place b, the line G(b, qb's places), as tile q (the
/// block of b) at 64 (qb (qb - 1) / 2 + q), so that a block reads its lower half in one contiguous
/// pass.
public final class CurvatureBlocks {
    typealias Lanes = SIMD8<Double>
    static let lanes = Lanes.scalarCount

    let order: CurvatureOrder
    let sources: Int, blocks: Int
    private let out: UnsafeMutablePointer<Double>
    private let panels: Buffer<Double>, lines: Buffer<Double>, stages: Buffer<Double>, lower: Buffer<Double>
    private let panelSize: Int, lineSize: Int, stageSize: Int
    /// Columns of F's eight rows staged at a time (16 KB: L1).
    static let chunk = 256
    /// Sets of lines per thread: the block being gathered and one waiting to be assembled.
    static let setsPerThread = 2
    /// Scratch beyond F itself, in units of F's S^2 doubles: `lower` (the per-thread buffers are
    /// O(S) each). Exported (`Limits`) so that Python refuses a call that cannot fit up front.
    public static let scratchPerOutput = 0.5

    init(_ order: CurvatureOrder, threads: Int, out: UnsafeMutableBufferPointer<Double>) {
        let lanes = CurvatureBlocks.lanes, ranks = order.ranks
        self.order = order
        sources = order.sources
        blocks = (sources + lanes - 1) / lanes
        self.out = out.baseAddress!
        // Sizes rounded to whole 4 KB pages, so that no two threads write one line.
        panelSize = (ranks.count * lanes + 511) & ~511
        lineSize = (blocks * lanes * lanes + 511) & ~511
        panels = Buffer(uninitialized: threads * panelSize)
        lines = Buffer(uninitialized: threads * CurvatureBlocks.setsPerThread * lineSize)
        stageSize = (lanes * CurvatureBlocks.chunk + 511) & ~511
        stages = Buffer(uninitialized: threads * stageSize)
        lower = Buffer(uninitialized: max(lanes * lanes * blocks * (blocks - 1) / 2, 1))
    }

    /// Thread `tid`'s panel: `panel[rank * 8 + j]` is omega of the block's j-th place at `rank`.
    @inline(__always)
    func panel(_ tid: Int) -> UnsafeMutablePointer<Double> { panels.pointer + tid * panelSize }

    @inline(__always)
    private func run(_ qb: Int) -> UnsafeMutablePointer<Double> {
        lower.pointer + CurvatureBlocks.lanes * CurvatureBlocks.lanes * (qb * (qb - 1) / 2)
    }

    /// Block q, the panel of thread `tid` filled: G(a, b) for its places a and every b >= a0 into
    /// the set of lines `set` (of `0 ..< threads * setsPerThread`), the tiles of later blocks
    /// transposed into their runs of `lower` (streaming stores: read back only when that block is
    /// assembled), and the block's own tile made symmetric.
    @inline(never)
    func gather(_ tid: Int, _ q: Int, into set: Int) {
        let lanes = CurvatureBlocks.lanes, sources = sources, blocks = blocks
        let a0 = q * lanes
        let p = UnsafeRawPointer(panel(tid)), lines = lines.pointer + set * lineSize
        let entryStart = order.entryStart.pointer, rank = order.entryRank.pointer, weight = order.entryWeight.pointer
        let strip = UnsafeMutableRawPointer(lines)
        if order.firstRank.pointer[order.sourceAt.pointer[a0]] < order.slotAt.count {
            // This block's run of `lower` (q x 512 bytes, streamed to memory by earlier blocks) is
            // read right after the gather: fetched during it, a few lines per column.
            let ahead = UnsafeRawPointer(run(q)), runLines = q * lanes
            let perColumn = (runLines + sources - a0 - 1) / (sources - a0)
            var fetched = 0
            for b in a0..<sources {
                for _ in 0..<perColumn where fetched < runLines {
                    swiftw_prefetch(ahead + fetched * 64)
                    fetched += 1
                }
                // Two sums, to halve the chain of dependent FMAs.
                var sum = Lanes(), other = Lanes(), e = entryStart[b]
                let end = entryStart[b + 1]
                @inline(__always) func entry(_ e: Int) -> Lanes { p.loadUnaligned(fromByteOffset: rank[e] * 64, as: Lanes.self) }
                while e + 2 <= end {
                    sum.addProduct(Lanes(repeating: weight[e]), entry(e))
                    other.addProduct(Lanes(repeating: weight[e + 1]), entry(e + 1))
                    e += 2
                }
                if e < end { sum.addProduct(Lanes(repeating: weight[e]), entry(e)) }
                strip.storeBytes(of: sum + other, toByteOffset: b * 64, as: Lanes.self)
            }
        } else {
            // No place from here on has entries.
            (lines + a0 * lanes).update(repeating: 0, count: (sources - a0) * lanes)
        }
        // Columns past S (of the last block's tile) are zero.
        (lines + sources * lanes).update(repeating: 0, count: (blocks * lanes - sources) * lanes)
        // Block qb's tile (lines by qb's places, lanes: this block's places), transposed into
        // qb's run (lines by this block's places, lanes: qb's places), 4 x 4 in registers.
        for qb in (q + 1)..<blocks {
            let source = UnsafeRawPointer(lines + qb * lanes * lanes), target = run(qb) + q * lanes * lanes
            for i in stride(from: 0, to: lanes, by: 4) {
                for j in stride(from: 0, to: lanes, by: 4) {
                    @inline(__always) func load(_ t: Int) -> SIMD4<Double> {
                        source.loadUnaligned(fromByteOffset: ((j + t) * lanes + i) * 8, as: SIMD4<Double>.self)
                    }
                    let (c0, c1, c2, c3) = transposed(load(0), load(1), load(2), load(3))
                    swiftw_stream(target + i * lanes + j, c0)
                    swiftw_stream(target + (i + 1) * lanes + j, c1)
                    swiftw_stream(target + (i + 2) * lanes + j, c2)
                    swiftw_stream(target + (i + 3) * lanes + j, c3)
                }
            }
        }
        swiftw_stream_fence()
        // The block's own tile: G(a0 + j, a0 + i) for j > i is the lower half, read mirrored.
        for i in 0..<lanes {
            for j in (i + 1)..<lanes { lines[(a0 + i) * lanes + j] = lines[(a0 + j) * lanes + i] }
        }
    }

    /// Copies the tiles of q's run of `lower` from blocks in `tiles` (gathered) into the set of
    /// lines q was gathered into: lines for the places of those blocks.
    @inline(never)
    func copyRun(_ set: Int, _ q: Int, tiles: Range<Int>) {
        let tile = CurvatureBlocks.lanes * CurvatureBlocks.lanes
        (lines.pointer + set * lineSize + tiles.lowerBound * tile).update(from: run(q) + tiles.lowerBound * tile, count: tiles.count * tile)
    }

    /// Block q's eight rows of F, once blocks 0...q are gathered, q into the set of lines `set`
    /// by thread `tid` (whose stage is used): lines for
    /// earlier places come from q's run of `lower` (contiguous copies; those of blocks
    /// `0 ..< copied` are done), the rest are the block's own. Each row of F is written front to
    /// back, reading line position[s'] for column s'.
    @inline(never)
    func assemble(_ tid: Int, _ set: Int, _ q: Int, copied: Int) {
        let lanes = CurvatureBlocks.lanes, sources = sources
        let a0 = q * lanes, count = min(lanes, sources - a0)
        let lines = lines.pointer + set * lineSize, position = order.position.pointer, sourceAt = order.sourceAt.pointer
        copyRun(set, q, tiles: copied..<q)
        let stage = stages.pointer + tid * stageSize, chunk = CurvatureBlocks.chunk
        @inline(__always) func line(_ column: Int) -> Lanes {
            UnsafeRawPointer(lines + position[column] * lanes).loadUnaligned(as: Lanes.self)
        }
        // A chunk of columns of the eight rows at a time: transposed into `stage` (L1), four
        // columns at a time, then streamed to F row by row (F is beyond the caches: streaming
        // stores skip reading its lines before they are overwritten).
        var c0 = 0
        while c0 < sources {
            let c1 = min(c0 + chunk, sources)
            var column = c0
            while column + 4 <= c1 {
                let l0 = line(column), l1 = line(column + 1), l2 = line(column + 2), l3 = line(column + 3)
                let target = UnsafeMutableRawPointer(stage + column - c0)
                @inline(__always) func store(_ j: Int, _ v: SIMD4<Double>) {
                    target.storeBytes(of: v, toByteOffset: j * chunk * 8, as: SIMD4<Double>.self)
                }
                let (r0, r1, r2, r3) = transposed(l0.lowHalf, l1.lowHalf, l2.lowHalf, l3.lowHalf)
                let (r4, r5, r6, r7) = transposed(l0.highHalf, l1.highHalf, l2.highHalf, l3.highHalf)
                store(0, r0); store(1, r1); store(2, r2); store(3, r3)
                store(4, r4); store(5, r5); store(6, r6); store(7, r7)
                column += 4
            }
            while column < c1 {
                let l = line(column)
                for j in 0..<lanes { stage[j * chunk + column - c0] = l[j] }
                column += 1
            }
            for j in 0..<count {
                streamCopy(out + sourceAt[a0 + j] * sources + c0, stage + j * chunk, c1 - c0)
            }
            c0 = c1
        }
        swiftw_stream_fence()
    }
}

/// `target[0 ..< n] = source[0 ..< n]`: whole 64-byte lines of the target by streaming stores,
/// the partial lines at either end by plain stores. For rows of a matrix that is beyond the
/// caches and not read again by this kernel. A line only partly written by streaming stores
/// leaves the write-combining buffer as a partial write, and one written by both kinds of store
/// is slower still; F's rows (8 S bytes) and the chunks they are written in rarely start on a line
/// (NumPy aligns F to 16 bytes only; a misaligned start doubles the writing time). A target that is
/// not 8-byte aligned is copied by plain stores.
@inline(__always)
func streamCopy(_ target: UnsafeMutablePointer<Double>, _ source: UnsafePointer<Double>, _ n: Int) {
    let address = Int(bitPattern: target)
    var i = 0
    if address & 7 == 0 {
        let head = min(n, ((64 - (address & 63)) & 63) / 8)  // elements before the next line
        while i < head {
            target[i] = source[i]
            i += 1
        }
        @inline(__always) func load(_ k: Int) -> SIMD4<Double> { UnsafeRawPointer(source + k).loadUnaligned(as: SIMD4<Double>.self) }
        while i + 8 <= n {
            swiftw_stream(target + i, load(i))
            swiftw_stream(target + i + 4, load(i + 4))
            i += 8
        }
    }
    while i < n {
        target[i] = source[i]
        i += 1
    }
}
