/// The neighbour lists of a source mesh, validated and copied once (compressed rows).
///
/// Row i of `neighbors` (S, P) lists the neighbours of pixel i: its entries up to the first -1
/// (the top-level API), or exactly its first `sizes[i]` entries (`rowsEndAtSizes`, the
/// production library's loop). The copy is what later passes read, so an index checked here
/// cannot change under them while another thread writes `neighbors` (the GIL is released).
/// Cost: S P.
public struct NeighbourLists {
    /// Row i's neighbours are `column[start[i]..<start[i + 1]]`, each in [0, S).
    public let start: [Int]
    public let column: [Int]

    public var pixels: Int { start.count - 1 }

    /// - Throws: `KernelError.index` naming the row and the value, for a neighbour outside [0, S)
    ///   that is not -1, or (with `rowsEndAtSizes`) a size outside [0, P].
    public init(neighbors: UnsafeBufferPointer<Int64>, width p: Int, sizes: UnsafeBufferPointer<Int64>,
                rowsEndAtSizes: Bool) throws {
        let s = sizes.count
        var start = [Int](repeating: 0, count: s + 1)
        var column = [Int]()
        column.reserveCapacity(s * min(p, 8))
        for i in 0..<s {
            var length = 0
            if rowsEndAtSizes {
                guard sizes[i] >= 0 && sizes[i] <= p else {
                    throw KernelError.index("neighbors_sizes[\(i)] = \(sizes[i]) is outside [0, \(p)]")
                }
                length = Int(sizes[i])
            } else {
                while length < p && neighbors[i * p + length] != -1 { length += 1 }
            }
            for j in 0..<length {
                let k = neighbors[i * p + j]
                guard k >= 0 && k < s else {
                    throw KernelError.index("neighbors[\(i), \(j)] = \(k) is outside [0, \(s))"
                        + (rowsEndAtSizes ? "" : "; -1 ends a row"))
                }
                column.append(Int(k))
            }
            start[i + 1] = column.count
        }
        self.start = start
        self.column = column
    }
}
