import Dispatch
import Glibc
import SwiftwABI

/// Helper threads kept between kernel calls: after a job they wait for the next by spinning for
/// `spinSeconds` (yielding their CPU to any other thread that wants it), then sleep on a
/// condition variable.
///
/// Why not `DispatchQueue.concurrentPerform` for every call: it wakes a sleeping worker per call,
/// and that wake-up and join cost a sizeable fraction of a few-millisecond F on two threads,
/// which a helper still spinning from the previous call does not pay. Dispatch stays the
/// fallback: for a call made while the helpers are busy (from another Python thread, or nested
/// in a job), and for more threads than the CPUs this process may use (a spinning helper would
/// then take a CPU from the threads doing the work).
///
/// A job is published as one word, `generation << 16 | threads`; helper i (1 ..< threads) runs
/// `job(i)` and counts itself in `finished`; the caller runs `job(0)` and returns once the others
/// have finished. Helpers beyond a job's thread count skip it (and sleep).
enum Workers {
    /// How long an idle helper spins before it sleeps, in seconds: 10 ms by default (OpenMP
    /// runtimes spin 0.1-200 ms), `SWIFTW_SPIN_MS` in the environment at first use otherwise
    /// (0: sleep at once). A process that never runs a kernel on more than one thread starts none.
    /// The spin yields the CPU after its first microseconds: spinning on the core instead made
    /// the two-thread log-likelihood (our F, then LAPACK's threads) 1.2-1.3x slower than one
    /// thread, where with Dispatch and with the yielding spin both take about the same time.
    static let spinSeconds: Double = {
        if let text = getenv("SWIFTW_SPIN_MS"), let ms = Double(String(cString: text)), ms >= 0 {
            return min(ms, 10_000) / 1000
        }
        return 0.01
    }()

    // The shared words, a cache line apart: the published job, the helpers that finished it,
    // the helpers asleep (under `sleepLock`).
    private static let words = UnsafeMutablePointer<Int64>.allocate(capacity: 24)
    private static var published: UnsafeMutablePointer<Int64> { words }
    private static var finished: UnsafeMutablePointer<Int64> { words + 8 }
    private static var sleepers: UnsafeMutablePointer<Int64> { words + 16 }
    /// The current job: set before it is published, read by helpers after they see it.
    nonisolated(unsafe) private static var job: ((Int) -> Void)? = nil
    /// Helpers started (numbered 1...helpers), under `submitLock`.
    nonisolated(unsafe) private static var helpers = 0
    private static let submitLock = newMutex(), sleepLock = newMutex()
    private static let wake: UnsafeMutablePointer<pthread_cond_t> = {
        let c = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        pthread_cond_init(c, nil)
        return c
    }()
    private static let prepared: Bool = {
        words.initialize(repeating: 0, count: 24)
        // Every lock made now, before any helper exists (a child forked while a helper made one
        // lazily could not take it).
        _ = (submitLock, sleepLock, wake)
        // A forked child has none of its parent's threads (a sampler's process pool forks after
        // the once-per-dataset work ran on all cores): it forgets them and starts its own.
        pthread_atfork(nil, nil) {
            Workers.words.update(repeating: 0, count: 24)
            Workers.helpers = 0
            Workers.job = nil
            pthread_mutex_init(Workers.submitLock, nil)
            pthread_mutex_init(Workers.sleepLock, nil)
            pthread_cond_init(Workers.wake, nil)
        }
        return true
    }()

