import Glibc

/// What `positiveOnlySolve` reports beside the solution.
public struct PositiveOnlyOutcome: Equatable {
    /// log det A, from the factorisations of the solve.
    public var logDeterminant: Double
    /// Passive-set systems factored and solved (the unconstrained one included).
    public var iterations: Int
    /// Entries of the solution at zero.
    public var zeros: Int
}

/// The positive-only reconstruction: for A (n x n) symmetric positive definite and d (n),
///
///     s = argmin_{s >= 0} 1/2 s^T A s - d^T s,
///
/// the unique s with the KKT conditions s >= 0, g = A s - d >= 0 and s_i g_i = 0, by block
/// principal pivoting (J. Kim, H. Park, SIAM J. Sci. Comput. 33 (2011)): given a passive set P
/// (zero set Z its complement), solve A_PP s_P = d_P with s_Z = 0, then move every variable that
/// breaks a KKT condition (s_i < 0 in P, g_i < 0 in Z) across at once; when a full exchange stops
/// shrinking the number of such variables for three steps, move only the one of largest index
/// (Murty's rule, which terminates).
///
/// Cold, the first passive set is all of A: that factor gives log det A and the unconstrained
/// solution, whose signs seed the next set (as fnnls does). Warm (`start` = a previous solution),
/// the first passive set is where `start > 0`, and log det A comes at the end from the last passive
/// factor and the Schur complement over the zero set. Variables are kept in one order (by the
/// seed's value, largest first) so consecutive passive sets share a long prefix, whose factor is
/// kept (`PassiveFactor`).
///
/// Cost: per step a Cholesky of the changed tail of A_PP (at most |P|^3 / 3) and |Z| n for the
/// gradient; cold adds one Cholesky of A (n^3 / 3), warm the Schur complement ((n^3 - |P|^3) / 3).
///
/// - Parameters:
///   - positiveOnly: false returns the unconstrained A^-1 d (one factorisation).
///   - maxIterations: the bound on passive-set solves; reaching it throws.
/// - Throws: `KernelError.value` if A is not positive definite or the bound is reached.
public func positiveOnlySolve(a: UnsafeBufferPointer<Double>, d: UnsafeBufferPointer<Double>,
                              start: UnsafeBufferPointer<Double>?, positiveOnly: Bool, maxIterations: Int,
                              out s: UnsafeMutableBufferPointer<Double>) throws -> PositiveOnlyOutcome {
    try LAPACK.require()
    let n = d.count
    var factor = PassiveFactor(a: a, n: n)
    var x = [Double](repeating: 0, count: n)   // the current iterate, by variable
    var rhs = [Double](repeating: 0, count: n) // scratch, in passive-list order
    // Cold: everything passive first, in natural order; warm: passive where the start is positive.
    var passive = start.map { $0.map { $0 > 0 } } ?? [Bool](repeating: true, count: n)
    var order = start.map(descendingOrder) ?? Array(0..<n)
    var logDet = Double.nan
    var iterations = 0

    /// Solves the system over the passive variables in `order` (setting x, zero on Z).
    func solvePassive(_ passive: [Bool]) throws {
        let list = order.filter { passive[$0] }
        try factor.factor(list)
        for (k, v) in list.enumerated() { rhs[k] = d[v] }
        rhs.withUnsafeMutableBufferPointer { factor.solve($0.baseAddress!) }
        for v in 0..<n { x[v] = 0 }
        for (k, v) in list.enumerated() { x[v] = rhs[k] }
        iterations += 1
    }

    if start == nil {
        try solvePassive(passive)
        logDet = factor.logDeterminant
        if positiveOnly { order = x.withUnsafeBufferPointer(descendingOrder) }
    }

    if positiveOnly {
        var smallest = Int.max, fullExchanges = 3
        var first = start != nil
        while !Interrupt.requested {
            if first {
                first = false
            } else {
                let breaking = violations(a: a, d: d, x: x, passive: passive)
                if breaking.isEmpty { break }
                guard iterations < maxIterations else {
                    throw KernelError.value("the positive-only solve did not converge in max_iterations = "
                        + "\(maxIterations) passive-set solves (\(breaking.count) variables still break the KKT conditions)")
                }
                if breaking.count < smallest {
                    smallest = breaking.count
                    fullExchanges = 3
                    for v in breaking { passive[v].toggle() }
                } else if fullExchanges > 0 {
                    fullExchanges -= 1
                    for v in breaking { passive[v].toggle() }
                } else {
                    passive[breaking.max()!].toggle()
                }
            }
            try solvePassive(passive)
        }
    }
    if Interrupt.requested { return PositiveOnlyOutcome(logDeterminant: .nan, iterations: iterations, zeros: 0) }

    var zeros = 0
    for v in 0..<n {
        // Clipped: an entry kept passive within its rounding tolerance may be a hair below 0.
        s[v] = positiveOnly ? (passive[v] ? max(x[v], 0) : 0) : x[v]
        if s[v] == 0 { zeros += 1 }
    }
    if logDet.isNaN {
        // Warm: complete the last passive factor with the zero set (the Schur complement over Z).
        let kept = factor.list.count
        try factor.factor(factor.list + order.filter { !passive[$0] }, keeping: kept)
        logDet = factor.logDeterminant
    }
    return PositiveOnlyOutcome(logDeterminant: logDet, iterations: iterations, zeros: zeros)
}

/// The indices of `values`, largest value first (ties by index).
func descendingOrder(_ values: UnsafeBufferPointer<Double>) -> [Int] {
    Array(0..<values.count).sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
}

/// The variables that break a KKT condition at x (zero on the zero set): x_i < 0 on the passive
/// set, g_i = (A x - d)_i < 0 on the zero set, each beyond its rounding error (relative to the
/// terms that make it up). Cost |Z| n.
func violations(a: UnsafeBufferPointer<Double>, d: UnsafeBufferPointer<Double>, x: [Double],
                passive: [Bool]) -> [Int] {
    let n = d.count
    let tolerance = 1e-11
    var xMax = 0.0
    for v in x { xMax = max(xMax, abs(v)) }
    var out: [Int] = []
    x.withUnsafeBufferPointer { xs in
        for i in 0..<n {
            if passive[i] {
                if xs[i] < -tolerance * xMax { out.append(i) }
                continue
            }
            let row = a.baseAddress! + i * n
            var g = SIMD8<Double>(), scale = SIMD8<Double>()
            var j = 0
            while j + 8 <= n {
                let ar = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Double>.self)
                let xv = UnsafeRawPointer(xs.baseAddress! + j).loadUnaligned(as: SIMD8<Double>.self)
                let t = ar * xv
                g += t
                scale += t.replacing(with: -t, where: t .< 0)
                j += 8
            }
            var gs = g.sum(), ss = scale.sum()
            while j < n { let t = row[j] * xs[j]; gs += t; ss += abs(t); j += 1 }
            gs -= d[i]
            ss += abs(d[i])
            if gs < -tolerance * ss { out.append(i) }
        }
    }
    return out
}
