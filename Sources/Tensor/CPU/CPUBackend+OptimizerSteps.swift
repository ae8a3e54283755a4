import CKernels

extension CPUBackend {
  /// Splits the elements over the threads from 2^16 on.
  func fusedAdamStep(_ step: AdamStep) -> Bool {
    let count = step.param.numel
    var hyper = ck_adam_hyper(
      lr: step.lr, beta1: step.betas.0, beta2: step.betas.1, eps: step.eps, weight_decay: step.weightDecay,
      bias_correction1: step.biasCorrection1, bias_correction2_sqrt: step.biasCorrection2Sqrt,
      decoupled: step.decoupled ? 1 : 0)
    let (param, grad, expAvg, expAvgSq) = (
      Self.floats(step.param), Self.floats(step.grad), Self.floats(step.expAvg), Self.floats(step.expAvgSq)
    )
    let maxExpAvgSq = step.maxExpAvgSq.map(Self.floats)
    withUnsafePointer(to: &hyper) { h in
      parallelRanges(count, threads: count >= 1 << 16 ? StridedLoop.threadCount : 1, alignment: 16) { _, range in
        let at = range.lowerBound
        ck_adam_step_f32(
          Int64(range.count), param + at, grad + at, expAvg + at, expAvgSq + at, maxExpAvgSq.map { $0 + at }, h)
      }
    }
    return true
  }
}
