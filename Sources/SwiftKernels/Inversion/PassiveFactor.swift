import Glibc

/// The lower Cholesky factor of A restricted to an ordered list of variables (a "passive set"),
/// kept between calls so that a list sharing its first p entries with the last one re-factors
/// only from p on.
///
/// With L11 the factor of the shared prefix, the rest is the right-looking completion
///
///     L21 = A21 L11^-T,    L22 L22^T = A22 - L21 L21^T
///
/// (dtrsm, dsyrk, dpotrf). Cost: m^3/3 - p^3/3 for a list of m entries of which p are kept, so a
/// change near the end of the list is cheap.
struct PassiveFactor {
    /// A (n x n, C order; symmetric, so any row is also a column).
    let a: UnsafeBufferPointer<Double>
    let n: Int
    /// The factor, column-major with leading dimension n; columns 0..<list.count are valid.
    let work: Buffer<Double>
    private(set) var list: [Int] = []

    init(a: UnsafeBufferPointer<Double>, n: Int) {
        self.a = a
        self.n = n
        work = Buffer(uninitialized: max(n * n, 1))
    }

    /// Factors A over `variables` (in this order), re-using the factor of the longest prefix it
    /// shares with the previous list. Throws if that block of A is not positive definite.
    mutating func factor(_ variables: [Int]) throws {
        var p = 0
        let limit = min(list.count, variables.count)
        while p < limit && list[p] == variables[p] { p += 1 }
        try factor(variables, keeping: p)
    }

    private mutating func factor(_ variables: [Int], keeping p: Int) throws {
        list = []  // invalid until the factorisation below succeeds
        let m = variables.count
        let w = work.pointer
        // Gather the block's lower triangle, rows max(j, p)..<m of each column j. Below the kept
        // prefix (j < p) only the rows of the new variables are needed: entry (i, j) is read from
        // row variables[i] of A (A symmetric), so those few rows stay in cache across the columns;
        // more than a few new variables go to a panel instead (see below). Column j >= p is row
        // variables[j] of A read at many random places: copied whole first (a streamed read the
        // prefetcher follows), then gathered from L1.
        let local = Buffer<Double>(uninitialized: n)
        let appended = m - p, onePerSolve = p > 0 && appended <= PassiveFactor.rowsSolvedOneByOne
        let panel = Buffer<Double>(uninitialized: p > 0 && !onePerSolve ? p * appended : 0)
        variables.withUnsafeBufferPointer { v in
            let base = a.baseAddress!
            if onePerSolve {
                for j in 0..<p {
                    let column = w + j * n, at = v[j]
                    for i in p..<m { column[i] = base[v[i] * n + at] }
                }
            } else if p > 0 {
                // A12 (p x appended): column r is row variables[p + r] of A at the kept variables.
                for r in 0..<appended {
                    let row = base + v[p + r] * n, column = panel.pointer + r * p
                    for j in 0..<p { column[j] = row[v[j]] }
                }
            }
            for j in p..<m {
                var row = base + v[j] * n
                if 8 * (m - j) > n {
                    local.pointer.update(from: row, count: n)
                    row = UnsafePointer(local.pointer)
                }
                let column = w + j * n
                for i in j..<m { column[i] = row[v[i]] }
            }
        }
        if m > p {
            if p > 0 {
                if onePerSolve {
                    // Row r of L21 is L11^-1 applied to row r of A21 (a strided vector).
                    for r in p..<m { LAPACK.triangularSolve(w, n: p, ld: n, transposed: false, x: w + r, stride: n) }
                } else {
                    // L21^T = L11^-1 A12, the left-side solve (faster in OpenBLAS than L21 = A21 L11^-T
                    // on the right), then transposed into place.
                    LAPACK.solveLeftLower(w, m: p, ldl: n, transposed: false, b: panel.pointer, k: appended, ldb: p)
                    for j in 0..<p {
                        let column = w + j * n
                        for r in 0..<appended { column[p + r] = panel.pointer[j + r * p] }
                    }
                }
                LAPACK.subtractGram(w + p, n: m - p, k: p, ldb: n, c: w + p + p * n, ldc: n)
            }
            let info = LAPACK.choleskyLower(w + p + p * n, n: m - p, ld: n)
            guard info == 0 else {
                throw KernelError.value("curvature_reg_matrix is not positive definite "
                    + "(its Cholesky factorisation found a non-positive pivot)")
            }
        }
        list = variables
    }

