import SwiftwABI

/// The dense factorisations swiftw borrows from the LAPACK/BLAS that SciPy already loaded.
///
/// Swift must not hand-write dense linear algebra (SPEC 3.6), and linking a second LAPACK would
/// fight SciPy's over threads; so the Python package passes SciPy's own routine addresses once per
/// process (`install`). Every wrapper below takes column-major storage with leading dimension `ld`.
public enum LAPACK {
    nonisolated(unsafe) static var potrf: swiftw_dpotrf_fn?
    nonisolated(unsafe) static var trsv: swiftw_dtrsv_fn?
    nonisolated(unsafe) static var trsm: swiftw_dtrsm_fn?
    nonisolated(unsafe) static var syrk: swiftw_dsyrk_fn?
    nonisolated(unsafe) static var gemm: swiftw_dgemm_fn?
    nonisolated(unsafe) static var pbtrf: swiftw_dpbtrf_fn?

    /// Installs the routines from their addresses (dpotrf, dtrsv, dtrsm, dsyrk, dgemm, dpbtrf), all non-zero.
    public static func install(potrf a: Int, trsv b: Int, trsm c: Int, syrk d: Int, gemm e: Int, pbtrf f: Int) throws {
        guard a != 0, b != 0, c != 0, d != 0, e != 0, f != 0 else { throw KernelError.value("a LAPACK routine address is 0") }
        potrf = unsafeBitCast(UnsafeRawPointer(bitPattern: a)!, to: swiftw_dpotrf_fn.self)
        trsv = unsafeBitCast(UnsafeRawPointer(bitPattern: b)!, to: swiftw_dtrsv_fn.self)
        trsm = unsafeBitCast(UnsafeRawPointer(bitPattern: c)!, to: swiftw_dtrsm_fn.self)
        syrk = unsafeBitCast(UnsafeRawPointer(bitPattern: d)!, to: swiftw_dsyrk_fn.self)
        gemm = unsafeBitCast(UnsafeRawPointer(bitPattern: e)!, to: swiftw_dgemm_fn.self)
        pbtrf = unsafeBitCast(UnsafeRawPointer(bitPattern: f)!, to: swiftw_dpbtrf_fn.self)
    }

    public static var installed: Bool { potrf != nil && trsv != nil && trsm != nil && syrk != nil && gemm != nil && pbtrf != nil }

    static func require() throws {
        guard installed else {
            throw KernelError.value("LAPACK routines are not installed: import swiftw (it passes SciPy's) first")
        }
    }

    /// Lower Cholesky factor of the n x n block at `a` in place; returns LAPACK's info (0, or the
    /// order of the first leading minor that is not positive). Cost n^3 / 3.
    static func choleskyLower(_ a: UnsafeMutablePointer<Double>, n: Int, ld: Int) -> Int {
        var uplo = CChar(UInt8(ascii: "L")), n32 = Int32(n), ld32 = Int32(ld), info: Int32 = 0
        potrf!(&uplo, &n32, a, &ld32, &info)
        return Int(info)
    }

    /// Lower Cholesky factor of the symmetric band matrix in `ab` in place (LAPACK's lower band
    /// storage: ab[(i - j) + j ldab] = A[i, j] for 0 <= i - j <= kd); returns LAPACK's info as
    /// `choleskyLower` does. Cost n kd^2.
    static func bandCholeskyLower(_ ab: UnsafeMutablePointer<Double>, n: Int, kd: Int, ldab: Int) -> Int {
        var uplo = CChar(UInt8(ascii: "L")), n32 = Int32(n), kd32 = Int32(kd), ld32 = Int32(ldab), info: Int32 = 0
        pbtrf!(&uplo, &n32, &kd32, ab, &ld32, &info)
        return Int(info)
    }

    /// b := A^-1 b = L^-T L^-1 b with A's lower factor L at `l`. Cost 2 n^2 (two dtrsv: dpotrs
    /// would go through dtrsm, which packs L first and takes about three times as long for one
    /// right-hand side).
    static func solveLower(_ l: UnsafeMutablePointer<Double>, n: Int, ld: Int, b: UnsafeMutablePointer<Double>) {
        triangularSolve(l, n: n, ld: ld, transposed: false, x: b)
        triangularSolve(l, n: n, ld: ld, transposed: true, x: b)
    }

