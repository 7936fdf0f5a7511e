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
/// (the same interleaved layout: no copy), transformed, and split,
///
///     X_k = E_k + w^k O_k,  E_k = (Z_k + conj Z_(h-k)) / 2,  O_k = (Z_k - conj Z_(h-k)) / 2i,
///
/// w = exp(-2 pi i / n2), 0 <= k <= h (Z_h = Z_0); the inverse runs this backwards
/// (`Z_k = E_k + i O_k` with `O_k = (X_k - conj X_(h-k)) conj(w^k)`) into a length-h inverse.
/// Columns: X_0 and X_h are real after the row pass, so column 0 carries X_0 + i X_h and the
/// column pass is h complex FFTs of length n1 (not h + 1: no odd column left over), split
/// afterwards by `A_k = (P_k + conj P_-k) / 2`, `B_k = (P_k - conj P_-k) / 2i` (the inverse
/// packs the Hermitian parts the same way). Cost: about half a complex (n1, n2) transform.
///
/// For FFT convolution: `forward` can read an (r, c) block at the top left of an otherwise zero
/// grid (only r rows are transformed; the column transforms do not read the zero rows), `inverse`
/// can produce only a block of rows and columns (only those rows are transformed), and
/// `convolve` does forward, product with a prepared kernel and inverse in one go, the product
/// taken inside the column pass, so the spectrum never goes through memory between them.
public struct RealFFT2D {
    public let n1: Int
    public let n2: Int
    let half: LaneFFT      // length n2 / 2, along rows
    let columns: LaneFFT   // length n1
    /// w^k = exp(-2 pi i k / n2) for k = 0 ... n2/2, interleaved.
    let split: Buffer<Double>

    /// Complex numbers per spectrum row: n2/2 + 1.
    public var spectrumColumns: Int { n2 / 2 + 1 }

