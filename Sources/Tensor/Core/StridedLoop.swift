import Dispatch
import Foundation

/// The CPU's strided-iteration engine (PyTorch's TensorIterator idea): operands that share
/// a shape but not strides are walked row by row, after dropping size-1 dimensions,
/// ordering dimensions so the innermost is the fastest in memory, and merging dimensions
/// that are contiguous with each other. Large loops are split over the cores.
package struct StridedLoop {
  /// Dimensions after simplification, outermost first.
  package private(set) var shape: [Int]
  /// `strides[op][d]`, in elements.
  package private(set) var strides: [[Int]]
  /// Each operand's storage offset.
  package let bases: [Int]

  /// Elements below which a loop runs on one thread.
  static let parallelThreshold = 32_768
  /// The number of worker threads to split loops over (`Tensor.setNumThreads`).
  @exclusivity(unchecked) nonisolated(unsafe) static var threadCount = max(
    1, ProcessInfo.processInfo.activeProcessorCount)

  package init(shape: [Int], layouts: [Layout]) {
    bases = layouts.map(\.offset)
    var dims = Array(0..<shape.count).filter { shape[$0] != 1 }
    // Order dimensions by decreasing stride of the first operand (the output), breaking
    // ties with the inputs, so that the innermost loop walks memory forward.
    dims.sort { a, b in
      for l in layouts {
        let sa = abs(l.strides[a])
        let sb = abs(l.strides[b])
        if sa != sb { return sa > sb }
      }
      return a < b
    }
    var newShape: [Int] = []
    var newStrides: [[Int]] = Array(repeating: [], count: layouts.count)
    for d in dims {
      if let last = newShape.indices.last,
        layouts.indices.allSatisfy({ newStrides[$0][last] == layouts[$0].strides[d] * shape[d] })
      {
        newShape[last] *= shape[d]
        for op in layouts.indices { newStrides[op][last] = layouts[op].strides[d] }
      } else {
        newShape.append(shape[d])
        for op in layouts.indices { newStrides[op].append(layouts[op].strides[d]) }
      }
    }
    if newShape.isEmpty {
      newShape = [1]
      newStrides = Array(repeating: [1], count: layouts.count)
    }
    self.shape = newShape
    self.strides = newStrides
  }

  /// The threads worth using for `elements` of elementwise work.
  static func threads(forElements elements: Int) -> Int {
    elements >= parallelThreshold ? threadCount : 1
  }

  /// The number of elements.
  package var count: Int { shape.reduce(1, *) }

  /// Calls `body(offsets, n, innerStrides)` for each innermost row, where `offsets[op]`
  /// is the element offset of the row's first element for each operand. Rows may run
  /// concurrently when `parallel` and the loop is large, so `body` must only write
  /// elements of its own row.
  @inline(__always)
  func forEachRow(
    parallel: Bool = true,
    _ body: (_ offsets: UnsafePointer<Int>, _ n: Int, _ innerStrides: UnsafePointer<Int>) -> Void
  ) {
    let total = count
    if total == 0 { return }
    let inner = shape[shape.count - 1]
    let rows = total / inner
    let threads = parallel ? StridedLoop.threads(forElements: total) : 1
    let opCount = bases.count
    // One part per thread: a range of rows, or (few long rows) a range of every row's columns.
    // Inlined with `body` into each kernel so the element loop compiles as one piece; there
    // is a single call of runRows so that each kernel holds one copy of it.
    let splitRows = rows >= threads
    let chunk = ((splitRows ? rows : inner) + threads - 1) / threads
    withUnsafeTemporaryAllocation(of: Int.self, capacity: opCount) { innerStrides in
      for op in 0..<opCount { innerStrides[op] = strides[op][strides[op].count - 1] }
      let innerPtr = UnsafePointer(innerStrides.baseAddress!)
      parallelFor(threads) { t in
        let lo = t * chunk
        let hi = min(splitRows ? rows : inner, lo + chunk)
        if lo < hi {
          runRows(
            splitRows ? lo..<hi : 0..<rows, columns: splitRows ? 0..<inner : lo..<hi, innerStrides: innerPtr,
            opCount: opCount, body)
        }
      }
    }
  }

  @inline(__always)
  private func runRows(
    _ rows: Range<Int>, columns: Range<Int>, innerStrides: UnsafePointer<Int>, opCount: Int,
    _ body: (UnsafePointer<Int>, Int, UnsafePointer<Int>) -> Void
  ) {
    let outer = shape.count - 1
    withUnsafeTemporaryAllocation(of: Int.self, capacity: opCount + outer) { buffer in
      let offsets = buffer.baseAddress!
      let counter = offsets + opCount
      // The multi-index of the first row.
      var r = rows.lowerBound
      for d in stride(from: outer - 1, through: 0, by: -1) {
        counter[d] = r % shape[d]
        r /= shape[d]
      }
      for op in 0..<opCount {
        var o = bases[op] + columns.lowerBound * innerStrides[op]
        for d in 0..<outer { o += counter[d] * strides[op][d] }
        offsets[op] = o
      }
      let n = columns.count
      for _ in rows {
        body(offsets, n, innerStrides)
        // Advance the counter like an odometer, updating offsets incrementally.
        var d = outer - 1
        while d >= 0 {
          counter[d] += 1
          for op in 0..<opCount { offsets[op] += strides[op][d] }
          if counter[d] < shape[d] { break }
          for op in 0..<opCount { offsets[op] -= strides[op][d] * shape[d] }
          counter[d] = 0
          d -= 1
        }
      }
    }
  }
}
