/// The production library's 2026 layouts of the mapping T (PyAutoArray, SPEC 3.9), read into a
/// `SparseMapping` with every index checked: the CSR + CSC pair of `curvature_direct_conv`, and
/// the COO triplets on the mask's extent rectangle of `InterferometerSparseOperator`.
extension SparseMapping {
    /// T (M, S) from its CSR (`indptr` (M+1), `col`, `val`: rows are image pixels) and CSC
    /// (`cscptr` (S+1), `cscRow`, `cscVal`) forms, which must describe the same entries: T is
    /// read from the CSR and checked against the CSC column by column (the kernel this replaces
    /// convolves the CSC and gathers with the CSR, so a pair that disagrees has no one answer).
    /// Cost O(M + S + nnz), plus a sort of a column's entries where the two list them in a
    /// different order.
    /// - Throws: `KernelError.index` for a pointer array that does not start at 0, decreases or
    ///   does not end at nnz, or an index outside [0, S) / [0, M), naming the parameter, the
    ///   position and the value; `KernelError.value` where the CSR and the CSC differ.
    public init(csrStart indptr: UnsafeBufferPointer<Int64>, column col: UnsafeBufferPointer<Int64>,
                value val: UnsafeBufferPointer<Double>, cscStart cscptr: UnsafeBufferPointer<Int64>,
                row cscRow: UnsafeBufferPointer<Int64>, cscValue cscVal: UnsafeBufferPointer<Double>,
                imagePixels m: Int, sources s: Int) throws {
        try SparseMapping.checkSources(s, name: "pix_pixels")
        // Each array read once into a checked copy (read without the GIL: another thread may write it).
        let rowStart = try SparseMapping.pointers(indptr, "indptr", entries: col.count)
        let source = try SparseMapping.indexes(col, "col", below: s, what: "pix_pixels")
        let cscStart = try SparseMapping.pointers(cscptr, "cscptr", entries: cscRow.count)
        let columnRow = try SparseMapping.indexes(cscRow, "csc_row", below: m, what: "masked pixels")
        guard col.count == cscRow.count else {
            throw KernelError.value("col has \(col.count) entries and csc_row \(cscRow.count): not the same mapping")
        }
        self.init(rows: m, sources: s, rowStart: rowStart, rowSource: source, rowWeight: Buffer(Array(val)))
        let values = Array(cscVal)
        for c in 0..<s {
            let range = cscStart.pointer[c]..<cscStart.pointer[c + 1], mine = columnStart[c]..<columnStart[c + 1]
            guard range.count == mine.count else {
                throw KernelError.value("cscptr gives source pixel \(c) \(range.count) entries, indptr / col give it \(mine.count)")
            }
            var same = true
            for (e, f) in zip(range, mine) where columnRow.pointer[e] != columnPixel[f] || values[e] != columnWeight[f] {
                same = false
                break
            }
            if same { continue }
            // Another order of the same entries is the same mapping.
            let theirs = range.map { (columnRow.pointer[$0], values[$0]) }.sorted { $0 < $1 }
            let ours = mine.map { (columnPixel[$0], columnWeight[$0]) }.sorted { $0 < $1 }
            guard theirs.elementsEqual(ours, by: { $0 == $1 }) else {
                throw KernelError.value("csc_row / csc_val of source pixel \(c) are not the entries indptr / col / val give it")
            }
        }
    }

    /// T (cells, S) from COO triplets whose rows are extent-flat indices: triplets whose column
    /// lies outside [0, S) (the -1 padding of a Mapper's rows) are dropped, duplicates add (T is
    /// the sum of its triplets). Cost O(nnz + cells + S).
    /// - Throws: `KernelError.index` naming `rowsName[k]` for a kept triplet's row outside [0, cells).
    public init(rows: UnsafeBufferPointer<Int64>, columns: UnsafeBufferPointer<Int64>,
                values: UnsafeBufferPointer<Double>, cells: Int, sources s: Int,
                names: (rows: String, columns: String)) throws {
        try SparseMapping.checkSources(s, name: "S")
        var kept: [(row: Int, source: Int, value: Double)] = []
        kept.reserveCapacity(rows.count)
        for k in 0..<rows.count {
            let c = columns[k], r = rows[k]
            guard c >= 0 && c < s else { continue }
            guard r >= 0 && r < cells else {
                throw KernelError.index("\(names.rows)[\(k)] = \(r) is outside the extent's [0, \(cells)) cells "
                    + "(\(names.columns)[\(k)] = \(c))")
            }
            kept.append((Int(r), Int(c), values[k]))
        }
        // Grouped by row (a counting sort), as the row-wise initializer takes them.
        let start = Buffer<Int>(cells + 1, repeating: 0)
        for t in kept { start.pointer[t.row + 1] += 1 }
        for r in 0..<cells { start.pointer[r + 1] += start.pointer[r] }
        var next = Array(start.buffer)
        let source = Buffer<Int>(uninitialized: kept.count), weight = Buffer<Double>(uninitialized: kept.count)
        for t in kept {
            source.pointer[next[t.row]] = t.source
            weight.pointer[next[t.row]] = t.value
            next[t.row] += 1
        }
        self.init(rows: cells, sources: s, rowStart: start, rowSource: source, rowWeight: weight)
    }