    /// x := L^-1 x (`transposed`: L^-T x) with L (n x n) lower triangular, x's entries `stride`
    /// apart. Cost n^2.
    static func triangularSolve(_ l: UnsafeMutablePointer<Double>, n: Int, ld: Int, transposed: Bool,
                                x: UnsafeMutablePointer<Double>, stride: Int = 1) {
        guard n > 0 else { return }
        var uplo = CChar(UInt8(ascii: "L")), trans = CChar(UInt8(ascii: transposed ? "T" : "N"))
        var diag = CChar(UInt8(ascii: "N")), n32 = Int32(n), ld32 = Int32(ld), inc = Int32(stride)
        trsv!(&uplo, &trans, &diag, &n32, l, &ld32, x, &inc)
    }

    /// C (n x n, lower triangle) -= B B^T with B (n x k). Cost n^2 k.
    static func subtractGram(_ b: UnsafeMutablePointer<Double>, n: Int, k: Int, ldb: Int,
                             c: UnsafeMutablePointer<Double>, ldc: Int) {
        var uplo = CChar(UInt8(ascii: "L")), trans = CChar(UInt8(ascii: "N"))
        var n32 = Int32(n), k32 = Int32(k), ldb32 = Int32(ldb), ldc32 = Int32(ldc)
        var alpha = -1.0, beta = 1.0
        syrk!(&uplo, &trans, &n32, &k32, &alpha, b, &ldb32, &beta, c, &ldc32)
    }

    /// B (m x k) := L^-1 B (`transposed`: L^-T B) with L (m x m) lower triangular. Cost m^2 k.
    static func solveLeftLower(_ l: UnsafeMutablePointer<Double>, m: Int, ldl: Int, transposed: Bool,
                               b: UnsafeMutablePointer<Double>, k: Int, ldb: Int) {
        var side = CChar(UInt8(ascii: "L")), uplo = CChar(UInt8(ascii: "L"))
        var trans = CChar(UInt8(ascii: transposed ? "T" : "N")), diag = CChar(UInt8(ascii: "N"))
        var m32 = Int32(m), k32 = Int32(k), ldl32 = Int32(ldl), ldb32 = Int32(ldb), one = 1.0
        trsm!(&side, &uplo, &trans, &diag, &m32, &k32, &one, l, &ldl32, b, &ldb32)
    }

    /// C (m x k) := A^T B (`accumulate`: C += A^T B) with A (r x m), B (r x k). Cost 2 r m k.
    static func innerProducts(_ a: UnsafeMutablePointer<Double>, lda: Int, _ b: UnsafeMutablePointer<Double>, ldb: Int,
                              rows r: Int, m: Int, k: Int, c: UnsafeMutablePointer<Double>, ldc: Int,
                              accumulate: Bool = false) {
        callGemm(transposeA: true, a, lda: lda, b, ldb: ldb, m: m, n: k, k: r, alpha: 1, beta: accumulate ? 1 : 0,
             c: c, ldc: ldc)
    }

    /// C (r x k) := alpha A B with A (r x m), B (m x k). Cost 2 r m k.
    static func multiply(_ a: UnsafeMutablePointer<Double>, lda: Int, _ b: UnsafeMutablePointer<Double>, ldb: Int,
                         rows r: Int, inner m: Int, columns k: Int, alpha: Double,
                         c: UnsafeMutablePointer<Double>, ldc: Int) {
        callGemm(transposeA: false, a, lda: lda, b, ldb: ldb, m: r, n: k, k: m, alpha: alpha, beta: 0, c: c, ldc: ldc)
    }

    private static func callGemm(transposeA: Bool, _ a: UnsafeMutablePointer<Double>, lda: Int,
                             _ b: UnsafeMutablePointer<Double>, ldb: Int, m: Int, n: Int, k: Int,
                             alpha: Double, beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        var ta = CChar(UInt8(ascii: transposeA ? "T" : "N")), tb = CChar(UInt8(ascii: "N"))
        var m32 = Int32(m), n32 = Int32(n), k32 = Int32(k), lda32 = Int32(lda), ldb32 = Int32(ldb), ldc32 = Int32(ldc)
        var alpha = alpha, beta = beta
        gemm!(&ta, &tb, &m32, &n32, &k32, &alpha, a, &lda32, b, &ldb32, &beta, c, &ldc32)
    }
}
