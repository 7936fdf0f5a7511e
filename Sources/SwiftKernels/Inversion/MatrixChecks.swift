/// Checks a dense matrix before a factorisation reads it: every entry finite and, for a square
/// C-ordered `a` (n x n), symmetric to `relative` of its largest diagonal entry (F and H are built
/// symmetric; an unsymmetric A would be read half from each triangle). Cost n^2, in 64 x 64 tiles
/// so the transposed reads stay in cache.
/// - Throws: `KernelError.value` naming `name` and the first offending entry.
public func checkSymmetricFinite(_ a: UnsafeBufferPointer<Double>, n: Int, name: String,
                                 relative: Double = 1e-10) throws {
    if isSymmetricFinite(a, n: n, relative: relative) { return }
    // Something is wrong: find the first offending entry entry by entry, for the message.
    var scale = 0.0
    for i in 0..<n {
        let v = a[i * n + i]
        guard v.isFinite else { throw KernelError.value("\(name)[\(i), \(i)] is \(v) (not finite)") }
        scale = max(scale, abs(v))
    }
    let tolerance = relative * scale
    let tile = 64
    for i0 in stride(from: 0, to: n, by: tile) {
        for j0 in stride(from: 0, through: i0, by: tile) {
            for i in i0..<min(i0 + tile, n) {
                for j in j0..<min(j0 + tile, i + 1) {
                    let lower = a[i * n + j], upper = a[j * n + i]
                    guard lower.isFinite && upper.isFinite else {
                        let (r, c) = lower.isFinite ? (j, i) : (i, j)
                        throw KernelError.value("\(name)[\(r), \(c)] is \(a[r * n + c]) (not finite)")
                    }
                    guard abs(lower - upper) <= tolerance else {
                        throw KernelError.value("\(name) is not symmetric: [\(i), \(j)] = \(lower) but [\(j), \(i)] = \(upper)")
                    }
                }
            }
        }
    }
}

/// Whether every entry of `a` (n x n, C order) is finite and |a_ij - a_ji| <= relative max|a_ii|:
/// the fast pass of `checkSymmetricFinite`, in 4 x 4 blocks (one transposed in registers) within
/// 32 x 32 tiles, so both triangles are read once and a tile pair stays in L1. Cost n^2.
func isSymmetricFinite(_ a: UnsafeBufferPointer<Double>, n: Int, relative: Double) -> Bool {
    guard n > 0, let p = a.baseAddress else { return true }
    var scale = 0.0
    for i in 0..<n { scale = max(scale, abs(p[i * n + i])) }
    guard scale.isFinite else { return false }
    let tolerance = SIMD4<Double>(repeating: relative * scale)
    // A difference is finite exactly when both entries are, and then times 0 it is 0: `poison`
    // stays 0 only over finite entries (every entry is in some block, as l or as t).
    var poison = SIMD4<Double>(), broken = SIMD4<Int64>()
    @inline(__always) func row(_ r: Int, _ c: Int) -> SIMD4<Double> {
        UnsafeRawPointer(p + r * n + c).loadUnaligned(as: SIMD4<Double>.self)
    }
    let blocked = n - n % 4, tile = 32
    for i0 in stride(from: 0, to: blocked, by: tile) {
        for j0 in stride(from: 0, through: i0, by: tile) {
            for i in stride(from: i0, to: min(i0 + tile, blocked), by: 4) {
                for j in stride(from: j0, to: min(j0 + tile, i + 4), by: 4) {
                    let l0 = row(i, j), l1 = row(i + 1, j), l2 = row(i + 2, j), l3 = row(i + 3, j)
                    let u0 = row(j, i), u1 = row(j + 1, i), u2 = row(j + 2, i), u3 = row(j + 3, i)
                    // column c of the upper block is row c of the lower one's transpose
                    let e0 = l0 - SIMD4(u0[0], u1[0], u2[0], u3[0]), e1 = l1 - SIMD4(u0[1], u1[1], u2[1], u3[1])
                    let e2 = l2 - SIMD4(u0[2], u1[2], u2[2], u3[2]), e3 = l3 - SIMD4(u0[3], u1[3], u2[3], u3[3])
                    poison += (e0 + e1 + e2 + e3) * 0
                    let far = exceeds(e0, tolerance) .| exceeds(e1, tolerance) .| exceeds(e2, tolerance)
                        .| exceeds(e3, tolerance)
                    broken &+= unsafeBitCast(far, to: SIMD4<Int64>.self)
                }
            }
        }
    }
    var ok = poison == SIMD4() && broken == SIMD4()
    // The last n % 4 rows, against their columns, entry by entry.
    for i in blocked..<n where ok {
        for j in 0...i {
            let lower = p[i * n + j], upper = p[j * n + i]
            if !(lower.isFinite && upper.isFinite && abs(lower - upper) <= relative * scale) { ok = false; break }
        }
    }
    return ok
}

/// Lanes where |e| > t.
@inline(__always) private func exceeds(_ e: SIMD4<Double>, _ t: SIMD4<Double>) -> SIMDMask<SIMD4<Int64>> {
    (e .> t) .| (e .< -t)
}

/// Checks that every entry of `v` is finite. Cost n.
/// - Throws: `KernelError.value` naming `name` and the first entry that is not.
public func checkFinite(_ v: UnsafeBufferPointer<Double>, name: String) throws {
    for (i, x) in v.enumerated() where !x.isFinite {
        throw KernelError.value("\(name)[\(i)] is \(x) (not finite)")
    }
}
