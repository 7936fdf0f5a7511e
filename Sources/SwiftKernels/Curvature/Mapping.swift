/// The sparse mapping matrix T (M image pixels x S source pixels), validated once.
///
/// Built from `pix_indexes_for_sub_slim_index` (M, B) and `pix_weights_for_sub_slim_index`
/// (M, B): row m holds `T[m, indexes[m, b]] += weights[m, b]` for every b before the row's first
/// -1. Any other index outside [0, S) is refused before anything is read through it. Stored by
/// source pixel (columns), the form every kernel reads: F is built column by column.
public struct SparseMapping {
    /// The most source pixels a mapping may have: tables of this many entries are allocated
    /// before anything else is known (2^26, far beyond any source mesh).
    public static let maximumSources = 1 << 26

    static func changed(_ name: String) -> KernelError {
        KernelError.index("\(name) changed while it was being read (by another thread?)")
    }

    /// The error for `name[row, column] = value` outside [0, S) before the row's -1.
    static func outside(_ name: String, _ row: Int, _ column: Int, _ value: Int64, sources: Int) -> KernelError {
        KernelError.index("\(name)[\(row), \(column)] = \(value) is outside [0, \(sources)) (pixels = \(sources)); -1 ends a row")
    }

    static func checkSources(_ sources: Int, name: String) throws {
        guard sources >= 0 && sources <= maximumSources else {
            throw KernelError.memory("\(name) = \(sources) source pixels is more than swiftw supports (\(maximumSources))")
        }
    }

    public let imagePixels: Int
    public let sourcePixels: Int
    /// Entries of source pixel s: image pixels `columnPixel[columnStart[s] ..< columnStart[s+1]]`,
    /// in increasing order (a pixel's entries in its order of b), same for weights.
    public let columnStart: UnsafeBufferPointer<Int>
    public let columnPixel: UnsafeBufferPointer<Int>
    public let columnWeight: UnsafeBufferPointer<Double>
    /// Owns the memory behind the buffers above (plain pointers: no reference counting per access).
    private let storage: [AnyObject]

    /// - Throws: `KernelError.index` naming `name`, the row and the value of the first index
    ///   outside [0, S) that is not the -1 sentinel.
    public init(indexes: UnsafeBufferPointer<Int64>, weights: UnsafeBufferPointer<Double>,
                rows: Int, width: Int, sources: Int, name: String) throws {
        try SparseMapping.checkSources(sources, name: "pixels")
        // One pass to check and count per source (every index before a row's first -1 is read),
        // one to place the entries: a counting sort straight from the (M, B) arrays.
        let start = Buffer<Int>(sources + 1, repeating: 0)
        let c = start.pointer
        for m in 0..<rows {
            for b in 0..<width {
                let s = indexes[m * width + b]
                if s == -1 { break }
                guard s >= 0 && s < sources else { throw SparseMapping.outside(name, m, b, s, sources: sources) }
                c[Int(s) + 1] += 1
            }
        }
        for s in 0..<sources { c[s + 1] += c[s] }
        let next = Buffer<Int>(uninitialized: max(sources, 1))
        next.pointer.update(from: c, count: sources)
        let pixel = Buffer<Int>(uninitialized: c[sources]), weight = Buffer<Double>(uninitialized: c[sources])
        let n = next.pointer, p = pixel.pointer, w = weight.pointer
        for m in 0..<rows {
            for b in 0..<width {
                let s = Int(indexes[m * width + b])
                if s == -1 { break }
                // Checked again: the array is read twice without the GIL, and another thread may
                // have written it in between; nothing goes outside the counted columns.
                guard s >= 0 && s < sources && n[s] < c[s + 1] else { throw SparseMapping.changed(name) }
                let k = n[s]
                p[k] = m
                w[k] = weights[m * width + b]
                n[s] = k + 1
            }
        }
        // Every counted entry placed (else a column would hold unwritten pixel indices).
        for s in 0..<sources where n[s] != c[s + 1] { throw SparseMapping.changed(name) }
        self.init(rows: rows, sources: sources, columnStart: start, columnPixel: pixel, columnWeight: weight)
    }

