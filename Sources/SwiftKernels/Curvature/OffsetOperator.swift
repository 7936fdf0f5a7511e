import Glibc

/// How `OffsetOperator` builds each column of `W T`.
public enum CurvatureMethod: Int {
    /// Contiguous SIMD updates on the mask's box, from the tabulated kernel.
    case direct = 0
    /// Zero-padded real-FFT convolution with the kernel's (real) spectrum.
    case fft = 1
    /// The cheaper of the two by `OffsetOperator.costs`.
    case auto = 2
}

/// W for image pixels whose w-tilde depends only on their native offset, prepared once per
/// dataset (mask + w_compact or preload): what the likelihood's hot loop `F = T^T W T` needs that
/// does not depend on the source.
///
/// Pixels live on the mask's bounding box (`height` x `width`); `kernel(dr, dc)` (W between
/// pixels at offset (dr, dc) = (row_i - row_j, col_i - col_j)) is tabulated for the offsets the
/// box can hold, (2 height - 1) x (2 width - 1). Column s of `W T` (omega) is built on the box by
/// either method (see `CurvatureMethod`), then `curvature` gathers F from it:
///
/// - direct: an entry (r', c', w) adds `w * kernel[r - r', c - c']` along each box row r,
///   contiguous on both sides, over the masked span of the row; eight entries per pass, one row
///   at a time (`curvature` asks for rows as it fills its panel).
///   Cost: nnz(s) x (masked pixels from the column's first row on) multiply-adds.
/// - fft: the column's entries, as an image of the rows they occupy, moved to the top of a
///   (P1, P2) >= (2 height - 1, 2 width - 1) grid, real FFT, times the kernel's spectrum (real:
///   the kernel is even), inverse real FFT of the rows needed. Cost: about 2.5 real FFTs of
///   (P1, P2) whatever nnz(s) is, so it wins for dense columns on small boxes.
public final class OffsetOperator {
    public let native: NativeIndices
    public let height: Int, width: Int
    /// The kernel on offsets: `table[(dr + height-1) * tableWidth + dc + width-1]`, padded by a
    /// vector so whole-vector updates may run past a row's end.
    let table: Buffer<Double>
    let tableWidth: Int
    /// Masked column span of each box row (empty rows: low > high).
    let spanLow: Buffer<Int>, spanHigh: Buffer<Int>
    /// The masked pixels ranked by their slot on the box (row x width + column).
    let ranks: PixelRanks
    /// FFT state, made on first use of the fft method (under `lock`: an operator may be shared
    /// by threads).
    private var convolution: (fft: RealFFT2D, rows: Int, cols: Int, spectrum: Buffer<Double>)?
    private let lock = newMutex()

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    convenience init(native: NativeIndices, kernel: (Int, Int) -> Double) {
        self.init(native: native) { dr, width, row in
            for dc in -(width - 1)...(width - 1) { row[dc + width - 1] = kernel(dr, dc) }
        }
    }

    /// `kernelRow(dr, width, row)` writes `kernel(dr, dc)` to `row[dc + width - 1]` for every dc
    /// in `-(width - 1) ... width - 1`. Cost: the table, (2 height - 1)(2 width - 1) values, and
    /// O(M) for the spans and ranks.
    init(native: NativeIndices, kernelRow: (_ dr: Int, _ width: Int, _ row: UnsafeMutablePointer<Double>) -> Void) {
        self.native = native
        let m = native.count
        height = m > 0 ? native.rows.max()! + 1 : 1
        width = m > 0 ? native.cols.max()! + 1 : 1
        tableWidth = 2 * width - 1
        let table = Buffer<Double>((2 * height - 1) * tableWidth + 8, repeating: 0)
        for dr in -(height - 1)...(height - 1) { kernelRow(dr, width, table.pointer + (dr + height - 1) * tableWidth) }
        self.table = table
        let low = Buffer<Int>(height, repeating: Int.max), high = Buffer<Int>(height, repeating: Int.min)
        for i in 0..<m {
            low.pointer[native.rows[i]] = min(low.pointer[native.rows[i]], native.cols[i])
            high.pointer[native.rows[i]] = max(high.pointer[native.rows[i]], native.cols[i])
        }
        spanLow = low
        spanHigh = high
        let boxWidth = width
        ranks = PixelRanks(omegaSlot: (0..<m).map { native.rows[$0] * boxWidth + native.cols[$0] }, rows: height, width: width)
    }

