/// The 2D real FFT (NumPy's rfft2 / irfft2) of a row-major (n1, n2) real array, n2 even, both
/// 5-smooth; the spectrum is the row-major (n1, n2/2 + 1) half of the full one, interleaved
/// complex:
///
///     forward: X[k1, k2] = sum_{j1, j2} x[j1, j2] exp(-2 pi i (j1 k1 / n1 + j2 k2 / n2)),
///              0 <= k2 <= n2/2, unnormalised
///     inverse: x[j1, j2] = scale sum_{k1, k2 < n2} X[k1, k2] exp(+2 pi i (...)), the missing
///              k2 > n2/2 taken as conj X[-k1, n2 - k2]; scale defaults to 1 / (n1 n2), so
///              inverse(forward(x)) = x. As in NumPy, the imaginary parts of the k2 = 0 and
///              k2 = n2/2 columns after the column transforms are ignored.
///
/// Rows: with h = n2/2, a real row is read as the complex row z_j = x_2j + i x_2j+1 of length h
/// (no copy: the same interleaved layout), transformed, and split,
///
///     X_k = E_k + w^k O_k,  E_k = (Z_k + conj Z_(h-k)) / 2,  O_k = (Z_k - conj Z_(h-k)) / 2i,
///
/// w = exp(-2 pi i / n2), for 0 <= k <= h (Z_h = Z_0); the inverse runs this backwards
/// (`Z_k = E_k + i O_k` with `O_k = (X_k - conj X_(h-k)) conj(w^k)`) into a length-h inverse.
/// Then columns: n2/2 + 1 complex FFTs of length n1, as in `FFT2D`. Cost: about half a complex
/// (n1, n2) transform.
///
/// Zero padding and cropping are built in, for FFT convolution: `forward` can read an (r, c)
/// block at the top left of an otherwise zero grid (only r rows are transformed, and the column
/// transforms do not read the zero rows), and `inverse` can produce only a block of rows and
/// columns (only those rows are transformed).
public struct RealFFT2D {
    public let n1: Int
    public let n2: Int
    let half: LaneFFT      // length n2 / 2, along rows
    let columns: LaneFFT   // length n1
    /// w^k = exp(-2 pi i k / n2) for k = 0 ... n2/2, interleaved.
    let split: Buffer<Double>

    /// Complex numbers per spectrum row: n2/2 + 1.
    public var spectrumColumns: Int { n2 / 2 + 1 }

    /// A plan for real (n1, n2) arrays; n1 and n2 5-smooth, n2 even.
    public init(_ n1: Int, _ n2: Int) {
        precondition(n2 >= 2 && n2 % 2 == 0, "RealFFT2D needs an even last dimension, got \(n2)")
        self.n1 = n1
        self.n2 = n2
        half = LaneFFT(n2 / 2)
        columns = LaneFFT(n1)
        let h = n2 / 2
        let table = Buffer<Double>(2 * (h + 1), repeating: 0)
        for k in 0...h {
            let w = twiddle(k, n2)
            table.pointer[2 * k] = w.re
            table.pointer[2 * k + 1] = w.im
        }
        split = table
    }

    /// Forward transform of the full real (n1, n2) array `input` (contiguous rows) into
    /// `output`, (n1, n2/2 + 1) interleaved complex.
    public func forward(_ input: UnsafePointer<Double>, _ output: UnsafeMutablePointer<Double>,
                        threads: Int = Threads.count) {
        forward(input, rows: n1, columns: n2, stride: n2, output, threads: threads)
    }

    /// Forward transform of the (n1, n2) grid that holds the real (rows, columns) block `input`
    /// (row stride `stride` Doubles) at its top left and zeros elsewhere.
    public func forward(_ input: UnsafePointer<Double>, rows: Int, columns cols: Int, stride: Int,
                        _ output: UnsafeMutablePointer<Double>, threads: Int = Threads.count) {
        precondition(rows <= n1 && cols <= n2, "block (\(rows), \(cols)) exceeds the grid (\(n1), \(n2))")
        let h = n2 / 2, ldOut = 2 * (h + 1)
        let fft = half, w = UnsafePointer(split.pointer)
        let source = UnsafeMutablePointer(mutating: input)
        parallelRanges((rows + 3) / 4, threads: threads) { _, range in
            let z = UnsafeMutablePointer<Lane>.allocate(capacity: 6 * (h + 1))
            defer { z.deallocate() }
            let x = z + 2 * (h + 1), y = x + 2 * (h + 1)
            for b in range {
                let r0 = 4 * b, lanes = min(4, rows - r0)
                let block = RowBlock(source + r0 * stride, ld: stride, lanes: lanes, window: 0..<cols, n: h,
                                     conjugate: false)
                copyLanes(h, from: block, to: LaneBuffer(z))
                fft.transform(LaneBuffer(z), LaneBuffer(z), x, y)
                RealFFT2D.splitSpectrum(z, h: h, w: w,
                                        into: RowBlock(output + r0 * ldOut, ld: ldOut, lanes: lanes, window: 0..<ldOut,
                                                       n: h + 1, conjugate: false))
            }
        }
        FFT2D.columnPass(self.columns, output, columns: h + 1, ld: ldOut, conjugate: false, threads: threads,
                         nonzeroRows: rows)
    }

