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
/// included). Cost: about 4.25 n log2 n flops at 4 lanes per instruction, plus three passes
/// over n complex. A plan is immutable (threads may share it); scratch (n complex for the
/// matrix, 4 max(n1, n2) lane pairs) is allocated per call.
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
        let sign = Lane(repeating: conjugate ? -1 : 1)
        // Steps 1 and 2: columns of A (conjugated on the way in for the inverse), twiddled.
        for b in 0..<(n2 + 3) / 4 {
            LaneIO.gatherColumns(data, ld: ld, firstBlock: b, blocks: 1, columns: n2, rows: n1, count: n1,
                                 conjugate: conjugate, into: x)
            let out = columns.transform(x, y)
            let w = twiddles.pointer + 2 * b * n1
            for k1 in 0..<n1 {
                let (re, im) = LaneFFT.mul(out[2 * k1], out[2 * k1 + 1], w[2 * k1], w[2 * k1 + 1])
                out[2 * k1] = re
                out[2 * k1 + 1] = im
            }
            LaneIO.scatterColumns(out, matrix, ld: ld, firstBlock: b, blocks: 1, columns: n2, count: n1,
                                  conjugate: false)
        }
        // Step 3: rows, written transposed into data (conjugated on the way out for the inverse).
        for rb in 0..<(n1 + 3) / 4 {
            let k0 = 4 * rb, valid = min(4, n1 - k0)
            LaneIO.gatherRows(matrix + k0 * ld, ld: ld, lanes: valid, count: n2, conjugate: false, into: x)
            let out = rows.transform(x, y)
            for k2 in 0..<n2 {
                let re = out[2 * k2], im = sign * out[2 * k2 + 1]
                let dst = data + 2 * (k0 + n1 * k2)
                if valid == 4 {
                    var v = SIMD8<Double>()
                    v.evenHalf = re
                    v.oddHalf = im
                    UnsafeMutableRawPointer(dst).storeBytes(of: v, as: SIMD8<Double>.self)
                } else {
                    for l in 0..<valid {
                        dst[2 * l] = re[l]
                        dst[2 * l + 1] = im[l]
                    }
                }
            }
        }
    }
}
