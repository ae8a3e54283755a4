import CKernels
import Synchronization

/// The blockwise attention kernels of `attention.c`, for one element type.
private protocol AttentionKernels: BinaryFloatingPoint {
  static func forward(
    _ l: Int64, _ s: Int64, _ e: Int64, _ ev: Int64, _ q: UnsafePointer<Self>, _ ldq: Int64, _ k: UnsafePointer<Self>, _ ldk: Int64,
    _ v: UnsafePointer<Self>, _ ldv: Int64, _ mask: UnsafePointer<Self>?, _ maskRow: Int64, _ maskCol: Int64, _ causal: Int32,
    _ scale: Self, _ out: UnsafeMutablePointer<Self>, _ ldo: Int64, _ lse: UnsafeMutablePointer<Self>, _ begin: Int64, _ end: Int64
  ) -> Int32
  static func backward(
    _ l: Int64, _ s: Int64, _ e: Int64, _ ev: Int64, _ q: UnsafePointer<Self>, _ ldq: Int64, _ k: UnsafePointer<Self>, _ ldk: Int64,
    _ v: UnsafePointer<Self>, _ ldv: Int64, _ mask: UnsafePointer<Self>?, _ maskRow: Int64, _ maskCol: Int64, _ causal: Int32,
    _ scale: Self, _ out: UnsafePointer<Self>, _ ldo: Int64, _ dout: UnsafePointer<Self>, _ lddo: Int64, _ lse: UnsafePointer<Self>,
    _ dq: UnsafeMutablePointer<Self>, _ lddq: Int64, _ dk: UnsafeMutablePointer<Self>, _ lddk: Int64, _ dv: UnsafeMutablePointer<Self>,
    _ lddv: Int64
  ) -> Int32
}

extension Float: AttentionKernels {
  fileprivate static func forward(
    _ l: Int64, _ s: Int64, _ e: Int64, _ ev: Int64, _ q: UnsafePointer<Self>, _ ldq: Int64, _ k: UnsafePointer<Self>, _ ldk: Int64,
    _ v: UnsafePointer<Self>, _ ldv: Int64, _ mask: UnsafePointer<Self>?, _ maskRow: Int64, _ maskCol: Int64, _ causal: Int32,
    _ scale: Self, _ out: UnsafeMutablePointer<Self>, _ ldo: Int64, _ lse: UnsafeMutablePointer<Self>, _ begin: Int64, _ end: Int64
  ) -> Int32 {
    ck_attention_forward_f32(l, s, e, ev, q, ldq, k, ldk, v, ldv, mask, maskRow, maskCol, causal, scale, out, ldo, lse, begin, end)
  }
  fileprivate static func backward(
    _ l: Int64, _ s: Int64, _ e: Int64, _ ev: Int64, _ q: UnsafePointer<Self>, _ ldq: Int64, _ k: UnsafePointer<Self>, _ ldk: Int64,
    _ v: UnsafePointer<Self>, _ ldv: Int64, _ mask: UnsafePointer<Self>?, _ maskRow: Int64, _ maskCol: Int64, _ causal: Int32,
    _ scale: Self, _ out: UnsafePointer<Self>, _ ldo: Int64, _ dout: UnsafePointer<Self>, _ lddo: Int64, _ lse: UnsafePointer<Self>,
    _ dq: UnsafeMutablePointer<Self>, _ lddq: Int64, _ dk: UnsafeMutablePointer<Self>, _ lddk: Int64, _ dv: UnsafeMutablePointer<Self>,
    _ lddv: Int64
  ) -> Int32 {
    ck_attention_backward_f32(
      l, s, e, ev, q, ldq, k, ldk, v, ldv, mask, maskRow, maskCol, causal, scale, out, ldo, dout, lddo, lse, dq, lddq, dk, lddk, dv, lddv)
  }
}

