/// The 2D complex FFT, in place on a row-major (n1, n2) array of interleaved complex numbers.
///
///     forward: X[k1, k2] = sum_{j1, j2} x[j1, j2] exp(-2 pi i (j1 k1 / n1 + j2 k2 / n2))
///     inverse: the same with exp(+...), unnormalised (inverse(forward(x)) = n1 n2 x)
///
/// Rows first: four rows at a time are transposed into the 4-lane layout (`LaneIO.gatherRows`,
/// four sequential streams), transformed along n2 and transposed back. Then columns:
/// `columnGroup` blocks of four adjacent columns are de-interleaved in one sweep down the rows
/// (one contiguous run of 16 complex numbers per row), transformed along n1, and written back
/// in one sweep. (Letting the first and last FFT stages read and write the array directly saves
/// a pass over the scratch but walks p x 4 strided streams at once; with power-of-two strides
/// they collide in the cache and 1024 x 1024 ran 30% slower.) Work items (row blocks, column
/// groups) are split over `threads` as contiguous ranges, each thread with its own scratch:
/// 2 n2 (rows) or (columnGroup + 1) n1 (columns) elements of 64 bytes. Cost: about
/// 4.25 n1 n2 log2(n1 n2) flops at 4 lanes per instruction, plus one read and one write of the
/// array per pass.
public struct FFT2D {
    public let n1: Int
    public let n2: Int
    let alongRows: LaneFFT     // length n2
    let alongColumns: LaneFFT  // length n1

    /// Column blocks (of four columns) gathered per sweep down the rows.
    static let columnGroup = 4

    /// A plan for (n1, n2); both must be 5-smooth.
    public init(_ n1: Int, _ n2: Int) {
        self.n1 = n1
        self.n2 = n2
        alongRows = LaneFFT(n2)
        alongColumns = LaneFFT(n1)
    }

    /// In-place forward transform of `data` (n1 n2 interleaved complex, row-major).
    public func forward(_ data: UnsafeMutablePointer<Double>, threads: Int = Threads.count) {
        FFT2D.rowPass(alongRows, data, rows: n1, ld: 2 * n2, conjugate: false, threads: threads)
        FFT2D.columnPass(alongColumns, data, columns: n2, ld: 2 * n2, conjugate: false, threads: threads)
    }

    /// In-place unnormalised inverse transform (exp(+2 pi i ...)).
    public func inverse(_ data: UnsafeMutablePointer<Double>, threads: Int = Threads.count) {
        FFT2D.rowPass(alongRows, data, rows: n1, ld: 2 * n2, conjugate: true, threads: threads)
        FFT2D.columnPass(alongColumns, data, columns: n2, ld: 2 * n2, conjugate: true, threads: threads)
    }

    /// Transforms `rows` rows of length `fft.n` (row stride `ld` Doubles) in place, forward or
    /// (with `conjugate`) inverse.
    static func rowPass(_ fft: LaneFFT, _ data: UnsafeMutablePointer<Double>, rows: Int, ld: Int,
                        conjugate: Bool, threads: Int) {
        let n = fft.n
        let blocks = (rows + 3) / 4
        parallelRanges(blocks, threads: threads) { _, range in
            let x = UnsafeMutablePointer<Lane>.allocate(capacity: 4 * n), y = x + 2 * n
            defer { x.deallocate() }
            for b in range {
                let r0 = 4 * b, lanes = min(4, rows - r0)
                LaneIO.gatherRows(data + r0 * ld, ld: ld, lanes: lanes, count: n, conjugate: conjugate, into: x)
                let out = fft.transform(x, y)
                LaneIO.scatterRows(out, data + r0 * ld, ld: ld, lanes: lanes, count: n, conjugate: conjugate)
            }
        }
    }

