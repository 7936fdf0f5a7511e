/// Native (row, col) of each image pixel, relative to the mask's bounding box.
///
/// Kernels use only differences of native indices (w-tilde depends on the offset of two pixels)
/// or positions in the bounding box, so indices are stored shifted to start at (0, 0). Checked:
/// every index lies in [0, gridRows) x [0, gridCols) (`absolute`), or, for layouts that hold only
/// offsets (the preload), every index is non-negative and the box spans at most `gridRows` rows
/// and `gridCols` columns.
public struct NativeIndices {
    public let rows: UnsafeBufferPointer<Int>
    public let cols: UnsafeBufferPointer<Int>
    public var count: Int { rows.count }
    private let storage: (Buffer<Int>, Buffer<Int>)

    /// - Throws: `KernelError.index` naming `name`, a pixel and its value outside the grid, or
    ///   where the box would be larger than the grid.
    public init(_ pairs: UnsafeBufferPointer<Int64>, gridRows: Int, gridCols: Int, name: String,
                absolute: Bool = true) throws {
        let m = pairs.count / 2
        // Each value read once (the array is read without the GIL: another thread may write it),
        // then checked and shifted in the copy.
        let axes = (Buffer<Int>(uninitialized: m), Buffer<Int>(uninitialized: m))
        for i in 0..<m {
            axes.0.pointer[i] = Int(pairs[2 * i])
            axes.1.pointer[i] = Int(pairs[2 * i + 1])
        }
        for (axis, values, extent, what) in [(0, axes.0.pointer, gridRows, "rows"), (1, axes.1.pointer, gridCols, "columns")] {
            guard m > 0 else { break }
            var low = 0, high = 0
            for i in 0..<m {
                let v = values[i]
                guard v >= 0 && v < (absolute ? extent : 1 << 40) else {
                    throw KernelError.index("\(name)[\(i), \(axis)] = \(v) is outside the grid's \(what) [0, \(extent))")
                }
                if v < values[low] { low = i }
                if v > values[high] { high = i }
            }
            let first = values[low], last = values[high]
            guard last - first < extent else {
                throw KernelError.index("\(name)[\(high), \(axis)] = \(last) is \(last - first) \(what) from "
                    + "\(name)[\(low), \(axis)] = \(first): the mask spans more than the grid's \(extent) \(what)")
            }
            if first != 0 { for i in 0..<m { values[i] -= first } }
        }
        storage = axes
        self.rows = storage.0.buffer
        self.cols = storage.1.buffer
    }
}
