import Glibc

/// Solves A s = d with s fixed at zero on a zero set Z, from the Cholesky factor L of all of A,
/// by the capacitance identity: with u = A^-1 d and X = L^-1 E_Z (E_Z the columns of I on Z),
///
///     G = (A^-1)_ZZ = X^T X,   G lambda = -u_Z,   s = u + L^-T X lambda,   A s - d = E_Z lambda,
///
/// so s_Z = 0, the gradient is exactly zero off Z and lambda on Z. A column of X is computed once,
/// the first time its variable enters Z (L^-1 e_z is zero above row z, so columns are solved in
/// blocks sorted by z, each from its first row: (n - z)^2 per column), and so is its row of G;
/// a step then costs a Cholesky of G_ZZ (at most |Z|^3 / 3; only the part after the prefix it
/// shares with the last zero set) and 2 n^2 + 2 n |Z|. Cheap when Z is small
/// against n, and cheaper still when Z sits late in the factor's order: a variable at position z
/// costs (n - z)^2 + |Z| (n - z) once.
struct ZeroSetSolver {
    let n: Int
    /// The lower factor of A, column-major with leading dimension n.
    let l: UnsafeMutablePointer<Double>
    /// The unconstrained solution A^-1 d.
    let u: [Double]
    private var slotOf: [Int]
    private var rowStart: [Int] = []     // per slot: the first row of its column of X (the rest is 0)
    private var blocks: [(first: Int, count: Int, start: Int)] = []
    private var slots = 0
    private let x: Buffer<Double>        // n x n: column `slot` is L^-1 e_z
    private let gram: Buffer<Double>     // n x n: G between slots (both triangles)
    private var gramFactor: PassiveFactor  // the factor of G_ZZ

    static let block = 64

    init(factor l: UnsafeMutablePointer<Double>, n: Int, unconstrained u: [Double]) {
        self.n = n
        self.l = l
        self.u = u
        slotOf = [Int](repeating: -1, count: n)
        x = Buffer(uninitialized: max(n * n, 1))
        gram = Buffer(uninitialized: max(n * n, 1))
        gramFactor = PassiveFactor(a: gram.buffer, n: n)
    }

    /// Computes X's columns and G's rows for the variables of `zeroSet` not seen before.
    private mutating func extend(_ zeroSet: [Int]) {
        let fresh = zeroSet.filter { slotOf[$0] < 0 }.sorted()
        var at = 0
        while at < fresh.count {
            let chunk = fresh[at..<min(at + ZeroSetSolver.block, fresh.count)]
            at += chunk.count
            let first = slots, z0 = chunk.first!
            for v in chunk {
                slotOf[v] = slots
                rowStart.append(z0)
                let column = x.pointer + slots * n
                for r in z0..<n { column[r] = 0 }
                column[v] = 1
                slots += 1
            }
            blocks.append((first: first, count: chunk.count, start: z0))
            LAPACK.solveLeftLower(l + z0 + z0 * n, m: n - z0, ldl: n, transposed: false,
                                  b: x.pointer + z0 + first * n, k: chunk.count, ldb: n)
            // G between every block so far (this one included) and this one, over the rows where
            // both are non-zero; mirrored into the other triangle.
            for other in blocks {
                let r = max(other.start, z0)
                LAPACK.innerProducts(x.pointer + r + other.first * n, lda: n, x.pointer + r + first * n, ldb: n,
                                     rows: n - r, m: other.count, k: chunk.count,
                                     c: gram.pointer + other.first + first * n, ldc: n)
                for j in first..<slots {
                    for i in other.first..<(other.first + other.count) { gram.pointer[j + i * n] = gram.pointer[i + j * n] }
                }
            }
        }
    }

    /// s (by variable) and lambda (in slot order) for the zero set `zeroSet`.
    /// - Throws: `KernelError.value` if G_ZZ is numerically singular (A is too ill-conditioned).
    mutating func solve(_ zeroSet: [Int]) throws -> (s: [Double], lambda: [Double]) {
        var s = u
        let k = zeroSet.count
        guard k > 0 else { return (s, []) }
        extend(zeroSet)
        // Z in slot order: a variable new to Z has the newest slot, so consecutive zero sets
        // share a prefix, whose factor of G_ZZ is kept.
        let members = zeroSet.sorted { slotOf[$0] < slotOf[$1] }
        do {
            try gramFactor.factor(members.map { slotOf[$0] })
        } catch {
            throw KernelError.value("curvature_reg_matrix is too ill-conditioned for the positive-only solve "
                + "(its inverse restricted to the zero set is not numerically positive definite)")
        }
        var lambda = members.map { -u[$0] }
        lambda.withUnsafeMutableBufferPointer { gramFactor.solve($0.baseAddress!) }
        let slot = members.map { slotOf[$0] }
        // s = u + L^-T (X_Z lambda)
        var v = [Double](repeating: 0, count: n)
        v.withUnsafeMutableBufferPointer { w in
            for (i, column) in slot.enumerated() {
                let xs = x.pointer + column * n, scale = lambda[i]
                for r in rowStart[column]..<n { w[r] += scale * xs[r] }
            }
            LAPACK.solveLeftLower(l, m: n, ldl: n, transposed: true, b: w.baseAddress!, k: 1, ldb: n)
        }
        for r in 0..<n { s[r] += v[r] }
        for z in zeroSet { s[z] = 0 }
        return (s, lambda)
    }
}
