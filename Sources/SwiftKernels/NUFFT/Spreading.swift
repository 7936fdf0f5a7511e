/// The "exponential of semicircle" spreading kernel in piecewise-polynomial form.
///
/// The kernel is `phi(z) = exp(beta (sqrt(1 - z^2) - 1))` on [-1, 1], stretched over `width`
/// grid points (Barnett, Magland, af Klinteberg, SIAM J. Sci. Comput. 41, 2019). A point at grid
/// coordinate t touches the `width` grid points `l0 + i` with `l0 = ceil(t - width/2)`; their
/// kernel values depend only on `s = l0 - (t - width/2)` in [0, 1), one polynomial in
/// `x = 2 s - 1` per point i. All `width` (<= 16) values come from one Horner evaluation on a
/// 16-lane vector: `degree` multiply-adds, no exp, no sqrt. The coefficients are fitted when the
/// plan is made (Chebyshev interpolation, see swiftw/_nufft.py); lanes past `width` are zero.
public struct SpreadKernel {
    public let width: Int
    public let degree: Int
    /// `coefficients[d * 16 + i]`: coefficient of x^d of point i.
    let coefficients: UnsafeBufferPointer<Double>
    /// The same polynomials moved right by o = 0 ... 3 lanes in 20 lanes (16 + 4), so that a
    /// point's values can be written as five aligned 4-lane vectors starting at a multiple of 4:
    /// `shifted[((o * (degree + 1) + d) * 20 + lane]`.
    let shifted: UnsafePointer<Double>
    private let shiftedStore: Buffer<Double>

    public init(width: Int, degree: Int, coefficients: UnsafeBufferPointer<Double>) {
        self.width = width
        self.degree = degree
        self.coefficients = coefficients
        let table = Buffer<Double>(4 * (degree + 1) * 20, repeating: 0)
        for o in 0..<4 {
            for d in 0...degree {
                for i in 0..<width {
                    table.pointer[(o * (degree + 1) + d) * 20 + o + i] = coefficients[d * 16 + i]
                }
            }
        }
        shiftedStore = table
        shifted = UnsafePointer(table.pointer)
    }

    /// The kernel values at the `width` grid points a point touches, given its `s` in [0, 1).
    @inline(__always)
    public func values(_ s: Double) -> SIMD16<Double> {
        let x = SIMD16<Double>(repeating: 2 * s - 1)
        let base = UnsafeRawPointer(coefficients.baseAddress!)
        let stride = 16 * MemoryLayout<Double>.stride
        var v = base.loadUnaligned(fromByteOffset: degree * stride, as: SIMD16<Double>.self)
        var d = degree - 1
        while d >= 0 {
            v = base.loadUnaligned(fromByteOffset: d * stride, as: SIMD16<Double>.self).addingProduct(v, x)
            d -= 1
        }
        return v
    }

    /// `values(s)` moved right by `shift` (0 ... 3) lanes, as 20 lanes (16 + 4).
    @inline(__always)
    func shiftedValues(_ s: Double, shift: Int) -> (SIMD16<Double>, SIMD4<Double>) {
        let x = 2 * s - 1
        let x16 = SIMD16<Double>(repeating: x), x4 = SIMD4<Double>(repeating: x)
        let base = UnsafeRawPointer(shifted + shift * (degree + 1) * 20)
        let stride = 20 * MemoryLayout<Double>.stride
        var v = base.loadUnaligned(fromByteOffset: degree * stride, as: SIMD16<Double>.self)
        var t = base.loadUnaligned(fromByteOffset: degree * stride + 128, as: SIMD4<Double>.self)
        var d = degree - 1
        while d >= 0 {
            v = base.loadUnaligned(fromByteOffset: d * stride, as: SIMD16<Double>.self).addingProduct(v, x16)
            t = base.loadUnaligned(fromByteOffset: d * stride + 128, as: SIMD4<Double>.self).addingProduct(t, x4)
            d -= 1
        }
        return (v, t)
    }
}

