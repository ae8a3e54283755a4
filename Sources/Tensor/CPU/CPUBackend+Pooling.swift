import CKernels
import Synchronization

extension CPUBackend {
  func fusedPool2d(_ problem: Pool2dProblem) -> Bool {
    let geometry = Self.geometry(problem)
    let (x, y) = (Self.elements(problem.input, as: Float.self), Self.elements(problem.out, as: Float.self))
    let indices = problem.indices.map { Self.elements($0, as: Int64.self) }
    return Self.runPlanes(problem) { p0, p1 in
      var g = geometry
      return ck_pool2d_forward_f32(&g, x, y, indices, p0, p1)
    }
  }

  func fusedPool2dBackward(_ problem: Pool2dProblem) -> Bool {
    let geometry = Self.geometry(problem)
    let (dx, dy) = (Self.elements(problem.input, as: Float.self), Self.elements(problem.out, as: Float.self))
    let indices = problem.indices.map { UnsafePointer(Self.elements($0, as: Int64.self)) }
    return Self.runPlanes(problem) { p0, p1 in
      var g = geometry
      return ck_pool2d_backward_f32(&g, dy, indices, dx, p0, p1)
    }
  }

  /// Runs `kernel` over the (image, channel) planes split across threads (all of them from
  /// 2^15 input elements on); false when a kernel found no scratch memory.
  private static func runPlanes(_ problem: Pool2dProblem, _ kernel: (Int64, Int64) -> Int32) -> Bool {
    let planes = problem.input.shape[0] * problem.input.shape[1]
    let threads = problem.input.numel >= 1 << 15 ? StridedLoop.threadCount : 1
    let failed = Atomic<Bool>(false)
    parallelRanges(planes, threads: threads) { _, range in
      if kernel(Int64(range.lowerBound), Int64(range.upperBound)) != 0 { failed.store(true, ordering: .relaxed) }
    }
    return !failed.load(ordering: .relaxed)
  }

  private static func geometry(_ problem: Pool2dProblem) -> ck_pool2d_geometry {
    let x = problem.input
    var g = ck_pool2d_geometry()
    switch problem.kind {
    case .max: g.kind = CK_POOL_MAX
    case .average(let countIncludePad, let divisorOverride):
      g.kind = CK_POOL_AVERAGE
      g.count_include_pad = countIncludePad ? 1 : 0
      g.divisor_override = Int64(divisorOverride ?? 0)
    case .adaptiveAverage: g.kind = CK_POOL_ADAPTIVE_AVERAGE
    }
    (g.batch, g.channels, g.height, g.width) = (
      Int64(x.shape[0]), Int64(x.shape[1]), Int64(x.shape[2]), Int64(x.shape[3])
    )
    (g.out_h, g.out_w) = (Int64(problem.outputSize.0), Int64(problem.outputSize.1))
    (g.kh, g.kw, g.sh, g.sw) = (
      Int64(problem.kernel.0), Int64(problem.kernel.1), Int64(problem.stride.0), Int64(problem.stride.1)
    )
    (g.ph, g.pw, g.dh, g.dw) = (
      Int64(problem.padding.0), Int64(problem.padding.1), Int64(problem.dilation.0), Int64(problem.dilation.1)
    )
    let (xs, ys) = (x.stride().map(Int64.init), problem.out.stride().map(Int64.init))
    g.input_strides = (xs[0], xs[1], xs[2], xs[3])
    g.output_strides = (ys[0], ys[1], ys[2], ys[3])
    return g
  }

  fileprivate static func elements<T>(_ t: Tensor, as: T.Type) -> UnsafeMutablePointer<T> {
    t.storage.data.assumingMemoryBound(to: T.self) + t.storageOffset
  }
}
