import XCTest
@testable import SwiftKernels

final class CurvatureGradientTests: XCTestCase {
    /// The weights' VJP of F against sum_s' (W T)[m, s'] (G + G^T)[pix[m, b], s'] with dense W and
    /// T, on one and on three threads, for S below, at and above a multiple of eight; zeros from a
    /// row's -1 on; an index outside [0, S) throws.
    func testWeightGradientMatchesDense() throws {
        var rng = Generator()
        let p = Problem(n: 10, k: 20, rng: &rng)
        let native = try p.nativePairs.withUnsafeBufferPointer {
            try NativeIndices($0, gridRows: p.n, gridCols: p.n, name: "native") }
        let side = 2 * p.n - 1, kernel = (0..<(side * side)).map { _ in rng.uniform(-1, 1) }
        func w(_ dr: Int, _ dc: Int) -> Double { kernel[(dr + p.n - 1) * side + dc + p.n - 1] }
        let op = OffsetOperator(native: native) { dr, dc in w(dr, dc) + w(-dr, -dc) }  // even, as a true W is
        let before = Threads.count
        defer { Threads.count = before }
        for (s, threads) in [(7, 1), (16, 3), (21, 3)] {
            Threads.count = threads
            let b = 3
            var (indexes, weights) = randomMapping(rows: p.m, width: b, sources: s, rng: &rng)
            let g = (0..<(s * s)).map { _ in rng.uniform(-1, 1) }
            var t = [Double](repeating: 0, count: p.m * s)
            for i in 0..<p.m { for k in 0..<b { if indexes[i * b + k] < 0 { break }; t[i * s + Int(indexes[i * b + k])] += weights[i * b + k] } }
            var omega = [Double](repeating: 0, count: p.m * s)
            for i in 0..<p.m { for j in 0..<p.m { for c in 0..<s where t[j * s + c] != 0 {
                omega[i * s + c] += (w(native.rows[i] - native.rows[j], native.cols[i] - native.cols[j])
                                     + w(native.rows[j] - native.rows[i], native.cols[j] - native.cols[i])) * t[j * s + c]
            } } }
            var expected = [Double](repeating: 0, count: p.m * b)
            for i in 0..<p.m { for k in 0..<b {
                let q = Int(indexes[i * b + k])
                if q < 0 { break }
                for c in 0..<s { expected[i * b + k] += omega[i * s + c] * (g[q * s + c] + g[c * s + q]) }
            } }
            var got = [Double](repeating: .nan, count: p.m * b)
            let order = try indexes.withUnsafeBufferPointer { i in try weights.withUnsafeBufferPointer { wt in
                try op.order(indexes: i, weights: wt, width: b, sources: s, name: "pix") } }
            try indexes.withUnsafeBufferPointer { i in try g.withUnsafeBufferPointer { gp in try got.withUnsafeMutableBufferPointer {
                try op.curvatureWeightGradient(order, indexes: i, width: b, cotangent: gp, name: "pix", out: $0) } } }
            let scale = expected.map(abs).max()!
            XCTAssertGreaterThan(scale, 0)
            for e in 0..<(p.m * b) { XCTAssertEqual(got[e], expected[e], accuracy: 1e-12 * scale, "S = \(s), entry \(e)") }
            indexes[b * 2] = Int64(s)
            XCTAssertThrowsError(try indexes.withUnsafeBufferPointer { i in try g.withUnsafeBufferPointer { gp in
                try got.withUnsafeMutableBufferPointer {
                    try op.curvatureWeightGradient(order, indexes: i, width: b, cotangent: gp, name: "pix", out: $0) } } })
        }
    }
}
