import CKernels

extension CPUBackend {
  func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor) {
    if a.dtype == .float32 {
      CPUBackend.sgemm(a, b, out)
    } else {
      a.dtype.visit(Gemm(a: a, b: b, out: out))
    }
  }

  /// `x @ weight.T + bias` in float32 with every operand contiguous: one product whose
  /// micro-kernels add the bias row as they first store each tile (`ck_sgemm_bias`), so the
  /// result is written once.
  func fusedLinear(_ x: Tensor, weight: Tensor, bias: Tensor, into out: Tensor) -> Bool {
    guard [x, weight, bias, out].allSatisfy({ $0.dtype == .float32 && $0.isContiguous }) else { return false }
    CPUBackend.sgemm(x.unsqueeze(0), weight.t().unsqueeze(0), out.unsqueeze(0), bias: UnsafePointer(Self.floats(bias)))
    return true
  }

  /// float32 through the packed SIMD kernel (`ck_sgemm_bias`): batches, or else the rows (or
  /// columns) of one product, are split over the cores. `bias` (a row of `out.shape[2]`
  /// floats, or nil) is added to every row as the product is stored.
  fileprivate static func sgemm(_ a: Tensor, _ b: Tensor, _ out: Tensor, bias: UnsafePointer<Float>? = nil) {
    guard out.stride(2) == 1 else {
      // The kernel writes rows with unit stride; go through a contiguous result.
      let temporary = Tensor(uninitializedShape: out.shape, dtype: .float32, device: out.device)
      sgemm(a, b, temporary, bias: bias)
      CPUBackend.shared.copy(temporary, into: out)
      return
    }
    let (batch, m, n, k) = (out.shape[0], out.shape[1], out.shape[2], a.shape[2])
    let (sa, sb, so) = (a.stride(), b.stride(), out.stride())
    let ap = UnsafePointer(a.storage.data.assumingMemoryBound(to: Float.self) + a.storageOffset)
    let bp = UnsafePointer(b.storage.data.assumingMemoryBound(to: Float.self) + b.storageOffset)
    let op = out.storage.data.assumingMemoryBound(to: Float.self) + out.storageOffset
    let work = batch * m * n * max(k, 1)
    // One product of `rows` x `cols` (A's rows from `a`, B's columns from `b`, C at `c`),
    // plus the bias's columns from `biasColumns` (or none).
    func product(
      _ rows: Int, _ cols: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
      _ biasColumns: UnsafePointer<Float>?
    ) {
      ck_sgemm_bias(
        Int64(rows), Int64(cols), Int64(k), a, Int64(sa[1]), Int64(sa[2]), b, Int64(sb[1]), Int64(sb[2]), biasColumns,
        c,
        Int64(so[1]))
    }
    // Below ~2^18 multiply-adds a second thread costs more than it saves.
    let threads = work >= 1 << 18 ? StridedLoop.threadCount : 1
    if threads > 1 && batch >= threads {
      parallelFor(threads) { t in
        for bi in stride(from: t, to: batch, by: threads) {
          product(m, n, ap + bi * sa[0], bp + bi * sb[0], op + bi * so[0], bias)
        }
      }
      return
    }
    for bi in 0..<batch {
      let (aB, bB, oB) = (ap + bi * sa[0], bp + bi * sb[0], op + bi * so[0])
      let (mr, nr) = (Int(ck_sgemm_mr()), Int(ck_sgemm_nr()))
      if threads > 1 && m >= n && m >= 2 * mr {
        parallelRanges(m, threads: threads, alignment: mr) { _, rows in
          let lo = rows.lowerBound
          product(rows.count, n, aB + lo * sa[1], bB, oB + lo * so[1], bias)
        }
      } else if threads > 1 && n >= 2 * nr {
        parallelRanges(n, threads: threads, alignment: nr) { _, cols in
          let lo = cols.lowerBound
          product(m, cols.count, aB, bB + lo * sb[2], oB + lo, bias.map { $0 + lo })
        }
      } else {
        product(m, n, aB, bB, oB, bias)
      }
    }
  }

  private struct Gemm: DTypeVisitor {
    let a: Tensor
    let b: Tensor
    let out: Tensor
    func float<T: FloatElement>(_: T.Type) {
      CPUBackend.gemm(a, b, out, T.self, T.Math.self) {
        $0.math
      } store: {
        T(math: $0)
      }
    }
    func integer<T: IntElement>(_: T.Type) {
      CPUBackend.gemm(a, b, out, T.self, T.self) {
        $0
      } store: {
        $0
      }
    }
    func bool() { usageFailure("matmul: \"addmm_impl_cpu_\" not implemented for 'Bool'") }
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
