import XCTest
@testable import SwiftKernels

/// The ordering behind log det H (reverse Cuthill-McKee on the neighbour graph); the banded
/// factorisation itself needs SciPy's LAPACK and is tested from Python.
final class BandOrderingTests: XCTestCase {
    /// Neighbour lists (rows padded with -1) from each vertex's neighbours.
    private func lists(_ rows: [[Int]]) throws -> NeighbourLists {
        let p = max(rows.map(\.count).max() ?? 0, 1)
        var flat = [Int64](repeating: -1, count: rows.count * p)
        for (i, r) in rows.enumerated() { for (j, k) in r.enumerated() { flat[i * p + j] = Int64(k) } }
        let sizes = rows.map { Int64($0.count) }
        return try flat.withUnsafeBufferPointer { nb in
            try sizes.withUnsafeBufferPointer { try NeighbourLists(neighbors: nb, width: p, sizes: $0, rowsEndAtSizes: false) }
        }
    }

    /// `rows` with vertex v renamed to label[v] (both ways round).
    private func relabelled(_ rows: [[Int]], rng: inout Generator) -> [[Int]] {
        var label = Array(rows.indices)
        for i in stride(from: label.count - 1, to: 0, by: -1) { label.swapAt(i, rng.integer(i + 1)) }
        var out = [[Int]](repeating: [], count: rows.count)
        for (v, r) in rows.enumerated() { out[label[v]] = r.map { label[$0] } }
        return out
    }

    /// An m x n grid graph, vertex (a, b) = a n + b, linked to its 4 neighbours.
    private func grid(_ m: Int, _ n: Int) -> [[Int]] {
        (0..<(m * n)).map { v in
            let (a, b) = (v / n, v % n)
            return [(a - 1, b), (a + 1, b), (a, b - 1), (a, b + 1)]
                .filter { $0.0 >= 0 && $0.0 < m && $0.1 >= 0 && $0.1 < n }.map { $0.0 * n + $0.1 }
        }
    }

    private func assertPermutation(_ position: [Int], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(position.sorted(), Array(position.indices), "not a permutation", file: file, line: line)
    }

    func testPathAndGridNarrowFromAnyNumbering() throws {
        var rng = Generator()
        let path = (0..<200).map { v in [v - 1, v + 1].filter { $0 >= 0 && $0 < 200 } }
        let shuffledPath = try lists(relabelled(path, rng: &rng))
        XCTAssertGreaterThan(bandHalfWidth(shuffledPath, position: Array(0..<200)), 1)
        var position = reverseCuthillMcKee(SymmetricGraph(shuffledPath))
        assertPermutation(position)
        XCTAssertEqual(bandHalfWidth(shuffledPath, position: position), 1)
        // An m x n grid (m < n) orders into a band of about m from a corner.
        let shuffledGrid = try lists(relabelled(grid(9, 40), rng: &rng))
        position = reverseCuthillMcKee(SymmetricGraph(shuffledGrid))
        assertPermutation(position)
        XCTAssertLessThanOrEqual(bandHalfWidth(shuffledGrid, position: position), 10)
    }

    func testDisconnectedAndIsolatedVerticesAreAllNumbered() throws {
        var rng = Generator()
        // two paths (0..<50, 50..<120) and three isolated vertices, renumbered at random
        var rows = (0..<120).map { v -> [Int] in
            let (lo, hi) = v < 50 ? (0, 50) : (50, 120)
            return [v - 1, v + 1].filter { $0 >= lo && $0 < hi }
        }
        rows += [[], [], []]
        let g = try lists(relabelled(rows, rng: &rng))
        let position = reverseCuthillMcKee(SymmetricGraph(g))
        assertPermutation(position)
        XCTAssertEqual(bandHalfWidth(g, position: position), 1)
    }

    func testGraphSymmetrisesAndDropsRepeatsAndSelfLoops() throws {
        // 0 lists 1 twice and itself; 2 lists 0 but 0 does not list 2
        let g = SymmetricGraph(try lists([[1, 1, 0], [0], [0]]))
        XCTAssertEqual(g.vertices, 3)
        XCTAssertEqual(Set(g.adjacent[g.start[0]..<g.start[1]]), [1, 2])
        XCTAssertEqual(g.degree(0), 2)
        XCTAssertEqual(Array(g.adjacent[g.start[1]..<g.start[2]]), [0])
        XCTAssertEqual(Array(g.adjacent[g.start[2]..<g.start[3]]), [0])
        XCTAssertEqual(g.byDegree(), [1, 2, 0])
    }

    func testNeighbourListsNameTheBadEntry() {
        let neighbors: [Int64] = [1, -1, 0, 4], sizes: [Int64] = [1, 2]
        func error(_ rowsEndAtSizes: Bool, _ sizes: [Int64]) -> KernelError? {
            do {
                _ = try neighbors.withUnsafeBufferPointer { nb in
                    try sizes.withUnsafeBufferPointer { try NeighbourLists(neighbors: nb, width: 2, sizes: $0, rowsEndAtSizes: rowsEndAtSizes) }
                }
            } catch let e as KernelError { return e } catch { return nil }
            return nil
        }
        XCTAssertEqual(error(false, sizes), .index("neighbors[1, 1] = 4 is outside [0, 2); -1 ends a row"))
        XCTAssertEqual(error(true, [1, 3]), .index("neighbors_sizes[1] = 3 is outside [0, 2]"))
        XCTAssertEqual(error(true, [1, 1]), nil)
    }
}
