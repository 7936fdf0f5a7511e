/// A 1D complex FFT of a 5-smooth length n, in place on n interleaved complex numbers
/// (`data[2 j]` real, `data[2 j + 1]` imaginary):
///
///     forward: X[k] = sum_j x[j] exp(-2 pi i jk / n)
///     inverse: x[j] = sum_k X[k] exp(+2 pi i jk / n)   (unnormalised: inverse(forward(x)) = n x)
///
/// Four-step (Bailey) factorisation n = n1 n2, so the 4-lane kernel gets batches of four: view x
/// as the row-major (n1, n2) matrix A[j1, j2] = x[n2 j1 + j2], then
/// 1. FFT each column over j1 (four columns at a time): B[k1, j2];
/// 2. multiply by exp(-2 pi i j2 k1 / n);
/// 3. FFT each row over j2 (four rows at a time): X[k1 + n1 k2] = C[k1, k2], which the last
///    scatter writes in natural order (four consecutive k1 are four adjacent outputs).
/// n1 is the divisor of n minimising an estimate of the two passes' cost (lane padding
/// included). Cost: about 4.3 n log2 n flops / 4 lanes + three passes over n complex. A plan is
/// immutable; scratch (about 3n complex) is allocated per call.
public struct FFTPlan {
    public let n: Int
    let n1: Int
    let n2: Int
    let columns: LaneFFT   // length n1
    let rows: LaneFFT      // length n2
    /// Block b of four columns, k1: `twiddles[2 (b n1 + k1)]` the real parts of
    /// exp(-2 pi i (4 b + l) k1 / n) over lanes l, then the imaginary parts.
    let twiddles: Buffer<Lane>

    public init(_ n: Int) {
        precondition(n >= 1 && FFTSizes.isSmooth(n), "FFT length \(n) is not 5-smooth")
        self.n = n
        func log2(_ x: Int) -> Double { Double(x.bitWidth - x.leadingZeroBitCount) }
        func cost(_ a: Int, _ b: Int) -> Double {
            Double((b + 3) / 4 * a) * (log2(a) + 2) + Double((a + 3) / 4 * b) * (log2(b) + 2)
        }
        var best = 1
        for d in 1...n where n % d == 0 && cost(d, n / d) < cost(best, n / best) { best = d }
        n1 = best
        n2 = n / best
        columns = LaneFFT(n1)
        rows = LaneFFT(n2)
        let blocks = (n2 + 3) / 4
        let table = Buffer<Lane>(2 * blocks * n1, repeating: Lane())
        for b in 0..<blocks {
            for k1 in 0..<n1 {
                var re = Lane(), im = Lane()
                for l in 0..<4 {
                    let w = twiddle((4 * b + l) * k1, n)
                    re[l] = w.re
                    im[l] = w.im
                }
                table.pointer[2 * (b * n1 + k1)] = re
                table.pointer[2 * (b * n1 + k1) + 1] = im
            }
        }
        twiddles = table
    }

    /// In-place forward transform.
    public func forward(_ data: UnsafeMutablePointer<Double>) { run(data, conjugate: false) }

    /// In-place unnormalised inverse transform.
    public func inverse(_ data: UnsafeMutablePointer<Double>) { run(data, conjugate: true) }

    func run(_ data: UnsafeMutablePointer<Double>, conjugate: Bool) {
        let longest = max(n1, n2)
        let matrix = UnsafeMutablePointer<Double>.allocate(capacity: 2 * n)
        let lanes = UnsafeMutablePointer<Lane>.allocate(capacity: 4 * longest)
        defer {
            matrix.deallocate()
            lanes.deallocate()
        }
        let x = lanes, y = lanes + 2 * longest
        let ld = 2 * n2
        // Steps 1 and 2: columns of A (conjugated on the way in for the inverse), twiddled.
        for b in 0..<(n2 + 3) / 4 {
            let width = min(4, n2 - 4 * b)
            let source = ColumnBlock(data + 8 * b, ld: ld, lanes: width, rows: n1, n: n1, conjugate: conjugate)
            let sink = TwiddledColumns(block: ColumnBlock(matrix + 8 * b, ld: ld, lanes: width, rows: n1, n: n1,
                                                          conjugate: false),
                                       w: UnsafePointer(twiddles.pointer + 2 * b * n1))
            columns.transform(source, sink, x, y)
        }
        // Step 3: rows, written transposed into data (conjugated on the way out for the inverse).
        for rb in 0..<(n1 + 3) / 4 {
            let k0 = 4 * rb, width = min(4, n1 - k0)
            let source = RowBlock(matrix + k0 * ld, ld: ld, lanes: width, window: 0..<ld, n: n2, conjugate: false)
            rows.transform(source, TransposedOutput(base: data + 2 * k0, ld: 2 * n1, lanes: width, conjugate: conjugate),
                           x, y)
        }
    }
}

/// A column sink that multiplies element e by the lane twiddles `(w[2 e], w[2 e + 1])` first.
struct TwiddledColumns: LaneSink {
    let block: ColumnBlock
    let w: UnsafePointer<Lane>

    @inline(__always)
    func store(_ e: Int, _ re: Lane, _ im: Lane) {
        let (r, i) = LaneFFT.mul(re, im, w[2 * e], w[2 * e + 1])
        block.store(e, r, i)
    }
}

/// Element e, lane l -> complex number at `base[e ld + 2 l]` (four adjacent outputs per element;
/// `lanes` of them present).
struct TransposedOutput: LaneSink {
    let base: UnsafeMutablePointer<Double>
    let ld: Int
    let lanes: Int
    let sign: Lane

    init(base: UnsafeMutablePointer<Double>, ld: Int, lanes: Int, conjugate: Bool) {
        self.base = base
        self.ld = ld
        self.lanes = lanes
        sign = Lane(repeating: conjugate ? -1 : 1)
    }

    @inline(__always)
    func store(_ e: Int, _ re: Lane, _ im: Lane) {
        let p = base + e * ld
        if lanes == 4 {
            var v = SIMD8<Double>()
            v.evenHalf = re
            v.oddHalf = sign * im
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Double>.self)
            return
        }
        let imag = sign * im
        for l in 0..<lanes {
            p[2 * l] = re[l]
            p[2 * l + 1] = imag[l]
        }
    }
}
