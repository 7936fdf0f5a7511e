/// Fast Fourier transforms of 5-smooth lengths (2^a 3^b 5^c): the engine every FFT here runs on.
///
/// Conventions, shared by `FFT2D` (2D complex: the kernels use its column pass, the tests its
/// whole transform as the oracle) and `RealFFT2D` (2D real, the kernels' transform):
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
/// complex per q). Cost: 4.25 n log2 n real flops per sequence for radix 4 (34 per butterfly
/// of 4 points, 2 levels), at 4 sequences per instruction; each stage reads and writes the
/// n x 64-byte buffer once, so long transforms are bound by L2 rather than by arithmetic.
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

/// One Stockham stage of `LaneFFT`: radix p, sub-length m = L / p, stride s, and where its
/// twiddles start (in Doubles: `p - 1` complex per q, q = 0 ..< m).
struct FFTStage {
    var radix: Int
    var m: Int
    var s: Int
    var twiddles: Int
}

/// A 4-lane forward FFT of length n (5-smooth): the plan (factors and twiddles) and the kernel.
///
/// Data: element `j` of the four sequences is `x[2 j]` (real parts, lanes 0..<4) and
/// `x[2 j + 1]` (imaginary parts), 64 bytes. `transform(x, y)` uses `y` (n elements) as the
/// ping-pong buffer and returns whichever of the two holds the result. Immutable, so threads
/// share it.
///
/// The first stage (stride s = 1) runs without a k loop: given one, the compiler hoists the
/// twiddles out of it and spills them to the stack, five extra stores per radix-4 butterfly,
/// which halves the speed of short transforms. (Fusing stages in pairs through an L1 scratch, to
/// halve the trips through L2 of long transforms, is no faster.)
struct LaneFFT {
    let n: Int
    let stages: Buffer<FFTStage>
    let twiddles: Buffer<Double>

    init(_ n: Int) {
        precondition(FFTSizes.isSmooth(n), "FFT length \(n) is not 5-smooth")
        self.n = n
        // Radices: 4s (the cheapest per element), at most one 2, then 3s and 5s; the odd ones
        // run first (both orders are correct).
        var radices: [Int] = []
        var rest = n
        while rest % 4 == 0 { radices.append(4); rest /= 4 }
        if rest % 2 == 0 { radices.append(2); rest /= 2 }
        while rest % 3 == 0 { radices.append(3); rest /= 3 }
        while rest % 5 == 0 { radices.append(5); rest /= 5 }
        radices.sort { ($0 % 2, $0) > ($1 % 2, $1) }
        var list: [FFTStage] = []
        var table: [Double] = []
        var length = n, s = 1
        for p in radices {
            let m = length / p
            list.append(FFTStage(radix: p, m: m, s: s, twiddles: table.count))
            for q in 0..<m {
                for j in 1..<p {
                    let w = twiddle(j * q, length)
                    table.append(w.re)
                    table.append(w.im)
                }
            }
            length = m
            s *= p
        }
        stages = Buffer(list)
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
            let w = tw + st.twiddles
            switch st.radix {
            case 4: LaneFFT.stage(Radix4.self, src, dst, st.m, st.s, w)
            case 2: LaneFFT.stage(Radix2.self, src, dst, st.m, st.s, w)
            case 3: LaneFFT.stage(Radix3.self, src, dst, st.m, st.s, w)
            default: LaneFFT.stage(Radix5.self, src, dst, st.m, st.s, w)
            }
            swap(&src, &dst)
        }
        return src
    }

    // MARK: stages
    //
    // Element e of a buffer is (b[2e], b[2e+1]). In a stage, input r of group (q, k) is element
    // k + s (q + r m), output j is element k + s (p q + j); group q = 0 has no twiddles.

    // (SIMD negation is `0 - x`, which LLVM may not fold into a multiply-add: negate scalars.)

    /// (r + i i)(wr + i wi) for a scalar twiddle.
    @inline(__always)
    static func mul(_ r: Lane, _ i: Lane, _ wr: Double, _ wi: Double) -> (Lane, Lane) {
        ((r * wr).addingProduct(i, Lane(repeating: -wi)), (r * wi).addingProduct(i, Lane(repeating: wr)))
    }

    /// (r + i i)(wr + i wi), lane by lane.
    @inline(__always)
    static func mul(_ r: Lane, _ i: Lane, _ wr: Lane, _ wi: Lane) -> (Lane, Lane) {
        (r * wr - i * wi, (r * wi).addingProduct(i, wr))
    }

    /// One stage of radix B.radix over buffers x -> y.
    static func stage<B: Butterfly>(_: B.Type, _ x: UnsafeMutablePointer<Lane>, _ y: UnsafeMutablePointer<Lane>,
                                    _ m: Int, _ s: Int, _ tw: UnsafePointer<Double>) {
        let p = B.radix, si = 2 * s * m, so = 2 * s
        for k in 0..<s { B.apply(x + 2 * k, si, y + 2 * k, so, tw, twiddled: false) }
        if m <= 1 { return }
        if s == 1 {
            for q in 1..<m { B.apply(x + 2 * q, si, y + 2 * p * q, so, tw + 2 * (p - 1) * q, twiddled: true) }
            return
        }
        for q in 1..<m {
            let w = tw + 2 * (p - 1) * q
            let a = x + 2 * s * q, o = y + 2 * s * p * q
            for k in 0..<s { B.apply(a + 2 * k, si, o + 2 * k, so, w, twiddled: true) }
        }
    }
}

