/// The gradient g_i = (A x - d)_i on zero-set rows outside the factored list, step after step,
/// re-evaluated from A only where a bound cannot rule out a violation.
///
/// With g_i known at an earlier x' and the row norm ||A_i||_2, Cauchy-Schwarz gives
///
///     g_i(x) >= g_i(x') - ||A_i|| ||x - x'||,   ||x - x'|| <= the sum of the steps' lengths since,
///
/// so a row whose bound stays >= 0 cannot break its KKT condition and is not read again. Late
/// steps move x little, and most zero-set rows keep a wide margin. Cost: n per step for the step
/// length, and n per row re-evaluated.
struct ZeroSetGradients {
    private var known: [Double]     // g_i at its last evaluation (nan: never evaluated)
    private var norm: [Double]      // ||A_i||_2, from that evaluation
    private var travelledAt: [Double]  // `travelled` at that evaluation
    private var travelled = 0.0     // the sum of the steps' lengths so far
    private var last: [Double]

    init(count n: Int) {
        known = [Double](repeating: .nan, count: n)
        norm = [Double](repeating: 0, count: n)
        travelledAt = [Double](repeating: 0, count: n)
        last = [Double](repeating: 0, count: n)
    }

    /// The rows of `rows` (zero-set variables, x_i = 0) whose gradient at `x` is below zero beyond
    /// its rounding error (`violationTolerance` of the terms that make it up).
    mutating func violations(a: UnsafeBufferPointer<Double>, d: UnsafeBufferPointer<Double>, x: [Double],
                             rows: [Int]) -> [Int] {
        var step = 0.0
        for (v, w) in zip(x, last) { step += (v - w) * (v - w) }
        travelled += step.squareRoot()
        last = x
        var out: [Int] = []
        for i in rows {
            if known[i] - norm[i] * (travelled - travelledAt[i]) >= 0 { continue }  // false while known is nan
            let (g, scale, rowNorm) = gradientEntryAndNorm(a: a, d: d, x: x, row: i)
            (known[i], norm[i], travelledAt[i]) = (g, rowNorm, travelled)
            if g < -violationTolerance * scale { out.append(i) }
        }
        return out
    }
}
