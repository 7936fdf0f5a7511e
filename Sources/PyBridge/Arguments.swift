import SwiftKernels
import SwiftwABI

/// The positional arguments of one call from the C shim, read with validation.
///
/// Arrays arrive in call order, numbers in call order. Every accessor checks the element type,
/// the number of dimensions and the shape it is given (`nil` entries of `shape` accept any
/// extent) and throws a `KernelError` naming the Python parameter, so nothing is read through a
/// buffer of the wrong size.
struct Arguments {
    let arrays: UnsafeBufferPointer<swiftw_array>
    let numbers: UnsafeBufferPointer<Double>

    init(_ arrays: UnsafePointer<swiftw_array>?, _ narrays: Int64,
         _ numbers: UnsafePointer<Double>?, _ nnumbers: Int64) {
        self.arrays = UnsafeBufferPointer(start: arrays, count: Int(narrays))
        self.numbers = UnsafeBufferPointer(start: numbers, count: Int(nnumbers))
    }

    /// The shape of array `i` (which must exist).
    func shape(_ i: Int) -> [Int] {
        var a = arrays[i]
        let ndim = Int(a.ndim)
        return withUnsafeBytes(of: &a.shape) { raw in
            (0..<ndim).map { Int(raw.load(fromByteOffset: $0 * 8, as: Int64.self)) }
        }
    }

    func count(expected: Int, what: String) throws {
        guard arrays.count == expected else {
            throw KernelError.value("expected \(expected) \(what), got \(arrays.count)")
        }
    }

    func number(_ i: Int, _ name: String) throws -> Double {
        guard i < numbers.count else { throw KernelError.value("missing number \(name)") }
        return numbers[i]
    }

    /// A whole number in [lo, hi].
    func integer(_ i: Int, _ name: String, atLeast lo: Int = 0, atMost hi: Int = 1 << 40) throws -> Int {
        let x = try number(i, name)
        guard x.rounded() == x, x >= Double(lo), x <= Double(hi) else {
            throw KernelError.value("\(name) must be a whole number in [\(lo), \(hi)], got \(x)")
        }
        return Int(x)
    }

    private func checked(_ i: Int, _ name: String, format: Int32, typeName: String,
                         shape expected: [Int?], writable: Bool = false) throws -> (UnsafeMutableRawPointer?, Int) {
        guard i < arrays.count else { throw KernelError.value("missing array \(name)") }
        let a = arrays[i]
        guard a.format == format else {
            throw KernelError.type("\(name) must be \(typeName), got a buffer of format '\(formatName(a.format))'")
        }
        let actual = shape(i)
        let matches = actual.count == expected.count
            && zip(actual, expected).allSatisfy { $1 == nil || $0 == $1! }
        guard matches else {
            throw KernelError.value("\(name) has shape \(describe(actual)), expected \(describe(expected))")
        }
        if writable && a.readonly != 0 {
            throw KernelError.value("\(name) must be writable")
        }
        let count = actual.reduce(1, *)
        return (a.data, count)
    }

    func doubles(_ i: Int, _ name: String, shape: [Int?]) throws -> UnsafeBufferPointer<Double> {
        let (p, n) = try checked(i, name, format: 100 /* d */, typeName: "float64", shape: shape)
        return UnsafeBufferPointer(start: p?.assumingMemoryBound(to: Double.self), count: n)
    }

    func output(_ i: Int, _ name: String, shape: [Int?]) throws -> UnsafeMutableBufferPointer<Double> {
        let (p, n) = try checked(i, name, format: 100, typeName: "float64", shape: shape, writable: true)
        return UnsafeMutableBufferPointer(start: p?.assumingMemoryBound(to: Double.self), count: n)
    }

    func floats(_ i: Int, _ name: String, shape: [Int?], writable: Bool = false) throws -> UnsafeMutableBufferPointer<Float> {
        let (p, n) = try checked(i, name, format: 102 /* f */, typeName: "float32", shape: shape, writable: writable)
        return UnsafeMutableBufferPointer(start: p?.assumingMemoryBound(to: Float.self), count: n)
    }

    func bytes(_ i: Int, _ name: String, shape: [Int?]) throws -> UnsafeMutableBufferPointer<UInt8> {
        let (p, n) = try checked(i, name, format: 66 /* B */, typeName: "uint8", shape: shape, writable: true)
        return UnsafeMutableBufferPointer(start: p?.assumingMemoryBound(to: UInt8.self), count: n)
    }

    func indices(_ i: Int, _ name: String, shape: [Int?]) throws -> UnsafeBufferPointer<Int64> {
        let (p, n) = try checked(i, name, format: 113 /* q */, typeName: "int64", shape: shape)
        return UnsafeBufferPointer(start: p?.assumingMemoryBound(to: Int64.self), count: n)
    }

    /// A `CurvatureMethod` given as number i (0 direct, 1 fft, 2 auto).
    func method(_ i: Int) throws -> CurvatureMethod {
        CurvatureMethod(rawValue: try integer(i, "method", atMost: 2))!
    }

    func format(_ i: Int) -> Int32 { arrays[i].format }
    func data(_ i: Int) -> UnsafeMutableRawPointer? { arrays[i].data }
}

private func formatName(_ f: Int32) -> String {
    guard let scalar = Unicode.Scalar(UInt32(max(f, 0))) else { return "?" }
    switch Character(scalar) {
    case "d": return "float64"
    case "f": return "float32"
    case "q": return "int64"
    case "i": return "int32"
    case "B": return "uint8/bool"
    default: return "unsupported"
    }
}

private func describe(_ shape: [Int?]) -> String {
    let parts = shape.map { $0.map(String.init) ?? "any" }
    return "(" + parts.joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
}

private func describe(_ shape: [Int]) -> String { describe(shape.map { Optional($0) }) }

/// Runs a kernel body and reports its outcome in `status`: 0 on success, otherwise the code of
/// the `KernelError` with its message (truncated to the buffer).
func report(_ status: UnsafeMutablePointer<swiftw_status>?, _ body: () throws -> Void) -> Int32 {
    var code: Int32 = 0
    var message = ""
    do {
        try body()
        if Interrupt.requested {
            code = 5
            message = "interrupted"
        }
    } catch let error as KernelError {
        switch error {
        case .type(let m): code = 1; message = m
        case .value(let m): code = 2; message = m
        case .index(let m): code = 3; message = m
        case .memory(let m): code = 4; message = m
        }
    } catch {
        code = 2
        message = "\(error)"
    }
    guard let status else { return code }
    status.pointee.code = code
    withUnsafeMutableBytes(of: &status.pointee.message) { raw in
        let bytes = Array(message.utf8.prefix(raw.count - 1))
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    return code
}
