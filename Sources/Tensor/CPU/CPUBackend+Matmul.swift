import Dispatch

extension CPUBackend {
  func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor) {
    a.dtype.visit(Gemm(a: a, b: b, out: out))
  }

  private struct Gemm: DTypeVisitor {
    let a: Tensor
    let b: Tensor
    let out: Tensor
    func float<T: FloatElement>(_: T.Type) {
      CPUBackend.gemmLoop(a, b, out, T.self, T.Math.self, load: { $0.math }, store: { T(math: $0) })
    }
    func integer<T: IntElement>(_: T.Type) { CPUBackend.gemmLoop(a, b, out, T.self, T.self, load: { $0 }, store: { $0 }) }
    func bool() { preconditionFailure("matmul: \"addmm_impl_cpu_\" not implemented for 'Bool'") }
  }

  /// A blocked, strided batched GEMM: for each output row, accumulates rows of `b` scaled
  /// by `a[i, k]` into an `Acc`-typed row buffer, reading every operand through its strides
  /// (a transposed operand is not copied first).
  @inline(__always)
  fileprivate static func gemmLoop<T: KernelElement, Acc: Numeric>(
    _ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type, _: Acc.Type,
    load: @escaping (T) -> Acc, store: @escaping (Acc) -> T
  ) {
    let batch = out.shape[0]
    let m = out.shape[1]
    let n = out.shape[2]
    let k = a.shape[2]
    let (sab, sam, sak) = (a.layout.strides[0], a.layout.strides[1], a.layout.strides[2])
    let (sbb, sbk, sbn) = (b.layout.strides[0], b.layout.strides[1], b.layout.strides[2])
    let (sob, som, son) = (out.layout.strides[0], out.layout.strides[1], out.layout.strides[2])
    let ap = a.storage.data.assumingMemoryBound(to: T.self) + a.storageOffset
    let bp = b.storage.data.assumingMemoryBound(to: T.self) + b.storageOffset
    let op = out.storage.data.assumingMemoryBound(to: T.self) + out.storageOffset
    let rows = batch * m
    let work = rows * n * max(k, 1)
    let threads = work >= 1 << 16 ? min(StridedLoop.threadCount, rows) : 1
    let chunk = (rows + max(threads, 1) - 1) / max(threads, 1)
    let blockK = 256
    let runRows = { (lo: Int, hi: Int) in
      let acc = UnsafeMutablePointer<Acc>.allocate(capacity: max(n, 1))
      defer { acc.deallocate() }
      for row in lo..<hi {
        let bi = row / m
        let i = row % m
        acc.initialize(repeating: 0, count: n)
        let aRow = ap + bi * sab + i * sam
        let bBatch = bp + bi * sbb
        var k0 = 0
        while k0 < k {
          let k1 = min(k, k0 + blockK)
          for kk in k0..<k1 {
            let s = load(aRow[kk * sak])
            let bRow = bBatch + kk * sbk
            if sbn == 1 {
              for j in 0..<n { acc[j] += s * load(bRow[j]) }
            } else {
              for j in 0..<n { acc[j] += s * load(bRow[j * sbn]) }
            }
          }
          k0 = k1
        }
        let oRow = op + bi * sob + i * som
        for j in 0..<n { oRow[j * son] = store(acc[j]) }
      }
    }
    if threads <= 1 {
      runRows(0, rows)
    } else {
      parallelFor(threads) { t in
        let lo = t * chunk
        let hi = min(rows, lo + chunk)
        if lo < hi { runRows(lo, hi) }
      }
    }
  }
}
