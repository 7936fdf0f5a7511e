import SwiftwABI

/// In-place weighted sum, the study's `_fma`: `out += sum_a weights[a] * arrays[a]`.
///
/// Evaluated per element in the order of `arrays`, as the sequential Numba loop does; an entry
/// of `arrays` that is `nil` stands for `out` itself and contributes the running value. One pass
/// over memory: each block of `out` is loaded once, every array is read once, `out` is written
/// once (a loop of `out += w*a` passes would make A passes over `out`). Cost: 2 A n flops,
/// (A + 2) n element transfers. Threads take contiguous ranges.
public func weightedSum(out: UnsafeMutableBufferPointer<Double>, weights: [Double],
                        arrays: [UnsafePointer<Double>?]) {
    weightedSumImpl(out: out, weights: weights, arrays: arrays)
}

/// `weightedSum` for float32 arrays; weights are rounded to float32 first, as NumPy does for
/// `float32_array * python_float`.
public func weightedSum(out: UnsafeMutableBufferPointer<Float>, weights: [Double],
                        arrays: [UnsafePointer<Float>?]) {
    weightedSumImpl(out: out, weights: weights, arrays: arrays)
}

@inline(__always)
private func weightedSumImpl<T: BinaryFloatingPoint & SIMDScalar>(
    out: UnsafeMutableBufferPointer<T>, weights: [Double], arrays: [UnsafePointer<T>?]
) where T.SIMD16Storage: SIMDStorage {
    let n = out.count
    guard n > 0, !arrays.isEmpty, let base = out.baseAddress else { return }
    let w = weights.map { T($0) }
    let lanes = 16
    // Ranges of whole 16-lane groups so that threads never share a cache line of out.
    let groups = (n + lanes - 1) / lanes
    let threads = n < 1 << 16 ? 1 : Threads.count
    // One core alone keeps too few lines in flight for A + 1 streams: prefetching 1 KB ahead in
    // every stream took ~10% off its time at n = 10^7, A = 8 (24.1 -> 21.7 ms, AVX-512 host). With
    // two threads the memory is the limit, and the same prefetches made the pass 18% slower; below
    // 2^16 elements the arrays are mostly in cache. So: one thread on large arrays only.
    let ahead = threads == 1 && n >= 1 << 16 ? 1024 / MemoryLayout<T>.stride : 0
    let blockBytes = lanes * MemoryLayout<T>.stride
    parallelRanges(groups, threads: threads) { _, range in
        let lo = range.lowerBound * lanes, hi = min(range.upperBound * lanes, n)
        var i = lo
        while i + lanes <= hi {
            if ahead > 0 && i + ahead + lanes <= hi {
                @inline(__always) func fetch(_ stream: UnsafePointer<T>) {
                    let line = UnsafeRawPointer(stream + i + ahead)
                    for offset in stride(from: 0, to: blockBytes, by: 64) { swiftw_prefetch(line + offset) }
                }
                fetch(UnsafePointer(base))
                for a in 0..<arrays.count { if let src = arrays[a] { fetch(src) } }
            }
            let p = UnsafeMutableRawPointer(base + i)
            var acc = p.loadUnaligned(as: SIMD16<T>.self)
            for a in 0..<arrays.count {
                if let src = arrays[a] {
                    acc += w[a] * UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<T>.self)
                } else {
                    acc += w[a] * acc
                }
            }
            p.storeBytes(of: acc, as: SIMD16<T>.self)
            i += lanes
        }
        while i < hi {
            var acc = base[i]
            for a in 0..<arrays.count {
                acc += w[a] * (arrays[a]?[i] ?? acc)
            }
            base[i] = acc
            i += 1
        }
    }
}
