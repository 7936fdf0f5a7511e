/// Lawson and Hanson's active-set method for `argmin_{s >= 0} 1/2 s^T A s - d^T s`, the fallback
/// of `positiveOnlySolve` when block principal pivoting stops making progress.
///
/// From s = 0 (feasible for any passive set P) and the guess `passive`: solve A_PP t_P = d_P
/// (t_Z = 0); while some t_i <= 0 on P, step s := s + alpha (t - s) with the largest alpha that
/// keeps s >= 0 and drop from P the variables that reach zero; then s := t and free the zero-set
/// variable of most negative gradient g = A s - d, relative to the terms that make it up. Each
/// free step lowers the objective strictly, so no passive set repeats and the method ends, with
/// the KKT conditions met to `tolerance`. A variable whose solution comes out <= 0 right after it
/// was freed (possible only by rounding) is not freed again until the next successful step.
///
/// Cost per solve: a Cholesky of A over P from the first variable that changed in `order`
/// (`PassiveFactor`, at most |P|^3 / 3), and |Z| n for the gradient; about one solve per variable
/// that enters or leaves P.
///
/// - Parameters:
///   - order: the order in which passive variables are listed to `factor` (all n variables).
///   - solves: incremented per solve; reaching `maxSolves` throws.
/// - Returns: the solution on the final passive set (zero elsewhere) and that set.
func lawsonHansonSolve(a: UnsafeBufferPointer<Double>, d: UnsafeBufferPointer<Double>, passive start: [Bool],
                       order: [Int], factor: inout PassiveFactor, tolerance: Double,
                       solves: inout Int, maxSolves: Int) throws -> (s: [Double], passive: [Bool]) {
    let n = d.count
    var passive = start
    var s = [Double](repeating: 0, count: n)
    var rhs = [Double](repeating: 0, count: n)
    var skipped = [Bool](repeating: false, count: n)

    func solvePassive() throws -> [Double] {
        guard solves < maxSolves else {
            throw KernelError.value("the positive-only solve did not converge in max_iterations = \(maxSolves) "
                + "solves (the unconstrained one included)")
        }
        solves += 1
        let list = order.filter { passive[$0] }
        try factor.factor(list)
        for (k, v) in list.enumerated() { rhs[k] = d[v] }
        rhs.withUnsafeMutableBufferPointer { factor.solve($0.baseAddress!) }
        var t = [Double](repeating: 0, count: n)
        for (k, v) in list.enumerated() { t[v] = rhs[k] }
        return t
    }

    var freed = -1
    while !Interrupt.requested {
        var t = try solvePassive()
        if freed >= 0 && t[freed] <= 0 {
            // Rounding: freeing this variable did not help; keep the previous solution.
            passive[freed] = false
            skipped[freed] = true
        } else {
            while let alpha = largestFeasibleStep(s: s, t: t, passive: passive) {
                for v in 0..<n where passive[v] {
                    let step = s[v] + alpha * (t[v] - s[v])
                    if t[v] <= 0 && (blockingRatio(s[v], t[v]) <= alpha || step <= 0) {
                        passive[v] = false
                        s[v] = 0
                    } else {
                        s[v] = max(step, 0)
                    }
                }
                t = try solvePassive()
            }
            s = t
            for v in 0..<n { skipped[v] = false }
        }
        guard let next = mostNegativeGradient(a: a, d: d, x: s, passive: passive, skipped: skipped,
                                              tolerance: tolerance) else { break }
        passive[next] = true
        freed = next
    }
    return (s, passive)
}

/// The largest alpha in [0, 1] with s + alpha (t - s) >= 0 on the passive set, where some t_i <= 0
/// there; nil when t is positive on the whole passive set. The variables that set it reach zero
/// and are dropped, so each step drops at least one.
private func largestFeasibleStep(s: [Double], t: [Double], passive: [Bool]) -> Double? {
    var alpha: Double? = nil
    for v in 0..<s.count where passive[v] && t[v] <= 0 {
        alpha = min(alpha ?? .infinity, blockingRatio(s[v], t[v]))
    }
    return alpha
}

/// How far s can step towards t <= 0 before s reaches zero: s / (s - t), 0 when both are 0.
private func blockingRatio(_ s: Double, _ t: Double) -> Double {
    s - t > 0 ? s / (s - t) : 0
}

/// The zero-set variable (not `skipped`) of most negative g_i = (A x - d)_i relative to
/// sum_j |A_ij x_j| + |d_i|, if that is below -`tolerance`. Cost |Z| n.
private func mostNegativeGradient(a: UnsafeBufferPointer<Double>, d: UnsafeBufferPointer<Double>, x: [Double],
                                  passive: [Bool], skipped: [Bool], tolerance: Double) -> Int? {
    let n = d.count
    var best: Int? = nil, bestValue = -tolerance
    for i in 0..<n where !passive[i] && !skipped[i] {
        let (g, scale) = gradientEntry(a: a, d: d, x: x, row: i)
        if scale > 0 && g / scale < bestValue { best = i; bestValue = g / scale }
    }
    return best
}

/// (g_i, scale_i) = ((A x - d)_i, sum_j |A_ij x_j| + |d_i|). Cost n.
func gradientEntry(a: UnsafeBufferPointer<Double>, d: UnsafeBufferPointer<Double>, x: [Double],
                   row i: Int) -> (Double, Double) {
    let (g, scale, _) = gradientEntryAndNorm(a: a, d: d, x: x, row: i)
    return (g, scale)
}

/// `gradientEntry` and ||A_i||_2, the row's norm, from the same pass over the row. Cost n.
func gradientEntryAndNorm(a: UnsafeBufferPointer<Double>, d: UnsafeBufferPointer<Double>, x: [Double],
                          row i: Int) -> (Double, Double, Double) {
    let n = d.count
    let row = a.baseAddress! + i * n
    return x.withUnsafeBufferPointer { xs in
        var g = SIMD8<Double>(), scale = SIMD8<Double>(), squares = SIMD8<Double>()
        var j = 0
        while j + 8 <= n {
            let r = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Double>.self)
            let t = r * UnsafeRawPointer(xs.baseAddress! + j).loadUnaligned(as: SIMD8<Double>.self)
            g += t
            scale += t.replacing(with: -t, where: t .< 0)
            squares += r * r
            j += 8
        }
        var gs = g.sum(), ss = scale.sum(), qs = squares.sum()
        while j < n { let t = row[j] * xs[j]; gs += t; ss += abs(t); qs += row[j] * row[j]; j += 1 }
        return (gs - d[i], ss + abs(d[i]), qs.squareRoot())
    }
}