    /// From the compact w-tilde (N, 2N-1); `native` must lie on the N x N grid.
    /// Row dr of the table is a run of w_compact's row |dr|, reversed for dr < 0 (a copy per
    /// row: the drop-in functions build the operator on every call).
    public convenience init(wCompact: UnsafeBufferPointer<Double>, gridSize n: Int, native: NativeIndices) {
        let side = 2 * n - 1
        self.init(native: native) { dr, width, row in
            precondition(abs(dr) < n && width <= n, "native lies on the N x N grid")
            // dc = -(width - 1) ... width - 1 is column dc + n - 1 of row dr, or -dc + n - 1 of row -dr.
            let centre = wCompact.baseAddress! + abs(dr) * side + n - 1, count = 2 * width - 1
            if dr >= 0 {
                row.update(from: centre - (width - 1), count: count)
            } else {
                for k in 0..<count { row[k] = centre[width - 1 - k] }
            }
        }
    }

    /// From the preload layout (P0, P1) = (2 Ny, 2 Nx): `W(dr, dc) = preload[-dr mod P0, -dc mod P1]`;
    /// `native` must span at most Ny rows and Nx columns.
    public convenience init(preload: UnsafeBufferPointer<Double>, rows p0: Int, cols p1: Int, native: NativeIndices) {
        self.init(native: native) { dr, dc in preload[((p0 - dr) % p0) * p1 + (p1 - dc) % p1] }
    }

    /// The mapping as `curvature` reads it, straight from the (M, B) arrays
    /// `pix_indexes_for_sub_slim_index` and `pix_weights_for_sub_slim_index` of this operator's M
    /// image pixels (see `CurvatureOrder`).
    /// - Throws: `KernelError.index` naming `name`, the row and the value of the first index
    ///   outside [0, S) that is not the -1 sentinel.
    public func order(indexes: UnsafeBufferPointer<Int64>, weights: UnsafeBufferPointer<Double>,
                      width: Int, sources: Int, name: String) throws -> CurvatureOrder {
        try CurvatureOrder(indexes: indexes, weights: weights, width: width, sources: sources, name: name, ranks: ranks)
    }

    /// The mapping as `curvature` reads it, from one already stored by column.
    public func order(_ mapping: SparseMapping) -> CurvatureOrder {
        precondition(mapping.imagePixels == native.count, "the mapping's image pixels are the operator's")
        return CurvatureOrder(mapping, ranks: ranks)
    }

    /// Estimated cost of each method for the mapping, in units of one SIMD-lane multiply-add:
    /// direct, sum over columns of nnz(s) times the masked pixels from the column's first row
    /// on; fft, per column, 2.5 real transforms of (P1, P2) at `fftFactor` per point and
    /// log2(P1 P2). O(S): each column's entries and first
    /// row are known from the order.
    public func costs(_ order: CurvatureOrder) -> (direct: Double, fft: Double) {
        precondition(order.isFor(ranks), "an order made by this operator")
        var pixelsFrom = [Double](repeating: 0, count: height + 1)
        for r in stride(from: height - 1, through: 0, by: -1) { pixelsFrom[r] = pixelsFrom[r + 1] + Double(spanWidth(r)) }
        var direct = 0.0
        let used = usedColumns(order)
        for a in 0..<used {
            // The first rank's row is the column's first row (ranks follow the box's rows).
            let firstRow = order.slotAt.pointer[order.firstRank.pointer[order.sourceAt.pointer[a]]] / width
            direct += Double(order.entries(a).count) * pixelsFrom[firstRow]
        }
        return (direct, fftCost(columns: used))
    }