    /// Transforms the `columns` columns of length `fft.n` (row stride `ld` Doubles) in place.
    /// Rows at and beyond `nonzeroRows` are read as zero (and overwritten).
    static func columnPass(_ fft: LaneFFT, _ data: UnsafeMutablePointer<Double>, columns: Int, ld: Int,
                           conjugate: Bool, threads: Int, nonzeroRows: Int? = nil) {
        let n = fft.n, g = columnGroup
        let blocks = (columns + 3) / 4
        let groups = (blocks + g - 1) / g
        let valid = min(nonzeroRows ?? n, n)
        // Buffers B_0 ... B_g of n elements. With an even number of stages block t is gathered
        // into B_t and transformed there (B_g the spare); with an odd number it is gathered into
        // B_(t+1) and lands in B_t, which block t-1 has already left. Either way the results sit
        // in B_0 ..< B_nb, ready for one scatter sweep.
        let shift = fft.stageCount % 2
        parallelRanges(groups, threads: threads) { _, range in
            let base = UnsafeMutablePointer<Lane>.allocate(capacity: 2 * n * (g + 1))
            defer { base.deallocate() }
            for group in range {
                let b0 = group * g, nb = min(g, blocks - b0)
                LaneIO.gatherColumns(data, ld: ld, firstBlock: b0, blocks: nb, columns: columns, rows: valid,
                                     count: n, conjugate: conjugate, into: base + 2 * n * shift)
                for t in 0..<nb {
                    let x = base + 2 * n * (t + shift)
                    let y = shift == 1 ? base + 2 * n * t : base + 2 * n * g
                    _ = fft.transform(x, y)
                }
                LaneIO.scatterColumns(base, data, ld: ld, firstBlock: b0, blocks: nb, columns: columns,
                                      count: n, conjugate: conjugate)
            }
        }
    }
}

/// Moves data between interleaved complex arrays and the 4-lane split layout of `LaneFFT`
/// (element j = lanes `x[2 j]` real, `x[2 j + 1]` imaginary). Missing lanes read as zero and are
/// not written back; `conjugate` negates imaginary parts on the way.
enum LaneIO {
    @inline(__always)
    static func load4(_ p: UnsafePointer<Double>) -> Lane {
        UnsafeRawPointer(p).loadUnaligned(as: Lane.self)
    }

