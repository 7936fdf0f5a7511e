/// Checks a dense matrix before a factorisation reads it: every entry finite and, for a square
/// C-ordered `a` (n x n), symmetric to `relative` of its largest diagonal entry (F and H are built
/// symmetric; an unsymmetric A would be read half from each triangle). Cost n^2, in 64 x 64 tiles
/// so the transposed reads stay in cache.
/// - Throws: `KernelError.value` naming `name` and the first offending entry.
public func checkSymmetricFinite(_ a: UnsafeBufferPointer<Double>, n: Int, name: String,
                                 relative: Double = 1e-10) throws {
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

/// Checks that every entry of `v` is finite. Cost n.
/// - Throws: `KernelError.value` naming `name` and the first entry that is not.
public func checkFinite(_ v: UnsafeBufferPointer<Double>, name: String) throws {
    for (i, x) in v.enumerated() where !x.isFinite {
        throw KernelError.value("\(name)[\(i)] is \(x) (not finite)")
    }
}