    /// Inverse transform of the full spectrum into the real (n1, n2) array `output`. The
    /// spectrum is overwritten (it holds the column transforms afterwards).
    public func inverse(_ spectrum: UnsafeMutablePointer<Double>, _ output: UnsafeMutablePointer<Double>,
                        scale: Double? = nil, threads: Int = Threads.count) {
        inverse(spectrum, rows: 0..<n1, columns: 0..<n2, output, stride: n2, scale: scale, threads: threads)
    }

    /// Inverse transform, producing only `x[rows, columns]`, written to `output` with row stride
    /// `stride` Doubles (output[(i - rows.lowerBound) stride + j - columns.lowerBound]). The
    /// spectrum is overwritten.
    public func inverse(_ spectrum: UnsafeMutablePointer<Double>, rows: Range<Int>, columns cols: Range<Int>,
                        _ output: UnsafeMutablePointer<Double>, stride: Int, scale: Double? = nil,
                        threads: Int = Threads.count) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= n1 && cols.lowerBound >= 0 && cols.upperBound <= n2,
                     "block exceeds the grid (\(n1), \(n2))")
        let h = n2 / 2, ldIn = 2 * (h + 1)
        FFT2D.columnPass(self.columns, spectrum, columns: h + 1, ld: ldIn, conjugate: true, threads: threads)
        let fft = half, w = UnsafePointer(split.pointer)
        let factor = scale ?? 1 / Double(n1 * n2)
        let count = rows.count
        parallelRanges((count + 3) / 4, threads: threads) { _, range in
            let z = UnsafeMutablePointer<Lane>.allocate(capacity: 6 * (h + 1))
            defer { z.deallocate() }
            let x = z + 2 * (h + 1), y = x + 2 * (h + 1)
            for b in range {
                let r0 = 4 * b, lanes = min(4, count - r0)
                let block = RowBlock(spectrum + (rows.lowerBound + r0) * ldIn, ld: ldIn, lanes: lanes,
                                     window: 0..<ldIn, n: h + 1, conjugate: false)
                RealFFT2D.joinSpectrum(block, h: h, w: w, scale: factor, into: z)
                let sink = RowBlock(output + r0 * stride - cols.lowerBound, ld: stride, lanes: lanes, window: cols,
                                    n: h, conjugate: true)
                fft.transform(LaneBuffer(z), LaneBuffer(z), x, y)
                copyLanes(h, from: LaneBuffer(z), to: sink)
            }
        }
    }

    // MARK: row helpers (4 rows in the lanes)

    /// X_k = E_k + w^k O_k for k = 0 ... h from Z (h elements in `z`), written to `sink`.
    @inline(__always)
    static func splitSpectrum(_ z: UnsafePointer<Lane>, h: Int, w: UnsafePointer<Double>, into sink: RowBlock) {
        let half = Lane(repeating: 0.5)
        // k = 0 and k = h: X = Re Z0 +- Im Z0.
        sink.store(0, z[0] + z[1], Lane())
        sink.store(h, z[0] - z[1], Lane())
        @inline(__always)
        func value(_ k: Int) -> (Lane, Lane) {
            let ar = z[2 * k], ai = z[2 * k + 1]                  // Z_k
            let br = z[2 * (h - k)], bi = -z[2 * (h - k) + 1]     // conj Z_(h-k)
            let er = half * (ar + br), ei = half * (ai + bi)
            // O = (Z_k - conj Z_(h-k)) / 2i = (d_im, -d_re) / 2
            let (tr, ti) = LaneFFT.mul(half * (ai - bi), half * (br - ar), w[2 * k], w[2 * k + 1])
            return (er + tr, ei + ti)
        }
        var k = 1
        while 2 * k <= h {
            let (xr, xi) = value(k)
            sink.store(k, xr, xi)
            if 2 * k < h {
                let (yr, yi) = value(h - k)
                sink.store(h - k, yr, yi)
            }
            k += 1
        }
    }

    /// conj(scale (E_k + i O_k)) for k < h into `z`, with E_k = X_k + conj X_(h-k) and
    /// O_k = (X_k - conj X_(h-k)) conj(w^k), X (h + 1 elements) read from `source`; ready for a
    /// forward FFT that computes the inverse one (`IDFT(Z) = conj DFT(conj Z)`).
    @inline(__always)
    static func joinSpectrum(_ source: RowBlock, h: Int, w: UnsafePointer<Double>, scale: Double,
                             into z: UnsafeMutablePointer<Lane>) {
        let s = Lane(repeating: scale)
        // k = 0: imaginary parts of X_0 and X_h dropped.
        let x0 = source.load(0).0, xh = source.load(h).0
        z[0] = s * (x0 + xh)
        z[1] = s * (xh - x0)
        @inline(__always)
        func value(_ k: Int, _ a: (Lane, Lane), _ b: (Lane, Lane)) -> (Lane, Lane) {
            let (ar, ai) = a
            let br = b.0, bi = -b.1
            let er = ar + br, ei = ai + bi
            let (orr, oi) = LaneFFT.mul(ar - br, ai - bi, w[2 * k], -w[2 * k + 1])
            // E + i O = (er - oi, ei + orr); conjugated and scaled.
            return (s * (er - oi), -s * (ei + orr))
        }
        var k = 1
        while 2 * k <= h {
            let a = source.load(k), b = source.load(h - k)
            (z[2 * k], z[2 * k + 1]) = value(k, a, b)
            if 2 * k < h { (z[2 * (h - k)], z[2 * (h - k) + 1]) = value(h - k, b, a) }
            k += 1
        }
    }
}
