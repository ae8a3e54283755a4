import CKernels
import Foundation
import TestSupport
import Testing

@testable import Tensor

/// The SIMD kernels against plain reference loops: odd sizes, strides, tails, broadcasts.
@Suite struct CPUKernelTests {
  /// The direct weight gradient overwrites its slices even with no image to sum (the
  /// convolution's own empty-batch path never calls it, but its contract says overwritten):
  /// a buffer of sevens comes back all zeros. Only where the kernel applies (AVX-512).
  @Test func directWeightGradientOfNoImagesIsZero() {
    var g = ck_conv2d_geometry(
      channels: 20, height: 5, width: 5, out_channels: 4, groups: 1, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1,
      dw: 1,
      out_h: 5, out_w: 5)
    guard ck_conv2d_direct_weight_gradient_applies(&g) != 0 else { return }
    #if arch(x86_64)
      var gradient = [Float](repeating: 7, count: 4 * 20 * 9)
      let units = ck_conv2d_direct_weight_gradient_units(&g)
      gradient.withUnsafeMutableBufferPointer {
        ck_conv2d_direct_weight_gradient_f32(&g, 0, nil, nil, $0.baseAddress, 0, units)
      }
      #expect(gradient == [Float](repeating: 0, count: 4 * 20 * 9))
    #endif
  }

