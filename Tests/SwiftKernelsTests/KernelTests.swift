import Foundation
import XCTest
@testable import SwiftKernels

final class SinCosTests: XCTestCase {
    func testAgainstFoundation() {
        var rng = Generator()
        var worst = 0.0
        for _ in 0..<2000 {
            let t = Vec((0..<8).map { _ in rng.uniform(-1e4, 1e4) })
            let (s, c) = sinCos2Pi(t)
            for lane in 0..<8 {
                // Reference on the exactly reduced argument, so the comparison sees kernel error only.
                let r = t[lane] - t[lane].rounded()
                worst = max(worst, abs(s[lane] - sin(2 * Double.pi * r)), abs(c[lane] - cos(2 * Double.pi * r)))
            }
        }
        XCTAssertLessThan(worst, 4e-16)
    }

    func testQuadrantsExactly() {
        let (s, c) = sinCos2Pi(Vec(0, 0.25, 0.5, 0.75, 1, -0.25, -0.5, 3.125))
        XCTAssertEqual(s[1], 1); XCTAssertEqual(c[2], -1); XCTAssertEqual(s[3], -1)
        XCTAssertEqual(s[5], -1); XCTAssertEqual(c[0], 1); XCTAssertEqual(c[4], 1)
        XCTAssertEqual(s[7], sin(Double.pi / 4), accuracy: 1e-16)
    }
}

final class WTildeTests: XCTestCase {
    func testWTildeMatchesDirectSum() {
        var rng = Generator()
        let p = Problem(n: 9, k: 300, rng: &rng)
        var out = [Double](repeating: .nan, count: p.m * p.m)
        p.noise.withUnsafeBufferPointer { noise in p.uv.withUnsafeBufferPointer { uv in
            p.grid.withUnsafeBufferPointer { grid in out.withUnsafeMutableBufferPointer { o in
                wTilde(noise: noise, uv: uv, grid: grid, out: o) } } } }
        var worst = 0.0
        for i in 0..<p.m { for j in 0..<p.m { worst = max(worst, abs(out[i * p.m + j] - p.directW(i, j))) } }
        XCTAssertLessThan(worst, 1e-12 * p.weightSum, "seed \(rng.state)")
    }

    func testCompactUnfoldsToDirectSum() throws {
        var rng = Generator()
        let p = Problem(n: 8, k: 250, rng: &rng)
        let cols = 2 * p.n - 1
        var compact = [Double](repeating: .nan, count: p.n * cols)
        p.noise.withUnsafeBufferPointer { noise in p.uv.withUnsafeBufferPointer { uv in
            compact.withUnsafeMutableBufferPointer { o in
                wCompact(noise: noise, uv: uv, gridSize: p.n, pixelScale: p.pixelScale, out: o) } } }
        let native = try p.nativePairs.withUnsafeBufferPointer {
            try NativeIndices($0, gridRows: p.n, gridCols: p.n, name: "native")
        }
        var w = [Double](repeating: .nan, count: p.m * p.m)
        compact.withUnsafeBufferPointer { c in w.withUnsafeMutableBufferPointer { o in
            wTildeViaCompact(c, gridSize: p.n, native: native, out: o) } }
        var worst = 0.0
        for i in stride(from: 0, to: p.m, by: 3) {
            for j in 0..<p.m { worst = max(worst, abs(w[i * p.m + j] - p.directW(i, j))) }
        }
        XCTAssertLessThan(worst, 1e-12 * p.weightSum)
    }

    func testWTildeData() {
        var rng = Generator()
        let p = Problem(n: 10, k: 333, rng: &rng)
        let vis = (0..<p.k).map { _ in rng.uniform(0.5, 3) * (rng.integer(2) == 0 ? -1 : 1) }
        var out = [Double](repeating: .nan, count: p.m)
        vis.withUnsafeBufferPointer { v in p.noise.withUnsafeBufferPointer { noise in
            p.uv.withUnsafeBufferPointer { uv in p.grid.withUnsafeBufferPointer { grid in
                out.withUnsafeMutableBufferPointer { o in
                    wTildeData(visibilities: v, noise: noise, uv: uv, grid: grid, out: o) } } } } }
        var scale = 0.0
        for q in 0..<p.k { scale += pow(p.noise[q] * p.noise[q] / vis[q], 2) }
        for i in 0..<p.m {
            var sum = 0.0
            for q in 0..<p.k {
                let w = pow(p.noise[q] * p.noise[q] / vis[q], 2)
                sum += w * cos(2 * Double.pi * (p.grid[2 * i + 1] * p.uv[2 * q] + p.grid[2 * i] * p.uv[2 * q + 1]))
            }
            XCTAssertEqual(out[i], sum, accuracy: 1e-12 * scale)
        }
    }
}

