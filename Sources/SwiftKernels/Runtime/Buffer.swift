/// Memory a kernel owns for the length of a call, freed with the last reference (large blocks
/// are parked in `MemoryPool` for the next call).
///
/// Kernels read it through `pointer`/`buffer`, which are plain values: element access costs no
/// reference counting, so threads that share a `Buffer` never contend on its retain count.
public final class Buffer<Element> {
    public let pointer: UnsafeMutablePointer<Element>
    public let count: Int
    private let bytes: Int

    private static func allocate(_ count: Int) -> (UnsafeMutablePointer<Element>, Int) {
        let (raw, bytes) = MemoryPool.allocate(bytes: max(count, 1) * MemoryLayout<Element>.stride)
        return (raw.bindMemory(to: Element.self, capacity: max(count, 1)), bytes)
    }

    /// `count` copies of `value` (at least one slot is allocated).
    public init(_ count: Int, repeating value: Element) {
        self.count = count
        (pointer, bytes) = Buffer.allocate(count)
        pointer.initialize(repeating: value, count: count)
    }

    /// `count` slots left uninitialized: only for trivial element types (Double, Int) whose
    /// every slot the kernel writes before it reads.
    public init(uninitialized count: Int) {
        self.count = count
        (pointer, bytes) = Buffer.allocate(count)
    }

    /// A copy of `array`.
    public init(_ array: [Element]) {
        count = array.count
        (pointer, bytes) = Buffer.allocate(count)
        _ = UnsafeMutableBufferPointer(start: pointer, count: count).initialize(from: array)
    }

    public var buffer: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: pointer, count: count) }

    deinit {
        pointer.deinitialize(count: count)
        MemoryPool.release(UnsafeMutableRawPointer(pointer), bytes: bytes)
    }
}

/// Zero-filled Double scratch.
public typealias Scratch = Buffer<Double>

extension Buffer where Element == Double {
    public convenience init(_ count: Int) { self.init(count, repeating: 0) }
}