  /// A float64 reference product, computed elementwise.
  private func referenceMatmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
    let av = a.contiguous().toArray(Double.self)
    let bv = b.contiguous().toArray(Double.self)
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m { for p in 0..<k { for j in 0..<n { c[i * n + j] += av[i * k + p] * bv[p * n + j] } } }
    return Tensor(c, shape: [m, n])
  }

  @Test(arguments: [
    (1, 1, 1), (13, 33, 31), (12, 32, 385), (29, 65, 7), (200, 3, 450), (7, 700, 19), (0, 5, 3), (4, 5, 0),
  ])
  func sgemmMatchesAReferenceForOddSizes(m: Int, n: Int, k: Int) {
    let a = Tensor.randn(m, k)
    let b = Tensor.randn(k, n)
    expectClose(a.matmul(b), referenceMatmul(a, b).float(), rtol: 1e-4, atol: 1e-4)
  }

  /// Each operand row-major or transposed (the packers' two vector paths), with k cut into
  /// blocks (529 > 256) and partial 16-step, 16-line and tile tails; edge tiles of at most 16
  /// columns (n = 16, 65 and 8) after 4, 8 and 12 rows.
  @Test(arguments: [
    (13, 47, 17), (25, 20, 300), (40, 70, 529), (12, 32, 16), (29, 65, 300), (5, 16, 40), (100, 8, 33),
  ])
  func sgemmPacksEveryOperandLayout(m: Int, n: Int, k: Int) {
    for aTransposed in [false, true] {
      for bTransposed in [false, true] {
        let a = aTransposed ? Tensor.randn(k, m).t() : Tensor.randn(m, k)
        let b = bTransposed ? Tensor.randn(n, k).t() : Tensor.randn(k, n)
        expectClose(a.matmul(b), referenceMatmul(a, b).float(), rtol: 1e-4, atol: 1e-4)
      }
    }
  }

  @Test func sgemmReadsTransposedAndStridedOperands() {
    let a = Tensor.randn(40, 70).t()  // [70, 40], column-major
    let b = Tensor.randn(40, 90)[.all, .stride(by: 3)]  // [40, 30], every third column
    expectClose(a.matmul(b), referenceMatmul(a, b).float(), rtol: 1e-4, atol: 1e-4)
    // Into a transposed output (not unit stride): goes through a temporary.
    let out = Tensor.empty(30, 70).t()
    a.matmul(b, out: out)
    expectClose(out, referenceMatmul(a, b).float(), rtol: 1e-4, atol: 1e-4)
  }

  /// The register-tile transpose (convolution weights and their gradients) against `t()`:
  /// partial 16 x 16 tiles on both sides, and the rows split into ranges as threads split them.
  @Test(arguments: [(1, 1), (16, 16), (17, 33), (40, 7), (3, 50), (64, 576)])
  func transposeMatchesTheTransposedView(rows: Int, cols: Int) {
    let source = Tensor.arange(rows * cols).float().view(rows, cols)
    let expected = source.t().contiguous().toArray(Float.self)
    for cut in Set([0, min(16, rows), rows / 2, rows]) {
      let src = source.toArray(Float.self)
      var dst = [Float](repeating: -1, count: rows * cols)
      src.withUnsafeBufferPointer { s in
        dst.withUnsafeMutableBufferPointer { d in
          ck_transpose_f32(s.baseAddress, Int64(rows), Int64(cols), 0, Int64(cut), d.baseAddress)
          ck_transpose_f32(s.baseAddress, Int64(rows), Int64(cols), Int64(cut), Int64(rows), d.baseAddress)
        }
      }
      #expect(dst == expected, "rows \(rows), cols \(cols), cut at \(cut)")
    }
  }

  /// A packed once (the recurrent weights' path), row-major or transposed, against the
  /// reference: m past a tile (partial last panel) and past the driver's 168-row block, k over
  /// two blocks, B read transposed, and C accumulated.
  @Test(arguments: [(1, 1, 1), (29, 33, 300), (13, 70, 17), (100, 32, 529), (200, 20, 40)])
  func sgemmWithPrepackedAMatchesTheReference(m: Int, n: Int, k: Int) {
    for aTransposed in [false, true] {
      let a = aTransposed ? Tensor.randn(k, m).t() : Tensor.randn(m, k)
      let b = Tensor.randn(n, k).t()
      let c = Tensor.randn(m, n)
      var out = c.toArray(Float.self)
      let (av, bv) = (a.contiguous().toArray(Float.self), b.contiguous().t().contiguous().toArray(Float.self))
      var packed = [Float](repeating: .nan, count: Int(ck_sgemm_packed_a_floats(Int64(m), Int64(k))))
      let (sam, sak) = aTransposed ? (1, m) : (k, 1)
      let source = aTransposed ? a.t().contiguous().toArray(Float.self) : av
      source.withUnsafeBufferPointer {
        ck_sgemm_pack_a(Int64(m), Int64(k), $0.baseAddress, Int64(sam), Int64(sak), &packed)
      }
      // B stored as [n, k] rows: B[p, j] at j * k + p.
      bv.withUnsafeBufferPointer {
        ck_sgemm_prepacked_a(Int64(m), Int64(n), Int64(k), packed, $0.baseAddress, 1, Int64(k), &out, Int64(n), 1)
      }
      let expected = referenceMatmul(a, b) + c.double()
      expectClose(Tensor(out, shape: [m, n]), expected.float(), rtol: 1e-4, atol: 1e-4)
    }
  }

  @Test func sgemmBatchesAndThreads() {
    let a = Tensor.randn(5, 33, 17)
    let b = Tensor.randn(17, 40)
    let c = a.matmul(b)
    for i in 0..<5 { expectClose(c[i], referenceMatmul(a[i], b).float(), rtol: 1e-4, atol: 1e-4) }
    let big = Tensor.randn(300, 200)
    let w = Tensor.randn(200, 100)
    let threaded = big.matmul(w)
    Tensor.setNumThreads(1)
    let single = big.matmul(w)
    Tensor.setNumThreads(max(1, ProcessInfo.processInfo.activeProcessorCount))
    expectClose(threaded, single, rtol: 1e-5, atol: 1e-5)
  }

  @Test(arguments: [1, 15, 16, 17, 33, 1000, 70_001])
  func simdElementwiseHandlesTailsAndBroadcasts(count: Int) {
    let x = Tensor.randn(count)
    let y = Tensor.randn(count).abs() + 0.5
    let xd = x.double()
    let yd = y.double()
    expectClose(x + y, (xd + yd).float(), rtol: 1e-6, atol: 1e-6)
    expectClose(x - 2.5, (xd - 2.5).float(), rtol: 1e-6, atol: 1e-6)
    expectClose(3.0 * y, (3.0 * yd).float(), rtol: 1e-6, atol: 1e-6)
    expectClose(x / y, (xd / yd).float(), rtol: 1e-6, atol: 1e-6)
    expectClose(x.exp(), xd.exp().float(), rtol: 3e-7, atol: 0)
    expectClose(x.sum(), xd.sum(), rtol: 1e-5, atol: 1e-4)
  }

  /// The GEMM with grouped C columns (what the batched convolution writes through): groups
  /// narrower than a tile, tiles that cross groups, k cut into blocks, accumulating into C and
  /// leaving the gaps between groups untouched, against a float64 reference.
  @Test(arguments: [(13, 70, 300, 9), (30, 100, 40, 49), (5, 64, 513, 32)])
  func groupedColumnsGemmMatchesAReference(m: Int, n: Int, k: Int, group: Int) {
    let spacing = group + 3
    let groups = (n + group - 1) / group
    let a = Tensor.randn(m, k).toArray(Float.self)
    let b = Tensor.randn(k, n).toArray(Float.self)
    let start = Tensor.randn(m, groups * spacing).toArray(Float.self)
    var c = start
    // The packer reads B row-major: panel q holds, for each row of the block, nr columns.
    let pack: ck_pack_b_fn = { context, k0, kc, j0, nc, out, nr in
      let (b, n) = context!.assumingMemoryBound(to: (UnsafePointer<Float>, Int).self).pointee
      for q in stride(from: 0, to: Int(nc), by: Int(nr)) {
        for kk in 0..<Int(kc) {
          for l in 0..<Int(nr) {
            let column = Int(j0) + q + l
            out![q * Int(kc) + kk * Int(nr) + l] = q + l < Int(nc) ? b[(Int(k0) + kk) * n + column] : 0
          }
        }
      }
    }
    b.withUnsafeBufferPointer { bp in
      var context = (bp.baseAddress!, n)
      withUnsafeMutablePointer(to: &context) { cp in
        ck_sgemm_packing_b_grouped(
          Int64(m), Int64(n), Int64(k), a, Int64(k), 1, pack, cp, &c, Int64(groups * spacing), Int64(group),
          Int64(spacing), 1)
      }
    }
    var expected = start
    for i in 0..<m {
      for j in 0..<n {
        var sum = Double(start[i * groups * spacing + j / group * spacing + j % group])
        for p in 0..<k { sum += Double(a[i * k + p]) * Double(b[p * n + j]) }
        expected[i * groups * spacing + j / group * spacing + j % group] = Float(sum)
      }
    }
    expectClose(Tensor(c), Tensor(expected), rtol: 1e-4, atol: 1e-3)
  }

  /// float32 ReLU runs a vector kernel: PyTorch's values at NaN, signed zeros and infinities
  /// (bit for bit), tails past each vector, and a strided view (one element per call).
  @Test(arguments: [1, 15, 16, 17, 1000])
  func reluKernelKeepsPyTorchsSpecialValues(count: Int) {
    let specials: [Float] = [.nan, -0.0, 0.0, -1, 2.5, .infinity, -.infinity, -.leastNonzeroMagnitude]
    let values = (0..<count).map { specials[$0 % specials.count] * Float($0 % 3 == 0 ? 1 : $0) }
    // torch.relu: NaN stays NaN, -0 and negatives become +0.
    func expected(_ v: Float) -> Float { v.isNaN ? v : (v > 0 ? v : 0) }
    let bits = { (a: [Float]) in a.map(\.bitPattern) }
    #expect(bits(Tensor(values).relu().toArray(Float.self)) == bits(values.map(expected)))
    let matrix = Tensor(values + values, shape: [2, count]).t()
    let viaView = matrix.relu().contiguous().toArray(Float.self)
    #expect(bits(viaView) == bits((0..<count).flatMap { [expected(values[$0]), expected(values[$0])] }))
    // A 0-d tensor and an empty one.
    #expect(Tensor(-0.0 as Float).relu().toArray(Float.self).map(\.bitPattern) == [Float(0).bitPattern])
    #expect(Tensor.zeros(0, 3).relu().shape == [0, 3])
  }

  /// A copy from a broadcast (stride-0) row fills: every element size, a broadcast inner dim
  /// and a whole expanded scalar.
  @Test func copiesOfExpandedTensorsFill() {
    let column = Tensor([1, 2, 3] as [Float]).reshape(3, 1)
    let expected: [Float] = [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
    for dtype in [DType.float32, .float64, .float16, .int64, .int16, .uint8] {
      let copied = column.to(dtype).expand(3, 4).contiguous()
      #expect(copied.dtype == dtype)
      #expect(copied.float().toArray(Float.self) == expected)
    }
    let scalar = Tensor(7 as Float).expand(2, 3, 5).contiguous()
    #expect(scalar.toArray(Float.self) == [Float](repeating: 7, count: 30))
  }

  /// `where` on 4-byte elements takes a branch-free blend: tensor or scalar on either side,
  /// tails past each 16-element block, and the same values as a per-element reference.
  @Test(arguments: [1, 15, 16, 17, 1000])
  func whereBlendsFourByteElements(count: Int) {
    let x = Tensor.randn(count)
    let y = Tensor.randn(count)
    let mask = x .> 0.3
    let (xs, ys, ms) = (x.toArray(Float.self), y.toArray(Float.self), mask.toArray(Bool.self))
    #expect(Tensor.where(mask, x, y).toArray(Float.self) == (0..<count).map { ms[$0] ? xs[$0] : ys[$0] })
    #expect(Tensor.where(mask, x, -2.5).toArray(Float.self) == (0..<count).map { ms[$0] ? xs[$0] : -2.5 })
    #expect(Tensor.where(mask, 7.0, y).toArray(Float.self) == (0..<count).map { ms[$0] ? 7 : ys[$0] })
    let ints = Tensor(Array(Int32(0)..<Int32(count)))
    #expect(Tensor.where(mask, ints, Int32(-1)).toArray(Int32.self) == (0..<count).map { ms[$0] ? Int32($0) : -1 })
    let doubles = x.double()
    #expect(Tensor.where(mask, doubles, 0.0).toArray(Double.self) == (0..<count).map { ms[$0] ? Double(xs[$0]) : 0 })
  }

  /// The fused kernels are protocol requirements: a call through `any Backend` (as the ops
  /// make it) reaches the CPU's kernels rather than the declining defaults.
  @Test func fusedKernelsAreReachedThroughTheBackendExistential() {
    let backend: any Backend = CPUBackend.shared
    let x = Tensor([[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]]).float()
    let out = Tensor.empty(2, 3)
    #expect(backend.fusedSoftmax(x, log: true, into: out))
    expectClose(out, x.double().logSoftmax(dim: 1).float(), rtol: 1e-6, atol: 1e-6)
    let y = Tensor([1.0, 2.0]).float()
    #expect(backend.fusedAddScaled(y, Tensor([10.0, 20.0]).float(), alpha: 0.5))
    #expect(y.toArray(Float.self) == [6, 12])
    let rows = Tensor([[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]]).float()
    let normalized = LayerNormProblem(
      input: rows, weight: nil, bias: nil, mean: Tensor.empty(2), rstd: Tensor.empty(2), eps: 0, out: Tensor.empty(2, 3)
    )
    #expect(backend.fusedLayerNorm(normalized))
    #expect(normalized.mean.toArray(Float.self) == [2, 0])
    let (p, g, m, v) = (Tensor([1.0]).float(), Tensor([0.5]).float(), Tensor.zeros(1), Tensor.zeros(1))
    let adam = AdamStep(
      param: p, grad: g, expAvg: m, expAvgSq: v, maxExpAvgSq: nil, lr: 0.1, betas: (0.9, 0.999), eps: 0,
      weightDecay: 0, decoupled: false, biasCorrection1: 1 - 0.9, biasCorrection2Sqrt: (1 - 0.999).squareRoot())
    #expect(backend.fusedAdamStep(adam))
    // The first step moves by lr times the gradient's sign.
    #expect(abs(p.toArray(Float.self)[0] - 0.9) < 1e-6 && m.toArray(Float.self) == [0.05])
  }

  @Test func simdExpEdgeCases() {
    // Below -104 the result is 0 (computed without the slow underflow); between -104 and
    // -87.3 it is a subnormal.
    let x = Tensor([
      0, 1, -1, 88.7, 89, -87.3, -104, -200, .infinity, -.infinity, .nan, 1e-8, -104.5, -103.9, -100, -95, -3e38,
    ])
    let got = x.exp().toArray(Float.self)
    let want = x.toArray(Float.self).map { Foundation.expf($0) }
    for (g, w) in zip(got, want) {
      if w.isNaN {
        #expect(g.isNaN)
      } else if w.isInfinite || w == 0 {
        #expect(g == w || abs(g) < 1e-37)
      } else {
        #expect(abs(g - w) <= 2 * w.ulp, "exp: \(g) vs \(w)")
      }
    }
  }

  @Test func contiguousSumsOverLeadingAndTrailingDims() {
    let x = Tensor.randn(7, 9, 11)
    let xd = x.double()
    expectClose(x.sum(dim: [1, 2]), xd.sum(dim: [1, 2]).float(), rtol: 1e-5, atol: 1e-5)
    expectClose(x.sum(dim: [0, 1]), xd.sum(dim: [0, 1]).float(), rtol: 1e-5, atol: 1e-5)
    expectClose(x.sum(dim: 0), xd.sum(dim: 0).float(), rtol: 1e-5, atol: 1e-5)
    // Leading and trailing dims at once (two passes), keepdim or not.
    expectClose(x.sum(dim: [0, 2]), xd.sum(dim: [0, 2]).float(), rtol: 1e-5, atol: 1e-5)
    expectClose(x.sum(dim: [2, 0], keepdim: true), xd.sum(dim: [0, 2], keepdim: true).float(), rtol: 1e-5, atol: 1e-5)
    let y = Tensor.randn(3, 4, 5, 6)
    expectClose(y.sum(dim: [0, 1, 3]), y.double().sum(dim: [0, 1, 3]).float(), rtol: 1e-5, atol: 1e-5)
    // Broadcast (stride-0) dims: one slice, scaled by the dim's size.
    let row = Tensor.randn(1, 7, 1)
    let wide = row.expand(5, 7, 9)
    expectClose(wide.sum(dim: [0, 2]), (row.double().squeeze() * 45).float(), rtol: 1e-6, atol: 1e-6)
    expectClose(wide.sum(dim: 0), (row.double()[0] * 5).expand(7, 9).float(), rtol: 1e-6, atol: 1e-6)
    #expect(Tensor.ones(4).expand(3, 4).sum().item(Float.self) == 12)
    expectClose(x.sum(dim: 1), xd.sum(dim: 1).float(), rtol: 1e-5, atol: 1e-5)
    let large = Tensor.ones(3_000_001)
    #expect(large.sum().item() == 3_000_001)
  }

  @Test func workerPoolRunsConcurrentAndNestedRegions() async {
    // Parallel regions from several tasks at once, and one inside another, all complete.
    await withTaskGroup(of: Double.self) { group in
      for _ in 0..<8 {
        group.addTask { Tensor.ones(100_000).mul(2).sum().item() }
      }
      for await total in group { #expect(total == 200_000) }
    }
    var seen = [Int](repeating: 0, count: 16)
    seen.withUnsafeMutableBufferPointer { counts in
      parallelFor(4) { i in
        parallelFor(4) { j in counts[i * 4 + j] += 1 }
      }
    }
    #expect(seen == [Int](repeating: 1, count: 16))
  }

  @Test func cachedLargeBlocksAreReused() {
    let allocator = CPUAllocator()
    let size = 4 << 20
    let first = allocator.allocate(byteCount: size)
    allocator.deallocate(first, byteCount: size)
    let second = allocator.allocate(byteCount: size)
    #expect(first == second)
    allocator.deallocate(second, byteCount: size)
  }
}

@Suite struct FusedKernelTests {
  @Test(arguments: [1, 7, 16, 33, 1000])
  func fusedSoftmaxMatchesTheComposedForm(cols: Int) {
    let x = Tensor.randn(5, cols) * 4
    let xd = x.double()
    let e = (xd - xd.amax(dim: 1, keepdim: true)).exp()
    expectClose(x.softmax(dim: 1), (e / e.sum(dim: 1, keepdim: true)).float(), rtol: 1e-5, atol: 1e-7)
    expectClose(x.logSoftmax(dim: 1), (xd - xd.logsumexp(dim: 1, keepdim: true)).float(), rtol: 1e-5, atol: 1e-5)
    let rows = Tensor([[-Double.infinity, 0], [.nan, 1]]).logSoftmax(dim: 1).toArray(Float.self)
    #expect(rows[0] == -.infinity && rows[1] == 0 && rows[2].isNaN && rows[3].isNaN)
  }

  @Test func fusedAddScaledUpdatesInPlace() {
    let y = Tensor.ones(40_001)
    let x = Tensor.full([40_001], 2.0)
    let version = y.version
    y.add_(x, alpha: -0.25)
    #expect(y.toArray(Float.self).allSatisfy { $0 == 0.5 })
    #expect(y.version == version + 1)
  }
}
