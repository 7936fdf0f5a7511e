import SwiftwABI

/// Cooperative cancellation: a request to stop (Ctrl-C) that long kernels check between blocks
/// of work. A stopped kernel leaves its output incomplete; the bridge reports the interruption.
/// The C shim's SIGINT handler sets the flag (Sources/SwiftwABI).
public enum Interrupt {
    /// Whether a stop was requested since the flag was last cleared.
    @inline(__always)
    public static var requested: Bool { swiftw_interrupt_get() != 0 }
}

/// Thread settings shared by every kernel.
///
/// Kernels split their work into independent output blocks and run them on `Workers` (helper
/// threads kept between calls; `DispatchQueue.concurrentPerform` when those are busy);
/// `Threads.count` caps how many run at once. Changing it between calls is safe: a kernel reads
/// it once, at its start.
public enum Threads {
    nonisolated(unsafe) private static var stored: Int = 1

    /// The most threads a kernel starts (each may own scratch memory).
    public static let maximum = 1024

    /// The number of threads kernels use, in [1, maximum].
    public static var count: Int {
        get { stored }
        set { stored = min(max(1, newValue), maximum) }
    }
}

/// Runs `body(i)` for every `i` in `0..<n` on up to `threads` threads, until an interrupt is
/// requested (items not yet started are then skipped).
///
/// Thread `t` takes the items `t, t + threads, t + 2 threads, ...`: interleaving balances work
/// whose cost drifts with `i` (triangular loops). With one thread, or one item, no thread is
/// started.
@inline(__always)
public func parallelFor(_ n: Int, threads: Int = Threads.count, _ body: (Int) -> Void) {
    let t = min(max(threads, 1), n)
    if t <= 1 {
        for i in 0..<n where !Interrupt.requested { body(i) }
        return
    }
    Workers.run(t) { tid in
        var i = tid
        while i < n && !Interrupt.requested {
            body(i)
            i += t
        }
    }
}

/// `parallelFor` that also tells the body which thread (0..<threads) runs it, for per-thread
/// scratch.
@inline(__always)
public func parallelFor(_ n: Int, threads: Int = Threads.count, _ body: (_ thread: Int, _ item: Int) -> Void) {
    let t = min(max(threads, 1), n)
    if t <= 1 {
        for i in 0..<n where !Interrupt.requested { body(0, i) }
        return
    }
    Workers.run(t) { tid in
        var i = tid
        while i < n && !Interrupt.requested {
            body(tid, i)
            i += t
        }
    }
}

/// Runs `body(thread, range)` over `0..<n` cut into at most `threads` contiguous ranges.
public func parallelRanges(_ n: Int, threads: Int = Threads.count, _ body: (Int, Range<Int>) -> Void) {
    let t = min(max(threads, 1), max(n, 1))
    if t <= 1 {
        body(0, 0..<n)
        return
    }
    Workers.run(t) { tid in
        let lo = n * tid / t, hi = n * (tid + 1) / t
        body(tid, lo..<hi)
    }
}