final class CurvatureTests: XCTestCase {
    /// F from the sparse kernels against T^T W T with a dense T and W.
    func testCurvatureBothWays() throws {
        var rng = Generator()
        let p = Problem(n: 11, k: 200, rng: &rng)
        let s = 17, b = 3
        let (indexes, weights) = randomMapping(rows: p.m, width: b, sources: s, rng: &rng)
        let mapping = try indexes.withUnsafeBufferPointer { i in try weights.withUnsafeBufferPointer { w in
            try SparseMapping(indexes: i, weights: w, rows: p.m, width: b, sources: s, name: "pix") } }
        var t = [Double](repeating: 0, count: p.m * s)
        t.withUnsafeMutableBufferPointer { mappingMatrix(mapping, out: $0) }
        var compact = [Double](repeating: 0, count: p.n * (2 * p.n - 1))
        p.noise.withUnsafeBufferPointer { noise in p.uv.withUnsafeBufferPointer { uv in
            compact.withUnsafeMutableBufferPointer { o in
                wCompact(noise: noise, uv: uv, gridSize: p.n, pixelScale: p.pixelScale, out: o) } } }
        let native = try p.nativePairs.withUnsafeBufferPointer {
            try NativeIndices($0, gridRows: p.n, gridCols: p.n, name: "native") }
        var w = [Double](repeating: 0, count: p.m * p.m)
        compact.withUnsafeBufferPointer { c in w.withUnsafeMutableBufferPointer { o in
            wTildeViaCompact(c, gridSize: p.n, native: native, out: o) } }
        // Dense reference: F = T^T (W T).
        var expected = [Double](repeating: 0, count: s * s)
        for a in 0..<s { for c in 0..<s {
            var sum = 0.0
            for i in 0..<p.m where t[i * s + a] != 0 {
                for j in 0..<p.m where t[j * s + c] != 0 { sum += t[i * s + a] * w[i * p.m + j] * t[j * s + c] }
            }
            expected[a * s + c] = sum
        } }
        let scale = expected.map(abs).max()!
        var f1 = [Double](repeating: .nan, count: s * s), f2 = f1, f3 = f1
        w.withUnsafeBufferPointer { wp in f1.withUnsafeMutableBufferPointer { curvatureFromWTilde(wp, mapping: mapping, out: $0) } }
        // The drop-in's path: an operator from w_compact, the order straight from the arrays.
        let op = compact.withUnsafeBufferPointer { OffsetOperator(wCompact: $0, gridSize: p.n, native: native) }
        let order = try indexes.withUnsafeBufferPointer { i in try weights.withUnsafeBufferPointer { w in
            try op.order(indexes: i, weights: w, width: b, sources: s, name: "pix") } }
        f2.withUnsafeMutableBufferPointer { op.curvature(order, method: .direct, out: $0) }
        f3.withUnsafeMutableBufferPointer { op.curvature(order, method: .fft, out: $0) }
        for e in 0..<(s * s) {
            XCTAssertEqual(f1[e], expected[e], accuracy: 1e-12 * scale)
            XCTAssertEqual(f2[e], expected[e], accuracy: 1e-12 * scale)
            XCTAssertEqual(f3[e], expected[e], accuracy: 1e-12 * scale)
        }
    }

