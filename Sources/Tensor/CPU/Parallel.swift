import Dispatch

/// Lets a non-escaping closure cross into `concurrentPerform`, whose closure type is
/// `@Sendable`; callers guarantee that iterations write disjoint memory.
private struct UncheckedSendable<Value>: @unchecked Sendable {
  let value: Value
}

/// Runs `body(i)` for `i` in `0..<iterations` on the worker threads.
func parallelFor(_ iterations: Int, _ body: (Int) -> Void) {
  if iterations == 1 {
    body(0)
    return
  }
  withoutActuallyEscaping(body) { escapable in
    let box = UncheckedSendable(value: escapable)
    DispatchQueue.concurrentPerform(iterations: iterations) { box.value($0) }
  }
}
