/// The register-blocked product behind w_compact and w_tilde.
///
/// `out[m, n] += sum_k L[k, m] R[k, n]` where L and R are packed into panels: L in row blocks of
/// `rowBlock` (4) image rows, `lp[block][k][0..<4]`, and R in column blocks of `colBlock` (8),
/// `rp[block][k][0..<8]`, both contiguous in k, so the micro-kernel streams two arrays and keeps a
/// 4 x 8 tile of `out` in registers. Cost: 2 depth flops per output element, one SIMD
/// multiply-add per 8 of them.
public enum Panels {
    public static let rowBlock = 4
    public static let colBlock = 8

    /// Rounds `n` up to a multiple of `block`.
    @inline(__always)
    public static func padded(_ n: Int, _ block: Int) -> Int { (n + block - 1) / block * block }

    /// Adds the tile product of row block `ib` and column block `jb` over `depth` into `out`
    /// (leading dimension `ldo`, padded so the whole 4 x 8 tile exists).
    @inline(__always)
    public static func accumulateTile(lp: UnsafePointer<Double>, rp: UnsafePointer<Double>,
                                      depth: Int, out: UnsafeMutablePointer<Double>, ldo: Int) {
        var c0 = Vec(), c1 = Vec(), c2 = Vec(), c3 = Vec()
        var l = lp, r = UnsafeRawPointer(rp)
        for _ in 0..<depth {
            let rv = r.loadUnaligned(as: Vec.self)
            c0.addProduct(Vec(repeating: l[0]), rv)
            c1.addProduct(Vec(repeating: l[1]), rv)
            c2.addProduct(Vec(repeating: l[2]), rv)
            c3.addProduct(Vec(repeating: l[3]), rv)
            l += 4
            r += 8 * MemoryLayout<Double>.stride
        }
        add(c0, to: out)
        add(c1, to: out + ldo)
        add(c2, to: out + 2 * ldo)
        add(c3, to: out + 3 * ldo)
    }

    @inline(__always)
    private static func add(_ v: Vec, to p: UnsafeMutablePointer<Double>) {
        let raw = UnsafeMutableRawPointer(p)
        raw.storeBytes(of: raw.loadUnaligned(as: Vec.self) + v, as: Vec.self)
    }

    /// Stores the 8 lanes of `v` into two row blocks' panels: lanes 0..<4 at `first`, 4..<8 at
    /// `second` (each a 4-wide slot of a row panel).
    @inline(__always)
    public static func storeRowLanes(_ v: Vec, _ first: UnsafeMutablePointer<Double>,
                                     _ second: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(first).storeBytes(of: v.lowHalf, as: SIMD4<Double>.self)
        UnsafeMutableRawPointer(second).storeBytes(of: v.highHalf, as: SIMD4<Double>.self)
    }

    @inline(__always)
    public static func store(_ v: Vec, _ p: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
    }
}

