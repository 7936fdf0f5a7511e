import Foundation
import XCTest
import SwiftKernels

/// The defining sums, in plain Double with Foundation's sin/cos: sum_j x[j] exp(sign 2 pi i jk/n)
/// for interleaved complex x.
private func directDFT(_ x: [Double], sign: Double = -1) -> [Double] {
    let n = x.count / 2
    var out = [Double](repeating: 0, count: 2 * n)
    for k in 0..<n {
        var re = 0.0, im = 0.0
        for j in 0..<n {
            let angle = sign * 2 * Double.pi * Double((j * k) % n) / Double(n)
            let c = cos(angle), s = sin(angle)
            re += x[2 * j] * c - x[2 * j + 1] * s
            im += x[2 * j] * s + x[2 * j + 1] * c
        }
        out[2 * k] = re
        out[2 * k + 1] = im
    }
    return out
}

/// Separable direct 2D DFT of a row-major (n1, n2) interleaved complex array.
private func directDFT2(_ x: [Double], _ n1: Int, _ n2: Int, sign: Double = -1) -> [Double] {
    var a = x
    for r in 0..<n1 {
        let row = directDFT(Array(a[(2 * r * n2)..<(2 * (r + 1) * n2)]), sign: sign)
        a.replaceSubrange((2 * r * n2)..<(2 * (r + 1) * n2), with: row)
    }
    for c in 0..<n2 {
        var column = [Double](repeating: 0, count: 2 * n1)
        for r in 0..<n1 { column[2 * r] = a[2 * (r * n2 + c)]; column[2 * r + 1] = a[2 * (r * n2 + c) + 1] }
        column = directDFT(column, sign: sign)
        for r in 0..<n1 { a[2 * (r * n2 + c)] = column[2 * r]; a[2 * (r * n2 + c) + 1] = column[2 * r + 1] }
    }
    return a
}

private func norm(_ x: [Double]) -> Double { sqrt(x.reduce(0) { $0 + $1 * $1 }) }

