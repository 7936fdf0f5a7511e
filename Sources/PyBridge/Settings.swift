import SwiftKernels
import SwiftwABI

// The settings and limits of the kernels (Runtime/Parallel.swift, Runtime/Limits.swift): validated
// here, so that Python and the C shim only convert and pass them on.

/// set_num_threads(n): numbers (n), a whole number in [1, Threads.maximum].
/// Kernel: `Threads.count` in Sources/SwiftKernels/Runtime/Parallel.swift.
@_cdecl("swiftw_set_num_threads")
public func swiftwSetNumThreads(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 0, what: "arrays")
        Threads.count = try args.integer(0, "n", atLeast: 1, atMost: Threads.maximum)
    }
}

@_cdecl("swiftw_get_num_threads")
public func swiftwGetNumThreads() -> Int64 { Int64(Threads.count) }

/// limits(buffer): writes `Limits.all` into the uint8 buffer as "name value" lines, then a NUL
/// (a value in Swift's shortest round-trip form, so that Python reads back the same double).
/// Kernel: `Limits.all` in Sources/SwiftKernels/Runtime/Limits.swift.
@_cdecl("swiftw_limits")
public func swiftwLimits(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 1, what: "arrays")
        let buffer = try args.bytes(0, "buffer", shape: [nil])
        let text = Array(Limits.all.map { "\($0.0) \($0.1)\n" }.joined().utf8)
        guard text.count < buffer.count else {
            throw KernelError.value("buffer holds \(buffer.count) bytes, the limits need \(text.count + 1)")
        }
        for (i, byte) in text.enumerated() { buffer[i] = byte }
        buffer[text.count] = 0
    }
}
