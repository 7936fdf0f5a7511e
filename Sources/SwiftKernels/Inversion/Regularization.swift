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
    let lists = try NeighbourLists(neighbors: neighbors, width: p, sizes: sizes, rowsEndAtSizes: rowsEndAtSizes)
    fillConstantRegularization(coefficient: coefficient, lists: lists, sizes: sizes, accumulate: accumulate, out: out)
}

/// H (S, S) from validated neighbour lists, added to `out` (`accumulate`) or written. Cost S^2 + S P.
func fillConstantRegularization(coefficient: Double, lists: NeighbourLists, sizes: UnsafeBufferPointer<Int64>,
                                accumulate: Bool, out: UnsafeMutableBufferPointer<Double>) {
    let s = lists.pixels
    let c2 = coefficient * coefficient
    if !accumulate { out.initialize(repeating: 0) }
    for i in 0..<s {
        out[i * s + i] += 1e-8 + c2 * Double(sizes[i])
        for k in lists.column[lists.start[i]..<lists.start[i + 1]] { out[i * s + k] -= c2 }
    }
}
