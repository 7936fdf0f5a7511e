/// The constant regularisation matrix H (S, S):
///
///     H[i, i] = 1e-8 + coefficient^2 * neighbors_sizes[i]
///     H[i, k] -= coefficient^2   for each neighbour k of i (the row of `neighbors` up to its first -1)
///
/// With `rowsEndAtSizes` (the production library's loop) row i has exactly `neighbors_sizes[i]`
/// neighbours instead. Cost: S^2 to zero, S P to fill.
/// - Throws: `KernelError.index` for a neighbour outside [0, S) that is not -1, or (with
///   `rowsEndAtSizes`) a size outside [0, P].
public func constantRegularization(coefficient: Double, neighbors: UnsafeBufferPointer<Int64>,
                                   width p: Int, sizes: UnsafeBufferPointer<Int64>,
                                   rowsEndAtSizes: Bool = false, accumulate: Bool = false,
                                   out: UnsafeMutableBufferPointer<Double>) throws {
    let s = sizes.count
    // The neighbours of row i: its first `length(i)` entries.
    var lengths = [Int](repeating: 0, count: s)
    for i in 0..<s {
        if rowsEndAtSizes {
            guard sizes[i] >= 0 && sizes[i] <= p else {
                throw KernelError.index("neighbors_sizes[\(i)] = \(sizes[i]) is outside [0, \(p)]")
            }
            lengths[i] = Int(sizes[i])
        } else {
            while lengths[i] < p && neighbors[i * p + lengths[i]] != -1 { lengths[i] += 1 }
        }
        for j in 0..<lengths[i] {
            let k = neighbors[i * p + j]
            guard k >= 0 && k < s else {
                throw KernelError.index("neighbors[\(i), \(j)] = \(k) is outside [0, \(s))"
                    + (rowsEndAtSizes ? "" : "; -1 ends a row"))
            }
        }
    }
    let c2 = coefficient * coefficient
    if !accumulate { out.initialize(repeating: 0) }
    for i in 0..<s {
        out[i * s + i] += 1e-8 + c2 * Double(sizes[i])
        for j in 0..<lengths[i] {
            // Checked again: read twice without the GIL, `neighbors` may have been written since.
            let k = Int(neighbors[i * p + j])
            guard k >= 0 && k < s else {
                throw KernelError.index("neighbors[\(i), \(j)] changed while it was being read (by another thread?)")
            }
            out[i * s + k] -= c2
        }
    }
}