    /// Doubles in a spectrum (and in the workspace `convolve` needs): 2 n1 (n2/2 + 1).
    public var spectrumCount: Int { 2 * n1 * (n2 / 2 + 1) }

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
        let h = n2 / 2, ld = 2 * (h + 1)
        rowsForward(input, rows: rows, columns: cols, stride: stride, output, threads: threads)
        FFT2D.columnPass(self.columns, output, columns: h, ld: ld, conjugate: false, threads: threads,
                         nonzeroRows: rows)
        // Column 0 holds FFT(X_0 + i X_h): A = (P_k + conj P_-k) / 2, B = (P_k - conj P_-k) / 2i.
        for k in 0...(n1 / 2) {
            let j = (n1 - k) % n1
            let p = output + k * ld, q = output + j * ld
            let pr = p[0], pi = p[1], qr = q[0], qi = q[1]
            let ar = 0.5 * (pr + qr), ai = 0.5 * (pi - qi), br = 0.5 * (pi + qi), bi = 0.5 * (qr - pr)
            q[0] = ar; q[1] = -ai; q[2 * h] = br; q[2 * h + 1] = -bi
            p[0] = ar; p[1] = ai; p[2 * h] = br; p[2 * h + 1] = bi
        }
    }

    /// Inverse transform of the full spectrum into the real (n1, n2) array `output`. The
    /// spectrum is overwritten.
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
        let h = n2 / 2, ld = 2 * (h + 1)
        // Column 0 <- H_0 + i H_h, the Hermitian parts of columns 0 and h (whose inverse
        // transforms are the real parts of theirs).
        for k in 0...(n1 / 2) {
            let j = (n1 - k) % n1
            let p = spectrum + k * ld, q = spectrum + j * ld
            let ar = 0.5 * (p[0] + q[0]), ai = 0.5 * (p[1] - q[1])
            let br = 0.5 * (p[2 * h] + q[2 * h]), bi = 0.5 * (p[2 * h + 1] - q[2 * h + 1])
            q[0] = ar + bi; q[1] = br - ai
            p[0] = ar - bi; p[1] = ai + br
        }
        FFT2D.columnPass(self.columns, spectrum, columns: h, ld: ld, conjugate: true, threads: threads)
        rowsInverse(spectrum, rows: rows, columns: cols, output, stride: stride, scale: scale ?? 1 / Double(n1 * n2),
                    threads: threads)
    }

    // MARK: row passes (4 rows in the lanes)

    /// Rows 0 ..< rows of the packed half spectrum: elements 0 ..< h of each output row, element 0
    /// holding X_0 + i X_h.
    func rowsForward(_ input: UnsafePointer<Double>, rows: Int, columns cols: Int, stride: Int,
                     _ output: UnsafeMutablePointer<Double>, threads: Int) {
        let h = n2 / 2, ld = 2 * (h + 1)
        let fft = half, w = UnsafePointer(split.pointer)
        parallelRanges((rows + 3) / 4, threads: threads) { _, range in
            let x = UnsafeMutablePointer<Lane>.allocate(capacity: 4 * h), y = x + 2 * h
            defer { x.deallocate() }
            for b in range {
                let r0 = 4 * b, lanes = min(4, rows - r0)
                RealFFT2D.gatherReal(input + r0 * stride, ld: stride, lanes: lanes, columns: cols, count: h, into: x)
                let z = fft.transform(x, y)
                let out = z == x ? y : x
                RealFFT2D.splitSpectrum(z, h: h, w: w, into: out)
                LaneIO.scatterRows(out, output + r0 * ld, ld: ld, lanes: lanes, count: h, conjugate: false)
            }
        }
    }

    /// Real rows `rows` (columns `cols`) from a column-transformed packed spectrum (element 0 of
    /// each row holding Re X_0 + i Re X_h).
    func rowsInverse(_ spectrum: UnsafeMutablePointer<Double>, rows: Range<Int>, columns cols: Range<Int>,
                     _ output: UnsafeMutablePointer<Double>, stride: Int, scale: Double, threads: Int) {
        let h = n2 / 2, ld = 2 * (h + 1)
        let fft = half, w = UnsafePointer(split.pointer)
        let count = rows.count
        parallelRanges((count + 3) / 4, threads: threads) { _, range in
            let x = UnsafeMutablePointer<Lane>.allocate(capacity: 4 * h), y = x + 2 * h
            defer { x.deallocate() }
            for b in range {
                let r0 = 4 * b, lanes = min(4, count - r0)
                LaneIO.gatherRows(spectrum + (rows.lowerBound + r0) * ld, ld: ld, lanes: lanes, count: h,
                                  conjugate: false, into: x)
                RealFFT2D.joinSpectrum(x, h: h, w: w, scale: scale, into: y)
                let z = fft.transform(y, x)
                RealFFT2D.scatterReal(z, output + r0 * stride, ld: stride, lanes: lanes, columns: cols)
            }
        }
    }

    /// Lane l, element j <- (x[l, 2j], x[l, 2j+1]) of a real block with `columns` valid columns
    /// (zero beyond), for j < count.
    static func gatherReal(_ src: UnsafePointer<Double>, ld: Int, lanes: Int, columns: Int, count: Int,
                           into x: UnsafeMutablePointer<Lane>) {
        let pairs = min(columns / 2, count)
        LaneIO.gatherRows(src, ld: ld, lanes: lanes, count: pairs, conjugate: false, into: x)
        if pairs < count {
            (x + 2 * pairs).update(repeating: Lane(), count: 2 * (count - pairs))
            if columns % 2 == 1 {
                var re = Lane()
                for l in 0..<lanes { re[l] = src[l * ld + columns - 1] }
                x[2 * pairs] = re
            }
        }
    }

    /// X_k = E_k + w^k O_k for 0 < k < h, and X_0 + i X_h = (Re Z_0 + Im Z_0) + i (Re Z_0 - Im Z_0)
    /// at k = 0, from Z (h elements) into `out` (h elements).
    @inline(__always)
    static func splitSpectrum(_ z: UnsafePointer<Lane>, h: Int, w: UnsafePointer<Double>,
                              into out: UnsafeMutablePointer<Lane>) {
        let halfV = Lane(repeating: 0.5)
        out[0] = z[0] + z[1]
        out[1] = z[0] - z[1]
        if h < 2 { return }
        for k in 1..<h {
            let ar = z[2 * k], ai = z[2 * k + 1]               // Z_k
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
    /// O_k = (X_k - conj X_(h-k)) conj(w^k), from X (h elements, element 0 holding the real
    /// X_0 and X_h as re and im); ready for a forward FFT that computes the inverse one
    /// (`IDFT(Z) = conj DFT(conj Z)`).
    @inline(__always)
    static func joinSpectrum(_ x: UnsafePointer<Lane>, h: Int, w: UnsafePointer<Double>, scale: Double,
                             into z: UnsafeMutablePointer<Lane>) {
        let s = Lane(repeating: scale)
        z[0] = s * (x[0] + x[1])
        z[1] = s * (x[1] - x[0])
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
        var first = lo, last = columns.upperBound
        if lo % 2 == 1 {
            let v = -z[lo]  // -Im of element lo / 2
            for l in 0..<lanes { dst[l * ld] = v[l] }
            first += 1
        }
        if last % 2 == 1 && last > first {
            let v = z[last - 1]  // Re of element (last - 1) / 2
            for l in 0..<lanes { dst[l * ld + last - 1 - lo] = v[l] }
            last -= 1
        }
        // Whole (even, odd) pairs: the complex row scatter, conjugating.
        if last > first {
            LaneIO.scatterRows(z + first, dst + (first - lo), ld: ld, lanes: lanes, count: (last - first) / 2,
                               conjugate: true)
        }
    }
}

/// A convolution kernel's spectrum, scaled and laid out for `RealFFT2D.convolve`: per block of
/// four spectrum columns, n1 lane pairs (real parts, imaginary parts), plus columns 0 and n2/2
/// on their own (they are handled in packed form). Immutable, shared by threads.
public struct ConvolutionKernel {
    public let n1: Int
    public let n2: Int
    /// Block b, row k: `lanes[2 (b n1 + k)]`, `lanes[2 (b n1 + k) + 1]`; lane 0 of block 0 is 1.
    let lanes: Buffer<Lane>
    /// Row k: K[k, 0] at 4k, 4k + 1 and K[k, n2/2] at 4k + 2, 4k + 3.
    let edges: Buffer<Double>
}

extension RealFFT2D {
    /// The kernel of spectrum `spectrum` ((n1, n2/2 + 1) interleaved complex, e.g. from
    /// `forward`) for `convolve`, multiplied by `scale` (default 1 / (n1 n2), which makes
    /// `convolve` the circular convolution with the kernel whose spectrum this is).
    public func prepareKernel(spectrum: UnsafePointer<Double>, scale: Double? = nil) -> ConvolutionKernel {
        let h = n2 / 2, ld = 2 * (h + 1), blocks = (h + 3) / 4
        let s = scale ?? 1 / Double(n1 * n2)
        let lanes = Buffer<Lane>(2 * blocks * n1, repeating: Lane())
        let edges = Buffer<Double>(4 * n1, repeating: 0)
        for k in 0..<n1 {
            let row = spectrum + k * ld
            for b in 0..<blocks {
                var re = Lane(), im = Lane()
                for l in 0..<4 where 4 * b + l < h {
                    re[l] = s * row[2 * (4 * b + l)]
                    im[l] = s * row[2 * (4 * b + l) + 1]
                }
                if b == 0 {
                    re[0] = 1
                    im[0] = 0
                }
                lanes.pointer[2 * (b * n1 + k)] = re
                lanes.pointer[2 * (b * n1 + k) + 1] = im
            }
            edges.pointer[4 * k] = s * row[0]
            edges.pointer[4 * k + 1] = s * row[1]
            edges.pointer[4 * k + 2] = s * row[2 * h]
            edges.pointer[4 * k + 3] = s * row[2 * h + 1]
        }
        return ConvolutionKernel(n1: n1, n2: n2, lanes: lanes, edges: edges)
    }

    /// The kernel for `convolve` from its real (n1, n2) image (wrapped: offset (dy, dx) at
    /// [dy mod n1, dx mod n2]), scaled by 1 / (n1 n2).
    public func prepareKernel(_ kernel: UnsafePointer<Double>, threads: Int = Threads.count) -> ConvolutionKernel {
        let spectrum = Buffer<Double>(spectrumCount, repeating: 0)
        forward(kernel, spectrum.pointer, threads: threads)
        return prepareKernel(spectrum: spectrum.pointer)
    }

    /// Circular convolution on the (n1, n2) grid of the real (rows, columns) block `input` (row
    /// stride `stride`, zeros elsewhere) with `kernel`, keeping `outputRows` x `outputColumns`:
    ///
    ///     output[i - r0, j - c0] = sum_{p, q} x[p, q] k[(i - p) mod n1, (j - q) mod n2]
    ///
    /// (row stride `outputStride`), with k the kernel `prepareKernel` was given. With
    /// n1 >= rows + kernel rows - 1 (likewise columns) it is the linear convolution. `workspace`
    /// holds `spectrumCount` Doubles (one per concurrent call). Cost: the rows of the forward
    /// transform only for the input rows and of the inverse only for the output rows; the kernel
    /// product sits between the two column transforms of each column block, in cache.
    public func convolve(_ input: UnsafePointer<Double>, rows: Int, columns cols: Int, stride: Int,
                         kernel: ConvolutionKernel, _ output: UnsafeMutablePointer<Double>,
                         outputRows: Range<Int>, outputColumns: Range<Int>, outputStride: Int,
                         workspace: UnsafeMutablePointer<Double>, threads: Int = Threads.count) {
        precondition(kernel.n1 == n1 && kernel.n2 == n2, "kernel prepared for another grid")
        precondition(rows <= n1 && cols <= n2, "block (\(rows), \(cols)) exceeds the grid (\(n1), \(n2))")
        precondition(outputRows.lowerBound >= 0 && outputRows.upperBound <= n1 && outputColumns.lowerBound >= 0
                     && outputColumns.upperBound <= n2, "output block exceeds the grid (\(n1), \(n2))")
        let h = n2 / 2, ld = 2 * (h + 1)
        rowsForward(input, rows: rows, columns: cols, stride: stride, workspace, threads: threads)
        convolveColumns(workspace, ld: ld, nonzeroRows: rows, wanted: outputRows, kernel: kernel, threads: threads)
        rowsInverse(workspace, rows: outputRows, columns: outputColumns, output, stride: outputStride, scale: 1,
                    threads: threads)
    }

    /// Per group of column blocks: gather, FFT, multiply by the kernel (packed edge columns in
    /// lane 0 of block 0), inverse FFT, scatter the wanted rows.
    func convolveColumns(_ data: UnsafeMutablePointer<Double>, ld: Int, nonzeroRows: Int, wanted: Range<Int>,
                         kernel: ConvolutionKernel, threads: Int) {
        let n = n1, h = n2 / 2, g = FFT2D.columnGroup, fft = columns
        let blocks = (h + 3) / 4
        let kernelLanes = UnsafePointer(kernel.lanes.pointer), edges = UnsafePointer(kernel.edges.pointer)
        parallelRanges((blocks + g - 1) / g, threads: threads) { _, range in
            let base = UnsafeMutablePointer<Lane>.allocate(capacity: 2 * n * (g + 1))
            defer { base.deallocate() }
            let spare = base + 2 * n * g
            for group in range {
                let b0 = group * g, nb = min(g, blocks - b0)
                LaneIO.gatherColumns(data, ld: ld, firstBlock: b0, blocks: nb, columns: h, rows: nonzeroRows,
                                     count: n, conjugate: false, into: base)
                for t in 0..<nb {
                    let x = base + 2 * n * t
                    // Either parity of the stage count: the second transform lands back in x.
                    let z = fft.transform(x, spare)
                    let k = kernelLanes + 2 * n * (b0 + t)
                    for e in 0..<n {
                        // conj(Z K), ready for the inverse by a forward transform.
                        let (re, im) = LaneFFT.mul(z[2 * e], z[2 * e + 1], k[2 * e], k[2 * e + 1])
                        z[2 * e] = re
                        z[2 * e + 1] = -im
                    }
                    if b0 + t == 0 { RealFFT2D.convolveEdges(z, n: n, edges: edges) }
                    let back = fft.transform(z, z == x ? spare : x)
                    precondition(back == x)
                }
                LaneIO.scatterColumns(base, data, ld: ld, firstBlock: b0, blocks: nb, columns: h, count: n,
                                      conjugate: true, rows: wanted)
            }
        }
    }

    /// Lane 0 of block 0 holds conj P, P = FFT(X_0 + i X_h) of the two real edge columns: unpack
    /// A = (P_k + conj P_-k) / 2 and B = (P_k - conj P_-k) / 2i, multiply by the kernel's edge
    /// columns, and pack the Hermitian parts of the products (the inverse transforms' real parts,
    /// all the rows need) back as conj(H_0 + i H_h).
    static func convolveEdges(_ z: UnsafeMutablePointer<Lane>, n: Int, edges: UnsafePointer<Double>) {
        @inline(__always)
        func mul(_ ar: Double, _ ai: Double, _ br: Double, _ bi: Double) -> (Double, Double) {
            (ar * br - ai * bi, ar * bi + ai * br)
        }
        for k in 0...(n / 2) {
            let j = (n - k) % n
            let pr = z[2 * k][0], pi = -z[2 * k + 1][0], qr = z[2 * j][0], qi = -z[2 * j + 1][0]
            let ar = 0.5 * (pr + qr), ai = 0.5 * (pi - qi), br = 0.5 * (pi + qi), bi = 0.5 * (qr - pr)
            let ak = mul(ar, ai, edges[4 * k], edges[4 * k + 1]), aj = mul(ar, -ai, edges[4 * j], edges[4 * j + 1])
            let bk = mul(br, bi, edges[4 * k + 2], edges[4 * k + 3])
            let bj = mul(br, -bi, edges[4 * j + 2], edges[4 * j + 3])
            let h0r = 0.5 * (ak.0 + aj.0), h0i = 0.5 * (ak.1 - aj.1)
            let hhr = 0.5 * (bk.0 + bj.0), hhi = 0.5 * (bk.1 - bj.1)
            // P_k = H0 + i Hh, P_j = conj H0 + i conj Hh; stored conjugated.
            z[2 * j][0] = h0r + hhi
            z[2 * j + 1][0] = h0i - hhr
            z[2 * k][0] = h0r - hhi
            z[2 * k + 1][0] = -(h0i + hhr)
        }
    }
}
