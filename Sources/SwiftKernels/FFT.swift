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

    /// The number of stages: `transform` leaves its result in `y` when it is odd, in `x` when
    /// it is even.
    var stageCount: Int { stages.count }

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
    // k + s (q + r m), output j is element k + s (p q + j); group q = 0 has no twiddles.

    @inline(__always)
    static func mul(_ r: Lane, _ i: Lane, _ wr: Double, _ wi: Double) -> (Lane, Lane) {
        let wrv = Lane(repeating: wr), wiv = Lane(repeating: wi)
        return mul(r, i, wrv, wiv)
    }

    /// (r + i i)(wr + i wi), lane by lane.
    @inline(__always)
    static func mul(_ r: Lane, _ i: Lane, _ wr: Lane, _ wi: Lane) -> (Lane, Lane) {
        ((r * wr).addingProduct(-i, wi), (r * wi).addingProduct(i, wr))
    }

    /// Runs `butterfly(input, output, twiddles)` over the (q, k) groups of a stage of radix p.
    @inline(__always)
    static func stage(_ x: UnsafeMutablePointer<Lane>, _ y: UnsafeMutablePointer<Lane>, radix p: Int, _ m: Int, _ s: Int,
                      _ tw: UnsafePointer<Double>,
                      _ first: (UnsafeMutablePointer<Lane>, UnsafeMutablePointer<Lane>) -> Void,
                      _ other: (UnsafeMutablePointer<Lane>, UnsafeMutablePointer<Lane>, UnsafePointer<Double>) -> Void) {
        for k in 0..<s { first(x + 2 * k, y + 2 * k) }
        if m <= 1 { return }
        if s == 1 {
            // The first stage: one butterfly per twiddle set. Without a k loop to hoist them out
            // of, twiddles are loaded where used instead of being spilled to the stack (five
            // extra stores per butterfly: this halved the time of short transforms).
            for q in 1..<m { other(x + 2 * q, y + 2 * p * q, tw + 2 * (p - 1) * (q - 1)) }
            return
        }
        for q in 1..<m {
            let w = tw + 2 * (p - 1) * (q - 1)
            let a = x + 2 * s * q, o = y + 2 * s * p * q
            for k in 0..<s { other(a + 2 * k, o + 2 * k, w) }
        }
    }

    static func radix2(_ x: UnsafeMutablePointer<Lane>, _ y: UnsafeMutablePointer<Lane>, _ m: Int, _ s: Int,
                       _ tw: UnsafePointer<Double>) {
        let si = 2 * s * m, so = 2 * s
        stage(x, y, radix: 2, m, s, tw, { a, o in
            let r0 = a[0], i0 = a[1], r1 = a[si], i1 = a[si + 1]
            o[0] = r0 + r1; o[1] = i0 + i1
            o[so] = r0 - r1; o[so + 1] = i0 - i1
        }, { a, o, w in
            let r0 = a[0], i0 = a[1], r1 = a[si], i1 = a[si + 1]
            o[0] = r0 + r1; o[1] = i0 + i1
            (o[so], o[so + 1]) = mul(r0 - r1, i0 - i1, w[0], w[1])
        })
    }

    /// The radix-4 butterfly: b0 = t0 + t2, b1 = t1 - i t3, b2 = t0 - t2, b3 = t1 + i t3 with
    /// t0, t1 = a0 +- a2 and t2, t3 = a1 +- a3.
    @inline(__always)
    static func butterfly4(_ a: UnsafeMutablePointer<Lane>, _ si: Int)
        -> (Lane, Lane, Lane, Lane, Lane, Lane, Lane, Lane) {
        let r0 = a[0], i0 = a[1], r1 = a[si], i1 = a[si + 1]
        let r2 = a[2 * si], i2 = a[2 * si + 1], r3 = a[3 * si], i3 = a[3 * si + 1]
        let t0r = r0 + r2, t0i = i0 + i2, t1r = r0 - r2, t1i = i0 - i2
        let t2r = r1 + r3, t2i = i1 + i3, t3r = r1 - r3, t3i = i1 - i3
        return (t0r + t2r, t0i + t2i, t1r + t3i, t1i - t3r, t0r - t2r, t0i - t2i, t1r - t3i, t1i + t3r)
    }

    static func radix4(_ x: UnsafeMutablePointer<Lane>, _ y: UnsafeMutablePointer<Lane>, _ m: Int, _ s: Int,
                       _ tw: UnsafePointer<Double>) {
        let si = 2 * s * m, so = 2 * s
        stage(x, y, radix: 4, m, s, tw, { a, o in
            let b = butterfly4(a, si)
            o[0] = b.0; o[1] = b.1
            o[so] = b.2; o[so + 1] = b.3
            o[2 * so] = b.4; o[2 * so + 1] = b.5
            o[3 * so] = b.6; o[3 * so + 1] = b.7
        }, { a, o, w in
            let b = butterfly4(a, si)
            o[0] = b.0; o[1] = b.1
            (o[so], o[so + 1]) = mul(b.2, b.3, w[0], w[1])
            (o[2 * so], o[2 * so + 1]) = mul(b.4, b.5, w[2], w[3])
            (o[3 * so], o[3 * so + 1]) = mul(b.6, b.7, w[4], w[5])
        })
    }

    /// The radix-3 butterfly: b0 = a0 + t, b1,2 = u +- v with t = a1 + a2, u = a0 - t/2,
    /// v = -i (sqrt 3 / 2)(a1 - a2).
    @inline(__always)
    static func butterfly3(_ a: UnsafeMutablePointer<Lane>, _ si: Int) -> (Lane, Lane, Lane, Lane, Lane, Lane) {
        let h = Lane(repeating: 0.5), c = Lane(repeating: 0.866_025_403_784_438_6)
        let r0 = a[0], i0 = a[1], r1 = a[si], i1 = a[si + 1], r2 = a[2 * si], i2 = a[2 * si + 1]
        let tr = r1 + r2, ti = i1 + i2
        let ur = r0 - h * tr, ui = i0 - h * ti
        let vr = c * (i1 - i2), vi = c * (r2 - r1)
        return (r0 + tr, i0 + ti, ur + vr, ui + vi, ur - vr, ui - vi)
    }

    static func radix3(_ x: UnsafeMutablePointer<Lane>, _ y: UnsafeMutablePointer<Lane>, _ m: Int, _ s: Int,
                       _ tw: UnsafePointer<Double>) {
        let si = 2 * s * m, so = 2 * s
        stage(x, y, radix: 3, m, s, tw, { a, o in
            let b = butterfly3(a, si)
            o[0] = b.0; o[1] = b.1
            o[so] = b.2; o[so + 1] = b.3
            o[2 * so] = b.4; o[2 * so + 1] = b.5
        }, { a, o, w in
            let b = butterfly3(a, si)
            o[0] = b.0; o[1] = b.1
            (o[so], o[so + 1]) = mul(b.2, b.3, w[0], w[1])
            (o[2 * so], o[2 * so + 1]) = mul(b.4, b.5, w[2], w[3])
        })
    }

    /// The radix-5 butterfly with c1, s1 = cos, sin(2 pi/5) and c2, s2 = cos, sin(4 pi/5):
    /// t1,3 = a1 +- a4, t2,4 = a2 +- a3, p1 = a0 + c1 t1 + c2 t2, p2 = a0 + c2 t1 + c1 t2,
    /// u1 = -i (s1 t3 + s2 t4), u2 = -i (s2 t3 - s1 t4); b1,4 = p1 +- u1, b2,3 = p2 +- u2.
    @inline(__always)
    static func butterfly5(_ a: UnsafeMutablePointer<Lane>, _ si: Int)
        -> (Lane, Lane, Lane, Lane, Lane, Lane, Lane, Lane, Lane, Lane) {
        let c1 = Lane(repeating: 0.309_016_994_374_947_45), c2 = Lane(repeating: -0.809_016_994_374_947_5)
        let s1 = Lane(repeating: 0.951_056_516_295_153_5), s2 = Lane(repeating: 0.587_785_252_292_473_1)
        let r0 = a[0], i0 = a[1], r1 = a[si], i1 = a[si + 1], r2 = a[2 * si], i2 = a[2 * si + 1]
        let r3 = a[3 * si], i3 = a[3 * si + 1], r4 = a[4 * si], i4 = a[4 * si + 1]
        let t1r = r1 + r4, t1i = i1 + i4, t2r = r2 + r3, t2i = i2 + i3
        let t3r = r1 - r4, t3i = i1 - i4, t4r = r2 - r3, t4i = i2 - i3
        let p1r = r0 + c1 * t1r + c2 * t2r, p1i = i0 + c1 * t1i + c2 * t2i
        let p2r = r0 + c2 * t1r + c1 * t2r, p2i = i0 + c2 * t1i + c1 * t2i
        let u1r = s1 * t3i + s2 * t4i, u1i = -(s1 * t3r + s2 * t4r)
        let u2r = s2 * t3i - s1 * t4i, u2i = s1 * t4r - s2 * t3r
        return (r0 + t1r + t2r, i0 + t1i + t2i, p1r + u1r, p1i + u1i, p2r + u2r, p2i + u2i,
                p2r - u2r, p2i - u2i, p1r - u1r, p1i - u1i)
    }

    static func radix5(_ x: UnsafeMutablePointer<Lane>, _ y: UnsafeMutablePointer<Lane>, _ m: Int, _ s: Int,
                       _ tw: UnsafePointer<Double>) {
        let si = 2 * s * m, so = 2 * s
        stage(x, y, radix: 5, m, s, tw, { a, o in
            let b = butterfly5(a, si)
            o[0] = b.0; o[1] = b.1
            o[so] = b.2; o[so + 1] = b.3
            o[2 * so] = b.4; o[2 * so + 1] = b.5
            o[3 * so] = b.6; o[3 * so + 1] = b.7
            o[4 * so] = b.8; o[4 * so + 1] = b.9
        }, { a, o, w in
            let b = butterfly5(a, si)
            o[0] = b.0; o[1] = b.1
            (o[so], o[so + 1]) = mul(b.2, b.3, w[0], w[1])
            (o[2 * so], o[2 * so + 1]) = mul(b.4, b.5, w[2], w[3])
            (o[3 * so], o[3 * so + 1]) = mul(b.6, b.7, w[4], w[5])
            (o[4 * so], o[4 * so + 1]) = mul(b.8, b.9, w[6], w[7])
        })
    }
}
