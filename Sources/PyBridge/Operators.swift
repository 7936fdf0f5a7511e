import Glibc
import SwiftKernels
import SwiftwABI

// Prepared operators (`swiftw.CurvatureOperator`): an `OffsetOperator` built once per dataset,
// kept here under a small integer handle that Python holds. Handles are looked up, never
// dereferenced: a stale or made-up handle is a ValueError, not a crash.

final class Registry {
    private var mutex = pthread_mutex_t()
    private var operators: [Int: OffsetOperator] = [:]
    private var next = 1

    init() { pthread_mutex_init(&mutex, nil) }

    func add(_ op: OffsetOperator) -> Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        let handle = next
        next += 1
        operators[handle] = op
        return handle
    }

    func get(_ handle: Int) throws -> OffsetOperator {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard let op = operators[handle] else { throw KernelError.value("no curvature operator with handle \(handle)") }
        return op
    }

    func remove(_ handle: Int) {
        pthread_mutex_lock(&mutex)
        operators[handle] = nil
        pthread_mutex_unlock(&mutex)
    }
}

nonisolated(unsafe) let registry = Registry()

/// Writes a new handle into arrays[0] ((1,) int64).
func publish(_ args: Arguments, _ op: OffsetOperator) throws {
    guard args.format(0) == 113, args.shape(0) == [1], let data = args.data(0) else {
        throw KernelError.value("handle must be a writable (1,) int64 array")
    }
    data.assumingMemoryBound(to: Int64.self).pointee = Int64(registry.add(op))
}

/// CurvatureOperator(w_compact, native_index_for_slim_index): arrays (handle (1,), w_compact,
/// native_index_for_slim_index).
/// Kernel: `OffsetOperator.init` in Sources/SwiftKernels/Curvature/OffsetOperator.swift.
@_cdecl("swiftw_operator_create")
public func swiftwOperatorCreate(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 3, what: "arrays")
        let (compact, n, native) = try compactAndNative(args, 1)
        try publish(args, OffsetOperator(wCompact: compact, gridSize: n, native: native))
    }
}

/// The operator of numbers[0] (a handle) and the mapping of arrays 1, 2 (pix_indexes,
/// pix_weights) onto numbers[1] source pixels, checked against the operator's image pixels.
private func operatorAndMapping(_ args: Arguments) throws -> (OffsetOperator, CurvatureOrder) {
    let op = try registry.get(try args.integer(0, "handle", atLeast: 1))
    return (op, try curvatureOrder(args, 1, op, pixels: try args.integer(1, "pixels")))
}

/// The operator's F: arrays (out (S, S), pix_indexes, pix_weights), numbers (handle, pixels, method).
/// Kernel: `OffsetOperator.curvature` in Sources/SwiftKernels/Curvature/OffsetOperator.swift.
@_cdecl("swiftw_operator_curvature")
public func swiftwOperatorCurvature(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 3, what: "arrays")
        let (op, order) = try operatorAndMapping(args)
        let out = try args.output(0, "out", shape: [order.sources, order.sources])
        op.curvature(order, method: try args.method(2), out: out)
    }
}

/// The weights' cotangent of the operator's F for a cotangent of F: arrays (out (M, B),
/// pix_indexes, pix_weights, cotangent (S, S)), numbers (handle, pixels).
@_cdecl("swiftw_operator_curvature_vjp")
public func swiftwOperatorCurvatureVJP(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 4, what: "arrays")
        let (op, order) = try operatorAndMapping(args)
        let shape = args.shape(1)
        let indexes = try args.indices(1, "pix_indexes_for_sub_slim_index", shape: [shape[0], shape[1]])
        let g = try args.doubles(3, "cotangent", shape: [order.sources, order.sources])
        let out = try args.output(0, "out", shape: [shape[0], shape[1]])
        try op.curvatureWeightGradient(order, indexes: indexes, width: shape[1], cotangent: g,
                                       name: "pix_indexes_for_sub_slim_index", out: out)
    }
}

/// The operator's cost estimates for a mapping: arrays (out (2,) = (direct, fft), pix_indexes,
/// pix_weights), numbers (handle, pixels).
/// Kernel: `OffsetOperator.costs` in Sources/SwiftKernels/Curvature/OffsetOperator.swift.
@_cdecl("swiftw_operator_costs")
public func swiftwOperatorCosts(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        try args.count(expected: 3, what: "arrays")
        let (op, order) = try operatorAndMapping(args)
        let out = try args.output(0, "out", shape: [2])
        let (direct, fft) = op.costs(order)
        out[0] = direct
        out[1] = fft
    }
}

/// Forgets a handle: numbers (handle).
@_cdecl("swiftw_operator_release")
public func swiftwOperatorRelease(_ a: ArrayList, _ na: Int64, _ x: NumberList, _ nx: Int64, _ status: Status) -> Int32 {
    report(status) {
        let args = Arguments(a, na, x, nx)
        registry.remove(try args.integer(0, "handle", atLeast: 1))
    }
}
