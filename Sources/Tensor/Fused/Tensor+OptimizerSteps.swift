/// One Adam or AdamW update as the backends see it: `param`, `grad`, `expAvg`, `expAvgSq`
/// and, with AMSGrad, `maxExpAvgSq`, all contiguous float32 of one shape on one device; the
/// moments and the parameter are updated in place.
package struct AdamStep {
  package let param: Tensor
  package let grad: Tensor
  package let expAvg: Tensor
  package let expAvgSq: Tensor
  package let maxExpAvgSq: Tensor?
  package let lr: Double
  package let betas: (Double, Double)
  package let eps: Double
  package let weightDecay: Double
  /// AdamW: the weight decay shrinks the parameter instead of joining the gradient.
  package let decoupled: Bool
  /// `1 - beta1^step`, the first moment's bias correction.
  package let biasCorrection1: Double
  /// `sqrt(1 - beta2^step)`, the square root of the second moment's.
  package let biasCorrection2Sqrt: Double

  package init(
    param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, maxExpAvgSq: Tensor?, lr: Double,
    betas: (Double, Double), eps: Double, weightDecay: Double, decoupled: Bool, biasCorrection1: Double,
    biasCorrection2Sqrt: Double
  ) {
    self.param = param
    self.grad = grad
    self.expAvg = expAvg
    self.expAvgSq = expAvgSq
    self.maxExpAvgSq = maxExpAvgSq
    self.lr = lr
    self.betas = betas
    self.eps = eps
    self.weightDecay = weightDecay
    self.decoupled = decoupled
    self.biasCorrection1 = biasCorrection1
    self.biasCorrection2Sqrt = biasCorrection2Sqrt
  }

  /// The operands.
  var tensors: [Tensor] { [param, grad, expAvg, expAvgSq] + (maxExpAvgSq.map { [$0] } ?? []) }
}

extension Tensor {
  /// Runs `step` with the backend's fused kernel, in one pass over the elements, and marks the
  /// updated tensors written; false (nothing changed) when the operands are not all dense
  /// float32 of one shape on one device or the backend has no kernel, and the optimizer then
  /// composes the update from elementwise ops.
  package static func fusedAdamStep(_ step: AdamStep) -> Bool {
    let tensors = step.tensors
    guard
      tensors.allSatisfy({
        $0.dtype == .float32 && $0.device == step.param.device && $0.shape == step.param.shape && $0.isContiguous
      }),
      step.param.backend.fusedAdamStep(step)
    else { return false }
    for t in [step.param, step.expAvg, step.expAvgSq] + (step.maxExpAvgSq.map { [$0] } ?? []) { t.markWritten() }
    return true
  }
}