/// Spreads weighted points onto a periodic real grid (rows x cols):
///
///     grid[l2, l1] += sum_j c_j phi((l1 - t1_j) / (w/2)) phi((l2 - t2_j) / (w/2))   (indices mod the grid)
///
/// Points come in chunks; each chunk is sorted into bins of 16 rows x 32 columns (counting
/// sort), each bin is spread into a small subgrid that stays in L1 (one 16-lane multiply-add per
/// touched row), and the subgrid is added into the grid with periodic wrap. Threads take ranges
/// of chunks, each into its own grid; the grids are summed at the end into `grid`.
/// Cost: about K (w + degree) vector operations + (rows cols) per thread.
///
/// `point(j) -> (t1, t2, c)` gives point j's column and row coordinates in [0, cols), [0, rows)
/// and its weight. Returns false if a coordinate was not finite (NaN or inf in the inputs): the
/// exact sum is then NaN everywhere, which the caller must report instead of the grid.
@discardableResult
func spread(points k: Int, rows: Int, cols: Int, kernel: SpreadKernel,
            grid: UnsafeMutablePointer<Double>, point: (Int) -> (Double, Double, Double)) -> Bool {
    let binRows = 16, binCols = 32
    let binsDown = (rows + binRows - 1) / binRows, binsAcross = (cols + binCols - 1) / binCols
    let bins = binsDown * binsAcross
    let w = kernel.width, halfWidth = Double(w) / 2
    // Subgrid of a bin: its points start writing at local row/col 0 ... bin extent + 2, and write
    // w rows of 20 lanes from a multiple of 4 (aligned, so that the loads of one point forward
    // from the stores of the last without stalls).
    let subRows = binRows + 2 + w, subCols = binCols + 4 + 20
    // Chunks of at most 2^19 points, and at least one per thread.
    let chunk = max(1, min(1 << 19, (k + Threads.count - 1) / Threads.count))
    let chunks = (k + chunk - 1) / chunk
    let threads = max(1, min(Threads.count, chunks))
    let grids = (0..<threads).map { $0 == 0 ? nil : Scratch(rows * cols) }
    let gridPointers = Buffer((0..<threads).map { $0 == 0 ? grid : grids[$0]!.pointer })
    grid.update(repeating: 0, count: rows * cols)
    let finiteFlags = Buffer<Bool>(threads, repeating: true)

    parallelRanges(chunks, threads: threads) { tid, range in
        let g = gridPointers.pointer[tid]
        let n = min(chunk, k)
        let t1 = Scratch(n), t2 = Scratch(n), c = Scratch(n)
        let s1 = Scratch(n), s2 = Scratch(n), sc = Scratch(n)
        let binOf = Buffer<Int32>(n, repeating: 0)
        let start = Buffer<Int>(bins + 1, repeating: 0)
        let subStore = Scratch(subRows * subCols + 4)
        let sub = UnsafeMutableRawPointer(subStore.pointer).alignedUp(toMultipleOf: 32)
            .assumingMemoryBound(to: Double.self)
        let kyStore = Scratch(16)
        let t1p = t1.pointer, t2p = t2.pointer, cp = c.pointer, s1p = s1.pointer, s2p = s2.pointer
        let scp = sc.pointer, bins32 = binOf.pointer, startp = start.pointer, ky = kyStore.pointer
        for chunkIndex in range where !Interrupt.requested {
            let j0 = chunkIndex * chunk, count = min(chunk, k - j0)
            startp.update(repeating: 0, count: bins + 1)
            for j in 0..<count {
                var (a, b, weight) = point(j0 + j)
                if !(a.isFinite && b.isFinite) { finiteFlags.pointer[tid] = false }
                if !(a >= 0 && a < Double(cols)) { a = 0 }  // NaN, inf, or rounded up to the size
                if !(b >= 0 && b < Double(rows)) { b = 0 }
                t1p[j] = a
                t2p[j] = b
                cp[j] = weight
                let bin = Int(b) / binRows * binsAcross + Int(a) / binCols
                bins32[j] = Int32(bin)
                startp[bin + 1] += 1
            }
            for bin in 0..<bins { startp[bin + 1] += startp[bin] }
            for j in 0..<count {
                let bin = Int(bins32[j])
                let slot = startp[bin]
                startp[bin] = slot + 1
                s1p[slot] = t1p[j]
                s2p[slot] = t2p[j]
                scp[slot] = cp[j]
            }
            // start[bin] is now the end of bin; its beginning is start[bin - 1] (0 for bin 0).
            for bin in 0..<bins {
                let first = bin == 0 ? 0 : startp[bin - 1], last = startp[bin]
                if first == last { continue }
                let originRow = (bin / binsAcross) * binRows - Int(halfWidth.rounded(.up)) - 1
                let originCol = (bin % binsAcross) * binCols - Int(halfWidth.rounded(.up)) - 1
                let sp = sub
                sp.update(repeating: 0, count: subRows * subCols)
                for j in first..<last {
                    let a = s1p[j] - halfWidth, b = s2p[j] - halfWidth
                    let l1 = a.rounded(.up), l2 = b.rounded(.up)
                    let column = Int(l1) - originCol
                    let (kx, kxTail) = kernel.shiftedValues(l1 - a, shift: column & 3)
                    UnsafeMutableRawPointer(ky).storeBytes(of: scp[j] * kernel.values(l2 - b),
                                                                         as: SIMD16<Double>.self)
                    var target = UnsafeMutableRawPointer(sp + (Int(l2) - originRow) * subCols + (column & ~3))
                    for r in 0..<w {
                        let weight = ky[r]
                        var v = target.loadUnaligned(as: SIMD16<Double>.self)
                        v.addProduct(SIMD16(repeating: weight), kx)
                        target.storeBytes(of: v, as: SIMD16<Double>.self)
                        var tail = target.loadUnaligned(fromByteOffset: 128, as: SIMD4<Double>.self)
                        tail.addProduct(SIMD4(repeating: weight), kxTail)
                        target.storeBytes(of: tail, toByteOffset: 128, as: SIMD4<Double>.self)
                        target += subCols * MemoryLayout<Double>.stride
                    }
                }
                // Add the subgrid into the grid, wrapping rows and columns.
                for r in 0..<subRows {
                    let gr = ((originRow + r) % rows + rows) % rows
                    let row = g + gr * cols
                    var col = ((originCol % cols) + cols) % cols
                    var q = 0
                    while q < subCols {
                        let run = min(subCols - q, cols - col)
                        let src = sp + r * subCols + q
                        for i in 0..<run { row[col + i] += src[i] }
                        q += run
                        col = 0
                    }
                }
            }
        }
        withExtendedLifetime((t1, t2, c, s1, s2, sc, binOf, start, subStore, kyStore)) {}
    }
    for t in 1..<threads {
        let other = gridPointers.pointer[t]
        for i in 0..<(rows * cols) { grid[i] += other[i] }
    }
    withExtendedLifetime((grids, gridPointers)) {}
    return (0..<threads).allSatisfy { finiteFlags.pointer[$0] }
}