    /// The order made straight from the (M, B) arrays is the one made from the mapping stored by
    /// column: the same places, and the same entries (rank, pixel, weight) in the same order,
    /// whatever follows a row's -1; the same error for an index outside [0, S); and `costs`, read
    /// from the order, is its formula summed over the mapping's columns, spanning both choices.
    func testOrderFromArraysMatchesColumns() throws {
        var rng = Generator()
        let p = Problem(n: 12, k: 50, rng: &rng)
        let native = try p.nativePairs.withUnsafeBufferPointer {
            try NativeIndices($0, gridRows: p.n, gridCols: p.n, name: "native") }
        let op = OffsetOperator(native: native) { dr, dc in Double(dr * 31 + dc) }
        // Masked slots of each box row's span, from its first to its last masked column.
        let height = native.rows.max()! + 1
        var low = [Int](repeating: Int.max, count: height), high = [Int](repeating: Int.min, count: height)
        for i in 0..<native.count {
            low[native.rows[i]] = min(low[native.rows[i]], native.cols[i])
            high[native.rows[i]] = max(high[native.rows[i]], native.cols[i])
        }
        func span(_ r: Int) -> Int { low[r] <= high[r] ? high[r] - low[r] + 1 : 0 }
        var chose = Set<Bool>()
        for (b, s) in [(0, 3), (1, 0), (1, 40), (3, 40), (3, 400), (8, 4), (32, 3)] {
            for _ in 0..<3 {
                var (indexes, weights) = b > 0 ? randomMapping(rows: p.m, width: b, sources: max(s, 1), rng: &rng) : ([], [])
                if s == 0 { indexes = indexes.map { _ in -1 } }
                // Anything after a row's -1 is never read, even an index outside [0, S).
                for i in 0..<p.m { if let end = (0..<b).first(where: { indexes[i * b + $0] == -1 }), end + 1 < b {
                    indexes[i * b + end + 1] = Int64(s + 1000)
                } }
                let (mapping, fromArrays) = try indexes.withUnsafeBufferPointer { i in try weights.withUnsafeBufferPointer { w in
                    (try SparseMapping(indexes: i, weights: w, rows: p.m, width: b, sources: s, name: "pix"),
                     try op.order(indexes: i, weights: w, width: b, sources: s, name: "pix")) } }
                let fromColumns = op.order(mapping)
                func same(_ x: Buffer<Int>, _ y: Buffer<Int>, _ n: Int, _ what: String) {
                    XCTAssertEqual(Array(UnsafeBufferPointer(start: x.pointer, count: n)),
                                   Array(UnsafeBufferPointer(start: y.pointer, count: n)), "\(what), B = \(b), S = \(s)")
                }
                let nnz = mapping.columnStart[s]
                same(fromArrays.sourceAt, fromColumns.sourceAt, s, "places")
                same(fromArrays.firstRank, fromColumns.firstRank, s, "first ranks")
                same(fromArrays.entryStart, fromColumns.entryStart, s + 1, "entry starts")
                same(fromArrays.entryRank, fromColumns.entryRank, nnz, "entry ranks")
                same(fromArrays.entryPixel, fromColumns.entryPixel, nnz, "entry pixels")
                XCTAssertEqual(Array(UnsafeBufferPointer(start: fromArrays.entryWeight.pointer, count: nnz)),
                               Array(UnsafeBufferPointer(start: fromColumns.entryWeight.pointer, count: nnz)),
                               "weights, B = \(b), S = \(s)")
                var direct = 0.0
                for c in 0..<s where mapping.columnStart[c] < mapping.columnStart[c + 1] {
                    let entries = mapping.columnStart[c]..<mapping.columnStart[c + 1]
                    let firstRow = entries.map { native.rows[mapping.columnPixel[$0]] }.min()!
                    direct += Double(entries.count) * Double((firstRow..<height).map(span).reduce(0, +))
                }
                let costs = op.costs(fromArrays)
                XCTAssertEqual(costs.direct, direct, "B = \(b), S = \(s)")
                if nnz > 0 { chose.insert(costs.fft < costs.direct) }
                // An index outside [0, S) before the row's -1: both refuse it, with one message.
                guard b > 0, s > 0 else { continue }
                indexes[b * (p.m / 2)] = Int64(s)
                let (fused, columns) = indexes.withUnsafeBufferPointer { i in weights.withUnsafeBufferPointer { w in
                    (Result(catching: { try op.order(indexes: i, weights: w, width: b, sources: s, name: "pix") }),
                     Result(catching: { try SparseMapping(indexes: i, weights: w, rows: p.m, width: b, sources: s, name: "pix") })) } }
                guard case .failure(let new) = fused, case .failure(let old) = columns else {
                    XCTFail("an index of S accepted, B = \(b), S = \(s)")
                    continue
                }
                XCTAssertEqual("\(new)", "\(old)")
                XCTAssertTrue("\(new)".contains("pix[\(p.m / 2), 0] = \(s) is outside"), "\(new)")
            }
        }
        XCTAssertEqual(chose, [false, true], "the mappings should span both choices")
    }

