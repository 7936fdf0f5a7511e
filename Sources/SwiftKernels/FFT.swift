/// Fast Fourier transforms of 5-smooth lengths (2^a 3^b 5^c): the engine every FFT here runs on.
///
/// Conventions, shared by `FFTPlan` (1D), `FFT2D` (2D complex) and `RealFFT2D` (2D real):
/// - complex arrays are interleaved `(re, im)` Double pairs, row-major for 2D;
/// - forward is `X[k] = sum_j x[j] exp(-2 pi i jk/n)`, unnormalised;
/// - complex inverse is `x[j] = sum_k X[k] exp(+2 pi i jk/n)`, unnormalised (so
///   inverse(forward(x)) = n x); the real 2D inverse is normalised by default (NumPy's irfft2).
///
/// The kernel (`LaneFFT`) transforms four sequences at once: the data are stored split, element
/// `j` being two `SIMD4<Double>` (the real parts of the four sequences, then their imaginary
/// parts), so every butterfly is straight-line SIMD code with no shuffles, and twiddles are
/// broadcast scalars. 2D passes get their four sequences from four adjacent columns (a
/// de-interleaving gather, one 64-byte run per row) or four rows (a 4 x 4 transposing gather);
/// the 1D plan uses the four-step factorisation n = n1 n2 to make such batches out of one
/// sequence. The inverse is the forward with conjugation folded into the gather and scatter:
/// `inverse(x) = conj(forward(conj x))`.
///
/// The algorithm is Stockham's autosort FFT, decimation in frequency, mixed radix 4, 2 (at most
/// one), 3 and 5. With `L` the length still to split at a stage of radix `p`, `m = L / p`, and
/// `s` the product of the radices already done, the stage maps buffer `x` to buffer `y`:
///
///     a_r = x[k + s (q + r m)],  r < p          (for q < m, k < s)
///     y[k + s (p q + j)] = w^(j q) sum_r a_r exp(-2 pi i r j / p),  w = exp(-2 pi i / L)
///
/// and the buffers swap. After the last stage the output is in natural order: no bit reversal,
/// every access is a unit-stride run over `k`, and twiddles are a table per stage (p - 1
/// complex per q). Cost: about (34/8) n log2 n real flops for radix 4 (n log2 n 5/4 ... per
/// lane), i.e. the usual split-radix-class count, at 4 lanes per instruction.
public enum FFTSizes {
    /// Whether `n >= 1` has no prime factor above 5.
    public static func isSmooth(_ n: Int) -> Bool {
        guard n >= 1 else { return false }
        var m = n
        for p in [2, 3, 5] { while m % p == 0 { m /= p } }
        return m == 1
    }
}

/// The smallest 5-smooth integer (2^a 3^b 5^c) that is `>= n` (1 for `n <= 1`).
///
/// Cost: a walk over the O(log^3 n) smooth numbers below 2n.
public func nextSmooth(_ n: Int) -> Int {
    if n <= 1 { return 1 }
    var best = Int.max
    var p5 = 1
    while p5 < 2 * n {
        var p35 = p5
        while p35 < 2 * n {
            // Smallest power of two with p35 * 2^a >= n.
            var v = p35
            while v < n { v *= 2 }
            best = min(best, v)
            p35 *= 3
        }
        p5 *= 5
    }
    return best
}

/// The smallest even 5-smooth integer `>= n` (what `RealFFT2D` needs for its last axis).
public func nextSmoothEven(_ n: Int) -> Int {
    2 * nextSmooth((max(n, 2) + 1) / 2)
}

/// Four complex numbers in split form: the lanes are four independent sequences.
typealias Lane = SIMD4<Double>

/// `exp(-2 pi i k / n)` as `(re, im)`, accurate to a few ulp (exact reduction of k/n to cycles).
@inline(__always)
func twiddle(_ k: Int, _ n: Int) -> (re: Double, im: Double) {
    var r = k % n
    if r < 0 { r += n }
    if 2 * r > n { r -= n }  // |r / n| <= 1/2
    let (s, c) = sinCos2Pi(Double(r) / Double(n))
    return (c, -s)
}

/// One Stockham stage: radix, sub-length m = L / p, stride s, and where its twiddles start
/// (in Doubles, `(p - 1)` complex per q, q = 1..<m; q = 0 needs none).
struct FFTStage {
    var radix: Int
    var m: Int
    var s: Int
    var twiddleOffset: Int
}

