import Glibc

/// What `positiveOnlySolve` reports beside the solution.
public struct PositiveOnlyOutcome: Equatable {
    /// log det A, from the factorisations of the solve.
    public var logDeterminant: Double
    /// Systems solved: the unconstrained one and one per pivoting step.
    public var iterations: Int
    /// Entries of the solution at zero.
    public var zeros: Int
}

/// How `positiveOnlySolve` solves each step's system (see there).
public enum PositiveOnlyStrategy: Int {
    /// The cheaper of the two below by their flop counts, read off the first zero set.
    case auto = 0
    /// A Cholesky factor of A over the first passive set, grown at its end for variables that join
    /// it, with the capacitance identity for the variables that leave it.
    case passiveSet = 1
    /// The capacitance identity on the factor of all of A.
    case zeroSet = 2
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
/// When no variable breaks a condition, rows of A confirm that the gradient also vanishes on the
/// passive set, to 1e-9 of its terms: the capacitance steps below are exact only to about
/// cond(A) eps, so on a nearly singular A (cond ~1e12) the same exact finish takes over.
///
/// First, one Cholesky factor of all of A (in the order of a guess at s, see below) gives
/// log det A, the determinant the evidence needs, and the unconstrained u = A^-1 d; the first
/// zero set is where u <= 0 (as fnnls seeds it; for zero-set steps only its more negative half),
/// or where `start` <= 0 (a warm start from a previous solution, if `warmStartIsBetter`). Each
/// step's system is then solved by `ZeroSetSolver`, the capacitance identity, which also gives the
/// gradient on the zero set without a product with A: either on that same factor (cheap while Z
/// is small or late in the factor's order), or on a factor of A
/// over the first passive set (`PassiveFactor`; variables that join the passive set later are
/// appended to it, which keeps the factor's prefix). The auto strategy takes the cheaper by
/// their flop counts.
///
/// Cost: n^3 / 3 for the factor of A and 2 n^2 for u; then either ~(n - z)^2 + |Z| (n - z) once
/// per variable at position z that ever enters Z, or |P|^3 / 3 once (plus |P|^2 per variable
/// appended and (|P| - z)^2 per variable at list position z that leaves it); per step a Cholesky
/// of the part of G_ZZ past the prefix shared with the last step, one dtrsv (n^2), and a row of
/// A (n) per zero-set variable outside the factored list; once at the end, n^2 to confirm
/// the gradient from A itself.
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
    guard logDet.isFinite else {  // an infinite entry passes dpotrf's pivot test (a NaN does not)
        throw KernelError.value("curvature_reg_matrix has entries that are not finite (log det A = \(logDet))")
    }
    var uOrdered = factorOrder.map { d[$0] }
    uOrdered.withUnsafeMutableBufferPointer { factor.solve($0.baseAddress!) }
    var u = [Double](repeating: 0, count: n)
    for (k, v) in factorOrder.enumerated() { u[v] = uOrdered[k] }
    var iterations = 1
    if !positiveOnly || n == 0 {
        for v in 0..<n { s[v] = u[v] }
        return PositiveOnlyOutcome(logDeterminant: logDet, iterations: 1, zeros: u.filter { $0 == 0 }.count)
    }