    func testMemoryPoolReusesLargeBlocks() {
        // An odd size, so that no block parked by another test fits it better.
        let bytes = 3 * MemoryPool.minimumBytes + 7 * 4096
        let (a, sizeA) = MemoryPool.allocate(bytes: bytes)
        MemoryPool.release(a, bytes: sizeA)
        let (b, sizeB) = MemoryPool.allocate(bytes: bytes - 64)
        XCTAssertEqual(a, b)
        XCTAssertEqual(sizeA, sizeB)
        MemoryPool.release(b, bytes: sizeB)
        // A request of less than half the block gets a block of its own.
        let (c, sizeC) = MemoryPool.allocate(bytes: MemoryPool.minimumBytes)
        XCTAssertNotEqual(c, b)
        MemoryPool.release(c, bytes: sizeC)
        // Huge-page blocks are whole 2 MB pages, 2 MB aligned.
        let (d, sizeD) = MemoryPool.allocate(bytes: MemoryPool.hugeBytes + 1)
        XCTAssertEqual(sizeD, 2 * MemoryPool.hugeBytes)
        XCTAssertEqual(Int(bitPattern: d) % MemoryPool.hugeBytes, 0)
        MemoryPool.release(d, bytes: sizeD)
    }

    func testStreamCopyEveryAlignmentAndLength() {
        // Targets starting at every 8-byte offset in a line, lengths from 0 past a few lines: the
        // copy is exact and touches nothing outside it (the streamed lines are whole lines).
        var rng = Generator()
        let capacity = 128
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 8 * capacity + 64, alignment: 64)
        defer { raw.deallocate() }
        let source = (0..<capacity).map { _ in rng.uniform(-1, 1) }
        let sentinel = -7.25
        for byteOffset in stride(from: 0, to: 64, by: 8) {
            for n in 0...40 {
                let bytes = raw + byteOffset
                for i in 0..<(capacity + 1) { bytes.storeBytes(of: sentinel, toByteOffset: 8 * i, as: Double.self) }
                let target = bytes.assumingMemoryBound(to: Double.self)
                source.withUnsafeBufferPointer { streamCopy(target + 1, $0.baseAddress!, n) }
                func value(_ i: Int) -> Double { bytes.load(fromByteOffset: 8 * i, as: Double.self) }
                XCTAssertEqual(value(0), sentinel, "offset \(byteOffset), n \(n): before the target")
                for i in 0..<n { XCTAssertEqual(value(1 + i), source[i], "offset \(byteOffset), n \(n), element \(i)") }
                XCTAssertEqual(value(1 + n), sentinel, "offset \(byteOffset), n \(n): past the target")
            }
        }
    }

    func testIndexOutsideSourcesThrows() {
        let indexes: [Int64] = [0, 1, -1, 2, 5, 0], weights = [Double](repeating: 1, count: 6)
        XCTAssertThrowsError(try indexes.withUnsafeBufferPointer { i in try weights.withUnsafeBufferPointer { w in
            try SparseMapping(indexes: i, weights: w, rows: 2, width: 3, sources: 5, name: "pix") } }) { error in
            guard case KernelError.index(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("pix[1, 1] = 5"), message)
        }
        let native: [Int64] = [0, 0, 3, 1]
        XCTAssertThrowsError(try native.withUnsafeBufferPointer { try NativeIndices($0, gridRows: 3, gridCols: 3, name: "native") })
    }

    func testRegularization() throws {
        let neighbors: [Int64] = [1, 2, -1, 0, -1, -1, 0, 1, -1], sizes: [Int64] = [2, 1, 2]
        var h = [Double](repeating: .nan, count: 9)
        try neighbors.withUnsafeBufferPointer { nb in try sizes.withUnsafeBufferPointer { sz in
            try h.withUnsafeMutableBufferPointer { try constantRegularization(coefficient: 2, neighbors: nb, width: 3, sizes: sz, out: $0) } } }
        XCTAssertEqual(h[0], 1e-8 + 8); XCTAssertEqual(h[1], -4); XCTAssertEqual(h[2], -4)
        XCTAssertEqual(h[3], -4); XCTAssertEqual(h[4], 1e-8 + 4); XCTAssertEqual(h[5], 0)
        let bad: [Int64] = [1, 7, -1, 0, -1, -1, 0, 1, -1]
        XCTAssertThrowsError(try bad.withUnsafeBufferPointer { nb in try sizes.withUnsafeBufferPointer { sz in
            try h.withUnsafeMutableBufferPointer { try constantRegularization(coefficient: 2, neighbors: nb, width: 3, sizes: sz, out: $0) } } })
    }
}

