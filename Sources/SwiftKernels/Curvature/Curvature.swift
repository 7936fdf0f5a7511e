import Glibc
import SwiftwABI

/// The curvature matrix `F = T^T W T` for a sparse mapping T.
///
/// Column by column of T: for source pixel s, `omega = W T[:, s]` is built from the image pixels
/// that map to s, then `F[s, s'] = T[:, s']^T omega` is a short gather per column s'. F is
/// symmetric, so each pair is computed once: source pixels are placed in the order of their first
/// omega slot (`CurvatureOrder`), and for the a-th of them only the columns from the a-th on are
/// gathered, so omega is needed only from the a-th pixel's first slot on. For the raster order of
/// image pixels that halves the work of omega on average, whatever order the caller numbered its
/// source pixels in.
///
/// Sources go eight at a time (a block). Their omegas are made one row at a time (`row`) and
/// interleaved into a panel (image pixel, 8 lanes), so that each entry (pixel, weight) of a
/// gathered column costs one 8-lane load and FMA instead of eight scalar ones; a row of eight
/// omegas is a few kilobytes, so it goes from the FMAs to the panel through L1. The gathered
/// values G(a, b) (F in place order, b >= a) of block q are 8-lane lines by b in the thread's
/// `lines`. The tiles of later blocks' columns are transposed there and streamed to where that
/// block will want them (`lower`: one contiguous run per block, read once, front to back), and
/// F's eight rows are written front to back from `lines`, completed by the block's run of
/// `lower` (`CurvatureBlocks`). F is S^2 doubles, beyond L2 at production sizes: every byte of it
/// and of `lower` moves once, by streaming stores and in-order reads (scattered writes of F, or a
/// mirror pass, cost more than the arithmetic at sma).
/// Cost: omega, sum over s of nnz(s) x (pixels from its first slot on) (`row`); gather,
/// S^2 nnz / 16 8-lane FMAs (nnz the mean non-zeros per column); S^2 / 2 doubles through `lower`,
/// S^2 written. Memory: S^2 / 2 doubles (`lower`), and per thread a panel of 8 M doubles and
/// two sets of 8 (S + 8) doubles of lines.
///
/// Omega lives on `ranks.rows` x `ranks.width` slots (`order.ranks`, `PixelRanks`: image pixel m
/// at its omega slot = row x width + column, ranked in slot order).
/// `begin(thread, lane, a, from)` starts the source at place a in a lane (its entries are
/// `order.entries(a)`): its omega is wanted at least at the slots `>= from`.
/// `row(thread, lane, r)` then returns row r of that omega (at least the columns of its pixels,
/// valid until the lane's next `begin` or `row`); it is asked only for rows from the one holding
/// `from` on, in increasing order. Threads are numbered `0 ..< threads`.
@inline(__always)
func curvature(_ order: CurvatureOrder, threads: Int, out: UnsafeMutableBufferPointer<Double>,
               begin: (_ thread: Int, _ lane: Int, _ place: Int, _ from: Int) -> Void,
               row: (_ thread: Int, _ lane: Int, _ row: Int) -> UnsafePointer<Double>) {
    typealias Lanes = SIMD8<Double>
    let lanes = Lanes.scalarCount
    let ranks = order.ranks, pixels = ranks.count, rows = ranks.rows, width = ranks.width
    let work = CurvatureBlocks(order, threads: threads, out: out)
    let sources = work.sources, blocks = work.blocks
    let sourceAt = work.order.sourceAt.pointer, first = work.order.firstRank.pointer
    let slotAt = work.order.slotAt.pointer, rowRankStart = work.order.rowRankStart.pointer
    // A row for lanes without a source, or before their source's first row.
    let zeros = Buffer<Double>(width + lanes, repeating: 0)

    // Block q's omegas, row by row, into the thread's panel.
    @inline(__always) func fillPanel(_ tid: Int, _ q: Int) {
        let a0 = q * lanes, count = min(lanes, sources - a0)
        let panel = work.panel(tid)
        // Places are ordered by first rank, so columns without entries come last.
        let low = first[sourceAt[a0]]
        guard low < pixels else { return }
        var firstRow = SIMD8<Int>(repeating: Int.max)
        for j in 0..<count where first[sourceAt[a0 + j]] < pixels {
            let from = slotAt[first[sourceAt[a0 + j]]]
            firstRow[j] = from / width
            begin(tid, j, a0 + j, from)
        }
        for r in (slotAt[low] / width)..<rows {
            let r0 = max(low, rowRankStart[r]), r1 = rowRankStart[r + 1]
            guard r0 < r1 else { continue }
            @inline(__always) func omega(_ j: Int) -> UnsafePointer<Double> {
                firstRow[j] <= r ? row(tid, j, r) : UnsafePointer(zeros.pointer)
            }
            let rowOmegas = (omega(0), omega(1), omega(2), omega(3), omega(4), omega(5), omega(6), omega(7))
            interleave(rowOmegas, slotAt: slotAt, base: r * width, ranks: r0..<r1, into: panel + r0 * lanes)
        }
    }
    // Blocks are taken in order. A block can be assembled once every earlier block is gathered
    // (their runs of `lower` are complete). A thread gathers its block; if an earlier block is
    // still being gathered elsewhere, it leaves its block in one of its two sets of lines and
    // gathers the next into the other instead of waiting; it waits only when both sets hold
    // blocks, or when no block is left. Meanwhile it copies what is complete of the waiting
    // block's run. A thread waits only for blocks other running threads took, so never for work
    // nobody runs, however many threads Dispatch gives us. It stops on an interrupt.
    // [0]: the next block; [8 + q]: block q gathered (the flags a line apart from the counter the
    // threads increment).
    let queue = Buffer<Int64>(blocks + 8, repeating: 0)
    parallelRanges(threads, threads: threads) { tid, _ in
        let next = queue.pointer, gathered = queue.pointer + 8
        var known = 0  // blocks 0..<known are gathered
        // The block waiting for its assembly, its set of lines, and the tiles of its run copied.
        var waiting: (q: Int, set: Int, copied: Int)? = nil
        var spare = tid * CurvatureBlocks.setsPerThread  // the set the next block goes to
        @inline(__always) func catchUp() {
            while known < blocks && swiftw_load_acquire(gathered + known) != 0 { known += 1 }
        }
        // Waits until the waiting block can be assembled, and assembles it; false on an interrupt.
        func assembleWaiting(_ block: (q: Int, set: Int, copied: Int)) -> Bool {
            var copied = block.copied
            while known < block.q {
                if swiftw_load_acquire(gathered + known) != 0 {
                    known += 1
                } else if Interrupt.requested {
                    return false
                } else if copied < known {
                    work.copyRun(block.set, block.q, tiles: copied..<known)
                    copied = known
                } else {
                    sched_yield()
                }
            }
            work.assemble(tid, block.set, block.q, copied: copied)
            return true
        }
        while !Interrupt.requested {
            let q = Int(swiftw_fetch_add(next, 1))
            guard q < blocks else { break }
            let set = spare
            fillPanel(tid, q)
            work.gather(tid, q, into: set)
            swiftw_store_release(gathered + q, 1)
            catchUp()
            if let block = waiting {
                // Both sets are taken: the older block first (it is the earlier one).
                guard assembleWaiting(block) else { return }
                waiting = nil
            }
            if known >= q {
                work.assemble(tid, set, q, copied: 0)
            } else {
                if known > 0 { work.copyRun(set, q, tiles: 0..<known) }
                waiting = (q, set, known)
                spare = set ^ 1  // the other of the thread's two sets
            }
        }
        if let block = waiting, !Interrupt.requested { _ = assembleWaiting(block) }
    }
    withExtendedLifetime((work, zeros, queue)) {}
}

