import CKernels

extension CPUBackend {
  func fusedLayerNorm(_ problem: LayerNormProblem) -> Bool {
    let (rows, width) = problem.extents
    let (x, y, mean, rstd) = (
      Self.floats(problem.input), Self.floats(problem.out), Self.floats(problem.mean), Self.floats(problem.rstd)
    )
    let (weight, bias) = (problem.weight.map(Self.floats), problem.bias.map(Self.floats))
    parallelRanges(rows, threads: Self.threads(problem)) { _, range in
      ck_layer_norm_forward_f32(
        Int64(width), x, weight, bias, problem.eps, mean, rstd, y, Int64(range.lowerBound), Int64(range.upperBound))
    }
    return true
  }

  /// `problem.out` holds the output's gradient. Each thread sums the weight and bias
  /// gradients of its rows in double; the parts are added in thread order, so the result does
  /// not depend on timing.
  func fusedLayerNormBackward(_ problem: LayerNormProblem, gradInput: Tensor?, gradWeight: Tensor?, gradBias: Tensor?)
    -> Bool
  {
    let (rows, width) = problem.extents
    let (x, dy, mean, rstd) = (
      Self.floats(problem.input), Self.floats(problem.out), Self.floats(problem.mean), Self.floats(problem.rstd)
    )
    let (weight, dx) = (problem.weight.map(Self.floats), gradInput.map(Self.floats))
    let threads = min(Self.threads(problem), max(1, rows))
    let partials = UnsafeMutableBufferPointer<Double>.allocate(capacity: 2 * width * threads)
    defer { partials.deallocate() }
    partials.initialize(repeating: 0)
    parallelRanges(rows, threads: threads) { part, range in
      let base = partials.baseAddress! + 2 * width * part
      ck_layer_norm_backward_f32(
        Int64(width), x, dy, mean, rstd, weight, dx, gradWeight == nil ? nil : base,
        gradBias == nil ? nil : base + width, Int64(range.lowerBound), Int64(range.upperBound))
    }
    for (offset, target) in [(0, gradWeight), (width, gradBias)] {
      guard let target else { continue }
      let out = Self.floats(target)
      for i in 0..<width {
        var total = 0.0
        for part in 0..<threads { total += partials[2 * width * part + offset + i] }
        out[i] = Float(total)
      }
    }
    return true
  }

  /// All threads from 2^15 elements on.
  private static func threads(_ problem: LayerNormProblem) -> Int {
    problem.input.numel >= 1 << 15 ? StridedLoop.threadCount : 1
  }

}