/// A radix-p DIF butterfly on 4 lanes: inputs a[r si] (r < p, each a lane pair), outputs
/// o[j so] = (twiddled ? w^j : 1) sum_r a_r exp(-2 pi i r j / p), w^j = (w[2 (j - 1)],
/// w[2 (j - 1) + 1]).
protocol Butterfly {
    static var radix: Int { get }
    static func apply(_ a: UnsafeMutablePointer<Lane>, _ si: Int, _ o: UnsafeMutablePointer<Lane>, _ so: Int,
                      _ w: UnsafePointer<Double>, twiddled: Bool)
}

extension Butterfly {
    /// Stores output j (j >= 1), twiddled or not.
    @inline(__always)
    static func put(_ o: UnsafeMutablePointer<Lane>, _ re: Lane, _ im: Lane, _ w: UnsafePointer<Double>, _ j: Int,
                    _ twiddled: Bool) {
        if twiddled {
            let (r, i) = LaneFFT.mul(re, im, w[2 * (j - 1)], w[2 * (j - 1) + 1])
            o[0] = r
            o[1] = i
        } else {
            o[0] = re
            o[1] = im
        }
    }
}

/// b0 = a0 + a1, b1 = a0 - a1.
struct Radix2: Butterfly {
    static var radix: Int { 2 }
    @inline(__always)
    static func apply(_ a: UnsafeMutablePointer<Lane>, _ si: Int, _ o: UnsafeMutablePointer<Lane>, _ so: Int,
                      _ w: UnsafePointer<Double>, twiddled: Bool) {
        let r0 = a[0], i0 = a[1], r1 = a[si], i1 = a[si + 1]
        o[0] = r0 + r1
        o[1] = i0 + i1
        put(o + so, r0 - r1, i0 - i1, w, 1, twiddled)
    }
}

/// b0 = t0 + t2, b1 = t1 - i t3, b2 = t0 - t2, b3 = t1 + i t3 with t0, t1 = a0 +- a2 and
/// t2, t3 = a1 +- a3.
struct Radix4: Butterfly {
    static var radix: Int { 4 }
    @inline(__always)
    static func apply(_ a: UnsafeMutablePointer<Lane>, _ si: Int, _ o: UnsafeMutablePointer<Lane>, _ so: Int,
                      _ w: UnsafePointer<Double>, twiddled: Bool) {
        let r0 = a[0], i0 = a[1], r1 = a[si], i1 = a[si + 1]
        let r2 = a[2 * si], i2 = a[2 * si + 1], r3 = a[3 * si], i3 = a[3 * si + 1]
        let t0r = r0 + r2, t0i = i0 + i2, t1r = r0 - r2, t1i = i0 - i2
        let t2r = r1 + r3, t2i = i1 + i3, t3r = r1 - r3, t3i = i1 - i3
        o[0] = t0r + t2r
        o[1] = t0i + t2i
        put(o + so, t1r + t3i, t1i - t3r, w, 1, twiddled)
        put(o + 2 * so, t0r - t2r, t0i - t2i, w, 2, twiddled)
        put(o + 3 * so, t1r - t3i, t1i + t3r, w, 3, twiddled)
    }
}