final class WeightedSumTests: XCTestCase {
    func testSequentialSemantics() {
        var rng = Generator()
        for n in [1, 15, 16, 17, 1000, 70_001] {
            let a = (0..<n).map { _ in rng.uniform(-1, 1) }, b = (0..<n).map { _ in rng.uniform(-1, 1) }
            var out = (0..<n).map { _ in rng.uniform(-1, 1) }
            var expected = out
            for i in 0..<n { expected[i] += 2 * a[i]; expected[i] += -0.5 * expected[i]; expected[i] += 3 * b[i] }
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { o in
                weightedSum(out: o, weights: [2, -0.5, 3], arrays: [ap.baseAddress, nil, bp.baseAddress]) } } }
            XCTAssertEqual(out, expected)
        }
    }
}

/// Every threaded kernel on 2 and on 4 threads against 1 thread (and, under `make sanitize`,
/// under ThreadSanitizer): same answers, no races. Two threads run on the helpers (`Workers`),
/// four beyond this machine kind's two CPUs on Dispatch.
final class ThreadedKernelTests: XCTestCase {
    override func tearDown() { Threads.count = 1 }

    /// The body's answer on one thread, and its answers on 2 and on 4 threads.
    private func run<T: Equatable>(_ body: () throws -> [T]) rethrows -> ([T], [[T]]) {
        Threads.count = 1
        let one = try body()
        var others: [[T]] = []
        for threads in [2, 4] {
            Threads.count = threads
            others.append(try body())
        }
        return (one, others)
    }

    func testKernelsAgreeAcrossThreadCounts() throws {
        var rng = Generator()
        let p = Problem(n: 12, k: 700, rng: &rng)
        let s = 23
        let (indexes, weights) = randomMapping(rows: p.m, width: 3, sources: s, rng: &rng)
        let mapping = try indexes.withUnsafeBufferPointer { i in try weights.withUnsafeBufferPointer { w in
            try SparseMapping(indexes: i, weights: w, rows: p.m, width: 3, sources: s, name: "pix") } }
        let native = try p.nativePairs.withUnsafeBufferPointer {
            try NativeIndices($0, gridRows: p.n, gridCols: p.n, name: "native") }
        let compactOf: () -> [Double] = {
            var out = [Double](repeating: 0, count: p.n * (2 * p.n - 1))
            p.noise.withUnsafeBufferPointer { noise in p.uv.withUnsafeBufferPointer { uv in
                out.withUnsafeMutableBufferPointer {
                    wCompact(noise: noise, uv: uv, gridSize: p.n, pixelScale: p.pixelScale, out: $0) } } }
            return out
        }
        let (c1, cN) = run(compactOf)
        for c in cN { for (a, b) in zip(c1, c) { XCTAssertEqual(a, b, accuracy: 1e-12 * p.weightSum) } }
        let (w1, wN) = run { () -> [Double] in
            var out = [Double](repeating: 0, count: p.m * p.m)
            p.noise.withUnsafeBufferPointer { noise in p.uv.withUnsafeBufferPointer { uv in
                p.grid.withUnsafeBufferPointer { grid in out.withUnsafeMutableBufferPointer {
                    wTilde(noise: noise, uv: uv, grid: grid, out: $0) } } } }
            return out
        }
        for w in wN { XCTAssertEqual(w1, w) }
        // One operator shared by the threads of each call, direct and fft.
        let op = c1.withUnsafeBufferPointer { OffsetOperator(wCompact: $0, gridSize: p.n, native: native) }
        for method in [CurvatureMethod.direct, .fft] {
            let (f1, fN) = run { () -> [Double] in
                var out = [Double](repeating: .nan, count: s * s)
                out.withUnsafeMutableBufferPointer { op.curvature(mapping, method: method, out: $0) }
                return out
            }
            let scale = f1.map(abs).max()!
            for f in fN { for (a, b) in zip(f1, f) { XCTAssertEqual(a, b, accuracy: 1e-13 * scale) } }
        }
        let (t1, tN) = run { () -> [Double] in
            let x = (0..<(p.m * 5)).map { Double($0 % 17) - 8 }
            var out = [Double](repeating: .nan, count: s * 5)
            x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer {
                transposeMatmul(mapping, matrix: xp, columns: 5, out: $0) } }
            return out
        }
        for t in tN { XCTAssertEqual(t1, t) }
    }
}
