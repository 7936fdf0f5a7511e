/// The SIMD vector kernels compute in: eight doubles (two AVX2 or one AVX-512 register).
public typealias Vec = SIMD8<Double>

/// `(sin 2 pi t, cos 2 pi t)` for each lane, with `t` in cycles.
///
/// Reduction is exact: `r = t - round(t)` lies in [-1/2, 1/2], `q = round(4 r)` picks the
/// quadrant and `f = r - q/4` lies in [-1/8, 1/8] (both subtractions are exact by Sterbenz'
/// lemma). Then `x = 2 pi f` lies in [-pi/4, pi/4] where the Taylor series to degree 17 (sin) and
/// 16 (cos) have truncation error below 5e-17, and the quadrant swaps and negates. Error: a few
/// ulp of 1, plus the rounding already in `t` (which any evaluation of cos(2 pi t) shares).
/// Cost: about 30 flops per lane, no table, no branch.
@inline(__always)
public func sinCos2Pi(_ t: Vec) -> (sin: Vec, cos: Vec) {
    let r = t - t.rounded(.toNearestOrEven)
    let q = (4 * r).rounded(.toNearestOrEven)
    let x = (r - 0.25 * q) * (2 * Double.pi)
    let x2 = x * x
    // sin x = x * (1 - x^2/3! + x^4/5! - ... + x^16/17!)
    var s = Vec(repeating: 1.0 / 355687428096000.0)
    s = s * x2 - 1.0 / 1307674368000.0
    s = s * x2 + 1.0 / 6227020800.0
    s = s * x2 - 1.0 / 39916800.0
    s = s * x2 + 1.0 / 362880.0
    s = s * x2 - 1.0 / 5040.0
    s = s * x2 + 1.0 / 120.0
    s = s * x2 - 1.0 / 6.0
    s = (s * x2) * x + x
    // cos x = 1 - x^2/2! + x^4/4! - ... + x^16/16!
    var c = Vec(repeating: 1.0 / 20922789888000.0)
    c = c * x2 - 1.0 / 87178291200.0
    c = c * x2 + 1.0 / 479001600.0
    c = c * x2 - 1.0 / 3628800.0
    c = c * x2 + 1.0 / 40320.0
    c = c * x2 - 1.0 / 720.0
    c = c * x2 + 1.0 / 24.0
    c = c * x2 - 0.5
    c = c * x2 + 1.0
    // Quadrant q in {-2, -1, 0, 1, 2}: angle = x + q pi/2.
    let q2 = q * q
    let odd = q2 .== Vec(repeating: 1)
    let half = q2 .== Vec(repeating: 4)
    let sinNegative = (q .== Vec(repeating: -1)) .| half
    let cosNegative = (q .== Vec(repeating: 1)) .| half
    var sinOut = s.replacing(with: c, where: odd)
    var cosOut = c.replacing(with: s, where: odd)
    sinOut.replace(with: -sinOut, where: sinNegative)
    cosOut.replace(with: -cosOut, where: cosNegative)
    return (sinOut, cosOut)
}

/// `(sin 2 pi t, cos 2 pi t)` for one scalar: the lane-0 of `sinCos2Pi` on a splat.
@inline(__always)
public func sinCos2Pi(_ t: Double) -> (sin: Double, cos: Double) {
    let v = sinCos2Pi(Vec(repeating: t))
    return (v.sin[0], v.cos[0])
}