    // A warm start seeds the passive set only if it is the better point of the two: a previous
    // sample's solution can be further from this one than u is (a lens change moves a
    // noise-driven zero set, a coefficient change moves all of it), and seeding from it then
    // costs more solves than starting cold.
    let warm = start.flatMap { warmStartIsBetter($0, than: u, d: d, factor: factor, order: factorOrder) ? Array($0) : nil }
    let seed = warm ?? u
    var passive = seed.map { $0 > 0 }
    // Zero-set steps on the factor of A cost ~(n - z)^2 per variable at position z entering Z
    // (2.5 x the first zero set's: more variables enter later, and G); passive-set steps, |P|^3 / 3.
    var zeroSetWork = 0.0, passiveCount = 0.0
    for (k, v) in factorOrder.enumerated() {
        if passive[v] { passiveCount += 1 } else { zeroSetWork += 2.5 * Double((n - k) * (n - k)) }
    }
    let useZeroSet = strategy == .zeroSet
        || (strategy == .auto && zeroSetWork <= passiveCount * passiveCount * passiveCount / 3)
    if useZeroSet && warm == nil {
        // Cold, the zero-set steps start from the more negative half of u's negative entries:
        // clamping those lifts most of the rest above zero (at sma, 368 variables ever entered Z
        // from all of them against 207 from this half, and 6 solves against 4).
        let negative = (0..<n).filter { !passive[$0] }.sorted { u[$0] < u[$1] || (u[$0] == u[$1] && $0 < $1) }
        for v in negative[((negative.count + 1) / 2)...] { passive[v] = true }
    }
    var x = [Double](repeating: 0, count: n)
    var smallest = Int.max, fullExchanges = 3
    // The variables factored and their order: all of A, or the passive-set list (the seed's
    // passive set by decreasing seed, so the variables likeliest to leave it come last, where the
    // zero-set solver's columns are cheap; variables that join it later are appended).
    var list = factorOrder
    var positionOf = [Int](repeating: -1, count: n)
    var solver: ZeroSetSolver
    var forward: [Double] = []  // L^-1 d over a passive-set list, extended as the list grows
    if useZeroSet {
        solver = ZeroSetSolver(factor: factor.work.pointer, n: n, ld: n, unconstrained: uOrdered)
    } else {
        list = seed.withUnsafeBufferPointer(descendingOrder).filter { passive[$0] }
        try factor.factor(list)
        forward = factor.forwardSolution(d, extending: [])
        solver = ZeroSetSolver(factor: factor.work.pointer, n: list.count, ld: factor.n,
                               unconstrained: factor.backwardSolution(forward))
    }
    for (k, v) in list.enumerated() { positionOf[v] = k }
    var outsideGradients = ZeroSetGradients(count: n)
    while !Interrupt.requested {
        guard iterations < maxIterations else {
            throw KernelError.value("the positive-only solve did not converge in max_iterations = \(maxIterations) "
                + "solves (the unconstrained one included)")
        }
        let joining = (0..<n).filter { passive[$0] && positionOf[$0] < 0 }
        if !joining.isEmpty {
            // A passive-set list grows at its end: its factor's prefix is kept (a bordering), and so
            // are the solver's columns of X (extended by the new rows).
            list += joining
            for (k, v) in list.enumerated() { positionOf[v] = k }
            try factor.factor(list)
            forward = factor.forwardSolution(d, extending: forward)
            solver.grow(to: list.count, unconstrained: factor.backwardSolution(forward))
        }
        let step = try solver.solve((0..<list.count).filter { !passive[list[$0]] })
        for v in 0..<n { x[v] = 0 }
        for (k, v) in list.enumerated() { x[v] = step.s[k] }
        iterations += 1
        // The gradient on Z is lambda where Z meets the factored list; elsewhere a row of A gives
        // it. Rows of A confirm the answer once lambda shows no violation (lambda's test is the
        // looser, so rounding cannot make the two disagree forever).
        var breaking = zeroSetViolations(x: x, passive: passive, lambda: step.lambda,
                                         members: step.members.map { list[$0] }, a: a, d: d)
        let outside = (0..<n).filter { !passive[$0] && positionOf[$0] < 0 }
        breaking = (breaking + outsideGradients.violations(a: a, d: d, x: x, rows: outside)).sorted()
        if breaking.isEmpty {
            breaking = violations(a: a, d: d, x: x, rows: (0..<n).filter { !passive[$0] && positionOf[$0] >= 0 })
        }
        var finishExactly = false
        if breaking.isEmpty {
            // The capacitance identity's residual grows with cond(A): rows of A confirm that the
            // gradient vanishes on the passive set too, or the exact finish takes over.
            if passiveGradientHolds(a: a, d: d, x: x, rows: (0..<n).filter { passive[$0] }) { break }
            finishExactly = true
        } else if breaking.count < smallest {
            smallest = breaking.count
            fullExchanges = 3
        } else if fullExchanges > 0 {
            fullExchanges -= 1
        } else {
            finishExactly = true  // whole exchanges stopped helping
        }
        if !finishExactly {
            for v in breaking { passive[v].toggle() }
            continue
        }
        // Lawson and Hanson's method from this passive set ends, on exact factorisations of A over
        // the passive set, listed largest x first so that the variables it frees or drops sit late.
        let byValue = (0..<n).sorted { x[$0] > x[$1] || (x[$0] == x[$1] && $0 < $1) }
        let order = byValue.filter { passive[$0] } + byValue.filter { !passive[$0] }
        let finish = try lawsonHansonSolve(a: a, d: d, passive: passive, order: order, factor: &factor,
                                           tolerance: violationTolerance, solves: &iterations,
                                           maxSolves: maxIterations)
        x = finish.s
        passive = finish.passive
        break
    }
    var zeros = 0
    for v in 0..<n {
        // Clipped: an entry kept passive within its rounding tolerance may be a hair below 0.
        s[v] = passive[v] ? max(x[v], 0) : 0
        if s[v] == 0 { zeros += 1 }
    }
    return PositiveOnlyOutcome(logDeterminant: logDet, iterations: iterations, zeros: zeros)
}

