import CKernels

extension CPUBackend {
  func fusedBatchNorm(_ problem: BatchNormProblem) -> Bool {
    let (n, channels, inner) = problem.extents
    let (x, y, mean, variance) = (
      Self.floats(problem.input), Self.floats(problem.out), Self.floats(problem.mean), Self.floats(problem.variance)
    )
    let (weight, bias) = (problem.weight.map(Self.floats), problem.bias.map(Self.floats))
    parallelRanges(channels, threads: Self.threads(problem)) { _, range in
      ck_batch_norm_forward_f32(
        Int64(n), Int64(channels), Int64(inner), x, weight, bias, problem.eps, problem.computeStatistics ? 1 : 0, mean,
        variance, y,
        Int64(range.lowerBound), Int64(range.upperBound))
    }
    return true
  }

  /// `problem.out` holds the output's gradient.
  func fusedBatchNormBackward(_ problem: BatchNormProblem, gradInput: Tensor?, gradWeight: Tensor?, gradBias: Tensor?)
    -> Bool
  {
    let (n, channels, inner) = problem.extents
    let (x, dy, mean, variance) = (
      Self.floats(problem.input), Self.floats(problem.out), Self.floats(problem.mean), Self.floats(problem.variance)
    )
    let (weight, dx, dw, db) = (
      problem.weight.map(Self.floats), gradInput.map(Self.floats), gradWeight.map(Self.floats),
      gradBias.map(Self.floats)
    )
    parallelRanges(channels, threads: Self.threads(problem)) { _, range in
      ck_batch_norm_backward_f32(
        Int64(n), Int64(channels), Int64(inner), x, dy, mean, variance, problem.eps, weight, dx, dw, db,
        Int64(range.lowerBound),
        Int64(range.upperBound))
    }
    return true
  }

  /// All threads from 2^16 elements on.
  private static func threads(_ problem: BatchNormProblem) -> Int {
    problem.input.numel >= 1 << 16 ? StridedLoop.threadCount : 1
  }

}
