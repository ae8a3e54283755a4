import Foundation
import TestSupport
import Testing

@testable import Autograd
@testable import CUDABackend
@testable import Tensor

/// The CUDA attention kernels, run on the host (`HostKernelEmulator`) against the CPU's
/// attention and its autograd gradients: the generic and the fixed-head kernels, with a
/// broadcast batch, an additive mask, causal masking, a fully masked query, float32, float64
/// and float16.
@Suite struct AttentionKernelTests {
  struct Setup {
    let dtype: DType
    let head: (e: Int, ev: Int)
    let causal: Bool
    let masked: Bool
  }

  static let setups = [
    Setup(dtype: .float32, head: (5, 3), causal: false, masked: true),
    Setup(dtype: .float32, head: (32, 32), causal: true, masked: false),
    Setup(dtype: .float64, head: (4, 6), causal: true, masked: true),
    Setup(dtype: .float16, head: (32, 32), causal: false, masked: false),
  ]

  @Test(arguments: setups.indices)
  func kernelsMatchTheCPU(setup index: Int) throws {
    let setup = Self.setups[index]
    let (l, s) = (5, 7)
    let g = Generator(seed: UInt64(40 + index))
    // Batch [2, 3]; the key and value are shared across the first batch dim (stride 0).
    let q = Tensor.randn([2, 3, l, setup.head.e], dtype: .float64, generator: g).to(setup.dtype)
    let k = Tensor.randn([1, 3, s, setup.head.e], dtype: .float64, generator: g).to(setup.dtype)
    let v = Tensor.randn([1, 3, s, setup.head.ev], dtype: .float64, generator: g).to(setup.dtype)
    let upstream = Tensor.randn([2, 3, l, setup.head.ev], dtype: .float64, generator: g).to(setup.dtype)
    var mask: Tensor? = nil
    if setup.masked {
      // Query 1 sees no key at all; others lose a few keys or get a bias.
      var values = Tensor.randn([l, s], dtype: .float64, generator: g) * 0.5
      values = Tensor.where(
        Tensor.rand([l, s], dtype: .float64, generator: g) .< 0.2,
        Tensor.full([l, s], -Double.infinity, dtype: .float64), values)
      values[1] = Tensor.full([s], -Double.infinity, dtype: .float64)
      mask = values.to(setup.dtype)
    }
    let scale = 1 / Double(setup.head.e).squareRoot()

    // The CPU reference in float64, with autograd.
    let (qr, kr, vr) = (q.to(.float64).requiresGrad_(), k.to(.float64).requiresGrad_(), v.to(.float64).requiresGrad_())
    let expected = Tensor.composedAttention(
      qr, kr.expand(2, 3, s, setup.head.e), vr.expand(2, 3, s, setup.head.ev), mask: mask?.to(.float64),
      causal: setup.causal, scale: scale)
    (expected * upstream.to(.float64)).sum().backward()

    // The kernels' problem, laid out as the frontend lays it out.
    let batch = [2, 3]
    let problem = AttentionProblem(
      query: q, key: k.expand(batch + [s, setup.head.e]), value: v.expand(batch + [s, setup.head.ev]),
      mask: mask.map { $0.expand(batch + [l, s]) }, causal: setup.causal, scale: scale,
      out: Tensor.zeros(batch + [l, setup.head.ev], dtype: setup.dtype),
      logsumexp: Tensor.zeros(batch + [l], dtype: KernelSource.attentionStatisticsType(setup.dtype)))
    let head = try #require(KernelSource.attentionHead(problem))
    #expect(head == (setup.head.e == setup.head.ev ? setup.head.e : 0))
    let names = ["forward", "dq", "dkdv"].map { KernelSource.attentionKernel($0, setup.dtype, head: head) }
    let emulator = try HostKernelEmulator(KernelSource.module(.attention), kernels: names)
    let operands =
      [problem.query, problem.key, problem.value, problem.out, problem.logsumexp] + (problem.mask.map { [$0] } ?? [])
    try emulator.launch(names[0], threads: l, rows: problem.slices, tensors: operands) {
      KernelSource.attentionForwardValues(problem, pointer: $0)
    }

    let tolerance = setup.dtype == .float16 ? 2e-2 : (setup.dtype == .float32 ? 1e-5 : 1e-12)
    expectClose(problem.out.to(.float64), expected.detach(), rtol: tolerance, atol: tolerance)
    if setup.masked {
      #expect(problem.logsumexp.to(.float64)[0, 0, 1].item() == -Double.infinity)
      #expect(problem.out[0, 0, 1].abs().sum().item() == 0)
    }

    let gradQuery = Tensor.zeros(q.shape, dtype: setup.dtype)
    let gradKey = Tensor.zeros(problem.key.shape, dtype: setup.dtype)
    let gradValue = Tensor.zeros(problem.value.shape, dtype: setup.dtype)
    let delta = Tensor.zeros([problem.slices * l], dtype: problem.logsumexp.dtype)
    let backward = operands + [upstream, gradQuery, gradKey, gradValue, delta]
    for name in names.dropFirst() {
      try emulator.launch(name, threads: name.contains("dq") ? l : s, rows: problem.slices, tensors: backward) {
        KernelSource.attentionBackwardValues(
          problem, gradOut: upstream, gradQuery: gradQuery, gradKey: gradKey, gradValue: gradValue, delta: delta,
          pointer: $0)
      }
    }
    expectClose(gradQuery.to(.float64), qr.grad!, rtol: tolerance, atol: tolerance)
    // The kernels give each slice's key and value gradients; the engine sums the broadcast dim.
    expectClose(gradKey.to(.float64).sum(dim: [0], keepdim: true), kr.grad!, rtol: tolerance, atol: tolerance)
    expectClose(gradValue.to(.float64).sum(dim: [0], keepdim: true), vr.grad!, rtol: tolerance, atol: tolerance)
  }
}
