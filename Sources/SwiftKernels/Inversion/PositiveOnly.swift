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

/// How `positiveOnlySolve` solves each step's system (see there).
public enum PositiveOnlyStrategy: Int {
    /// The zero-set solver while the first zero set is at most `zeroSetLimit` of the variables.
    case auto = 0
    /// A Cholesky factor of A over the passive set, re-used over the shared prefix.
    case passiveSet = 1
    /// The capacitance identity on the factor of all of A.
    case zeroSet = 2

    /// Above this fraction of variables in the first zero set, the passive-set factor is used (zero
    /// set: ~ z + 3 z^2 Cholesky-of-A units for a fraction z; passive set: up to (1 - z)^3 per step).
    /// Measured on the simulated presets (bench/inversion.py), the zero set was as fast or faster up
    /// to first zero sets of ~45% (alma_high: 3.0 against 5.5 Cholesky units), 10% slower at alma.
    static let zeroSetLimit = 0.5
}

/// The positive-only reconstruction: for A (n x n) symmetric positive definite and d (n),
///
///     s = argmin_{s >= 0} 1/2 s^T A s - d^T s,
///
/// the unique s with the KKT conditions s >= 0, g = A s - d >= 0 and s_i g_i = 0, by block
/// principal pivoting (J. Kim, H. Park, SIAM J. Sci. Comput. 33 (2011)): given a passive set P
/// (zero set Z its complement), solve A_PP s_P = d_P with s_Z = 0, then move every variable that
/// breaks a KKT condition (s_i < 0 in P, g_i < 0 in Z) across at once; when a full exchange stops
/// shrinking the number of such variables for three steps, finish from that passive set by Lawson
/// and Hanson's method (`lawsonHansonSolve`), which terminates. (Murty's one-variable rule, the
/// usual backup, took over a hundred solves on strongly regularised problems with ~90% zeros.)
///
/// First, one Cholesky factor of all of A (in the order of a guess at s, see below) gives
/// log det A and the unconstrained u = A^-1 d; the
/// first passive set is where u > 0 (as fnnls seeds it), or where `start` > 0 (a warm start from
/// a previous solution). Each step's system is then solved by `ZeroSetSolver` on that same factor
/// (cheap while Z is small) or by a factor of A_PP (`PassiveFactor`, variables kept in the order
/// of the seed's values so consecutive passive sets share a prefix whose factor is kept).
///
/// Cost: n^3 / 3 for the factor of A; then per step either a Cholesky of G_ZZ (|Z|^3 / 3, plus
/// |Z| n^2 / 3 + |Z|^2 n once per variable that ever enters Z) or of the changed tail of A_PP
/// (at most |P|^3 / 3); and |Z| n for the gradient.
///
/// - Parameters:
///   - positiveOnly: false returns the unconstrained A^-1 d (one factorisation).
///   - maxIterations: the bound on solves (the unconstrained one included); reaching it throws.
/// - Throws: `KernelError.value` if A is not positive definite or the bound is reached.
public func positiveOnlySolve(a: UnsafeBufferPointer<Double>, d: UnsafeBufferPointer<Double>,
                              start: UnsafeBufferPointer<Double>?, positiveOnly: Bool, maxIterations: Int,
                              strategy: PositiveOnlyStrategy = .auto,
                              out s: UnsafeMutableBufferPointer<Double>) throws -> PositiveOnlyOutcome {
    try LAPACK.require()
    let n = d.count
    // A's factor is taken in the order of a guess at s, largest first (the warm start, or the
    // Jacobi estimate d_i / A_ii), so the zero set tends to sit at its end, where the zero-set
    // solver's columns are cheap; the order changes neither log det A nor the answer.
    let guess = start.map(Array.init) ?? (0..<n).map { d[$0] / a[$0 * n + $0] }
    let factorOrder = guess.withUnsafeBufferPointer(descendingOrder)
    var factor = PassiveFactor(a: a, n: n)
    try factor.factor(factorOrder)
    let logDet = factor.logDeterminant
    var uOrdered = factorOrder.map { d[$0] }
    uOrdered.withUnsafeMutableBufferPointer { factor.solve($0.baseAddress!) }
    var u = [Double](repeating: 0, count: n)
    for (k, v) in factorOrder.enumerated() { u[v] = uOrdered[k] }
    var iterations = 1
    if !positiveOnly || n == 0 {
        for v in 0..<n { s[v] = u[v] }
        return PositiveOnlyOutcome(logDeterminant: logDet, iterations: 1, zeros: u.filter { $0 == 0 }.count)
    }

    let seed = start.map(Array.init) ?? u
    var passive = seed.map { $0 > 0 }
    let firstZeros = Double(passive.filter { !$0 }.count) / Double(n)
    let useZeroSet = strategy == .zeroSet
        || (strategy == .auto && firstZeros <= PositiveOnlyStrategy.zeroSetLimit)
    let order = seed.withUnsafeBufferPointer(descendingOrder)
    var zeroSolver = useZeroSet ? ZeroSetSolver(factor: factor.work.pointer, n: n, unconstrained: uOrdered) : nil
    var x = [Double](repeating: 0, count: n)
    var rhs = [Double](repeating: 0, count: n)
    var smallest = Int.max, fullExchanges = 3
    while !Interrupt.requested {
        guard iterations < maxIterations else {
            throw KernelError.value("the positive-only solve did not converge in max_iterations = \(maxIterations) "
                + "solves (the unconstrained one included)")
        }
        if zeroSolver != nil {
            // The solver works in the factor's order: position k holds variable factorOrder[k].
            let ordered = try zeroSolver!.solve((0..<n).filter { !passive[factorOrder[$0]] }).s
            for (k, v) in factorOrder.enumerated() { x[v] = ordered[k] }
        } else {
            let list = order.filter { passive[$0] }
            try factor.factor(list)
            for (k, v) in list.enumerated() { rhs[k] = d[v] }
            rhs.withUnsafeMutableBufferPointer { factor.solve($0.baseAddress!) }
            for v in 0..<n { x[v] = 0 }
            for (k, v) in list.enumerated() { x[v] = rhs[k] }
        }
        iterations += 1
        let breaking = violations(a: a, d: d, x: x, passive: passive)
        if breaking.isEmpty { break }
        if breaking.count < smallest {
            smallest = breaking.count
            fullExchanges = 3
            for v in breaking { passive[v].toggle() }
        } else if fullExchanges > 0 {
            fullExchanges -= 1
            for v in breaking { passive[v].toggle() }
        } else {
            // Whole exchanges stopped helping: Lawson and Hanson's method from this passive set ends.
            let finish = try lawsonHansonSolve(a: a, d: d, passive: passive, order: order, factor: &factor,
                                               tolerance: violationTolerance, solves: &iterations,
                                               maxSolves: maxIterations)
            x = finish.s
            passive = finish.passive
            break
        }
    }
    var zeros = 0
    for v in 0..<n {
        // Clipped: an entry kept passive within its rounding tolerance may be a hair below 0.
        s[v] = passive[v] ? max(x[v], 0) : 0
        if s[v] == 0 { zeros += 1 }
    }
    return PositiveOnlyOutcome(logDeterminant: logDet, iterations: iterations, zeros: zeros)
}

/// The indices of `values`, largest value first (ties by index).
func descendingOrder(_ values: UnsafeBufferPointer<Double>) -> [Int] {
    Array(0..<values.count).sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
}

/// How far beyond zero, relative to the terms that make it up, a KKT quantity counts as broken.
let violationTolerance = 1e-11

/// The variables that break a KKT condition at x (zero on the zero set): x_i < 0 on the passive
/// set, g_i = (A x - d)_i < 0 on the zero set, each beyond its rounding error (relative to the
/// terms that make it up). Cost |Z| n.
func violations(a: UnsafeBufferPointer<Double>, d: UnsafeBufferPointer<Double>, x: [Double],
                passive: [Bool]) -> [Int] {
    let n = d.count
    let tolerance = violationTolerance
    var xMax = 0.0
    for v in x { xMax = max(xMax, abs(v)) }
    var out: [Int] = []
    for i in 0..<n {
        if passive[i] {
            if x[i] < -tolerance * xMax { out.append(i) }
            continue
        }
        let (g, scale) = gradientEntry(a: a, d: d, x: x, row: i)
        if g < -tolerance * scale { out.append(i) }
    }
    return out
}
