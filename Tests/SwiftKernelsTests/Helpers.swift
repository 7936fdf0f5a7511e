import Foundation
import SwiftKernels

/// A small deterministic generator (SplitMix64) so tests need no Foundation randomness, seeded
/// fresh per test from the clock and printed on failure through `seedDescription`.
struct Generator {
    var state: UInt64
    init(seed: UInt64 = UInt64(DispatchTime.now().uptimeNanoseconds)) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform(_ lo: Double, _ hi: Double) -> Double {
        lo + (hi - lo) * Double(next() >> 11) / Double(1 << 53)
    }
    mutating func integer(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// A random interferometer problem on a circular mask of an n x n grid.
struct Problem {
    let n: Int
    let pixelScale: Double
    let noise: [Double]
    let uv: [Double]          // (K, 2)
    let rows: [Int], cols: [Int]
    let grid: [Double]        // (M, 2) of (y, x)
    var k: Int { noise.count }
    var m: Int { rows.count }
    var weightSum: Double { noise.reduce(0) { $0 + 1 / ($1 * $1) } }

    init(n: Int, k: Int, rng: inout Generator) {
        self.n = n
        pixelScale = rng.uniform(0.05, 0.2)
        let d = pixelScale * Double.pi / 648000
        noise = (0..<k).map { _ in rng.uniform(0.5, 2) }
        uv = (0..<(2 * k)).map { _ in rng.uniform(-3e5, 3e5) }
        var rows: [Int] = [], cols: [Int] = []
        let c = Double(n - 1) / 2
        for r in 0..<n {
            for q in 0..<n where (Double(r) - c) * (Double(r) - c) + (Double(q) - c) * (Double(q) - c) <= Double(n * n) / 4 {
                rows.append(r)
                cols.append(q)
            }
        }
        self.rows = rows
        self.cols = cols
        let y0 = rng.uniform(-1e-5, 1e-5), x0 = rng.uniform(-1e-5, 1e-5)
        grid = (0..<rows.count).flatMap { [y0 - d * Double(rows[$0]), x0 + d * Double(cols[$0])] }
    }

    /// W[i, j] by the defining sum, one cosine per term.
    func directW(_ i: Int, _ j: Int) -> Double {
        var sum = 0.0
        for q in 0..<k {
            let dy = grid[2 * i] - grid[2 * j], dx = grid[2 * i + 1] - grid[2 * j + 1]
            sum += cos(2 * Double.pi * (dx * uv[2 * q] + dy * uv[2 * q + 1])) / (noise[q] * noise[q])
        }
        return sum
    }

    var nativePairs: [Int64] { (0..<m).flatMap { [Int64(rows[$0]), Int64(cols[$0])] } }
}

/// A ragged random mapping: B entries per row, some rows cut short by -1.
func randomMapping(rows m: Int, width b: Int, sources s: Int, rng: inout Generator) -> ([Int64], [Double]) {
    var indexes = [Int64](repeating: -1, count: m * b), weights = [Double](repeating: 0, count: m * b)
    for i in 0..<m {
        let used = 1 + rng.integer(b)
        for j in 0..<used {
            indexes[i * b + j] = Int64(rng.integer(s))
            weights[i * b + j] = rng.uniform(0.1, 1)
        }
        if used < b { weights[i * b + used] = 123 }  // after the sentinel: must be ignored
    }
    return (indexes, weights)
}
