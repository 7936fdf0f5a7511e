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
        parallelRanges((rows + 3) / 4, threads: threads) { _, range in
            let x = UnsafeMutablePointer<Lane>.allocate(capacity: 4 * (h + 1)), y = x + 2 * (h + 1)
            defer { x.deallocate() }
            for b in range {
                let r0 = 4 * b, lanes = min(4, rows - r0)
                RealFFT2D.gatherReal(input + r0 * stride, ld: stride, lanes: lanes, columns: cols, count: h, into: x)
                let z = fft.transform(x, y)
                let out = z == x ? y : x
                RealFFT2D.splitSpectrum(z, h: h, w: w, into: out)
                LaneIO.scatterRows(out, output + r0 * ldOut, ld: ldOut, lanes: lanes, count: h + 1, conjugate: false)
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
            let x = UnsafeMutablePointer<Lane>.allocate(capacity: 4 * (h + 1)), y = x + 2 * (h + 1)
            defer { x.deallocate() }
            for b in range {
                let r0 = 4 * b, lanes = min(4, count - r0)
                LaneIO.gatherRows(spectrum + (rows.lowerBound + r0) * ldIn, ld: ldIn, lanes: lanes, count: h + 1,
                                  conjugate: false, into: x)
                RealFFT2D.joinSpectrum(x, h: h, w: w, scale: factor, into: y)
                let z = fft.transform(y, x)
                RealFFT2D.scatterReal(z, output + r0 * stride, ld: stride, lanes: lanes, columns: cols)
            }
        }
    }

    // MARK: row helpers (4 rows in the lanes)

    /// Lane l, element j <- (x[l, 2j], x[l, 2j+1]) of a real block with `columns` valid columns
    /// (zero beyond), for j < count.
    static func gatherReal(_ src: UnsafePointer<Double>, ld: Int, lanes: Int, columns: Int, count: Int,
                           into x: UnsafeMutablePointer<Lane>) {
        let pairs = min(columns / 2, count)
        LaneIO.gatherRows(src, ld: ld, lanes: lanes, count: pairs, conjugate: false, into: x)
        if pairs < count {
            (x + 2 * pairs).update(repeating: Lane(), count: 2 * (count - pairs))
            if columns % 2 == 1 && pairs < count {
                var re = Lane()
                for l in 0..<lanes { re[l] = src[l * ld + columns - 1] }
                x[2 * pairs] = re
            }
        }
    }

    /// X_k = E_k + w^k O_k for k = 0 ... h from Z (h elements) into `out` (h + 1 elements).
    @inline(__always)
    static func splitSpectrum(_ z: UnsafePointer<Lane>, h: Int, w: UnsafePointer<Double>,
                              into out: UnsafeMutablePointer<Lane>) {
        let halfV = Lane(repeating: 0.5)
        // k = 0 and k = h: X = Re Z0 +- Im Z0.
        out[0] = z[0] + z[1]
        out[1] = Lane()
        out[2 * h] = z[0] - z[1]
        out[2 * h + 1] = Lane()
        if h < 2 { return }
        for k in 1..<h {
            let ar = z[2 * k], ai = z[2 * k + 1]            // Z_k
            let br = z[2 * (h - k)], bi = -z[2 * (h - k) + 1]  // conj Z_(h-k)
            let er = halfV * (ar + br), ei = halfV * (ai + bi)
            // O = (Z_k - conj Z_(h-k)) / 2i = (d_im, -d_re) / 2
            let orr = halfV * (ai - bi), oi = halfV * (br - ar)
            let (tr, ti) = LaneFFT.mul(orr, oi, w[2 * k], w[2 * k + 1])
            out[2 * k] = er + tr
            out[2 * k + 1] = ei + ti
        }
    }

    /// conj(scale (E_k + i O_k)) for k < h, with E_k = X_k + conj X_(h-k),
    /// O_k = (X_k - conj X_(h-k)) conj(w^k), from X (h + 1 elements); ready for a forward FFT
    /// that computes the inverse one (`IDFT(Z) = conj DFT(conj Z)`).
    @inline(__always)
    static func joinSpectrum(_ x: UnsafePointer<Lane>, h: Int, w: UnsafePointer<Double>, scale: Double,
                             into z: UnsafeMutablePointer<Lane>) {
        let s = Lane(repeating: scale)
        // k = 0: imaginary parts of X_0 and X_h dropped.
        z[0] = s * (x[0] + x[2 * h])
        z[1] = s * (x[2 * h] - x[0])
        if h < 2 { return }
        for k in 1..<h {
            let ar = x[2 * k], ai = x[2 * k + 1]
            let br = x[2 * (h - k)], bi = -x[2 * (h - k) + 1]
            let er = ar + br, ei = ai + bi
            let (orr, oi) = LaneFFT.mul(ar - br, ai - bi, w[2 * k], -w[2 * k + 1])
            // E + i O = (er - oi, ei + orr); conjugated and scaled.
            z[2 * k] = s * (er - oi)
            z[2 * k + 1] = -s * (ei + orr)
        }
    }

    /// Real rows from the forward transform of conj Z: x[l, 2j] = Re, x[l, 2j+1] = -Im of
    /// element j, lane l; only `columns` are written, to dst[l ld + col - columns.lowerBound].
    static func scatterReal(_ z: UnsafePointer<Lane>, _ dst: UnsafeMutablePointer<Double>, ld: Int, lanes: Int,
                            columns: Range<Int>) {
        let lo = columns.lowerBound
        if lanes == 4 && lo % 2 == 0 && columns.count % 2 == 0 {
            // Whole (even, odd) pairs: the complex row scatter, conjugating.
            LaneIO.scatterRows(z + lo, dst, ld: ld, lanes: 4, count: columns.count / 2, conjugate: true)
            return
        }
        for col in columns {
            let j = col / 2
            let v = col % 2 == 0 ? z[2 * j] : -z[2 * j + 1]
            for l in 0..<lanes { dst[l * ld + col - lo] = v[l] }
        }
    }
}
