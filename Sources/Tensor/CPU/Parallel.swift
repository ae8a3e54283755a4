import Dispatch
import Foundation
import Synchronization

/// Runs `body(i)` for `i` in `0..<iterations` on the worker pool (the calling thread takes
/// part). Iterations must write disjoint memory.
func parallelFor(_ iterations: Int, _ body: (Int) -> Void) {
  if iterations <= 1 {
    if iterations == 1 { body(0) }
    return
  }
  WorkerPool.shared.run(iterations, body)
}

/// Splits `0..<count` into one contiguous range per thread (sizes rounded up to a multiple
/// of `alignment`) and runs `body(part, range)` for each non-empty range in parallel; `part`
/// numbers the ranges from 0.
func parallelRanges(_ count: Int, threads: Int, alignment: Int = 1, _ body: (Int, Range<Int>) -> Void) {
  let parts = max(1, min(threads, count))
  let chunk = ((count + parts - 1) / parts + alignment - 1) / alignment * alignment
  parallelFor(parts) { t in
    let lo = t * chunk
    let hi = min(count, lo + chunk)
    if lo < hi { body(t, lo..<hi) }
  }
}

/// Runs `body(member, teamSize)` once on each of up to `threads` threads at the same time, so
/// the members may wait for each other (a barrier per step); when the pool is busy (a nested
/// region) or one thread is asked for, the team is the caller alone (`teamSize` 1).
func parallelTeam(_ threads: Int, _ body: (Int, Int) -> Void) {
  let size = min(threads, WorkerPool.shared.size)
  if size <= 1 || !WorkerPool.shared.runTeam(size, body) { body(0, 1) }
}

/// A small pool of threads that spin briefly between jobs before sleeping (as OpenMP's
/// workers do): waking a sleeping thread costs tens of microseconds, which is more than a
/// 10^6-element kernel takes. One parallel region runs at a time; a region started while
/// another runs (another thread's, or a nested one) runs on its caller alone.
final class WorkerPool: @unchecked Sendable {
  static let shared = WorkerPool(workers: max(0, ProcessInfo.processInfo.activeProcessorCount - 1))

  private let workers: Int
  private let generation = Atomic<Int>(0)
  private let pending = Atomic<Int>(0)
  /// Whether a region holds the pool. An atomic rather than a `Mutex`: ThreadSanitizer does
  /// not see the `Mutex`'s ordering (its lock is not instrumented), so the hand-over from one
  /// region's release to the next region's acquire read as races on `busy` and `job`.
  private let busy = Atomic<Bool>(false)
  private let sleepLock = NSCondition()
  private let sleepers = Atomic<Int>(0)
  private var job: ((Int) -> Void)?
  private var jobCount = 0

  private init(workers: Int) {
    self.workers = workers
    for index in 0..<workers {
      let thread = Thread { [unowned self] in self.workerLoop(index + 1) }
      thread.stackSize = 1 << 22
      thread.start()
    }
  }

  /// The threads a region can use: the workers and the caller.
  var size: Int { workers + 1 }

  /// Runs `body(i, count)` for `i` in `0..<count` (at most `size`), each on its own thread,
  /// all at once; false (and nothing run) when the pool is busy.
  func runTeam(_ count: Int, _ body: (Int, Int) -> Void) -> Bool {
    guard acquire() else { return false }
    // Iteration i runs on thread i (the caller takes 0), so all `count` members run at once.
    dispatch(size) { i in if i < count { body(i, count) } }
    return true
  }

  func run(_ iterations: Int, _ body: (Int) -> Void) {
    guard acquire() else {
      for i in 0..<iterations { body(i) }
      return
    }
    dispatch(iterations, body)
  }

  /// Takes the pool for one region; false when another region holds it.
  private func acquire() -> Bool {
    workers > 0 && busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
  }

  /// Runs a region on the acquired pool and releases it.
  private func dispatch(_ iterations: Int, _ body: (Int) -> Void) {
    withoutActuallyEscaping(body) { escapable in
      job = escapable
      jobCount = iterations
      pending.store(workers, ordering: .relaxed)
      generation.add(1, ordering: .releasing)
      if sleepers.load(ordering: .acquiring) > 0 {
        sleepLock.lock()
        sleepLock.broadcast()
        sleepLock.unlock()
      }
      for i in stride(from: 0, to: iterations, by: workers + 1) { escapable(i) }
      while pending.load(ordering: .acquiring) > 0 {}
      job = nil
    }
    busy.store(false, ordering: .releasing)
  }

  private func workerLoop(_ index: Int) {
    var seen = 0
    while true {
      var spins = 0
      while generation.load(ordering: .acquiring) == seen {
        spins += 1
        if spins > 200_000 {
          sleepLock.lock()
          sleepers.add(1, ordering: .releasing)
          while generation.load(ordering: .acquiring) == seen { sleepLock.wait() }
          sleepers.subtract(1, ordering: .releasing)
          sleepLock.unlock()
        }
      }
      seen = generation.load(ordering: .acquiring)
      if let job {
        for i in stride(from: index, to: jobCount, by: workers + 1) { job(i) }
      }
      pending.subtract(1, ordering: .releasing)
    }
  }
}
