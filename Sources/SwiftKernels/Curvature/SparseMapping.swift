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
