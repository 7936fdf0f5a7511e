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

    public init(width: Int, degree: Int, coefficients: UnsafeBufferPointer<Double>) {
        self.width = width
        self.degree = degree
        self.coefficients = coefficients
    }

    /// The kernel values at the `width` grid points a point touches, given its `s` in [0, 1).
    @inline(__always)
    public func values(_ s: Double) -> SIMD16<Double> {
        let x = 2 * s - 1
        let base = UnsafeRawPointer(coefficients.baseAddress!)
        let stride = 16 * MemoryLayout<Double>.stride
        var v = base.loadUnaligned(fromByteOffset: degree * stride, as: SIMD16<Double>.self)
        var d = degree - 1
        while d >= 0 {
            v = v * x + base.loadUnaligned(fromByteOffset: d * stride, as: SIMD16<Double>.self)
            d -= 1
        }
        return v
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
/// and its weight.
func spread(points k: Int, rows: Int, cols: Int, kernel: SpreadKernel,
            grid: UnsafeMutablePointer<Double>, point: (Int) -> (Double, Double, Double)) {
    let binRows = 16, binCols = 32
    let binsDown = (rows + binRows - 1) / binRows, binsAcross = (cols + binCols - 1) / binCols
    let bins = binsDown * binsAcross
    let w = kernel.width, halfWidth = Double(w) / 2
    // Subgrid of a bin: its points start writing at local row/col 0 ... bin extent + 2, and write
    // w rows of 16 lanes.
    let subRows = binRows + 2 + w, subCols = binCols + 2 + 16
    let chunk = 1 << 19
    let chunks = (k + chunk - 1) / chunk
    let threads = max(1, min(Threads.count, chunks))
    let grids = (0..<threads).map { $0 == 0 ? nil : Scratch(rows * cols) }
    let gridPointers = Buffer((0..<threads).map { $0 == 0 ? grid : grids[$0]!.pointer })
    grid.update(repeating: 0, count: rows * cols)

    parallelRanges(chunks, threads: threads) { tid, range in
        let g = gridPointers.pointer[tid]
        let n = min(chunk, k)
        let t1 = Scratch(n), t2 = Scratch(n), c = Scratch(n)
        let s1 = Scratch(n), s2 = Scratch(n), sc = Scratch(n)
        let binOf = Buffer<Int32>(n, repeating: 0)
        let start = Buffer<Int>(bins + 1, repeating: 0)
        let sub = Scratch(subRows * subCols)
        for chunkIndex in range where !Interrupt.requested {
            let j0 = chunkIndex * chunk, count = min(chunk, k - j0)
            start.pointer.update(repeating: 0, count: bins + 1)
            for j in 0..<count {
                var (a, b, weight) = point(j0 + j)
                if !(a >= 0 && a < Double(cols)) { a = 0 }  // NaN or inf: spread nowhere harmful
                if !(b >= 0 && b < Double(rows)) { b = 0 }
                t1.pointer[j] = a
                t2.pointer[j] = b
                c.pointer[j] = weight
                let bin = Int(b) / binRows * binsAcross + Int(a) / binCols
                binOf.pointer[j] = Int32(bin)
                start.pointer[bin + 1] += 1
            }
            for bin in 0..<bins { start.pointer[bin + 1] += start.pointer[bin] }
            for j in 0..<count {
                let bin = Int(binOf.pointer[j])
                let slot = start.pointer[bin]
                start.pointer[bin] = slot + 1
                s1.pointer[slot] = t1.pointer[j]
                s2.pointer[slot] = t2.pointer[j]
                sc.pointer[slot] = c.pointer[j]
            }
            // start[bin] is now the end of bin; its beginning is start[bin - 1] (0 for bin 0).
            for bin in 0..<bins {
                let first = bin == 0 ? 0 : start.pointer[bin - 1], last = start.pointer[bin]
                if first == last { continue }
                let originRow = (bin / binsAcross) * binRows - Int(halfWidth.rounded(.up)) - 1
                let originCol = (bin % binsAcross) * binCols - Int(halfWidth.rounded(.up)) - 1
                let sp = sub.pointer
                sp.update(repeating: 0, count: subRows * subCols)
                for j in first..<last {
                    let a = s1.pointer[j] - halfWidth, b = s2.pointer[j] - halfWidth
                    let l1 = a.rounded(.up), l2 = b.rounded(.up)
                    let kx = kernel.values(l1 - a)
                    let ky = sc.pointer[j] * kernel.values(l2 - b)
                    var target = UnsafeMutableRawPointer(sp + (Int(l2) - originRow) * subCols + Int(l1) - originCol)
                    for r in 0..<w {
                        var v = target.loadUnaligned(as: SIMD16<Double>.self)
                        v.addProduct(SIMD16(repeating: ky[r]), kx)
                        target.storeBytes(of: v, as: SIMD16<Double>.self)
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
        withExtendedLifetime((t1, t2, c, s1, s2, sc, binOf, start, sub)) {}
    }
    for t in 1..<threads {
        let other = gridPointers.pointer[t]
        for i in 0..<(rows * cols) { grid[i] += other[i] }
    }
    withExtendedLifetime((grids, gridPointers)) {}
}
