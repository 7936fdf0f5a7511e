import Glibc
import SwiftwABI

/// The curvature matrix `F = T^T W T` for a sparse mapping T.
///
/// Column by column of T: for source pixel s, `omega = W T[:, s]` is accumulated from the image
/// pixels that map to s (contiguous SIMD updates), then `F[s, s'] = T[:, s']^T omega` is a short
/// gather per column s'. F is symmetric, so each pair is computed once: source pixels are taken
/// in the order of their first omega slot, and for the a-th of them only the columns from the
/// a-th on are gathered, so omega is needed only from the a-th pixel's first slot on. For the
/// raster order of image pixels that halves the work of omega on average, whatever order the
/// caller numbered its source pixels in.
///
/// Sources go eight at a time (a block): their omegas are interleaved into a panel (image pixel,
/// 8 lanes), so that each entry (pixel, weight) of a gathered column costs one 8-lane load and
/// FMA instead of eight scalar ones; the results G (F in that order, upper triangle) go to a
/// contiguous strip per block. F's rows are then written once each, front to back, from the
/// strips: F is S^2 doubles, beyond L2 at production sizes, so scattered writes or a separate
/// mirror pass cost more than the arithmetic (measured: sma, S = 1500).
/// Cost: fill, sum over s of nnz(s) x (pixels from its first slot on); gather, S^2 nnz / 16
/// 8-lane FMAs (nnz the mean non-zeros per column); assembly, S^2 copies. Memory: S^2 / 2
/// doubles of strips, and per thread 8 omegas and a panel of 8 M doubles.
///
/// `fillOmega(thread, s, omega, from)` writes `(W T[:, s])` into `omega` (of `omegaSize` slots) at least
/// at the slots `>= from`; `omegaSlot[m]` says where image pixel m's value sits in it.
@inline(__always)
func curvature(_ mapping: SparseMapping, omegaSize: Int, omegaSlot: [Int],
               out: UnsafeMutableBufferPointer<Double>,
               fillOmega: (_ thread: Int, _ source: Int, _ omega: UnsafeMutablePointer<Double>, _ from: Int) -> Void) {
    typealias Lanes = SIMD8<Double>
    let lanes = Lanes.scalarCount
    let sources = mapping.sourcePixels, pixels = omegaSlot.count
    let start = mapping.columnStart
    // Image pixels ranked by omega slot: the panel holds them in this order, so "from a slot on"
    // is "from a rank on" whatever order the caller listed its pixels in.
    let byRank = (0..<pixels).sorted { omegaSlot[$0] < omegaSlot[$1] }
    let slotOfRank = byRank.map { omegaSlot[$0] }
    var rankOf = [Int](repeating: 0, count: pixels)
    for (r, m) in byRank.enumerated() { rankOf[m] = r }
    var firstRank = [Int](repeating: Int.max, count: sources)
    for s in 0..<sources {
        for e in start[s]..<start[s + 1] { firstRank[s] = min(firstRank[s], rankOf[mapping.columnPixel[e]]) }
    }
    let order = (0..<sources).sorted { firstRank[$0] < firstRank[$1] }
    // The entries again, in that order, with their ranks resolved.
    var orderedStart = [0], orderedRank: [Int] = [], orderedWeight: [Double] = []
    for s in order {
        for e in start[s]..<start[s + 1] {
            orderedRank.append(rankOf[mapping.columnPixel[e]])
            orderedWeight.append(mapping.columnWeight[e])
        }
        orderedStart.append(orderedRank.count)
    }
    let tables = (Buffer(order), Buffer(orderedStart), Buffer(orderedRank), Buffer(orderedWeight),
                  Buffer(firstRank), Buffer(slotOfRank))
    let sourceAt = tables.0.buffer, entryStart = tables.1.buffer, rank = tables.2.buffer
    let weight = tables.3.buffer, first = tables.4.buffer, slotAt = tables.5.buffer
    let threads = Threads.count, f = out.baseAddress!
    // Per thread: one omega per lane and the panel.
    let omegas = (0..<(threads * lanes)).map { _ in Scratch(omegaSize) }
    let panels = (0..<threads).map { _ in Scratch(pixels * lanes) }
    let omegaPointers = Buffer(omegas.map { $0.pointer }), panelPointers = Buffer(panels.map { $0.pointer })
    // Block q's gathered values G(a, b) = F[sourceAt[a], sourceAt[b]], a in the block, b >= a0:
    // a strip of (S - a0) x 8 lanes, written contiguously.
    let blocks = (sources + lanes - 1) / lanes
    // (Plus one 8 x 8 tile: a partial last block's assembly reads whole tiles, rows past S too.)
    let strips = Buffer<Double>(uninitialized: lanes * (blocks * sources - lanes * blocks * (blocks - 1) / 2 + lanes))
    @inline(__always) func strip(_ q: Int) -> UnsafeMutablePointer<Double> {
        strips.pointer + lanes * (q * sources - lanes * q * (q - 1) / 2)
    }
    // Omegas, panel and strip of block q.
    @inline(__always) func gather(_ tid: Int, _ q: Int) {
        let a0 = q * lanes, count = min(lanes, sources - a0)
        let omega = omegaPointers.pointer + tid * lanes, panel = panelPointers.pointer[tid]
        let low = first[sourceAt[a0]]
        guard low < pixels else {
            strip(q).update(repeating: 0, count: (sources - a0) * lanes)
            return
        }
        for j in 0..<count where entryStart[a0 + j] < entryStart[a0 + j + 1] {
            let s = sourceAt[a0 + j]
            fillOmega(tid, s, omega[j], slotAt[first[s]])
        }
        // Lanes of empty columns (and missing lanes) are zero; ranks below a lane's own first
        // hold stale values, read only by pairs G(a, b) with b < a, which assembly never reads.
        for j in 0..<lanes where j >= count || entryStart[a0 + j] == entryStart[a0 + j + 1] {
            omega[j].update(repeating: 0, count: omegaSize)
        }
        let o0 = omega[0], o1 = omega[1], o2 = omega[2], o3 = omega[3]
        let o4 = omega[4], o5 = omega[5], o6 = omega[6], o7 = omega[7]
        // The panel: four ranks at a time where their slots are consecutive (along a row of the
        // mask), as a transpose of eight 4-lane loads; one at a time elsewhere.
        var r = low
        while r < pixels {
            let k = slotAt[r]
            let line = UnsafeMutableRawPointer(panel + r * lanes)
            if r + 4 <= pixels && slotAt[r + 3] == k + 3 {
                @inline(__always) func load(_ o: UnsafeMutablePointer<Double>) -> SIMD4<Double> {
                    UnsafeRawPointer(o + k).loadUnaligned(as: SIMD4<Double>.self)
                }
                let v0 = load(o0), v1 = load(o1), v2 = load(o2), v3 = load(o3)
                let v4 = load(o4), v5 = load(o5), v6 = load(o6), v7 = load(o7)
                for t in 0..<4 {
                    line.storeBytes(of: Lanes(v0[t], v1[t], v2[t], v3[t], v4[t], v5[t], v6[t], v7[t]),
                                    toByteOffset: t * 64, as: Lanes.self)
                }
                r += 4
            } else {
                line.storeBytes(of: Lanes(o0[k], o1[k], o2[k], o3[k], o4[k], o5[k], o6[k], o7[k]), as: Lanes.self)
                r += 1
            }
        }
        let p = UnsafeRawPointer(panel)
        let out = UnsafeMutableRawPointer(strip(q))
        for b in a0..<sources {
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
            out.storeBytes(of: sum + other, toByteOffset: (b - a0) * 64, as: Lanes.self)
        }
    }
    // Assembly of block q's eight rows of F, once blocks 0...q are gathered. Their values in the
    // order, G(a0 + j, b), are put together as 8-lane lines by b in `lines` (L2-resident): below
    // the block, transposed from the earlier strips' 8 x 8 tiles; above it, the own strip's lines
    // as they are. Then each row of F is written front to back (sequential stores: F is S^2
    // doubles, mostly beyond L2), reading line position[s'] for column s'.
    let position = Buffer<Int>(uninitialized: sources)
    for a in 0..<sources { position.pointer[sourceAt[a]] = a }
    let lineBuffers = (0..<threads).map { _ in Scratch((sources + lanes) * lanes) }
    let linePointers = Buffer(lineBuffers.map { $0.pointer })
    @inline(__always) func assemble(_ tid: Int, _ q: Int) {
        let a0 = q * lanes, count = min(lanes, sources - a0), own = strip(q)
        let lines = linePointers.pointer[tid], position = position.pointer
        // Tile q2 is 512 contiguous bytes at an address no hardware prefetcher guesses.
        @inline(__always) func tile(_ q2: Int) -> UnsafeMutablePointer<Double> { strip(q2) + (a0 - q2 * lanes) * lanes }
        let ahead = 16
        for q2 in 0..<min(ahead, q) {
            for i in 0..<lanes { swiftw_prefetch(tile(q2) + i * lanes) }
        }
        for q2 in 0..<q {
            if q2 + ahead < q {
                let next = tile(q2 + ahead)
                for i in 0..<lanes { swiftw_prefetch(next + i * lanes) }
            }
            let t = tile(q2), b0 = q2 * lanes
            for i in 0..<lanes {
                for j in 0..<lanes { lines[(b0 + i) * lanes + j] = t[j * lanes + i] }
            }
        }
        for i in 0..<lanes {
            for j in 0..<lanes { lines[(a0 + i) * lanes + j] = j <= i ? own[i * lanes + j] : own[j * lanes + i] }
        }
        if a0 + lanes < sources {
            (lines + (a0 + lanes) * lanes).update(from: own + lanes * lanes, count: (sources - a0 - lanes) * lanes)
        }
        let rows = (0..<lanes).map { f + sourceAt[a0 + min($0, count - 1)] * sources }
        let r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3]
        let r4 = rows[4], r5 = rows[5], r6 = rows[6], r7 = rows[7]
        @inline(__always) func line(_ column: Int) -> Lanes {
            UnsafeRawPointer(lines + position[column] * lanes).loadUnaligned(as: Lanes.self)
        }
        // Four columns at a time, transposed to one 4-lane store per row. Missing lanes repeat
        // the last row: stored first, then overwritten by the right value.
        var column = 0
        while column + 4 <= sources {
            let l0 = line(column), l1 = line(column + 1), l2 = line(column + 2), l3 = line(column + 3)
            @inline(__always) func put(_ row: UnsafeMutablePointer<Double>, _ j: Int) {
                UnsafeMutableRawPointer(row + column).storeBytes(of: SIMD4(l0[j], l1[j], l2[j], l3[j]), as: SIMD4<Double>.self)
            }
            put(r7, 7); put(r6, 6); put(r5, 5); put(r4, 4); put(r3, 3); put(r2, 2); put(r1, 1); put(r0, 0)
            column += 4
        }
        while column < sources {
            let l = line(column)
            r7[column] = l[7]; r6[column] = l[6]; r5[column] = l[5]; r4[column] = l[4]
            r3[column] = l[3]; r2[column] = l[2]; r1[column] = l[1]; r0[column] = l[0]
            column += 1
        }
    }
    // Tasks in one queue, taken in order by the threads: gather q, and assemble q - lag once
    // blocks 0...q - lag are gathered, so that writing F (memory-bound) overlaps gathering
    // (compute-bound) and a block's strip is still in cache when its rows are written. A thread
    // waits only for tasks other running threads took before it (and stops on an interrupt),
    // so it never waits for work nobody runs, however many threads Dispatch gives us.
    let lag = min(blocks, threads == 1 ? 0 : 2 * threads)
    var tasks: [Int] = []  // q >= 0: gather q; q < 0: assemble -q - 1
    for q in 0..<blocks {
        tasks.append(q)
        if q >= lag { tasks.append(-(q - lag) - 1) }
    }
    for q in (blocks - lag)..<blocks { tasks.append(-q - 1) }
    let queue = Buffer<Int64>(blocks + 1, repeating: 0)  // [0]: next task; [1 + q]: block q gathered
    let taskList = Buffer(tasks)
    // One worker per thread (each takes tasks until the queue is empty).
    parallelRanges(threads, threads: threads) { tid, _ in
        let next = queue.pointer, gathered = queue.pointer + 1
        var known = 0  // blocks 0..<known are gathered
        while !Interrupt.requested {
            let t = Int(swiftw_fetch_add(next, 1))
            guard t < taskList.count else { return }
            let task = taskList.pointer[t]
            if task >= 0 {
                gather(tid, task)
                swiftw_store_release(gathered + task, 1)
                continue
            }
            let q = -task - 1
            while known <= q {
                if swiftw_load_acquire(gathered + known) != 0 {
                    known += 1
                } else if Interrupt.requested {
                    return
                } else {
                    sched_yield()
                }
            }
            assemble(tid, q)
        }
    }
    withExtendedLifetime((omegas, panels, omegaPointers, panelPointers, tables, strips, position, lineBuffers, linePointers, queue, taskList)) {}
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
