import Glibc

/// Solves A s = d with s fixed at zero on a zero set Z, from the Cholesky factor L of all of A,
/// by the capacitance identity: with u = A^-1 d and X = L^-1 E_Z (E_Z the columns of I on Z),
///
///     G = (A^-1)_ZZ = X^T X,   G lambda = -u_Z,   s = u + L^-T X lambda,   A s - d = E_Z lambda,
///
/// so s_Z = 0, the gradient is exactly zero off Z and lambda on Z: no product with A is needed.
/// A column of X is computed once, the first time its variable enters Z (L^-1 e_z is zero above
/// row z, so columns are solved in blocks of nearby z, each from its first row: about (n - z)^2
/// per column, the blocks chosen so that one dtrsm's packing of the triangle is shared by enough
/// columns), and so is its row of G (one dgemm per block); when the factor grows at its end
/// (`grow`), the columns gain rows instead of being solved again. A step then costs the Cholesky
/// of G_ZZ past the prefix it shares with the last zero set (variables kept in the order of u, most negative first, which
/// rarely leave), one dtrsv (n^2) and 2 n |Z|. Cheap when Z is small against n, and cheaper still
/// when Z sits late in the factor's order.
struct ZeroSetSolver {
    /// The order of the factored matrix (all of A, or A over a passive-set list).
    private(set) var n: Int
    /// The leading dimension of the factor, and the most rows X can have.
    let ld: Int
    /// The lower factor of A, column-major with leading dimension `ld`.
    let l: UnsafeMutablePointer<Double>
    /// The unconstrained solution A^-1 d.
    private(set) var u: [Double]
    private var slotOf: [Int]
    private var rowStart: [Int] = []     // per slot: the first row of its column of X (the rest is 0)
    private var slots = 0
    private let x: Buffer<Double>        // ld x ld: column `slot` is L^-1 e_z (leading dimension ld)
    private let gram: Buffer<Double>     // ld x ld: G between slots (both triangles, leading dimension ld)
    private var gramFactor: PassiveFactor  // the factor of G_ZZ

    /// A dtrsm call costs about this many columns' work beyond its flops (it packs the triangle).
    static let callOverhead = 32

    /// Where to cut the sorted positions `p` into blocks (the end of each), so that the blocks'
    /// solves cost least: a block from p[i] to p[j - 1] solves j - i columns over rows p[i]..<n
    /// and pays one call, (n - p[i])^2 (j - i + callOverhead). Dynamic programming, O(|p|^2).
    static func blockEnds(_ p: [Int], n: Int) -> [Int] {
        let m = p.count
        guard m > 0 else { return [] }
        var best = [Double](repeating: .infinity, count: m + 1), from = [Int](repeating: 0, count: m + 1)
        best[0] = 0
        for j in 1...m {
            for i in 0..<j {
                let rows = Double(n - p[i])
                let cost = best[i] + rows * rows * Double(j - i + callOverhead)
                if cost < best[j] { best[j] = cost; from[j] = i }
            }
        }
        var ends: [Int] = [], j = m
        while j > 0 { ends.append(j); j = from[j] }
        return ends.reversed()
    }

    init(factor l: UnsafeMutablePointer<Double>, n: Int, ld: Int, unconstrained u: [Double]) {
        self.n = n
        self.ld = ld
        self.l = l
        self.u = u
        slotOf = [Int](repeating: -1, count: ld)
        x = Buffer(uninitialized: max(ld * ld, 1))
        gram = Buffer(uninitialized: max(ld * ld, 1))
        gramFactor = PassiveFactor(a: gram.buffer, n: ld)
    }