/// Row r of eight omegas (one per lane of a panel), as `interleave` reads them.
typealias OmegaRows = (UnsafePointer<Double>, UnsafePointer<Double>, UnsafePointer<Double>, UnsafePointer<Double>,
                       UnsafePointer<Double>, UnsafePointer<Double>, UnsafePointer<Double>, UnsafePointer<Double>)

/// Ranks `ranks` of one omega row (slot of rank k: `slotAt[k]`, column `slotAt[k] - base`) from
/// eight omegas' rows `o` into 8-lane lines, `lines[(k - ranks.lowerBound) * 8 + j] = o.j[column]`:
/// four ranks at a time where their columns are consecutive, as a transpose of eight 4-lane
/// loads; one at a time elsewhere.
@inline(__always)
func interleave(_ o: OmegaRows, slotAt: UnsafePointer<Int>, base: Int, ranks: Range<Int>,
                into lines: UnsafeMutablePointer<Double>) {
    let (o0, o1, o2, o3, o4, o5, o6, o7) = o
    let r0 = ranks.lowerBound, r1 = ranks.upperBound
    var k = r0
    while k < r1 {
        let c = slotAt[k] - base
        let line = UnsafeMutableRawPointer(lines + (k - r0) * 8)
        if k + 4 <= r1 && slotAt[k + 3] == slotAt[k] + 3 {
            @inline(__always) func load(_ o: UnsafePointer<Double>) -> SIMD4<Double> {
                UnsafeRawPointer(o + c).loadUnaligned(as: SIMD4<Double>.self)
            }
            let (l0, l1, l2, l3) = transposed(load(o0), load(o1), load(o2), load(o3))
            let (h0, h1, h2, h3) = transposed(load(o4), load(o5), load(o6), load(o7))
            @inline(__always) func store(_ t: Int, _ low: SIMD4<Double>, _ high: SIMD4<Double>) {
                line.storeBytes(of: low, toByteOffset: t * 64, as: SIMD4<Double>.self)
                line.storeBytes(of: high, toByteOffset: t * 64 + 32, as: SIMD4<Double>.self)
            }
            store(0, l0, h0)
            store(1, l1, h1)
            store(2, l2, h2)
            store(3, l3, h3)
            k += 4
        } else {
            line.storeBytes(of: SIMD8(o0[c], o1[c], o2[c], o3[c], o4[c], o5[c], o6[c], o7[c]), as: SIMD8<Double>.self)
            k += 1
        }
    }
}