/// A 4-lane forward FFT of length n (5-smooth): the plan (factors and twiddles) and the kernel.
///
/// Data: element `j` of the four sequences is `x[2 j]` (real parts, lanes 0..<4) and
/// `x[2 j + 1]` (imaginary parts). `transform(x, y)` uses `y` (n elements) as the ping-pong
/// buffer and returns whichever of the two holds the result. Immutable, so threads share it.
struct LaneFFT {
    let n: Int
    let stages: Buffer<FFTStage>
    let twiddles: Buffer<Double>

    init(_ n: Int) {
        precondition(FFTSizes.isSmooth(n), "FFT length \(n) is not 5-smooth")
        self.n = n
        // Radices: 4s first (the cheapest per element), then one 2, then 3s and 5s.
        var radices: [Int] = []
        var rest = n
        while rest % 4 == 0 { radices.append(4); rest /= 4 }
        if rest % 2 == 0 { radices.append(2); rest /= 2 }
        while rest % 3 == 0 { radices.append(3); rest /= 3 }
        while rest % 5 == 0 { radices.append(5); rest /= 5 }
        // Put the odd radices first: their twiddle stages then run on long q loops while the
        // cheap radix-4 stages get the long k runs (both orders are correct).
        radices.sort { ($0 % 2, $0) > ($1 % 2, $1) }
        var stageList: [FFTStage] = []
        var table: [Double] = []
        var length = n, s = 1
        for p in radices {
            let m = length / p
            stageList.append(FFTStage(radix: p, m: m, s: s, twiddleOffset: table.count))
            for q in 1..<max(m, 1) {
                for j in 1..<p {
                    let w = twiddle(j * q, length)
                    table.append(w.re)
                    table.append(w.im)
                }
            }
            length = m
            s *= p
        }
        stages = Buffer(stageList)
        twiddles = Buffer(table)
    }

    /// Scratch elements a caller must give `transform` per buffer (SIMD4 pairs: `2 n` Lanes).
    var laneCount: Int { 2 * n }

    /// Forward transform of the four sequences in `x`; returns `x` or `y`, whichever holds the
    /// result (the other is clobbered).
    @inline(__always)
    func transform(_ x: UnsafeMutablePointer<Lane>, _ y: UnsafeMutablePointer<Lane>) -> UnsafeMutablePointer<Lane> {
        var src = x, dst = y
        let tw = UnsafePointer(twiddles.pointer)
        for i in 0..<stages.count {
            let st = stages.pointer[i]
            switch st.radix {
            case 4: LaneFFT.radix4(src, dst, st.m, st.s, tw + st.twiddleOffset)
            case 2: LaneFFT.radix2(src, dst, st.m, st.s, tw + st.twiddleOffset)
            case 3: LaneFFT.radix3(src, dst, st.m, st.s, tw + st.twiddleOffset)
            default: LaneFFT.radix5(src, dst, st.m, st.s, tw + st.twiddleOffset)
            }
            swap(&src, &dst)
        }
        return src
    }

    // MARK: butterflies
    //
    // Element e of a buffer is (b[2e], b[2e+1]). In a stage, input r of group (q, k) is element
    // k + s (q + r m), output j is element k + s (p q + j).

    @inline(__always)
    static func mul(_ r: Lane, _ i: Lane, _ wr: Double, _ wi: Double) -> (Lane, Lane) {
        let wrv = Lane(repeating: wr), wiv = Lane(repeating: wi)
        return ((r * wrv).addingProduct(-i, wiv), (r * wiv).addingProduct(i, wrv))
    }

    static func radix2(_ x: UnsafeMutablePointer<Lane>, _ y: UnsafeMutablePointer<Lane>, _ m: Int, _ s: Int,
                       _ tw: UnsafePointer<Double>) {
        let inStride = 2 * s * m, outStride = 2 * s
        for q in 0..<m {
            let a = x + 2 * s * q, b = y + 2 * s * 2 * q
            let (wr, wi) = q == 0 ? (1.0, 0.0) : (tw[2 * (q - 1)], tw[2 * (q - 1) + 1])
            for k in 0..<s {
                let a0 = a + 2 * k, a1 = a0 + inStride
                let r0 = a0[0], i0 = a0[1], r1 = a1[0], i1 = a1[1]
                let o = b + 2 * k
                o[0] = r0 + r1
                o[1] = i0 + i1
                if q == 0 {
                    o[outStride] = r0 - r1
                    o[outStride + 1] = i0 - i1
                } else {
                    let (tr, ti) = mul(r0 - r1, i0 - i1, wr, wi)
                    o[outStride] = tr
                    o[outStride + 1] = ti
                }
            }
        }
    }

