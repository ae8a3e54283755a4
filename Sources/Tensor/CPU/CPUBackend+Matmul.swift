extension CPUBackend {
  func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor) {
    a.dtype.visit(Gemm(a: a, b: b, out: out))
  }

  private struct Gemm: DTypeVisitor {
    let a: Tensor
    let b: Tensor
    let out: Tensor
    func float<T: FloatElement>(_: T.Type) { CPUBackend.gemm(a, b, out, T.self, T.Math.self) { $0.math } store: { T(math: $0) } }
    func integer<T: IntElement>(_: T.Type) { CPUBackend.gemm(a, b, out, T.self, T.self) { $0 } store: { $0 } }
    func bool() { preconditionFailure("matmul: \"addmm_impl_cpu_\" not implemented for 'Bool'") }
  }

  /// A strided batched GEMM. Each batch's `b` is packed once into a contiguous `[k, n]`
  /// buffer of the accumulation type (so a transposed operand costs one pass, not a
  /// strided inner loop), then every output row accumulates `a[i, k] * b[k, :]` into a row
  /// buffer that the compiler vectorises; rows are split over the cores.
  @inline(__always)
  fileprivate static func gemm<T: KernelElement, Acc: Numeric>(
    _ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type, _: Acc.Type, load: (T) -> Acc, store: (Acc) -> T
  ) {
    let (batch, m, n, k) = (out.shape[0], out.shape[1], out.shape[2], a.shape[2])
    let (sab, sam, sak) = (a.layout.strides[0], a.layout.strides[1], a.layout.strides[2])
    let (sbb, sbk, sbn) = (b.layout.strides[0], b.layout.strides[1], b.layout.strides[2])
    let (sob, som, son) = (out.layout.strides[0], out.layout.strides[1], out.layout.strides[2])
    let ap = a.storage.data.assumingMemoryBound(to: T.self) + a.storageOffset
    let bp = b.storage.data.assumingMemoryBound(to: T.self) + b.storageOffset
    let op = out.storage.data.assumingMemoryBound(to: T.self) + out.storageOffset
    let packed = UnsafeMutablePointer<Acc>.allocate(capacity: max(k * n, 1))
    defer { packed.deallocate() }
    let threads = m * n * max(k, 1) >= 1 << 15 ? min(StridedLoop.threadCount, m) : 1
    let chunk = (m + threads - 1) / threads
    for bi in 0..<batch {
      let bBatch = bp + bi * sbb
      for kk in 0..<k {
        let row = bBatch + kk * sbk
        for j in 0..<n { packed[kk * n + j] = load(row[j * sbn]) }
      }
      let aBatch = ap + bi * sab
      let oBatch = op + bi * sob
      parallelFor(threads) { t in
        let lo = t * chunk
        let hi = Swift.min(m, lo + chunk)
        guard lo < hi else { return }
        let acc = UnsafeMutablePointer<Acc>.allocate(capacity: max(n, 1))
        defer { acc.deallocate() }
        for i in lo..<hi {
          acc.initialize(repeating: 0, count: n)
          let aRow = aBatch + i * sam
          for kk in 0..<k {
            let s = load(aRow[kk * sak])
            let bRow = UnsafePointer(packed + kk * n)
            for j in 0..<n { acc[j] += s * bRow[j] }
          }
          let oRow = oBatch + i * som
          for j in 0..<n { oRow[j * son] = store(acc[j]) }
        }
      }
    }
  }
}