    /// The production library's sub-pixel form: sub-pixel q maps onto image pixel `slim[q]` with
    /// its first `sizes[q]` entries, each weighted by `fraction[slim[q]] * weights[q, b]`:
    ///
    ///     T[slim[q], indexes[q, b]] += fraction[slim[q]] * weights[q, b],   b < sizes[q]
    ///
    /// `slim` and `fraction` may be nil for one sub-pixel per image pixel with fraction 1.
    /// - Throws: `KernelError.index` for a size outside [0, B], an image pixel outside [0, M) or a
    ///   source index outside [0, S), naming the parameter, the row and the value.
    public init(indexes: UnsafeBufferPointer<Int64>, sizes: UnsafeBufferPointer<Int64>,
                weights: UnsafeBufferPointer<Double>, subPixels q: Int, width: Int,
                slim: UnsafeBufferPointer<Int64>?, fraction: UnsafeBufferPointer<Double>?,
                imagePixels rows: Int, sources: Int) throws {
        try SparseMapping.checkSources(sources, name: "pixels")
        var count = [Int](repeating: 0, count: rows + 1)
        for sub in 0..<q {
            let size = sizes[sub]
            guard size >= 0 && size <= width else {
                throw KernelError.index("pix_size_for_sub_slim_index[\(sub)] = \(size) is outside [0, \(width)]")
            }
            let m = slim.map { $0[sub] } ?? Int64(sub)
            guard m >= 0 && m < rows else {
                throw KernelError.index("slim_index_for_sub_slim_index[\(sub)] = \(m) is outside [0, \(rows))")
            }
            for b in 0..<Int(size) {
                let s = indexes[sub * width + b]
                guard s >= 0 && s < sources else {
                    throw KernelError.index("pix_indexes_for_sub_slim_index[\(sub), \(b)] = \(s) is outside [0, \(sources)) (pixels = \(sources))")
                }
            }
            count[Int(m) + 1] += Int(size)
        }
        for m in 0..<rows { count[m + 1] += count[m] }
        var next = count
        var source = [Int](repeating: 0, count: count[rows]), weight = [Double](repeating: 0, count: count[rows])
        for sub in 0..<q {
            // Checked again (read twice without the GIL: another thread may have written them).
            let m = Int(slim.map { $0[sub] } ?? Int64(sub)), size = Int(sizes[sub])
            guard m >= 0 && m < rows && size >= 0 && size <= width && size <= count[m + 1] - next[m] else {
                throw SparseMapping.changed("the sub-pixel mapping")
            }
            let f = fraction.map { $0[m] } ?? 1
            for b in 0..<size {
                let s = Int(indexes[sub * width + b])
                guard s >= 0 && s < sources else { throw SparseMapping.changed("pix_indexes_for_sub_slim_index") }
                source[next[m]] = s
                weight[next[m]] = f * weights[sub * width + b]
                next[m] += 1
            }
        }
        for m in 0..<rows where next[m] != count[m + 1] { throw SparseMapping.changed("the sub-pixel mapping") }
        self.init(rows: rows, sources: sources, rowStart: Buffer(count), rowSource: Buffer(source), rowWeight: Buffer(weight))
    }

    /// The non-zeros of a dense (M, S) mapping matrix.
    public init(dense: UnsafeBufferPointer<Double>, rows: Int, sources: Int) {
        var start = [Int](repeating: 0, count: rows + 1)
        var source: [Int] = [], weight: [Double] = []
        for m in 0..<rows {
            for s in 0..<sources where dense[m * sources + s] != 0 {
                source.append(s)
                weight.append(dense[m * sources + s])
            }
            start[m + 1] = source.count
        }
        self.init(rows: rows, sources: sources, rowStart: Buffer(start), rowSource: Buffer(source), rowWeight: Buffer(weight))
    }