extension Double: AttentionKernels {
  fileprivate static func forward(
    _ l: Int64, _ s: Int64, _ e: Int64, _ ev: Int64, _ q: UnsafePointer<Self>, _ ldq: Int64, _ k: UnsafePointer<Self>, _ ldk: Int64,
    _ v: UnsafePointer<Self>, _ ldv: Int64, _ mask: UnsafePointer<Self>?, _ maskRow: Int64, _ maskCol: Int64, _ causal: Int32,
    _ scale: Self, _ out: UnsafeMutablePointer<Self>, _ ldo: Int64, _ lse: UnsafeMutablePointer<Self>, _ begin: Int64, _ end: Int64
  ) -> Int32 {
    ck_attention_forward_f64(l, s, e, ev, q, ldq, k, ldk, v, ldv, mask, maskRow, maskCol, causal, scale, out, ldo, lse, begin, end)
  }
  fileprivate static func backward(
    _ l: Int64, _ s: Int64, _ e: Int64, _ ev: Int64, _ q: UnsafePointer<Self>, _ ldq: Int64, _ k: UnsafePointer<Self>, _ ldk: Int64,
    _ v: UnsafePointer<Self>, _ ldv: Int64, _ mask: UnsafePointer<Self>?, _ maskRow: Int64, _ maskCol: Int64, _ causal: Int32,
    _ scale: Self, _ out: UnsafePointer<Self>, _ ldo: Int64, _ dout: UnsafePointer<Self>, _ lddo: Int64, _ lse: UnsafePointer<Self>,
    _ dq: UnsafeMutablePointer<Self>, _ lddq: Int64, _ dk: UnsafeMutablePointer<Self>, _ lddk: Int64, _ dv: UnsafeMutablePointer<Self>,
    _ lddv: Int64
  ) -> Int32 {
    ck_attention_backward_f64(
      l, s, e, ev, q, ldq, k, ldk, v, ldv, mask, maskRow, maskCol, causal, scale, out, ldo, dout, lddo, lse, dq, lddq, dk, lddk, dv, lddv)
  }
}

extension CPUBackend {
  func fusedAttention(_ problem: AttentionProblem) -> Bool {
    switch problem.query.dtype {
    case .float32: return Self.attentionForward(problem, Float.self)
    case .float64: return Self.attentionForward(problem, Double.self)
    default: return false
    }
  }

  func fusedAttentionBackward(_ problem: AttentionProblem, gradOut: Tensor, gradQuery: Tensor, gradKey: Tensor, gradValue: Tensor) -> Bool {
    switch problem.query.dtype {
    case .float32: return Self.attentionBackward(problem, gradOut, gradQuery, gradKey, gradValue, Float.self)
    case .float64: return Self.attentionBackward(problem, gradOut, gradQuery, gradKey, gradValue, Double.self)
    default: return false
    }
  }

  /// A tensor's element pointer at storage offset `offset`.
  private static func pointer<T>(_ t: Tensor, _ offset: Int, _: T.Type) -> UnsafeMutablePointer<T> {
    t.storage.data.assumingMemoryBound(to: T.self) + offset
  }

  /// The row stride of a matrix-shaped operand (its last two dims).
  private static func rowStride(_ t: Tensor) -> Int64 { Int64(t.stride(t.dim - 2)) }