    static func radix4(_ x: UnsafeMutablePointer<Lane>, _ y: UnsafeMutablePointer<Lane>, _ m: Int, _ s: Int,
                       _ tw: UnsafePointer<Double>) {
        let inStride = 2 * s * m, outStride = 2 * s
        // q = 0: no twiddles.
        do {
            for k in 0..<s {
                let a = x + 2 * k
                let (r0, i0) = (a[0], a[1])
                let (r1, i1) = (a[inStride], a[inStride + 1])
                let (r2, i2) = (a[2 * inStride], a[2 * inStride + 1])
                let (r3, i3) = (a[3 * inStride], a[3 * inStride + 1])
                let t0r = r0 + r2, t0i = i0 + i2, t1r = r0 - r2, t1i = i0 - i2
                let t2r = r1 + r3, t2i = i1 + i3, t3r = r1 - r3, t3i = i1 - i3
                let o = y + 2 * k
                o[0] = t0r + t2r
                o[1] = t0i + t2i
                // b1 = t1 - i t3, b3 = t1 + i t3, b2 = t0 - t2
                o[outStride] = t1r + t3i
                o[outStride + 1] = t1i - t3r
                o[2 * outStride] = t0r - t2r
                o[2 * outStride + 1] = t0i - t2i
                o[3 * outStride] = t1r - t3i
                o[3 * outStride + 1] = t1i + t3r
            }
        }
        if m <= 1 { return }
        for q in 1..<m {
            let w = tw + 6 * (q - 1)
            let w1r = w[0], w1i = w[1], w2r = w[2], w2i = w[3], w3r = w[4], w3i = w[5]
            let base = x + 2 * s * q, outBase = y + 2 * s * 4 * q
            for k in 0..<s {
                let a = base + 2 * k
                let (r0, i0) = (a[0], a[1])
                let (r1, i1) = (a[inStride], a[inStride + 1])
                let (r2, i2) = (a[2 * inStride], a[2 * inStride + 1])
                let (r3, i3) = (a[3 * inStride], a[3 * inStride + 1])
                let t0r = r0 + r2, t0i = i0 + i2, t1r = r0 - r2, t1i = i0 - i2
                let t2r = r1 + r3, t2i = i1 + i3, t3r = r1 - r3, t3i = i1 - i3
                let o = outBase + 2 * k
                o[0] = t0r + t2r
                o[1] = t0i + t2i
                let (b1r, b1i) = mul(t1r + t3i, t1i - t3r, w1r, w1i)
                o[outStride] = b1r
                o[outStride + 1] = b1i
                let (b2r, b2i) = mul(t0r - t2r, t0i - t2i, w2r, w2i)
                o[2 * outStride] = b2r
                o[2 * outStride + 1] = b2i
                let (b3r, b3i) = mul(t1r - t3i, t1i + t3r, w3r, w3i)
                o[3 * outStride] = b3r
                o[3 * outStride + 1] = b3i
            }
        }
    }

