/// The constant regularisation matrix H (S, S):
///
///     H[i, i] = 1e-8 + coefficient^2 * neighbors_sizes[i]
///     H[i, k] -= coefficient^2   for each neighbour k of i (the row of `neighbors` up to its first -1)
///
/// Cost: S^2 to zero, S P to fill.
/// - Throws: `KernelError.index` for a neighbour outside [0, S) that is not -1.
public func constantRegularization(coefficient: Double, neighbors: UnsafeBufferPointer<Int64>,
                                   width p: Int, sizes: UnsafeBufferPointer<Int64>,
                                   out: UnsafeMutableBufferPointer<Double>) throws {
    let s = sizes.count
    for i in 0..<s {
        for j in 0..<p {
            let k = neighbors[i * p + j]
            if k == -1 { break }
            guard k >= 0 && k < s else {
                throw KernelError.index("neighbors[\(i), \(j)] = \(k) is outside [0, \(s)); -1 ends a row")
            }
        }
    }
    let c2 = coefficient * coefficient
    out.initialize(repeating: 0)
    for i in 0..<s {
        out[i * s + i] = 1e-8 + c2 * Double(sizes[i])
        for j in 0..<p {
            let k = neighbors[i * p + j]
            if k == -1 { break }
            out[i * s + Int(k)] -= c2
        }
    }
}
