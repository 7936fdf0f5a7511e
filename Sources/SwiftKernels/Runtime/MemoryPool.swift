import Glibc

/// Large scratch blocks kept between calls.
///
/// A kernel called a million times in a sampler loop allocates the same few megabytes of scratch
/// each time. Freed to malloc, blocks that large go back to the kernel (mmap, or a trimmed heap
/// top) and come back as fresh pages: thousands of page faults per call, which cost more than
/// the arithmetic at the sma preset. So blocks of at least `minimumBytes` are parked here on
/// release and reused by the next request they fit (at most twice its size). At most
/// `retainedBytes` are parked; beyond that the oldest go back to malloc. Thread-safe.
enum MemoryPool {
    static let minimumBytes = 1 << 18
    static let retainedBytes = 1 << 28
    static let alignment = 64
    static let hugeBytes = 1 << 21

    private static let lock = newMutex()
    nonisolated(unsafe) private static var parked: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []
    nonisolated(unsafe) private static var parkedBytes = 0

    /// A block of at least `bytes` bytes, 64-byte aligned, and its actual size.
    static func allocate(bytes: Int) -> (UnsafeMutableRawPointer, Int) {
        if bytes >= minimumBytes {
            pthread_mutex_lock(lock)
            defer { pthread_mutex_unlock(lock) }
            var best = -1
            for (i, block) in parked.enumerated() where block.bytes >= bytes && block.bytes <= 2 * bytes {
                if best < 0 || block.bytes < parked[best].bytes { best = i }
            }
            if best >= 0 {
                let block = parked.remove(at: best)
                parkedBytes -= block.bytes
                return (block.pointer, block.bytes)
            }
        }
        guard bytes >= hugeBytes else {
            return (UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: alignment), bytes)
        }
        // Whole 2 MB pages, offered to the kernel as transparent huge pages: the curvature
        // kernel writes 512-byte tiles scattered over megabytes, one 4 KB page each otherwise
        // (a TLB miss per tile).
        let rounded = (bytes + hugeBytes - 1) / hugeBytes * hugeBytes
        let block = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: hugeBytes)
        _ = madvise(block, rounded, MADV_HUGEPAGE)
        return (block, rounded)
    }

    /// Gives back a block from `allocate`.
    static func release(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        guard bytes >= minimumBytes else {
            pointer.deallocate()
            return
        }
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        parked.append((pointer, bytes))
        parkedBytes += bytes
        while parkedBytes > retainedBytes, !parked.isEmpty {
            let oldest = parked.removeFirst()
            parkedBytes -= oldest.bytes
            oldest.pointer.deallocate()
        }
    }
}
