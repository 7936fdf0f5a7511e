import XCTest
@testable import SwiftKernels

/// The parts of the positive-only solve that need no LAPACK (the solve itself is tested from
/// Python, where SciPy's LAPACK is installed): the input checks and the seed order.
final class InversionTests: XCTestCase {
    private func symmetric(_ n: Int, rng: inout Generator) -> [Double] {
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                let v = rng.uniform(-1, 1) + (i == j ? Double(n) : 0)
                a[i * n + j] = v
                a[j * n + i] = v
            }
        }
        return a
    }

    private func message(_ body: () throws -> Void) -> String? {
        do { try body() } catch let KernelError.value(m) { return m } catch { return "\(error)" }
        return nil
    }

    func testSymmetricFiniteAcceptsAndNames() {
        var rng = Generator()
        let n = 131  // more than two 64-wide tiles
        var a = symmetric(n, rng: &rng)
        XCTAssertNil(message { try a.withUnsafeBufferPointer { try checkSymmetricFinite($0, n: n, name: "A") } })
        a[100 * n + 7] += 1e-3
        let asymmetric = message { try a.withUnsafeBufferPointer { try checkSymmetricFinite($0, n: n, name: "A") } }
        XCTAssertEqual(asymmetric?.hasPrefix("A is not symmetric: [100, 7]"), true, asymmetric ?? "no error")
        a[100 * n + 7] = a[7 * n + 100]
        a[7 * n + 100] = .nan
        let nan = message { try a.withUnsafeBufferPointer { try checkSymmetricFinite($0, n: n, name: "A") } }
        XCTAssertEqual(nan, "A[7, 100] is nan (not finite)")
        let vector = [1.0, -.infinity]
        let inf = message { try vector.withUnsafeBufferPointer { try checkFinite($0, name: "d") } }
        XCTAssertEqual(inf, "d[1] is -inf (not finite)")
    }

    /// The blocked fast pass agrees with the entry-by-entry check wherever one entry is broken:
    /// in a 4 x 4 block, on the diagonal, in the last n % 4 rows and columns, by asymmetry, NaN or inf.
    func testSymmetricFiniteFastPassSeesEveryEntry() {
        var rng = Generator()
        let n = 71  // 17 blocks of 4 and 3 rows over; two 64-wide tiles
        let clean = symmetric(n, rng: &rng)
        XCTAssertTrue(clean.withUnsafeBufferPointer { isSymmetricFinite($0, n: n, relative: 1e-10) })
        let positions = [(0, 0), (5, 2), (2, 5), (63, 64), (64, 63), (70, 3), (3, 70), (69, 69), (70, 68), (40, 40)]
        for (i, j) in positions {
            for bad in [1e-3, .nan, .infinity, -.infinity] where i != j || !bad.isFinite {
                var a = clean
                a[i * n + j] = bad.isFinite ? a[i * n + j] + bad : bad
                let fast = a.withUnsafeBufferPointer { isSymmetricFinite($0, n: n, relative: 1e-10) }
                XCTAssertFalse(fast, "[\(i), \(j)] = \(bad)")
                XCTAssertNotNil(message { try a.withUnsafeBufferPointer { try checkSymmetricFinite($0, n: n, name: "A") } })
            }
        }
        // Within the tolerance (relative to the largest diagonal entry) is symmetric enough.
        var a = clean
        a[70 * n + 1] += 1e-11 * Double(n)
        XCTAssertTrue(a.withUnsafeBufferPointer { isSymmetricFinite($0, n: n, relative: 1e-10) })
    }

    func testDescendingOrderIsStable() {
        let values = [0.5, 2.0, -1.0, 2.0, 0.0]
        XCTAssertEqual(values.withUnsafeBufferPointer(descendingOrder), [1, 3, 0, 4, 2])
    }

    /// The zero-set solver's dtrsm blocks: contiguous, covering every position, and of least cost
    /// (checked against every way of cutting short lists).
    func testBlockEndsAreTheCheapestCuts() {
        func cost(_ p: [Int], _ ends: [Int], n: Int) -> Double {
            var total = 0.0, at = 0
            for end in ends {
                let rows = Double(n - p[at])
                total += rows * rows * Double(end - at + ZeroSetSolver.callOverhead)
                at = end
            }
            return total
        }
        var rng = Generator()
        let n = 400
        for _ in 0..<40 {
            let m = Int(rng.uniform(1, 9))
            let p = (0..<m).map { _ in Int(rng.uniform(0, Double(n))) }.sorted()
            let ends = ZeroSetSolver.blockEnds(p, n: n)
            XCTAssertEqual(ends.last, m)
            XCTAssertEqual(ends, ends.sorted())
            var best = Double.infinity
            for mask in 0..<(1 << (m - 1)) {  // bit k: cut after position k
                let cuts = (0..<(m - 1)).filter { mask & (1 << $0) != 0 }.map { $0 + 1 } + [m]
                best = min(best, cost(p, cuts, n: n))
            }
            XCTAssertEqual(cost(p, ends, n: n), best, accuracy: 1e-9 * best, "\(p)")
        }
        // Positions close together share a call; one far above the rest gets its own.
        XCTAssertEqual(ZeroSetSolver.blockEnds([0, 1000, 1001, 1002, 1003], n: 1100), [1, 5])
        XCTAssertEqual(ZeroSetSolver.blockEnds([], n: 10), [])
    }

    func testSolveWithoutLAPACKSaysSo() throws {
        try XCTSkipIf(LAPACK.installed, "LAPACK was installed by another test")
        let a = [2.0], d = [1.0]
        var s = [0.0]
        let m = message {
            _ = try a.withUnsafeBufferPointer { a in
                try d.withUnsafeBufferPointer { d in
                    try s.withUnsafeMutableBufferPointer { s in
                        try positiveOnlySolve(a: a, d: d, start: nil, positiveOnly: true, maxIterations: 10, out: s)
                    }
                }
            }
        }
        XCTAssertEqual(m?.hasPrefix("LAPACK routines are not installed"), true, m ?? "no error")
    }
}