    /// From entries listed by image pixel (row m: `rowSources/rowWeights[rowStarts[m] ..<
    /// rowStarts[m + 1]]`), by a counting sort on the source pixel (stable: image pixels stay in
    /// increasing order within a column).
    init(rows: Int, sources: Int, rowStart rowStarts: Buffer<Int>, rowSource rowSources: Buffer<Int>,
                 rowWeight rowWeights: Buffer<Double>) {
        let entries = rowSources.count
        let start = Buffer<Int>(sources + 1, repeating: 0), next = Buffer<Int>(uninitialized: max(sources, 1))
        let pixel = Buffer<Int>(uninitialized: entries), weight = Buffer<Double>(uninitialized: entries)
        let c = start.pointer, n = next.pointer, rs = rowStarts.pointer, src = rowSources.pointer, w = rowWeights.pointer
        for e in 0..<entries { c[src[e] + 1] += 1 }
        for s in 0..<sources { c[s + 1] += c[s] }
        n.update(from: c, count: sources)
        for m in 0..<rows {
            for e in rs[m]..<rs[m + 1] {
                let s = src[e], k = n[s]
                pixel.pointer[k] = m
                weight.pointer[k] = w[e]
                n[s] = k + 1
            }
        }
        self.init(rows: rows, sources: sources, columnStart: start, columnPixel: pixel, columnWeight: weight)
    }

    private init(rows: Int, sources: Int, columnStart start: Buffer<Int>, columnPixel pixel: Buffer<Int>,
                 columnWeight weight: Buffer<Double>) {
        imagePixels = rows
        sourcePixels = sources
        storage = [start, pixel, weight]
        columnStart = start.buffer
        columnPixel = pixel.buffer
        columnWeight = weight.buffer
    }
}

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

/// The dense mapping matrix: `T[m, s] = sum of the weights of row m's entries with index s`.
/// Cost: M S writes to zero it, B M to fill it.
public func mappingMatrix(_ mapping: SparseMapping, out: UnsafeMutableBufferPointer<Double>) {
    let sources = mapping.sourcePixels
    out.initialize(repeating: 0)
    for s in 0..<sources {
        for e in mapping.columnStart[s]..<mapping.columnStart[s + 1] {
            out[mapping.columnPixel[e] * sources + s] += mapping.columnWeight[e]
        }
    }
}

/// `T^T @ matrix` without forming T: `out[s, :] += w * matrix[m, :]` for every entry (m, s, w);
/// `matrix` is (M, X), `out` (S, X). Cost: B M X multiply-adds; threads take source pixels.
public func transposeMatmul(_ mapping: SparseMapping, matrix: UnsafeBufferPointer<Double>,
                            columns x: Int, out: UnsafeMutableBufferPointer<Double>) {
    parallelFor(mapping.sourcePixels, threads: x * mapping.imagePixels < 1 << 15 ? 1 : Threads.count) { s in
        let row = out.baseAddress! + s * x
        row.initialize(repeating: 0, count: x)
        for e in mapping.columnStart[s]..<mapping.columnStart[s + 1] {
            axpy(row, mapping.columnWeight[e], matrix.baseAddress! + mapping.columnPixel[e] * x, x)
        }
    }
}

/// The data vector `dirty_image @ T` of a dense mapping matrix T (M, S): `out[s] = sum_m d[m]
/// T[m, s]`, as contiguous row updates. Cost: M S multiply-adds.
public func dataVector(mappingMatrix t: UnsafeBufferPointer<Double>, dirtyImage: UnsafeBufferPointer<Double>,
                       sources: Int, out: UnsafeMutableBufferPointer<Double>) {
    out.initialize(repeating: 0)
    for m in 0..<dirtyImage.count {
        axpy(out.baseAddress!, dirtyImage[m], t.baseAddress! + m * sources, sources)
    }
}

/// `y[0..<n] += a * x[0..<n]`, eight lanes at a time.
@inline(__always)
public func axpy(_ y: UnsafeMutablePointer<Double>, _ a: Double, _ x: UnsafePointer<Double>, _ n: Int) {
    var i = 0
    let av = Vec(repeating: a)
    while i + 8 <= n {
        let py = UnsafeMutableRawPointer(y + i)
        var v = py.loadUnaligned(as: Vec.self)
        v.addProduct(av, UnsafeRawPointer(x + i).loadUnaligned(as: Vec.self))
        py.storeBytes(of: v, as: Vec.self)
        i += 8
    }
    while i < n {
        y[i] += a * x[i]
        i += 1
    }
}