    private static func seconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Runs `body(tid)` for every tid in `0 ..< threads`, tid 0 on the calling thread, and
    /// returns when all have returned.
    static func run(_ threads: Int, _ body: (Int) -> Void) {
        guard threads > 1 else {
            body(0)
            return
        }
        _ = prepared
        guard threads <= Int(swiftw_available_cpus()), threads < 1 << 15,
              pthread_mutex_trylock(submitLock) == 0 else {
            DispatchQueue.concurrentPerform(iterations: threads, execute: body)
            return
        }
        defer { pthread_mutex_unlock(submitLock) }
        guard startHelpers(threads - 1) else {
            DispatchQueue.concurrentPerform(iterations: threads, execute: body)
            return
        }
        withoutActuallyEscaping(body) { body in
            job = body
            swiftw_store_release(finished, 0)
            let generation = swiftw_load_acquire(published) >> 16
            swiftw_store_release(published, (generation + 1) << 16 | Int64(threads))
            pthread_mutex_lock(sleepLock)
            if sleepers.pointee > 0 { pthread_cond_broadcast(wake) }
            pthread_mutex_unlock(sleepLock)
            body(0)
            // The others are at work: spin, then yield (a helper may share our CPU with
            // another process).
            var spins = 0
            while swiftw_load_acquire(finished) < threads - 1 {
                if spins < 4096 {
                    swiftw_pause()
                    spins += 1
                } else {
                    sched_yield()
                }
            }
            job = nil
        }
    }

    /// Makes sure helpers 1...count exist (under `submitLock`); false if a thread could not be
    /// started.
    private static func startHelpers(_ count: Int) -> Bool {
        while helpers < count {
            // The helper's number, and the generation before its first job.
            let start = UnsafeMutablePointer<Int64>.allocate(capacity: 2)
            start[0] = Int64(helpers + 1)
            start[1] = swiftw_load_acquire(published) >> 16
            // Asynchronous signals (Ctrl-C, a terminal's, a timer's) go to the interpreter's
            // threads, never to a helper; a helper's own faults still reach it. The helper
            // inherits the mask from its first instruction on.
            var signals = sigset_t(), previous = sigset_t()
            sigfillset(&signals)
            for fault in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS] { sigdelset(&signals, fault) }
            pthread_sigmask(SIG_BLOCK, &signals, &previous)
            var thread = pthread_t()
            let created = pthread_create(&thread, nil, { argument in
                let start = argument!.assumingMemoryBound(to: Int64.self)
                let (index, generation) = (Int(start[0]), start[1])
                start.deallocate()
                Workers.serve(index, after: generation)
            }, start)
            pthread_sigmask(SIG_SETMASK, &previous, nil)
            guard created == 0 else {
                start.deallocate()
                return false
            }
            pthread_detach(thread)
            helpers += 1
        }
        return true
    }

    /// Runs part `index` of the current job. Not inlined, so that the helper's reference to the
    /// closure is gone before it counts itself finished: `withoutActuallyEscaping` in `run`
    /// checks, once the others have finished, that no reference outlives the call.
    @inline(never)
    private static func runPart(_ index: Int) { job!(index) }

    /// Helper `index`: runs its part of every job of more than `index` threads, from the one
    /// after generation `seen` on. It spins only after a job it took part in (after a narrower
    /// job it sleeps at once, so that one wide call does not keep every helper spinning).
    private static func serve(_ index: Int, after seen: Int64) -> Never {
        var seen = seen, spin = true
        while true {
            var word = swiftw_load_acquire(published)
            let idle = seconds()
            var spins = 0
            while word >> 16 == seen {
                if spin && (spins & 63 != 0 || seconds() - idle <= spinSeconds) {
                    // A short while on the core, then yielding it to any thread that wants it
                    // (LAPACK's after our F, another process): the helper spins only on a CPU
                    // nothing else would use.
                    if spins < 1024 { swiftw_pause() } else { sched_yield() }
                    spins += 1
                } else {
                    pthread_mutex_lock(sleepLock)
                    sleepers.pointee += 1
                    while swiftw_load_acquire(published) >> 16 == seen { pthread_cond_wait(wake, sleepLock) }
                    sleepers.pointee -= 1
                    pthread_mutex_unlock(sleepLock)
                }
                word = swiftw_load_acquire(published)
            }
            seen = word >> 16
            spin = index < Int(word & 0xffff)
            if spin {
                runPart(index)
                _ = swiftw_fetch_add(finished, 1)
            }
        }
    }
}

/// A new, initialized mutex; its owner destroys it, if it ever goes away.
func newMutex() -> UnsafeMutablePointer<pthread_mutex_t> {
    let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    pthread_mutex_init(lock, nil)
    return lock
}