    /// Computes X's columns and G's rows for the variables of `zeroSet` not seen before: per
    /// block, one dtrsm for its columns and one dgemm for G between every slot and them (over the
    /// block's rows; the other columns are zero above their own first rows).
    private mutating func extend(_ zeroSet: [Int]) {
        let fresh = zeroSet.filter { slotOf[$0] < 0 }.sorted()
        var at = 0
        for end in ZeroSetSolver.blockEnds(fresh, n: n) {
            let chunk = fresh[at..<end], z0 = fresh[at]
            at = end
            let first = slots
            for v in chunk {
                slotOf[v] = slots
                rowStart.append(z0)
                let column = x.pointer + slots * ld
                for r in 0..<n { column[r] = 0 }
                column[v] = 1
                slots += 1
            }
            LAPACK.solveLeftLower(l + z0 + z0 * ld, m: n - z0, ldl: ld, transposed: false,
                                  b: x.pointer + z0 + first * ld, k: chunk.count, ldb: ld)
            LAPACK.innerProducts(x.pointer + z0, lda: ld, x.pointer + z0 + first * ld, ldb: ld,
                                 rows: n - z0, m: slots, k: chunk.count, c: gram.pointer + first * ld, ldc: ld)
            for j in first..<slots {
                for i in 0..<first { gram.pointer[j + i * ld] = gram.pointer[i + j * ld] }
            }
        }
    }

    /// Re-targets the solver to the factor of A over a longer list that keeps this one as its
    /// prefix (variables appended to a passive-set list), with that list's unconstrained
    /// solution: the new rows of X are -L22^-1 L21 X (L21, L22 the factor's new rows), and G
    /// gains their inner products, instead of solving every column again.
    /// Cost 2 (m' - m) m |slots| + (m' - m)^2 |slots| + 2 (m' - m) |slots|^2.
    mutating func grow(to newN: Int, unconstrained newU: [Double]) {
        let old = n
        n = newN
        u = newU
        guard slots > 0, newN > old else { return }
        let first = rowStart.min()!
        let rows = x.pointer + old
        LAPACK.multiply(l + old + first * ld, lda: ld, x.pointer + first, ldb: ld, rows: newN - old,
                        inner: old - first, columns: slots, alpha: -1, c: rows, ldc: ld)
        LAPACK.solveLeftLower(l + old + old * ld, m: newN - old, ldl: ld, transposed: false,
                              b: rows, k: slots, ldb: ld)
        LAPACK.innerProducts(rows, lda: ld, rows, ldb: ld, rows: newN - old, m: slots, k: slots,
                             c: gram.pointer, ldc: ld, accumulate: true)
        gramFactor.forget()
    }

    /// s (by position in the factor) and, for each member of Z (`members`, positions), lambda:
    /// the gradient (A s - d) there.
    /// - Throws: `KernelError.value` if G_ZZ is numerically singular (A is too ill-conditioned).
    mutating func solve(_ zeroSet: [Int]) throws -> (s: [Double], lambda: [Double], members: [Int]) {
        var s = u
        guard !zeroSet.isEmpty else { return (s, [], []) }
        extend(zeroSet)
        // Z in the order of u, most negative first: those are the variables that stay in Z, so
        // consecutive zero sets share a long prefix, whose factor of G_ZZ is kept.
        let members = zeroSet.sorted { u[$0] < u[$1] || (u[$0] == u[$1] && $0 < $1) }
        do {
            try gramFactor.factor(members.map { slotOf[$0] })
        } catch {
            throw KernelError.value("curvature_reg_matrix is too ill-conditioned for the positive-only solve "
                + "(its inverse restricted to the zero set is not numerically positive definite)")
        }
        var lambda = members.map { -u[$0] }
        lambda.withUnsafeMutableBufferPointer { gramFactor.solve($0.baseAddress!) }
        // s = u + L^-T (X_Z lambda)
        var v = [Double](repeating: 0, count: n)
        v.withUnsafeMutableBufferPointer { w in
            for (i, z) in members.enumerated() {
                let column = slotOf[z], xs = x.pointer + column * ld, scale = lambda[i]
                for r in rowStart[column]..<n { w[r] += scale * xs[r] }
            }
            LAPACK.triangularSolve(l, n: n, ld: ld, transposed: true, x: w.baseAddress!)
        }
        for r in 0..<n { s[r] += v[r] }
        for z in zeroSet { s[z] = 0 }
        return (s, lambda, members)
    }
}