  /// Forward over (slice, block of 64 queries) tasks, split across the cores.
  private static func attentionForward<T: AttentionKernels>(_ p: AttentionProblem, _: T.Type) -> Bool {
    let (q, k, v, out, lse) = (p.query, p.key, p.value, p.out, p.logsumexp)
    let (l, s, e, ev) = (q.shape[q.dim - 2], k.shape[k.dim - 2], q.shape[q.dim - 1], v.shape[v.dim - 1])
    let (qo, ko, vo, oo, lo) = (p.sliceOffsets(q), p.sliceOffsets(k), p.sliceOffsets(v), p.sliceOffsets(out), p.sliceOffsets(lse))
    let mo = p.mask.map { p.sliceOffsets($0) }
    let maskStrides = p.mask.map { (Int64($0.stride($0.dim - 2)), Int64($0.stride($0.dim - 1))) } ?? (0, 0)
    let blocks = (l + 63) / 64
    let tasks = p.slices * blocks
    let work = p.slices * l * s * (e + ev)
    let threads = work >= 1 << 18 ? min(StridedLoop.threadCount, tasks) : 1
    let failed = Atomic<Bool>(false)
    parallelFor(threads) { t in
      for task in stride(from: t, to: tasks, by: threads) {
        let (n, block) = (task / blocks, task % blocks)
        let status = T.forward(
          Int64(l), Int64(s), Int64(e), Int64(ev), pointer(q, qo[n], T.self), rowStride(q), pointer(k, ko[n], T.self), rowStride(k),
          pointer(v, vo[n], T.self), rowStride(v), mo.map { UnsafePointer(pointer(p.mask!, $0[n], T.self)) }, maskStrides.0, maskStrides.1,
          p.causal ? 1 : 0, T(p.scale), pointer(out, oo[n], T.self), rowStride(out), pointer(lse, lo[n], T.self), Int64(block * 64),
          Int64(min(l, block * 64 + 64)))
        if status != 0 { failed.store(true, ordering: .relaxed) }
      }
    }
    return !failed.load(ordering: .relaxed)
  }

  /// Backward, one slice per task (each slice's key and value gradients are its own).
  private static func attentionBackward<T: AttentionKernels>(
    _ p: AttentionProblem, _ gradOut: Tensor, _ dq: Tensor, _ dk: Tensor, _ dv: Tensor, _: T.Type
  ) -> Bool {
    let (q, k, v, out, lse) = (p.query, p.key, p.value, p.out, p.logsumexp)
    let (l, s, e, ev) = (q.shape[q.dim - 2], k.shape[k.dim - 2], q.shape[q.dim - 1], v.shape[v.dim - 1])
    let (qo, ko, vo, oo, lo) = (p.sliceOffsets(q), p.sliceOffsets(k), p.sliceOffsets(v), p.sliceOffsets(out), p.sliceOffsets(lse))
    let (go, dqo, dko, dvo) = (p.sliceOffsets(gradOut), p.sliceOffsets(dq), p.sliceOffsets(dk), p.sliceOffsets(dv))
    let mo = p.mask.map { p.sliceOffsets($0) }
    let maskStrides = p.mask.map { (Int64($0.stride($0.dim - 2)), Int64($0.stride($0.dim - 1))) } ?? (0, 0)
    let work = p.slices * l * s * (e + ev)
    let threads = work >= 1 << 17 ? min(StridedLoop.threadCount, p.slices) : 1
    let failed = Atomic<Bool>(false)
    parallelFor(threads) { t in
      for n in stride(from: t, to: p.slices, by: threads) {
        let status = T.backward(
          Int64(l), Int64(s), Int64(e), Int64(ev), pointer(q, qo[n], T.self), rowStride(q), pointer(k, ko[n], T.self), rowStride(k),
          pointer(v, vo[n], T.self), rowStride(v), mo.map { UnsafePointer(pointer(p.mask!, $0[n], T.self)) }, maskStrides.0, maskStrides.1,
          p.causal ? 1 : 0, T(p.scale), pointer(out, oo[n], T.self), rowStride(out), pointer(gradOut, go[n], T.self), rowStride(gradOut),
          pointer(lse, lo[n], T.self), pointer(dq, dqo[n], T.self), rowStride(dq), pointer(dk, dko[n], T.self), rowStride(dk),
          pointer(dv, dvo[n], T.self), rowStride(dv))
        if status != 0 { failed.store(true, ordering: .relaxed) }
      }
    }
    return !failed.load(ordering: .relaxed)
  }
}
