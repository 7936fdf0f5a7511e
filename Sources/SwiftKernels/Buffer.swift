/// Memory a kernel owns for the length of a call, freed with the last reference.
///
/// Kernels read it through `pointer`/`buffer`, which are plain values: element access costs no
/// reference counting, so threads that share a `Buffer` never contend on its retain count.
public final class Buffer<Element> {
    public let pointer: UnsafeMutablePointer<Element>
    public let count: Int

    /// `count` copies of `value` (at least one slot is allocated).
    public init(_ count: Int, repeating value: Element) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: value, count: count)
    }

    /// A copy of `array`.
    public init(_ array: [Element]) {
        count = array.count
        pointer = .allocate(capacity: max(count, 1))
        _ = UnsafeMutableBufferPointer(start: pointer, count: count).initialize(from: array)
    }

    public var buffer: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: pointer, count: count) }

    deinit {
        pointer.deinitialize(count: count)
        pointer.deallocate()
    }
}

/// Zero-filled Double scratch.
public typealias Scratch = Buffer<Double>

extension Buffer where Element == Double {
    public convenience init(_ count: Int) { self.init(count, repeating: 0) }
}