    /// Columns with entries: the first places (those without come last). Cost: O(columns without).
    private func usedColumns(_ order: CurvatureOrder) -> Int {
        var used = order.sources
        while used > 0 && order.firstRank.pointer[order.sourceAt.pointer[used - 1]] == native.count { used -= 1 }
        return used
    }

    /// Slots of box row r's masked span (0 for a row without pixels).
    private func spanWidth(_ r: Int) -> Int {
        spanLow.pointer[r] <= spanHigh.pointer[r] ? spanHigh.pointer[r] - spanLow.pointer[r] + 1 : 0
    }

    /// The FFT method's cost for `columns` columns with entries (units of `costs`).
    private func fftCost(columns: Int) -> Double {
        let (p1, p2) = OffsetOperator.fftSize(height, width)
        let points = p1 * p2, log2Points = Double(Int.bitWidth - points.leadingZeroBitCount)
        return Double(columns) * OffsetOperator.fftFactor * Double(points) * log2Points
    }

    /// FFT work per point and log2 point of one column, relative to one direct multiply-add: the
    /// ratio of the two methods' times per unit for whole F at the production presets (sma, alma,
    /// alma_high; Delaunay and rectangular meshes, one thread, AVX2); the benchmark's method
    /// comparison (`run_methods` in bench/harness.py) checks it: auto against the faster of the two.
    static let fftFactor = 2.8

    static func fftSize(_ height: Int, _ width: Int) -> (Int, Int) {
        (nextSmooth(2 * height - 1), nextSmoothEven(2 * width - 1))
    }

    /// `F = T^T W T` (S, S) for the mapping, by `method`.
    /// `order` must come from this operator's `order` (its ranks are the operator's pixels).
    public func curvature(_ order: CurvatureOrder, method: CurvatureMethod, out: UnsafeMutableBufferPointer<Double>) {
        precondition(order.isFor(ranks), "an order made by this operator")
        guard native.count > 0 else { out.initialize(repeating: 0); return }
        var chosen = method
        if method == .auto {
            let (direct, fft) = costs(order)
            chosen = fft < direct ? .fft : .direct
        }
        if chosen == .fft {
            curvatureByFFT(order, out: out)
        } else {
            curvatureDirect(order, out: out)
        }
    }

    /// `F = T^T W T` (S, S) for a mapping stored by column.
    public func curvature(_ mapping: SparseMapping, method: CurvatureMethod, out: UnsafeMutableBufferPointer<Double>) {
        curvature(order(mapping), method: method, out: out)
    }

    private func curvatureDirect(_ order: CurvatureOrder, out: UnsafeMutableBufferPointer<Double>) {
        let e0 = table.pointer, side = tableWidth, height = height, width = width
        let start = order.entryStart.pointer, pixel = order.entryPixel.pointer, weight = order.entryWeight.pointer
        let nativeRows = native.rows, nativeCols = native.cols
        let spanLow = spanLow.pointer, spanHigh = spanHigh.pointer
        // Per thread and lane: the column's entries as (table offset, weight) (entry e's window
        // for box row r starts at table + r side + lo + offset), their number, and a row of omega.
        var widest = 0
        for a in 0..<order.sources { widest = max(widest, start[a + 1] - start[a]) }
        let padded = max(widest, 1), threads = Threads.count, lanes = 8, rowSize = (width + 11) & ~3
        let offsets = Buffer<Int>(threads * lanes * padded, repeating: 0), weights = Scratch(threads * lanes * padded)
        let entryCounts = Buffer<Int>(threads * lanes, repeating: 0), omegaRows = Scratch(threads * lanes * rowSize)
        SwiftKernels.curvature(order, threads: threads, out: out, begin: { tid, lane, place, _ in
            let first = start[place], nnz = start[place + 1] - first
            let slot = tid * lanes + lane
            let offset = offsets.pointer + slot * padded, a = weights.pointer + slot * padded
            for k in 0..<nnz {
                let p = pixel[first + k]
                offset[k] = (height - 1 - nativeRows[p]) * side + width - 1 - nativeCols[p]
                a[k] = weight[first + k]
            }
            entryCounts.pointer[slot] = nnz
        }, row: { tid, lane, r in
            let slot = tid * lanes + lane
            let omega = omegaRows.pointer + slot * rowSize
            // Whole vectors from a 4-aligned column: the update may start up to 3 columns before
            // the span and run up to 7 past it, into the row's padding or columns no gather
            // reads. Rows asked for hold pixels, so the span is not empty.
            let lo = spanLow[r] & ~3, count = (spanHigh[r] - lo + 8) & ~7
            addWindows(omega + lo, e0 + r * side + lo, offsets.pointer + slot * padded, weights.pointer + slot * padded,
                       entries: entryCounts.pointer[slot], count)
            return UnsafePointer(omega)
        })
        withExtendedLifetime((offsets, weights, entryCounts, omegaRows)) {}
    }

