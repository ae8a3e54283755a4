import CKernels
import Synchronization

extension CPUBackend {
  func fusedAttention(_ problem: AttentionProblem) -> Bool {
    guard let size = Self.attentionElementSize(problem.query.dtype) else { return false }
    let (q, k, v, out, lse) = (problem.query, problem.key, problem.value, problem.out, problem.logsumexp)
    let (l, s, e, ev) = (q.shape[q.dim - 2], k.shape[k.dim - 2], q.shape[q.dim - 1], v.shape[v.dim - 1])
    let (qo, ko, vo, oo, lo) = (
      problem.sliceOffsets(q), problem.sliceOffsets(k), problem.sliceOffsets(v), problem.sliceOffsets(out),
      problem.sliceOffsets(lse)
    )
    let mask = Self.maskAddressing(problem)
    // Tasks are (slice, block of 64 queries), split across the cores.
    let blocks = (l + 63) / 64
    let tasks = problem.slices * blocks
    let threads = problem.slices * l * s * (e + ev) >= 1 << 18 ? min(StridedLoop.threadCount, tasks) : 1
    let failed = Atomic<Bool>(false)
    parallelFor(threads) { t in
      for task in stride(from: t, to: tasks, by: threads) {
        let (n, block) = (task / blocks, task % blocks)
        let status = ck_attention_forward(
          size, Int64(l), Int64(s), Int64(e), Int64(ev), Self.address(q, qo[n], size), Self.rowStride(q),
          Self.address(k, ko[n], size),
          Self.rowStride(k), Self.address(v, vo[n], size), Self.rowStride(v), mask.pointer(n, size), mask.rowStride,
          mask.columnStride,
          problem.causal ? 1 : 0, problem.scale, Self.address(out, oo[n], size), Self.rowStride(out),
          Self.address(lse, lo[n], size),
          Int64(block * 64), Int64(min(l, block * 64 + 64)))
        if status != 0 { failed.store(true, ordering: .relaxed) }
      }
    }
    return !failed.load(ordering: .relaxed)
  }

  func fusedAttentionBackward(
    _ problem: AttentionProblem, gradOut: Tensor, gradQuery: Tensor, gradKey: Tensor, gradValue: Tensor
  ) -> Bool {
    guard let size = Self.attentionElementSize(problem.query.dtype) else { return false }
    let (q, k, v, out, lse) = (problem.query, problem.key, problem.value, problem.out, problem.logsumexp)
    let (l, s, e, ev) = (q.shape[q.dim - 2], k.shape[k.dim - 2], q.shape[q.dim - 1], v.shape[v.dim - 1])
    let offsets = [q, k, v, out, lse, gradOut, gradQuery, gradKey, gradValue].map { problem.sliceOffsets($0) }
    let mask = Self.maskAddressing(problem)
    // One slice per task: each slice's key and value gradients are its own.
    let threads = problem.slices * l * s * (e + ev) >= 1 << 17 ? min(StridedLoop.threadCount, problem.slices) : 1
    let failed = Atomic<Bool>(false)
    parallelFor(threads) { t in
      for n in stride(from: t, to: problem.slices, by: threads) {
        func at(_ i: Int, _ tensor: Tensor) -> UnsafeMutableRawPointer { Self.address(tensor, offsets[i][n], size) }
        let status = ck_attention_backward(
          size, Int64(l), Int64(s), Int64(e), Int64(ev), at(0, q), Self.rowStride(q), at(1, k), Self.rowStride(k),
          at(2, v), Self.rowStride(v),
          mask.pointer(n, size), mask.rowStride, mask.columnStride, problem.causal ? 1 : 0, problem.scale, at(3, out),
          Self.rowStride(out),
          at(5, gradOut), Self.rowStride(gradOut), at(4, lse), at(6, gradQuery), Self.rowStride(gradQuery),
          at(7, gradKey),
          Self.rowStride(gradKey), at(8, gradValue), Self.rowStride(gradValue))
        if status != 0 { failed.store(true, ordering: .relaxed) }
      }
    }
    return !failed.load(ordering: .relaxed)
  }

  /// 4 or 8 for the dtypes the kernel has, else nil.
  private static func attentionElementSize(_ dtype: DType) -> Int32? {
    dtype == .float32 ? 4 : (dtype == .float64 ? 8 : nil)
  }

  /// The address of element `offset` of `t`'s storage.
  private static func address(_ t: Tensor, _ offset: Int, _ size: Int32) -> UnsafeMutableRawPointer {
    t.storage.data + offset * Int(size)
  }

  /// The row stride of a matrix-shaped operand (its last two dims).
  private static func rowStride(_ t: Tensor) -> Int64 { Int64(t.stride(t.dim - 2)) }

  /// Where each slice's mask starts and how it is strided (no mask: null pointers).
  private static func maskAddressing(_ problem: AttentionProblem) -> (
    pointer: (Int, Int32) -> UnsafeMutableRawPointer?, rowStride: Int64, columnStride: Int64
  ) {
    guard let mask = problem.mask else { return ({ _, _ in nil }, 0, 0) }
    let offsets = problem.sliceOffsets(mask)
    return (
      { n, size in address(mask, offsets[n], size) }, Int64(mask.stride(mask.dim - 2)), Int64(mask.stride(mask.dim - 1))
    )
  }
}