    /// A checked copy of a pointer array: starts at 0, never decreases, ends at `entries`.
    private static func pointers(_ p: UnsafeBufferPointer<Int64>, _ name: String, entries: Int) throws -> Buffer<Int> {
        let out = Buffer<Int>(uninitialized: p.count)
        for i in 0..<p.count { out.pointer[i] = Int(p[i]) }
        let q = out.pointer
        guard p.count > 0, q[0] == 0 else { throw KernelError.index("\(name)[0] = \(p.count > 0 ? q[0] : -1) must be 0") }
        for i in 1..<p.count where q[i] < q[i - 1] {
            throw KernelError.index("\(name)[\(i)] = \(q[i]) is less than \(name)[\(i - 1)] = \(q[i - 1])")
        }
        guard q[p.count - 1] == entries else {
            throw KernelError.index("\(name)[\(p.count - 1)] = \(q[p.count - 1]) must be the number of entries, \(entries)")
        }
        return out
    }

    /// A checked copy of indices that must lie in [0, bound).
    private static func indexes(_ p: UnsafeBufferPointer<Int64>, _ name: String, below bound: Int,
                                what: String) throws -> Buffer<Int> {
        let out = Buffer<Int>(uninitialized: p.count)
        for i in 0..<p.count {
            let v = p[i]
            guard v >= 0 && v < bound else { throw KernelError.index("\(name)[\(i)] = \(v) is outside [0, \(bound)) (\(what))") }
            out.pointer[i] = Int(v)
        }
        return out
    }
}

extension NativeIndices {
    /// The extent cells of M masked pixels from their row `iy`, column `ix` and flat index
    /// `flat = iy nx + ix` on the (ny, nx) extent rectangle (all three must agree). Cost O(M).
    /// - Throws: `KernelError.index` naming the parameter, the pixel and its value.
    public init(iy: UnsafeBufferPointer<Int64>, ix: UnsafeBufferPointer<Int64>, flat: UnsafeBufferPointer<Int64>,
                ny: Int, nx: Int) throws {
        var pairs = [Int64](repeating: 0, count: 2 * iy.count)
        for i in 0..<iy.count {
            let r = iy[i], c = ix[i], f = flat[i]
            guard r >= 0 && r < ny else { throw KernelError.index("iy[\(i)] = \(r) is outside [0, \(ny)) (ny)") }
            guard c >= 0 && c < nx else { throw KernelError.index("ix[\(i)] = \(c) is outside [0, \(nx)) (nx)") }
            guard f == r * Int64(nx) + c else {
                throw KernelError.index("flat[\(i)] = \(f) is not iy[\(i)] * nx + ix[\(i)] = \(r * Int64(nx) + c)")
            }
            pairs[2 * i] = r
            pairs[2 * i + 1] = c
        }
        self = try pairs.withUnsafeBufferPointer { try NativeIndices($0, gridRows: ny, gridCols: nx, name: "(iy, ix)") }
    }

    /// Every cell of the (ny, nx) extent rectangle, in flat order (pixel f is cell f).
    public init(extentRows ny: Int, cols nx: Int) throws {
        var pairs = [Int64](repeating: 0, count: 2 * ny * nx)
        for f in 0..<(ny * nx) {
            pairs[2 * f] = Int64(f / nx)
            pairs[2 * f + 1] = Int64(f % nx)
        }
        self = try pairs.withUnsafeBufferPointer { try NativeIndices($0, gridRows: ny, gridCols: nx, name: "the extent") }
    }
}
