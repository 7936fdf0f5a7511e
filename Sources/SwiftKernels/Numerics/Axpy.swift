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
