import Glibc

/// log det H of the constant regularisation H (`constantRegularization`) from its sparsity:
///
///     log det H = log det (P H P^T) = 2 sum_j log L[j, j],   P H P^T = L L^T
///
/// with P the reverse Cuthill-McKee order of H's graph (or the given order, when that is
/// narrower), which packs the lower triangle of P H P^T into a band of half-width b; LAPACK's
/// dpbtrf factors the band. A symmetric permutation does not change the determinant. H is
/// symmetric when each pair is listed from both ends, as a mesh's neighbours are; the factor
/// reads the lower triangle of P H P^T. H is then 1e-8 I + c^2 (the graph Laplacian), so always
/// positive definite when `neighbors_sizes[i]` counts row i's neighbours.
///
/// Cost: S P log P to order, S b^2 to factor, (b + 1) S memory (Delaunay, S = 1500: b ~ 90).
/// A band wider than S / 8 is factored dense (dpotrf): S^3 / 3, S^2 memory.
/// - Throws: `KernelError.index` from `NeighbourLists`; `KernelError.value` for a coefficient that
///   is not finite or an H that is not positive definite.
public func logDetConstantRegularization(coefficient: Double, neighbors: UnsafeBufferPointer<Int64>,
                                         width p: Int, sizes: UnsafeBufferPointer<Int64>,
                                         rowsEndAtSizes: Bool) throws -> Double {
    guard coefficient.isFinite else { throw KernelError.value("coefficient must be finite, got \(coefficient)") }
    try LAPACK.require()
    let lists = try NeighbourLists(neighbors: neighbors, width: p, sizes: sizes, rowsEndAtSizes: rowsEndAtSizes)
    let s = lists.pixels
    guard s > 0 else { return 0 }
    let c2 = coefficient * coefficient
    let notPositiveDefinite = KernelError.value("regularization matrix H is not positive definite")
    var position = reverseCuthillMcKee(SymmetricGraph(lists))
    var b = bandHalfWidth(lists, position: position)
    let given = Array(0..<s)
    let givenWidth = bandHalfWidth(lists, position: given)
    if givenWidth < b { (position, b) = (given, givenWidth) }
    if b > s / 8 {
        let dense = Buffer<Double>(s * s, repeating: 0)
        return try withExtendedLifetime(dense) {
            let h = dense.pointer
            fillConstantRegularization(coefficient: coefficient, lists: lists, sizes: sizes, accumulate: true,
                                       out: UnsafeMutableBufferPointer(start: h, count: s * s))
            guard LAPACK.choleskyLower(h, n: s, ld: s) == 0 else { throw notPositiveDefinite }
            return 2 * (0..<s).reduce(0.0) { $0 + log(h[$1 * s + $1]) }
        }
    }
    // Lower band of P H P^T: band[(a - c) + c ldab] = H[i, k] for a = position[i] >= c = position[k].
    let ldab = b + 1
    // Pooled: a fresh megabyte would come back as page faults on every call of a sampler's loop.
    let band = Buffer<Double>(ldab * s, repeating: 0)
    return try withExtendedLifetime(band) {
        let ab = band.pointer
        for i in 0..<s {
            let a = position[i]
            ab[a * ldab] += 1e-8 + c2 * Double(sizes[i])
            for j in lists.start[i]..<lists.start[i + 1] where position[lists.column[j]] <= a {
                ab[(a - position[lists.column[j]]) + position[lists.column[j]] * ldab] -= c2
            }
        }
        guard LAPACK.bandCholeskyLower(ab, n: s, kd: b, ldab: ldab) == 0 else { throw notPositiveDefinite }
        return 2 * (0..<s).reduce(0.0) { $0 + log(ab[$1 * ldab]) }
    }
}