    static func radix3(_ x: UnsafeMutablePointer<Lane>, _ y: UnsafeMutablePointer<Lane>, _ m: Int, _ s: Int,
                       _ tw: UnsafePointer<Double>) {
        let inStride = 2 * s * m, outStride = 2 * s
        let h = Lane(repeating: 0.5), c = Lane(repeating: 0.866_025_403_784_438_6)  // sqrt(3)/2
        for q in 0..<m {
            let base = x + 2 * s * q, outBase = y + 2 * s * 3 * q
            let w = tw + 4 * max(q - 1, 0)
            let w1r = w[0], w1i = w[1], w2r = w[2], w2i = w[3]
            for k in 0..<s {
                let a = base + 2 * k
                let (r0, i0) = (a[0], a[1])
                let (r1, i1) = (a[inStride], a[inStride + 1])
                let (r2, i2) = (a[2 * inStride], a[2 * inStride + 1])
                let tr = r1 + r2, ti = i1 + i2
                let ur = r0 - h * tr, ui = i0 - h * ti
                // v = -i (sqrt3/2)(a1 - a2)
                let vr = c * (i1 - i2), vi = c * (r2 - r1)
                let o = outBase + 2 * k
                o[0] = r0 + tr
                o[1] = i0 + ti
                if q == 0 {
                    o[outStride] = ur + vr
                    o[outStride + 1] = ui + vi
                    o[2 * outStride] = ur - vr
                    o[2 * outStride + 1] = ui - vi
                } else {
                    let (b1r, b1i) = mul(ur + vr, ui + vi, w1r, w1i)
                    o[outStride] = b1r
                    o[outStride + 1] = b1i
                    let (b2r, b2i) = mul(ur - vr, ui - vi, w2r, w2i)
                    o[2 * outStride] = b2r
                    o[2 * outStride + 1] = b2i
                }
            }
        }
    }

    static func radix5(_ x: UnsafeMutablePointer<Lane>, _ y: UnsafeMutablePointer<Lane>, _ m: Int, _ s: Int,
                       _ tw: UnsafePointer<Double>) {
        let inStride = 2 * s * m, outStride = 2 * s
        // cos and sin of 2 pi / 5 and 4 pi / 5.
        let c1 = Lane(repeating: 0.309_016_994_374_947_45), c2 = Lane(repeating: -0.809_016_994_374_947_5)
        let s1 = Lane(repeating: 0.951_056_516_295_153_5), s2 = Lane(repeating: 0.587_785_252_292_473_1)
        for q in 0..<m {
            let base = x + 2 * s * q, outBase = y + 2 * s * 5 * q
            let w = tw + 8 * max(q - 1, 0)
            for k in 0..<s {
                let a = base + 2 * k
                let (r0, i0) = (a[0], a[1])
                let (r1, i1) = (a[inStride], a[inStride + 1])
                let (r2, i2) = (a[2 * inStride], a[2 * inStride + 1])
                let (r3, i3) = (a[3 * inStride], a[3 * inStride + 1])
                let (r4, i4) = (a[4 * inStride], a[4 * inStride + 1])
                let t1r = r1 + r4, t1i = i1 + i4, t2r = r2 + r3, t2i = i2 + i3
                let t3r = r1 - r4, t3i = i1 - i4, t4r = r2 - r3, t4i = i2 - i3
                let p1r = r0 + c1 * t1r + c2 * t2r, p1i = i0 + c1 * t1i + c2 * t2i
                let p2r = r0 + c2 * t1r + c1 * t2r, p2i = i0 + c2 * t1i + c1 * t2i
                // -i (s1 t3 + s2 t4) and -i (s2 t3 - s1 t4)
                let u1r = s1 * t3i + s2 * t4i, u1i = -(s1 * t3r + s2 * t4r)
                let u2r = s2 * t3i - s1 * t4i, u2i = s1 * t4r - s2 * t3r
                let o = outBase + 2 * k
                o[0] = r0 + t1r + t2r
                o[1] = i0 + t1i + t2i
                if q == 0 {
                    o[outStride] = p1r + u1r
                    o[outStride + 1] = p1i + u1i
                    o[2 * outStride] = p2r + u2r
                    o[2 * outStride + 1] = p2i + u2i
                    o[3 * outStride] = p2r - u2r
                    o[3 * outStride + 1] = p2i - u2i
                    o[4 * outStride] = p1r - u1r
                    o[4 * outStride + 1] = p1i - u1i
                } else {
                    var (tr, ti) = mul(p1r + u1r, p1i + u1i, w[0], w[1])
                    o[outStride] = tr
                    o[outStride + 1] = ti
                    (tr, ti) = mul(p2r + u2r, p2i + u2i, w[2], w[3])
                    o[2 * outStride] = tr
                    o[2 * outStride + 1] = ti
                    (tr, ti) = mul(p2r - u2r, p2i - u2i, w[4], w[5])
                    o[3 * outStride] = tr
                    o[3 * outStride + 1] = ti
                    (tr, ti) = mul(p1r - u1r, p1i - u1i, w[6], w[7])
                    o[4 * outStride] = tr
                    o[4 * outStride + 1] = ti
                }
            }
        }
    }
}