/// b0 = a0 + t, b1,2 = u +- v with t = a1 + a2, u = a0 - t/2, v = -i (sqrt 3 / 2)(a1 - a2).
struct Radix3: Butterfly {
    static var radix: Int { 3 }
    @inline(__always)
    static func apply(_ a: UnsafeMutablePointer<Lane>, _ si: Int, _ o: UnsafeMutablePointer<Lane>, _ so: Int,
                      _ w: UnsafePointer<Double>, twiddled: Bool) {
        let h = Lane(repeating: -0.5), c = Lane(repeating: 0.866_025_403_784_438_6)
        let r0 = a[0], i0 = a[1], r1 = a[si], i1 = a[si + 1], r2 = a[2 * si], i2 = a[2 * si + 1]
        let tr = r1 + r2, ti = i1 + i2
        let ur = r0.addingProduct(h, tr), ui = i0.addingProduct(h, ti)
        let vr = c * (i1 - i2), vi = c * (r2 - r1)
        o[0] = r0 + tr
        o[1] = i0 + ti
        put(o + so, ur + vr, ui + vi, w, 1, twiddled)
        put(o + 2 * so, ur - vr, ui - vi, w, 2, twiddled)
    }
}

/// With c1, s1 = cos, sin(2 pi/5) and c2, s2 = cos, sin(4 pi/5): t1,3 = a1 +- a4,
/// t2,4 = a2 +- a3, p1 = a0 + c1 t1 + c2 t2, p2 = a0 + c2 t1 + c1 t2, u1 = -i (s1 t3 + s2 t4),
/// u2 = -i (s2 t3 - s1 t4); b0 = a0 + t1 + t2, b1,4 = p1 +- u1, b2,3 = p2 +- u2.
struct Radix5: Butterfly {
    static var radix: Int { 5 }
    @inline(__always)
    static func apply(_ a: UnsafeMutablePointer<Lane>, _ si: Int, _ o: UnsafeMutablePointer<Lane>, _ so: Int,
                      _ w: UnsafePointer<Double>, twiddled: Bool) {
        let c1 = Lane(repeating: 0.309_016_994_374_947_45), c2 = Lane(repeating: -0.809_016_994_374_947_5)
        let s1 = Lane(repeating: 0.951_056_516_295_153_5), s2 = Lane(repeating: 0.587_785_252_292_473_1)
        let ns1 = Lane(repeating: -0.951_056_516_295_153_5), ns2 = Lane(repeating: -0.587_785_252_292_473_1)
        let r0 = a[0], i0 = a[1], r1 = a[si], i1 = a[si + 1], r2 = a[2 * si], i2 = a[2 * si + 1]
        let r3 = a[3 * si], i3 = a[3 * si + 1], r4 = a[4 * si], i4 = a[4 * si + 1]
        let t1r = r1 + r4, t1i = i1 + i4, t2r = r2 + r3, t2i = i2 + i3
        let t3r = r1 - r4, t3i = i1 - i4, t4r = r2 - r3, t4i = i2 - i3
        let p1r = r0.addingProduct(c1, t1r).addingProduct(c2, t2r)
        let p1i = i0.addingProduct(c1, t1i).addingProduct(c2, t2i)
        let p2r = r0.addingProduct(c2, t1r).addingProduct(c1, t2r)
        let p2i = i0.addingProduct(c2, t1i).addingProduct(c1, t2i)
        let u1r = (s1 * t3i).addingProduct(s2, t4i), u1i = (ns1 * t3r).addingProduct(ns2, t4r)
        let u2r = (s2 * t3i).addingProduct(ns1, t4i), u2i = (s1 * t4r).addingProduct(ns2, t3r)
        o[0] = r0 + t1r + t2r
        o[1] = i0 + t1i + t2i
        put(o + so, p1r + u1r, p1i + u1i, w, 1, twiddled)
        put(o + 2 * so, p2r + u2r, p2i + u2i, w, 2, twiddled)
        put(o + 3 * so, p2r - u2r, p2i - u2i, w, 3, twiddled)
        put(o + 4 * so, p1r - u1r, p1i - u1i, w, 4, twiddled)
    }
}
