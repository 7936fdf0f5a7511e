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
/// 64 x 64 tiles, so both triangles are read once, contiguously, and stay in cache. Cost n^2.
func isSymmetricFinite(_ a: UnsafeBufferPointer<Double>, n: Int, relative: Double) -> Bool {
    guard n > 0, let p = a.baseAddress else { return true }
    var scale = 0.0
    for i in 0..<n { scale = max(scale, abs(p[i * n + i])) }
    guard scale.isFinite else { return false }
    let tolerance = relative * scale
    // A difference is finite exactly when both entries are, and then times 0 it is 0: `poison`
    // stays 0 only over finite entries (every entry is in some block, as l or as t).
    var poison = SIMD4<Double>(), worst = SIMD4<Double>()
    @inline(__always) func row(_ r: Int, _ c: Int) -> SIMD4<Double> {
        UnsafeRawPointer(p + r * n + c).loadUnaligned(as: SIMD4<Double>.self)
    }
    let blocked = n - n % 4, tile = 64
    for i0 in stride(from: 0, to: blocked, by: tile) {
        for j0 in stride(from: 0, through: i0, by: tile) {
            for i in stride(from: i0, to: min(i0 + tile, blocked), by: 4) {
                for j in stride(from: j0, to: min(j0 + tile, i + 4), by: 4) {
                    let l0 = row(i, j), l1 = row(i + 1, j), l2 = row(i + 2, j), l3 = row(i + 3, j)
                    let u0 = row(j, i), u1 = row(j + 1, i), u2 = row(j + 2, i), u3 = row(j + 3, i)
                    // column c of the upper block is row c of the lower one's transpose
                    let t0 = SIMD4(u0[0], u1[0], u2[0], u3[0]), t1 = SIMD4(u0[1], u1[1], u2[1], u3[1])
                    let t2 = SIMD4(u0[2], u1[2], u2[2], u3[2]), t3 = SIMD4(u0[3], u1[3], u2[3], u3[3])
                    let e0 = l0 - t0, e1 = l1 - t1, e2 = l2 - t2, e3 = l3 - t3
                    poison += (e0 + e1 + e2 + e3) * 0
                    worst = pointwiseMax(worst, pointwiseMax(pointwiseMax(magnitude(e0), magnitude(e1)),
                                                             pointwiseMax(magnitude(e2), magnitude(e3))))
                }
            }
        }
    }
    var ok = poison == SIMD4() && worst.max() <= tolerance
    // The last n % 4 rows, against their columns, entry by entry.
    for i in blocked..<n where ok {
        for j in 0...i {
            let lower = p[i * n + j], upper = p[j * n + i]
            if !(lower.isFinite && upper.isFinite && abs(lower - upper) <= tolerance) { ok = false; break }
        }
    }
    return ok
}

@inline(__always) private func magnitude(_ v: SIMD4<Double>) -> SIMD4<Double> { v.replacing(with: -v, where: v .< 0) }

/// Checks that every entry of `v` is finite. Cost n.
/// - Throws: `KernelError.value` naming `name` and the first entry that is not.
public func checkFinite(_ v: UnsafeBufferPointer<Double>, name: String) throws {
    for (i, x) in v.enumerated() where !x.isFinite {
        throw KernelError.value("\(name)[\(i)] is \(x) (not finite)")
    }
}