/// The variables that break a KKT condition by the zero-set solver's own account: x_i < 0 on the
/// passive set, or lambda (the gradient on the zero set) below -1e-9 of |d_i| + A_ii max|x|.
/// Cost n + |Z|.
func zeroSetViolations(x: [Double], passive: [Bool], lambda: [Double], members: [Int],
                       a: UnsafeBufferPointer<Double>, d: UnsafeBufferPointer<Double>) -> [Int] {
    let n = x.count
    var xMax = 0.0
    for v in x { xMax = max(xMax, abs(v)) }
    var out: [Int] = []
    for i in 0..<n where passive[i] && x[i] < -1e-11 * xMax { out.append(i) }
    for (k, i) in members.enumerated() where lambda[k] < -1e-9 * (abs(d[i]) + a[i * n + i] * xMax) {
        out.append(i)
    }
    return out.sorted()
}

/// How far from zero, relative to the terms that make it up, a passive-set gradient entry may be
/// once the steps end: rounding of the capacitance identity (about cond(A) eps) stays below it on
/// the problems the presets make; beyond it the solve finishes on exact factorisations.
let passiveGradientTolerance = 1e-9

/// Whether g_i = (A x - d)_i is within `passiveGradientTolerance` of zero on every row of `rows`,
/// relative to the terms that make it up. Cost |rows| n.
func passiveGradientHolds(a: UnsafeBufferPointer<Double>, d: UnsafeBufferPointer<Double>, x: [Double],
                          rows: [Int]) -> Bool {
    rows.allSatisfy { i in
        let (g, scale) = gradientEntry(a: a, d: d, x: x, row: i)
        return abs(g) <= passiveGradientTolerance * scale
    }
}

/// Whether the warm start, clipped at zero, has an objective 1/2 s^T A s - d^T s no higher than
/// u clipped at zero: the point whose signs seed the passive set. At the presets this keeps a
/// start from a 1% lens change at sma (5 solves) and drops those that cost more than u (a 20%
/// change at sma, any at alma, a previous coefficient). Cost n^2 (two vectors against the
/// triangle of the factor of A, `factor`, over the variables in `order`).
func warmStartIsBetter(_ start: UnsafeBufferPointer<Double>, than u: [Double], d: UnsafeBufferPointer<Double>,
                       factor: PassiveFactor, order: [Int]) -> Bool {
    let candidates = [order.map { max(start[$0], 0) }, order.map { max(u[$0], 0) }]
    let forms = factor.quadraticForms(candidates)
    let objectives = (0..<2).map { k in
        0.5 * forms[k] - zip(order, candidates[k]).reduce(0.0) { $0 + d[$1.0] * $1.1 }
    }
    return objectives[0] <= objectives[1]
}

/// The indices of `values`, largest value first (ties by index).
func descendingOrder(_ values: UnsafeBufferPointer<Double>) -> [Int] {
    Array(0..<values.count).sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
}

/// How far below zero, relative to the terms that make it up, a gradient entry counts as broken.
let violationTolerance = 1e-11

/// The variables among `rows` (all on the zero set, where x is 0) whose gradient
/// g_i = (A x - d)_i is below zero beyond its rounding error (relative to the terms that make it
/// up). Cost |rows| n.
func violations(a: UnsafeBufferPointer<Double>, d: UnsafeBufferPointer<Double>, x: [Double],
                rows: [Int]) -> [Int] {
    var out: [Int] = []
    for i in rows {
        let (g, scale) = gradientEntry(a: a, d: d, x: x, row: i)
        if g < -violationTolerance * scale { out.append(i) }
    }
    return out
}
