import XCTest
@testable import SwiftKernels

final class LimitsTests: XCTestCase {
    func testNamesAreUniqueAndValuesFinite() {
        let names = Limits.all.map { $0.0 }
        XCTAssertEqual(Set(names).count, names.count)
        XCTAssertTrue(Limits.all.allSatisfy { $0.1.isFinite && $0.1 > 0 })
        XCTAssertTrue(names.contains("max_threads"))
    }

    func testWidthFollowsEps() {
        XCTAssertEqual(NUFFTAccuracy.width(eps: 1e-12), 13)
        XCTAssertEqual(NUFFTAccuracy.width(eps: 1e-6), 7)
        XCTAssertEqual(NUFFTAccuracy.width(eps: 1e-1), 2)
        XCTAssertEqual(NUFFTAccuracy.width(eps: 1e-14), 15)
    }

    func testWCompactCostModelPicksByWork() {
        XCTAssertFalse(wCompactPrefersNUFFT(gridSize: 10, visibilities: 100, eps: 1e-12))
        XCTAssertTrue(wCompactPrefersNUFFT(gridSize: 300, visibilities: 10_000_000, eps: 1e-12))
        XCTAssertFalse(wCompactPrefersNUFFT(gridSize: 300, visibilities: 10_000_000, eps: 1e-20))  // outside the range: exact
    }
}