    /// The kernel's spectrum on the (P1, P2) grid: real parts of rfft2 of the kernel image, the
    /// offsets wrapped, scaled by 1 / (P1 P2) so that the inverse transform needs no scale.
    private func prepareConvolution() -> (fft: RealFFT2D, rows: Int, cols: Int, spectrum: Buffer<Double>) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if let convolution { return convolution }
        let (p1, p2) = OffsetOperator.fftSize(height, width)
        let fft = RealFFT2D(p1, p2)
        let image = Buffer<Double>(p1 * p2, repeating: 0)
        for dr in -(height - 1)...(height - 1) {
            for dc in -(width - 1)...(width - 1) {
                image.pointer[((dr + p1) % p1) * p2 + (dc + p2) % p2] =
                    table.pointer[(dr + height - 1) * tableWidth + dc + width - 1]
            }
        }
        let complex = Buffer<Double>(p1 * 2 * fft.spectrumColumns, repeating: 0)
        fft.forward(image.pointer, complex.pointer)
        let real = Buffer<Double>(p1 * fft.spectrumColumns, repeating: 0)
        let scale = 1 / Double(p1 * p2)
        for i in 0..<(p1 * fft.spectrumColumns) { real.pointer[i] = complex.pointer[2 * i] * scale }
        convolution = (fft, p1, p2, real)
        return convolution!
    }

    private func curvatureByFFT(_ order: CurvatureOrder, out: UnsafeMutableBufferPointer<Double>) {
        let (fft, p1, _, spectrum) = prepareConvolution()
        let height = height, width = width
        let pixel = order.entryPixel.pointer, weight = order.entryWeight.pointer
        let nativeRows = native.rows, nativeCols = native.cols
        let columns = fft.spectrumColumns
        let threads = Threads.count
        let images = (0..<threads).map { _ in Buffer<Double>(height * width, repeating: 0) }
        let spectra = (0..<threads).map { _ in Buffer<Double>(p1 * 2 * columns, repeating: 0) }
        let imagePointers = Buffer(images.map { $0.pointer }), spectrumPointers = Buffer(spectra.map { $0.pointer })
        let kernel = spectrum.pointer
        // One omega per lane and thread (zero at first: slots below a lane's `from` are never used).
        let omegaSize = height * width + 8, omegas = Scratch(threads * 8 * omegaSize)
        @inline(__always) func omega(_ tid: Int, _ lane: Int) -> UnsafeMutablePointer<Double> { omegas.pointer + (tid * 8 + lane) * omegaSize }
        SwiftKernels.curvature(order, threads: threads, out: out, begin: { tid, lane, place, from in
            let omega = omega(tid, lane)
            let firstRow = from / width
            var lastRow = firstRow
            for e in order.entries(place) { lastRow = max(lastRow, nativeRows[pixel[e]]) }
            let rows = lastRow - firstRow + 1
            // The column's entries as an image of its rows, moved up to row 0.
            let image = imagePointers.pointer[tid]
            image.update(repeating: 0, count: rows * width)
            for e in order.entries(place) {
                let p = pixel[e]
                image[(nativeRows[p] - firstRow) * width + nativeCols[p]] += weight[e]
            }
            let z = spectrumPointers.pointer[tid]
            fft.forward(image, rows: rows, columns: width, stride: width, z, threads: 1)
            for i in 0..<(p1 * columns) {
                z[2 * i] *= kernel[i]
                z[2 * i + 1] *= kernel[i]
            }
            // Row r of omega is row r - firstRow of the moved convolution.
            fft.inverse(z, rows: 0..<(height - firstRow), columns: 0..<width, omega + firstRow * width,
                        stride: width, scale: 1, threads: 1)
        }, row: { tid, lane, r in UnsafePointer(omega(tid, lane) + r * width) })
        withExtendedLifetime((images, spectra, imagePointers, spectrumPointers, omegas)) {}
    }
}