private func maxError(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

private func randomArray(_ count: Int, _ rng: inout Generator) -> [Double] {
    (0..<count).map { _ in rng.uniform(-1, 1) }
}

final class FFTTests: XCTestCase {
    static let lengths = [1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 15, 16, 25, 27, 30, 45, 48, 60, 64, 75, 81, 100, 120,
                          125, 128, 243, 250, 256, 375, 400]

    // The 1D transform (`LaneFFT`) through a 1 x n 2D plan: one row pass, a trivial column pass.
    func test1DAgainstDirectDFT() {
        var rng = Generator()
        let seed = rng.state
        for n in FFTTests.lengths {
            let plan = FFT2D(1, n)
            let x = randomArray(2 * n, &rng)
            var f = x, b = x
            f.withUnsafeMutableBufferPointer { plan.forward($0.baseAddress!, threads: 1) }
            b.withUnsafeMutableBufferPointer { plan.inverse($0.baseAddress!, threads: 1) }
            let scale = norm(x)
            XCTAssertLessThan(maxError(f, directDFT(x)) / scale, 1e-14, "forward n=\(n) seed \(seed)")
            XCTAssertLessThan(maxError(b, directDFT(x, sign: 1)) / scale, 1e-14, "inverse n=\(n) seed \(seed)")
        }
    }

    func test1DRoundTripLarge() {
        var rng = Generator()
        for n in [1000, 1024, 1200, 1440, 3125] {
            let plan = FFT2D(1, n)
            let x = randomArray(2 * n, &rng)
            var y = x
            y.withUnsafeMutableBufferPointer {
                plan.forward($0.baseAddress!, threads: 1)
                plan.inverse($0.baseAddress!, threads: 1)
            }
            let err = maxError(y.map { $0 / Double(n) }, x)
            XCTAssertLessThan(err, 1e-14, "n=\(n)")
        }
    }

    func test2DAgainstSeparableDFT() {
        var rng = Generator()
        let seed = rng.state
        for (n1, n2) in [(6, 10), (12, 16), (15, 8), (1, 5), (5, 1), (9, 20), (25, 30), (10, 45), (3, 64)] {
            let plan = FFT2D(n1, n2)
            let x = randomArray(2 * n1 * n2, &rng)
            let scale = norm(x)
            for threads in [1, 2] {
                var f = x, b = x
                f.withUnsafeMutableBufferPointer { plan.forward($0.baseAddress!, threads: threads) }
                b.withUnsafeMutableBufferPointer { plan.inverse($0.baseAddress!, threads: threads) }
                XCTAssertLessThan(maxError(f, directDFT2(x, n1, n2)) / scale, 1e-14,
                                  "forward \(n1)x\(n2) threads \(threads) seed \(seed)")
                XCTAssertLessThan(maxError(b, directDFT2(x, n1, n2, sign: 1)) / scale, 1e-14,
                                  "inverse \(n1)x\(n2) threads \(threads) seed \(seed)")
            }
        }
    }

    func test2DRoundTripLarge() {
        var rng = Generator()
        let (n1, n2) = (120, 250)
        let plan = FFT2D(n1, n2)
        let x = randomArray(2 * n1 * n2, &rng)
        var y = x
        y.withUnsafeMutableBufferPointer {
            plan.forward($0.baseAddress!, threads: 2)
            plan.inverse($0.baseAddress!, threads: 2)
        }
        XCTAssertLessThan(maxError(y.map { $0 / Double(n1 * n2) }, x), 1e-14)
    }

    /// rfft2 equals the first n2/2 + 1 columns of the complex transform of the real array.
    func testRealForwardMatchesComplex() {
        var rng = Generator()
        let seed = rng.state
        for (n1, n2) in [(6, 10), (12, 16), (15, 8), (1, 2), (4, 2), (9, 50), (16, 24), (5, 250)] {
            let h = n2 / 2
            let x = randomArray(n1 * n2, &rng)
            var complex = [Double](repeating: 0, count: 2 * n1 * n2)
            for i in 0..<(n1 * n2) { complex[2 * i] = x[i] }
            complex.withUnsafeMutableBufferPointer { FFT2D(n1, n2).forward($0.baseAddress!, threads: 1) }
            let plan = RealFFT2D(n1, n2)
            XCTAssertEqual(plan.spectrumColumns, h + 1)
            for threads in [1, 2] {
                var spectrum = [Double](repeating: .nan, count: 2 * n1 * (h + 1))
                x.withUnsafeBufferPointer { i in spectrum.withUnsafeMutableBufferPointer { o in
                    plan.forward(i.baseAddress!, o.baseAddress!, threads: threads)
                } }
                var worst = 0.0
                for r in 0..<n1 {
                    for k in 0...h {
                        worst = max(worst, abs(spectrum[2 * (r * (h + 1) + k)] - complex[2 * (r * n2 + k)]),
                                    abs(spectrum[2 * (r * (h + 1) + k) + 1] - complex[2 * (r * n2 + k) + 1]))
                    }
                }
                XCTAssertLessThan(worst / norm(x), 1e-14, "\(n1)x\(n2) threads \(threads) seed \(seed)")
                // Round trip.
                var back = [Double](repeating: .nan, count: n1 * n2)
                spectrum.withUnsafeMutableBufferPointer { s in back.withUnsafeMutableBufferPointer { o in
                    plan.inverse(s.baseAddress!, o.baseAddress!, threads: threads)
                } }
                XCTAssertLessThan(maxError(back, x), 1e-14, "round trip \(n1)x\(n2) seed \(seed)")
            }
        }
    }

    /// irfft2 of an arbitrary half spectrum, with NumPy's semantics: inverse DFT over rows, then
    /// per row the Hermitian completion with the k2 = 0 and n2/2 imaginary parts dropped.
    func testRealInverseSemantics() {
        var rng = Generator()
        let seed = rng.state
        for (n1, n2) in [(6, 10), (5, 8), (12, 2), (9, 30)] {
            let h = n2 / 2
            let spectrum = randomArray(2 * n1 * (h + 1), &rng)
            // Columns: direct inverse DFT of each column.
            var cols = spectrum
            for c in 0...h {
                var column = [Double](repeating: 0, count: 2 * n1)
                for r in 0..<n1 { column[2 * r] = spectrum[2 * (r * (h + 1) + c)]; column[2 * r + 1] = spectrum[2 * (r * (h + 1) + c) + 1] }
                column = directDFT(column, sign: 1)
                for r in 0..<n1 { cols[2 * (r * (h + 1) + c)] = column[2 * r]; cols[2 * (r * (h + 1) + c) + 1] = column[2 * r + 1] }
            }
            var expected = [Double](repeating: 0, count: n1 * n2)
            for r in 0..<n1 {
                var full = [Double](repeating: 0, count: 2 * n2)
                for k in 0...h {
                    full[2 * k] = cols[2 * (r * (h + 1) + k)]
                    full[2 * k + 1] = (k == 0 || k == h) ? 0 : cols[2 * (r * (h + 1) + k) + 1]
                }
                for k in (h + 1)..<n2 { full[2 * k] = full[2 * (n2 - k)]; full[2 * k + 1] = -full[2 * (n2 - k) + 1] }
                let row = directDFT(full, sign: 1)
                for j in 0..<n2 { expected[r * n2 + j] = row[2 * j] / Double(n1 * n2) }
            }
            var input = spectrum, out = [Double](repeating: .nan, count: n1 * n2)
            input.withUnsafeMutableBufferPointer { s in out.withUnsafeMutableBufferPointer { o in
                RealFFT2D(n1, n2).inverse(s.baseAddress!, o.baseAddress!, threads: 1)
            } }
            XCTAssertLessThan(maxError(out, expected) * Double(n1 * n2) / norm(spectrum), 1e-14,
                              "\(n1)x\(n2) seed \(seed)")
        }
    }

    /// Zero padding on the way in and cropping on the way out agree with the full transforms.
    func testRealPaddedAndCropped() {
        var rng = Generator()
        let (n1, n2) = (20, 30), h = n2 / 2
        let plan = RealFFT2D(n1, n2)
        for (rows, cols, stride) in [(7, 11, 13), (20, 30, 30), (1, 1, 1), (13, 30, 32), (18, 4, 4)] {
            let block = randomArray(rows * stride, &rng)
            var padded = [Double](repeating: 0, count: n1 * n2)
            for r in 0..<rows { for c in 0..<cols { padded[r * n2 + c] = block[r * stride + c] } }
            var full = [Double](repeating: .nan, count: 2 * n1 * (h + 1))
            var fromBlock = [Double](repeating: .nan, count: 2 * n1 * (h + 1))
            padded.withUnsafeBufferPointer { i in full.withUnsafeMutableBufferPointer { plan.forward(i.baseAddress!, $0.baseAddress!) } }
            block.withUnsafeBufferPointer { i in fromBlock.withUnsafeMutableBufferPointer {
                plan.forward(i.baseAddress!, rows: rows, columns: cols, stride: stride, $0.baseAddress!, threads: 2)
            } }
            XCTAssertLessThan(maxError(full, fromBlock), 1e-13, "block \(rows)x\(cols)")
            // Crops of the inverse.
            var whole = [Double](repeating: .nan, count: n1 * n2)
            var spectrum = full
            spectrum.withUnsafeMutableBufferPointer { s in whole.withUnsafeMutableBufferPointer { plan.inverse(s.baseAddress!, $0.baseAddress!) } }
            XCTAssertLessThan(maxError(whole, padded), 1e-14)
            for (rr, cc) in [(3..<10, 5..<16), (0..<20, 1..<30), (19..<20, 0..<1), (2..<17, 4..<28)] {
                let ld = cc.count + 3
                var crop = [Double](repeating: .nan, count: rr.count * ld)
                spectrum = full
                spectrum.withUnsafeMutableBufferPointer { s in crop.withUnsafeMutableBufferPointer {
                    plan.inverse(s.baseAddress!, rows: rr, columns: cc, $0.baseAddress!, stride: ld, threads: 2)
                } }
                var worst = 0.0
                for (i, r) in rr.enumerated() {
                    for (j, c) in cc.enumerated() { worst = max(worst, abs(crop[i * ld + j] - padded[r * n2 + c])) }
                    for j in cc.count..<ld { XCTAssertTrue(crop[i * ld + j].isNaN, "wrote outside the crop") }
                }
                XCTAssertLessThan(worst, 1e-14, "crop \(rr) \(cc)")
            }
        }
    }

    /// convolve against the direct circular convolution, for a kernel with no symmetry.
    func testConvolveMatchesDirectSum() {
        var rng = Generator()
        let seed = rng.state
        for (n1, n2, rows, cols, outRows, outCols) in [(12, 16, 5, 7, 0..<5, 0..<7), (15, 20, 15, 20, 0..<15, 0..<20),
                                                       (20, 30, 9, 13, 3..<17, 1..<30), (9, 2, 4, 1, 0..<9, 0..<2),
                                                       (1, 8, 1, 5, 0..<1, 2..<7)] {
            let plan = RealFFT2D(n1, n2)
            let stride = cols + 2
            let input = randomArray(rows * stride, &rng)
            let k = randomArray(n1 * n2, &rng)
            let kernel = k.withUnsafeBufferPointer { plan.prepareKernel($0.baseAddress!, threads: 1) }
            let outStride = outCols.count + 1
            var out = [Double](repeating: .nan, count: outRows.count * outStride)
            var workspace = [Double](repeating: .nan, count: plan.spectrumCount)
            for threads in [1, 2] {
                input.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { o in
                    workspace.withUnsafeMutableBufferPointer { w in
                        plan.convolve(i.baseAddress!, rows: rows, columns: cols, stride: stride, kernel: kernel,
                                      o.baseAddress!, outputRows: outRows, outputColumns: outCols, outputStride: outStride,
                                      workspace: w.baseAddress!, threads: threads)
                    } } }
                var worst = 0.0, scale = 0.0
                for (a, i) in outRows.enumerated() {
                    for (b, j) in outCols.enumerated() {
                        var sum = 0.0
                        for p in 0..<rows {
                            for q in 0..<cols {
                                sum += input[p * stride + q] * k[((i - p + n1) % n1) * n2 + (j - q + n2) % n2]
                            }
                        }
                        worst = max(worst, abs(out[a * outStride + b] - sum))
                        scale = max(scale, abs(sum))
                    }
                }
                XCTAssertLessThan(worst / scale, 1e-13, "\(n1)x\(n2) threads \(threads) seed \(seed)")
            }
        }
    }

    func testNextSmooth() {
        func smooth(_ n: Int) -> Bool {
            var m = n
            for p in [2, 3, 5] { while m % p == 0 { m /= p } }
            return m == 1
        }
        var expected = 1
        for n in stride(from: 3000, through: 0, by: -1) {
            if n >= 1 && smooth(n) { expected = n }
            XCTAssertEqual(nextSmooth(n), max(expected, 1), "n=\(n)")
            let even = (max(n, 2)...).first { $0 % 2 == 0 && smooth($0) }!
            XCTAssertEqual(nextSmoothEven(n), even, "even n=\(n)")
        }
        XCTAssertEqual(nextSmooth(1_000_001), 1_012_500)
        XCTAssertTrue(FFTSizes.isSmooth(1440) && !FFTSizes.isSmooth(1400) && !FFTSizes.isSmooth(0))
    }
}