    /// Up to this many appended variables are solved one dtrsv each: dtrsm packs the whole triangle
    /// first, which costs about as much as four single-vector solves.
    static let rowsSolvedOneByOne = 4

    /// Drops the factor (the matrix changed): the next `factor` starts from the first variable.
    mutating func forget() { list = [] }

    /// y = L^-1 b_L over the current list (b indexed by variable), extending `previous`, the same
    /// for a prefix of this list that the factor kept: its new rows are L22^-1 (b_new - L21 y).
    /// Cost (m - p) p + (m - p)^2, m^2 from scratch.
    func forwardSolution(_ b: UnsafeBufferPointer<Double>, extending previous: [Double]) -> [Double] {
        let p = previous.count, m = list.count
        var y = previous + list[p...].map { b[$0] }
        guard m > p else { return y }
        y.withUnsafeMutableBufferPointer { y in
            if p > 0 {
                var t = [Double](repeating: 0, count: m - p)
                t.withUnsafeMutableBufferPointer { t in
                    LAPACK.multiply(work.pointer + p, lda: n, y.baseAddress!, ldb: p, rows: m - p, inner: p,
                                    columns: 1, alpha: -1, c: t.baseAddress!, ldc: m - p)
                    for k in 0..<(m - p) { y[p + k] += t[k] }
                }
            }
            LAPACK.triangularSolve(work.pointer + p + p * n, n: m - p, ld: n, transposed: false, x: y.baseAddress! + p)
        }
        return y
    }

    /// L^-T y over the current list: with y = L^-1 b_L, the solution A_LL^-1 b_L. Cost m^2.
    func backwardSolution(_ y: [Double]) -> [Double] {
        var x = y
        x.withUnsafeMutableBufferPointer {
            LAPACK.triangularSolve(work.pointer, n: list.count, ld: n, transposed: true, x: $0.baseAddress!)
        }
        return x
    }

    /// b := A_LL^-1 b over the current list (b in list order). Cost 2 m^2.
    func solve(_ b: UnsafeMutablePointer<Double>) {
        guard !list.isEmpty else { return }
        LAPACK.solveLower(work.pointer, n: list.count, ld: n, b: b)
    }

    /// x^T A_LL x = ||L^T x||^2 for each of `vectors` (in list order), in one pass over L (each
    /// column is read once, for all of them). Cost m^2 / 2 per vector.
    func quadraticForms(_ vectors: [[Double]]) -> [Double] {
        let m = list.count
        var sums = [Double](repeating: 0, count: vectors.count)
        for j in 0..<m {
            // (L^T x)_j = sum_{i >= j} L_ij x_i, column j of L from its diagonal.
            let column = work.pointer + j * n
            for (k, x) in vectors.enumerated() {
                x.withUnsafeBufferPointer { x in
                    var acc = SIMD4<Double>(), i = j
                    while i + 4 <= m {
                        acc += UnsafeRawPointer(column + i).loadUnaligned(as: SIMD4<Double>.self)
                            * UnsafeRawPointer(x.baseAddress! + i).loadUnaligned(as: SIMD4<Double>.self)
                        i += 4
                    }
                    var y = acc.sum()
                    while i < m { y += column[i] * x[i]; i += 1 }
                    sums[k] += y * y
                }
            }
        }
        return sums
    }

    /// log det of A over the current list: 2 sum log L_ii. Cost m.
    var logDeterminant: Double {
        var sum = 0.0
        for i in 0..<list.count { sum += log(work.pointer[i * n + i]) }
        return 2 * sum
    }
}
