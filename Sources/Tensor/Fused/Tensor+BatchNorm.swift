/// One batch normalization as the backends see it: `input` `[N, C, *]` contiguous; `weight`
/// and `bias` `[C]` or nil; `mean` and `variance` `[C]` float32 tensors that receive the batch
/// statistics when `computeStatistics` (training), or hold the running ones; `out` is
/// contiguous like `input`.
package struct BatchNormProblem {
  package let input: Tensor
  package let weight: Tensor?
  package let bias: Tensor?
  package let mean: Tensor
  package let variance: Tensor
  package let eps: Double
  package let computeStatistics: Bool
  package let out: Tensor

  /// N, C and the product of the remaining dims.
  package var extents: (batch: Int, channels: Int, inner: Int) {
    (input.shape[0], input.shape[1], input.shape.dropFirst(2).reduce(1, *))
  }
}

extension Tensor {
  /// Batch normalization by the backend's fused kernel (float32, every operand on one
  /// device), without recording: `(output, mean, biased variance)`, the statistics being the
  /// batch's when `runningMean` is nil or `training`, else the running ones. Nil when the
  /// backend has no kernel for these operands. The NN layer records the node and updates the
  /// running statistics.
  package static func fusedBatchNorm(
    _ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor?, runningVar: Tensor?, training: Bool, eps: Double
  ) -> (out: Tensor, mean: Tensor, variance: Tensor)? {
    let operands = [x, weight, bias, runningMean, runningVar].compactMap { $0 }
    guard operands.allSatisfy({ $0.dtype == .float32 && $0.device == x.device }), x.numel > 0 else { return nil }
    let batchStatistics = training || runningMean == nil || runningVar == nil
    let channels = x.shape[1]
    let problem = BatchNormProblem(
      input: x.contiguous(), weight: weight?.contiguous(), bias: bias?.contiguous(),
      mean: batchStatistics
        ? Tensor(uninitializedShape: [channels], dtype: .float32, device: x.device) : runningMean!.contiguous(),
      variance: batchStatistics
        ? Tensor(uninitializedShape: [channels], dtype: .float32, device: x.device) : runningVar!.contiguous(),
      eps: eps, computeStatistics: batchStatistics,
      out: Tensor(uninitializedShape: x.shape, dtype: x.dtype, device: x.device))
    guard x.backend.fusedBatchNorm(problem) else { return nil }
    for t in [problem.out, problem.mean, problem.variance] { t.markWritten() }
    return (problem.out, problem.mean, problem.variance)
  }

  /// The gradients of a training-mode fused batch normalization (batch statistics `mean` and
  /// `variance`) with respect to input, weight and bias, nil where `needed` says no.
  package static func fusedBatchNormGradients(
    _ x: Tensor, weight: Tensor?, mean: Tensor, variance: Tensor, eps: Double, gradOut: Tensor,
    needed: (input: Bool, weight: Bool, bias: Bool)
  ) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
    let channels = x.shape[1]
    let gradInput = needed.input ? Tensor(uninitializedShape: x.shape, dtype: x.dtype, device: x.device) : nil
    let gradWeight = needed.weight ? Tensor(uninitializedShape: [channels], dtype: x.dtype, device: x.device) : nil
    let gradBias = needed.bias ? Tensor(uninitializedShape: [channels], dtype: x.dtype, device: x.device) : nil
    let problem = BatchNormProblem(
      input: x.contiguous(), weight: weight?.contiguous(), bias: nil, mean: mean, variance: variance, eps: eps,
      computeStatistics: false,
      out: gradOut.contiguous())
    usageCheck(
      x.backend.fusedBatchNormBackward(problem, gradInput: gradInput, gradWeight: gradWeight, gradBias: gradBias),
      "batch_norm: the backward kernel could not run on \(x.device)")
    for t in [gradInput, gradWeight, gradBias] { t?.markWritten() }
    return (gradInput, gradWeight, gradBias)
  }
}