    @inline(__always)
    static func store4(_ v: Lane, _ p: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lane.self)
    }

    /// Lane l, element j <- row l of `src` (stride `ld` Doubles), complex j, for j < count.
    static func gatherRows(_ src: UnsafePointer<Double>, ld: Int, lanes: Int, count: Int, conjugate: Bool,
                           into x: UnsafeMutablePointer<Lane>) {
        let sign = Lane(repeating: conjugate ? -1 : 1)
        if lanes == 4 {
            let p0 = src, p1 = src + ld, p2 = src + 2 * ld, p3 = src + 3 * ld
            var j = 0
            while j + 2 <= count {
                let a = load4(p0 + 2 * j), b = load4(p1 + 2 * j), c = load4(p2 + 2 * j), d = load4(p3 + 2 * j)
                x[2 * j] = Lane(a[0], b[0], c[0], d[0])
                x[2 * j + 1] = sign * Lane(a[1], b[1], c[1], d[1])
                x[2 * j + 2] = Lane(a[2], b[2], c[2], d[2])
                x[2 * j + 3] = sign * Lane(a[3], b[3], c[3], d[3])
                j += 2
            }
            if j < count {
                x[2 * j] = Lane(p0[2 * j], p1[2 * j], p2[2 * j], p3[2 * j])
                x[2 * j + 1] = sign * Lane(p0[2 * j + 1], p1[2 * j + 1], p2[2 * j + 1], p3[2 * j + 1])
            }
            return
        }
        for j in 0..<count {
            var re = Lane(), im = Lane()
            for l in 0..<lanes {
                re[l] = src[l * ld + 2 * j]
                im[l] = src[l * ld + 2 * j + 1]
            }
            x[2 * j] = re
            x[2 * j + 1] = sign * im
        }
    }

    /// Row l of `dst`, complex j <- lane l, element j, for j < count and l < lanes.
    static func scatterRows(_ x: UnsafePointer<Lane>, _ dst: UnsafeMutablePointer<Double>, ld: Int, lanes: Int,
                            count: Int, conjugate: Bool) {
        let sign = Lane(repeating: conjugate ? -1 : 1)
        if lanes == 4 {
            let p0 = dst, p1 = dst + ld, p2 = dst + 2 * ld, p3 = dst + 3 * ld
            var j = 0
            while j + 2 <= count {
                let re0 = x[2 * j], im0 = sign * x[2 * j + 1], re1 = x[2 * j + 2], im1 = sign * x[2 * j + 3]
                store4(Lane(re0[0], im0[0], re1[0], im1[0]), p0 + 2 * j)
                store4(Lane(re0[1], im0[1], re1[1], im1[1]), p1 + 2 * j)
                store4(Lane(re0[2], im0[2], re1[2], im1[2]), p2 + 2 * j)
                store4(Lane(re0[3], im0[3], re1[3], im1[3]), p3 + 2 * j)
                j += 2
            }
            if j < count {
                let re = x[2 * j], im = sign * x[2 * j + 1]
                for l in 0..<4 {
                    dst[l * ld + 2 * j] = re[l]
                    dst[l * ld + 2 * j + 1] = im[l]
                }
            }
            return
        }
        for j in 0..<count {
            let re = x[2 * j], im = sign * x[2 * j + 1]
            for l in 0..<lanes {
                dst[l * ld + 2 * j] = re[l]
                dst[l * ld + 2 * j + 1] = im[l]
            }
        }
    }

    /// Column blocks `firstBlock ..< firstBlock + blocks` (four columns each; columns at and
    /// beyond `columns` read as zero) of `src` into consecutive lane buffers of `count` elements:
    /// buffer t, element i, lane l <- src[i, 4 (firstBlock + t) + l] for i < rows, zero for
    /// rows <= i < count.
    static func gatherColumns(_ src: UnsafePointer<Double>, ld: Int, firstBlock: Int, blocks: Int, columns: Int,
                              rows: Int, count: Int, conjugate: Bool, into x: UnsafeMutablePointer<Lane>) {
        let sign = Lane(repeating: conjugate ? -1 : 1)
        let c0 = 4 * firstBlock
        let full = max(0, min(blocks, (columns - c0) / 4))  // blocks with all four columns
        for i in 0..<rows {
            let row = src + i * ld + 2 * c0
            for t in 0..<full {
                let v = UnsafeRawPointer(row + 8 * t).loadUnaligned(as: SIMD8<Double>.self)
                x[2 * (t * count + i)] = v.evenHalf
                x[2 * (t * count + i) + 1] = sign * v.oddHalf
            }
            if full < blocks {
                let t = full, lanes = columns - (c0 + 4 * t)
                var re = Lane(), im = Lane()
                for l in 0..<lanes {
                    re[l] = row[8 * t + 2 * l]
                    im[l] = row[8 * t + 2 * l + 1]
                }
                x[2 * (t * count + i)] = re
                x[2 * (t * count + i) + 1] = sign * im
            }
        }
        if rows < count {
            for t in 0..<blocks {
                (x + 2 * (t * count + rows)).update(repeating: Lane(), count: 2 * (count - rows))
            }
        }
    }

    /// The inverse of `gatherColumns`, for the rows in `rows` (all `count` by default; missing
    /// columns are not written).
    static func scatterColumns(_ x: UnsafePointer<Lane>, _ dst: UnsafeMutablePointer<Double>, ld: Int, firstBlock: Int,
                               blocks: Int, columns: Int, count: Int, conjugate: Bool, rows: Range<Int>? = nil) {
        let sign = Lane(repeating: conjugate ? -1 : 1)
        let c0 = 4 * firstBlock
        let full = max(0, min(blocks, (columns - c0) / 4))
        for i in rows ?? 0..<count {
            let row = dst + i * ld + 2 * c0
            for t in 0..<full {
                var v = SIMD8<Double>()
                v.evenHalf = x[2 * (t * count + i)]
                v.oddHalf = sign * x[2 * (t * count + i) + 1]
                UnsafeMutableRawPointer(row + 8 * t).storeBytes(of: v, as: SIMD8<Double>.self)
            }
            if full < blocks {
                let t = full, lanes = columns - (c0 + 4 * t)
                let re = x[2 * (t * count + i)], im = sign * x[2 * (t * count + i) + 1]
                for l in 0..<lanes {
                    row[8 * t + 2 * l] = re[l]
                    row[8 * t + 2 * l + 1] = im[l]
                }
            }
        }
    }
}