/// `y[0..<n] = sum_k a[k] x[offset[k] + i]` over `entries` windows of a table, n a multiple of 8:
/// eight windows per pass over y (y loaded and stored once per pass), the remainder in one pass
/// of exactly that many (no zero-weight padding). Cost: entries x n multiply-adds.
@inline(never)
func addWindows(_ y: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>,
                _ offset: UnsafePointer<Int>, _ a: UnsafePointer<Double>, entries: Int, _ n: Int) {
    var k = 0
    while k + 8 <= entries {
        accumulateWindows(y, x, offset + k, a + k, n, windows: 8, accumulate: k > 0)
        k += 8
    }
    let accumulate = k > 0
    switch entries - k {
    case 1: accumulateWindows(y, x, offset + k, a + k, n, windows: 1, accumulate: accumulate)
    case 2: accumulateWindows(y, x, offset + k, a + k, n, windows: 2, accumulate: accumulate)
    case 3: accumulateWindows(y, x, offset + k, a + k, n, windows: 3, accumulate: accumulate)
    case 4: accumulateWindows(y, x, offset + k, a + k, n, windows: 4, accumulate: accumulate)
    case 5: accumulateWindows(y, x, offset + k, a + k, n, windows: 5, accumulate: accumulate)
    case 6: accumulateWindows(y, x, offset + k, a + k, n, windows: 6, accumulate: accumulate)
    case 7: accumulateWindows(y, x, offset + k, a + k, n, windows: 7, accumulate: accumulate)
    default: if entries == 0 { y.update(repeating: 0, count: n) }
    }
}

/// `y[0..<n] = (accumulate ? y : 0) + sum_{k < windows} a[k] x[offset[k] + i]`, n a multiple of 8;
/// `windows` (1...8) is a constant at each call, so unused terms vanish.
@inline(__always)
func accumulateWindows(_ y: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>,
                       _ offset: UnsafePointer<Int>, _ a: UnsafePointer<Double>, _ n: Int,
                       windows: Int, accumulate: Bool) {
    @inline(__always) func window(_ k: Int) -> (UnsafePointer<Double>, Vec) {
        k < windows ? (x + offset[k], Vec(repeating: a[k])) : (x, Vec())
    }
    let (x0, a0) = window(0), (x1, a1) = window(1), (x2, a2) = window(2), (x3, a3) = window(3)
    let (x4, a4) = window(4), (x5, a5) = window(5), (x6, a6) = window(6), (x7, a7) = window(7)
    var i = 0
    @inline(__always) func load(_ p: UnsafePointer<Double>) -> Vec { UnsafeRawPointer(p + i).loadUnaligned(as: Vec.self) }
    while i < n {
        let py = UnsafeMutableRawPointer(y + i)
        var v = accumulate ? py.loadUnaligned(as: Vec.self) : Vec(), w = Vec()
        v.addProduct(a0, load(x0))
        if windows > 1 { w.addProduct(a1, load(x1)) }
        if windows > 2 { v.addProduct(a2, load(x2)) }
        if windows > 3 { w.addProduct(a3, load(x3)) }
        if windows > 4 { v.addProduct(a4, load(x4)) }
        if windows > 5 { w.addProduct(a5, load(x5)) }
        if windows > 6 { v.addProduct(a6, load(x6)) }
        if windows > 7 { w.addProduct(a7, load(x7)) }
        py.storeBytes(of: windows > 1 ? v + w : v, as: Vec.self)
        i += 8
    }
}
