import Dispatch
import Foundation
import SwiftwABI
import XCTest
@testable import SwiftKernels

/// The helper threads (`Workers`): every part of every job runs exactly once, on as many threads
/// as asked; a job started inside a job, or from several threads at once, goes to Dispatch and
/// completes; helpers that fell asleep wake for the next job. Under `make sanitize` also under
/// ThreadSanitizer.
final class WorkersTests: XCTestCase {
    /// `jobs` jobs of `threads` parts; each part adds its number + 1 to its own slot and records
    /// which thread ran it. Returns the slots' totals and the distinct threads seen per job.
    private func runJobs(_ jobs: Int, threads: Int) -> (totals: [Int], maxDistinct: Int) {
        var totals = [Int](repeating: 0, count: threads)
        var maxDistinct = 0
        for _ in 0..<jobs {
            var runners = [pthread_t?](repeating: nil, count: threads)
            totals.withUnsafeMutableBufferPointer { slots in
                runners.withUnsafeMutableBufferPointer { who in
                    Workers.run(threads) { tid in
                        slots[tid] += tid + 1
                        who[tid] = pthread_self()
                    }
                }
            }
            var distinct: [pthread_t] = []
            for case let r? in runners where !distinct.contains(where: { pthread_equal($0, r) != 0 }) { distinct.append(r) }
            maxDistinct = max(maxDistinct, distinct.count)
        }
        return (totals, maxDistinct)
    }

    func testEveryPartRunsOnceOnItsOwnThread() {
        let cpus = Int(swiftw_available_cpus())
        for threads in Set([2, 3, max(2, cpus)]) {
            let jobs = 3000
            let (totals, distinct) = runJobs(jobs, threads: threads)
            XCTAssertEqual(totals, (0..<threads).map { ($0 + 1) * jobs }, "threads = \(threads)")
            // On the helpers (threads <= CPUs) each part has its own thread.
            if threads <= cpus { XCTAssertEqual(distinct, threads, "threads = \(threads)") }
        }
    }

    func testJobsInsideJobsAndFromSeveralThreads() {
        let outer = 4, inner = 2, rounds = 200
        var counts = [Int](repeating: 0, count: outer * inner)
        counts.withUnsafeMutableBufferPointer { slots in
            // Several submitters at once (one wins the helpers, the others use Dispatch), each
            // job starting another inside it.
            DispatchQueue.concurrentPerform(iterations: outer) { o in
                for _ in 0..<rounds {
                    Workers.run(inner) { i in
                        Workers.run(2) { j in if j == 0 { slots[o * inner + i] += 1 } }
                    }
                }
            }
        }
        XCTAssertEqual(counts, [Int](repeating: rounds, count: outer * inner))
    }

    func testHelpersWakeAfterSleeping() {
        for _ in 0..<3 {
            XCTAssertEqual(runJobs(1, threads: 2).totals, [1, 2])
            usleep(UInt32(Workers.spinSeconds * 1e6) + 20_000)  // the helpers are asleep by now
        }
        XCTAssertEqual(runJobs(50, threads: 2).totals, [50, 100])
    }
}
