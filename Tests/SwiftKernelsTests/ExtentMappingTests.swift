import XCTest
@testable import SwiftKernels

/// The production library's mapping layouts (CSR + CSC, COO on the extent) read into a
/// `SparseMapping`: the same dense T as a direct accumulation, and every bad index refused.
final class ExtentMappingTests: XCTestCase {
    private func dense(_ mapping: SparseMapping) -> [Double] {
        var t = [Double](repeating: 0, count: mapping.imagePixels * mapping.sourcePixels)
        for s in 0..<mapping.sourcePixels {
            for e in mapping.columnStart[s]..<mapping.columnStart[s + 1] {
                t[mapping.columnPixel[e] * mapping.sourcePixels + s] += mapping.columnWeight[e]
            }
        }
        return t
    }

    func testTripletsDropOutsideColumnsAndAddDuplicates() throws {
        var rng = Generator()
        let cells = 40, sources = 7, n = 150
        let rows = (0..<n).map { _ in Int64(rng.integer(cells)) }
        let cols = (0..<n).map { _ in Int64(rng.integer(sources + 3)) - 1 }  // -1 ... S + 1
        let vals = (0..<n).map { _ in rng.uniform(0.1, 1) }
        var want = [Double](repeating: 0, count: cells * sources)
        for k in 0..<n where cols[k] >= 0 && cols[k] < sources { want[Int(rows[k]) * sources + Int(cols[k])] += vals[k] }
        let mapping = try rows.withUnsafeBufferPointer { r in try cols.withUnsafeBufferPointer { c in
            try vals.withUnsafeBufferPointer { v in
                try SparseMapping(rows: r, columns: c, values: v, cells: cells, sources: sources, names: ("rows", "cols"))
            } } }
        let got = dense(mapping)
        for i in 0..<want.count { XCTAssertEqual(got[i], want[i], accuracy: 1e-14, "seed \(rng.state)") }
        var bad = rows
        bad[cols.firstIndex { $0 >= 0 && $0 < sources }!] = Int64(cells)
        XCTAssertThrowsError(try bad.withUnsafeBufferPointer { r in try cols.withUnsafeBufferPointer { c in
            try vals.withUnsafeBufferPointer { v in
                try SparseMapping(rows: r, columns: c, values: v, cells: cells, sources: sources, names: ("rows", "cols"))
            } } })
    }

    func testCompressedPairMustAgree() throws {
        var rng = Generator()
        let m = 30, sources = 9
        var t = [Double](repeating: 0, count: m * sources)
        for i in 0..<m { for _ in 0..<3 { t[i * sources + rng.integer(sources)] = rng.uniform(0.1, 1) } }
        var indptr: [Int64] = [0], col: [Int64] = [], val: [Double] = []
        for i in 0..<m {
            for s in 0..<sources where t[i * sources + s] != 0 { col.append(Int64(s)); val.append(t[i * sources + s]) }
            indptr.append(Int64(col.count))
        }
        var cscptr: [Int64] = [0], row: [Int64] = [], cval: [Double] = []
        for s in 0..<sources {
            for i in (0..<m).reversed() where t[i * sources + s] != 0 { row.append(Int64(i)); cval.append(t[i * sources + s]) }
            cscptr.append(Int64(row.count))
        }
        func read(_ cval: [Double], _ row: [Int64]) throws -> SparseMapping {
            try indptr.withUnsafeBufferPointer { a in try col.withUnsafeBufferPointer { b in try val.withUnsafeBufferPointer { c in
                try cscptr.withUnsafeBufferPointer { d in try row.withUnsafeBufferPointer { e in try cval.withUnsafeBufferPointer { f in
                    try SparseMapping(csrStart: a, column: b, value: c, cscStart: d, row: e, cscValue: f,
                                      imagePixels: m, sources: sources) } } } } } }
        }
        XCTAssertEqual(dense(try read(cval, row)), t, "a CSC listing rows in another order is the same T")
        var changed = cval
        changed[0] *= 2
        XCTAssertThrowsError(try read(changed, row)) { XCTAssertTrue("\($0)".contains("csc_row / csc_val")) }
        var outside = row
        outside[1] = Int64(m)
        XCTAssertThrowsError(try read(cval, outside)) { XCTAssertTrue("\($0)".contains("csc_row[1]")) }
    }
}