/// `F = T^T W T` from the w-tilde matrix W (M, M) in memory. Omega is `sum w W[m, :]` over the
/// column's entries (W is symmetric, so rows serve as columns). Cost: B M^2 multiply-adds for
/// omega, B M S / 2 for the gathers.
public func curvatureFromWTilde(_ wTilde: UnsafeBufferPointer<Double>, mapping: SparseMapping,
                                out: UnsafeMutableBufferPointer<Double>) {
    let m = mapping.imagePixels
    let w = wTilde.baseAddress!
    // One omega per lane and thread (zero at first: slots below a lane's `from` are never used).
    let threads = Threads.count, omegas = Scratch(threads * 8 * m)
    @inline(__always) func omega(_ tid: Int, _ lane: Int) -> UnsafeMutablePointer<Double> { omegas.pointer + (tid * 8 + lane) * m }
    let order = CurvatureOrder(mapping, ranks: PixelRanks(omegaSlot: Array(0..<m), rows: 1, width: m))
    let pixel = order.entryPixel.pointer, weight = order.entryWeight.pointer
    curvature(order, threads: threads, out: out, begin: { tid, lane, a, from in
        let omega = omega(tid, lane), count = m - from
        (omega + from).update(repeating: 0, count: count)
        for e in order.entries(a) {
            axpy(omega + from, weight[e], w + pixel[e] * m + from, count)
        }
    }, row: { tid, lane, _ in UnsafePointer(omega(tid, lane)) })
    withExtendedLifetime(omegas) {}
}

/// `F = T^T W T` from the PyAutoArray preload layout (2 Ny, 2 Nx), where
/// `W[i, j] = preload[row_j - row_i, col_j - col_i]` with Python's negative-index wrap.
public func curvatureFromPreload(_ preload: UnsafeBufferPointer<Double>, rows p0: Int, cols p1: Int,
                                 native: NativeIndices, mapping: SparseMapping,
                                 method: CurvatureMethod = .direct,
                                 out: UnsafeMutableBufferPointer<Double>) {
    OffsetOperator(preload: preload, rows: p0, cols: p1, native: native).curvature(mapping, method: method, out: out)
}

