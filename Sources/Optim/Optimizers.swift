import Foundation

/// Stochastic gradient descent with momentum, dampening, Nesterov and weight decay, with
/// PyTorch's exact update rule (PyTorch: `torch.optim.SGD`).
public final class SGD: Optimizer {
  /// SGD over `params`.
  public convenience init(
    _ params: [Tensor], lr: Double, momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0,
    nesterov: Bool = false
  ) {
    self.init(
      [ParamGroup(params)], lr: lr, momentum: momentum, dampening: dampening, weightDecay: weightDecay,
      nesterov: nesterov)
  }

  /// SGD over parameter groups, each with its own hyper-parameters or these.
  public init(
    _ groups: [ParamGroup], lr: Double, momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0,
    nesterov: Bool = false
  ) {
    super.init(
      groups,
      defaults: ParamGroup(
        [], lr: lr, weightDecay: weightDecay, momentum: momentum, dampening: dampening, nesterov: nesterov))
    for group in paramGroups {
      let (momentum, dampening) = (group.momentum ?? 0, group.dampening ?? 0)
      usageCheck(momentum >= 0, "Invalid momentum value: \(momentum)")
      usageCheck(
        group.nesterov != true || (momentum > 0 && dampening == 0),
        "Nesterov momentum requires a momentum and zero dampening")
    }
  }

  /// `p -= lr * d`, where `d` is the gradient (plus decay) through the momentum buffer.
  public override func update(_ p: Tensor, grad: Tensor, group: ParamGroup, state: inout [String: Tensor]) {
    let (weightDecay, momentum, dampening) = (group.weightDecay ?? 0, group.momentum ?? 0, group.dampening ?? 0)
    var d = grad
    if weightDecay != 0 { d = d.add(p, alpha: .double(weightDecay)) }
    if momentum != 0 {
      let buffer: Tensor
      if let existing = state["momentum_buffer"] {
        buffer = existing.mul_(momentum).add_(d, alpha: .double(1 - dampening))
      } else {
        buffer = d.clone()
        state["momentum_buffer"] = buffer
      }
      d = group.nesterov == true ? d.add(buffer, alpha: .double(momentum)) : buffer
    }
    p.add_(d, alpha: .double(-group.lr))
  }
}

/// Adam and AdamW (decoupled weight decay) with PyTorch's update rule
/// (PyTorch: `torch.optim.Adam`, `torch.optim.AdamW`).
public class Adam: Optimizer {
  /// AdamW: weight decay shrinks the parameter instead of joining the gradient.
  let decoupled: Bool

  /// Adam over `params`.
  public convenience init(
    _ params: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
    weightDecay: Double = 0, amsgrad: Bool = false
  ) {
    self.init([ParamGroup(params)], lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, amsgrad: amsgrad)
  }

  /// Adam over parameter groups.
  public convenience init(
    _ groups: [ParamGroup], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
    weightDecay: Double = 0, amsgrad: Bool = false
  ) {
    self.init(groups, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, amsgrad: amsgrad, decoupled: false)
  }

  init(
    _ groups: [ParamGroup], lr: Double, betas: (Double, Double), eps: Double, weightDecay: Double, amsgrad: Bool,
    decoupled: Bool
  ) {
    self.decoupled = decoupled
    super.init(
      groups, defaults: ParamGroup([], lr: lr, weightDecay: weightDecay, betas: betas, eps: eps, amsgrad: amsgrad))
    for group in paramGroups {
      let betas = group.betas ?? betas
      usageCheck(betas.0 >= 0 && betas.0 < 1 && betas.1 >= 0 && betas.1 < 1, "Invalid beta parameters: \(betas)")
      usageCheck((group.eps ?? 0) >= 0, "Invalid epsilon value: \(group.eps ?? 0)")
    }
  }

  /// One Adam step with bias-corrected moment estimates.
  public override func update(_ p: Tensor, grad: Tensor, group: ParamGroup, state: inout [String: Tensor]) {
    let (lr, weightDecay, eps) = (group.lr, group.weightDecay ?? 0, group.eps ?? 1e-8)
    let (beta1, beta2) = group.betas ?? (0.9, 0.999)
    let step = (state["step"]?.item() ?? 0) + 1
    state["step"] = Tensor(step, dtype: .float32)
    let expAvg = state["exp_avg"] ?? Tensor.zeros(like: p)
    let expAvgSq = state["exp_avg_sq"] ?? Tensor.zeros(like: p)
    state["exp_avg"] = expAvg
    state["exp_avg_sq"] = expAvgSq
    if group.amsgrad == true && state["max_exp_avg_sq"] == nil { state["max_exp_avg_sq"] = Tensor.zeros(like: p) }
    let biasCorrection1 = 1 - Foundation.pow(beta1, step)
    let biasCorrection2Sqrt = (1 - Foundation.pow(beta2, step)).squareRoot()
    // One pass over the elements where the backend has the kernel (dense float32 on the CPU).
    let fused = AdamStep(
      param: p, grad: grad, expAvg: expAvg, expAvgSq: expAvgSq, maxExpAvgSq: state["max_exp_avg_sq"], lr: lr,
      betas: (beta1, beta2), eps: eps, weightDecay: weightDecay, decoupled: decoupled,
      biasCorrection1: biasCorrection1, biasCorrection2Sqrt: biasCorrection2Sqrt)
    if Tensor.fusedAdamStep(fused) { return }
    var g = grad
    if weightDecay != 0 {
      if decoupled { p.mul_(1 - lr * weightDecay) } else { g = g.add(p, alpha: .double(weightDecay)) }
    }
    expAvg.add_((g - expAvg) * (1 - beta1))  // lerp toward the gradient
    expAvgSq.mul_(beta2).add_(g * g * (1 - beta2))
    var second = expAvgSq
    if let maxSq = state["max_exp_avg_sq"] {
      maxSq.copy_(maxSq.maximum(expAvgSq))
      second = maxSq
    }
    let denom = second.sqrt() / biasCorrection2Sqrt + eps
    p.add_(expAvg / denom, alpha: .double(-lr / biasCorrection1))
  }
}

/// Adam with decoupled weight decay (PyTorch: `torch.optim.AdamW`, decay 0.01 by default).
public final class AdamW: Adam {
  /// AdamW over `params`.
  public convenience init(
    _ params: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
    weightDecay: Double = 1e-2, amsgrad: Bool = false
  ) {
    self.init(
      [ParamGroup(params)], lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, amsgrad: amsgrad, decoupled: true)
  }
  /// AdamW over parameter groups.
  public convenience init(
    _ groups: [ParamGroup], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
    weightDecay: Double = 1e-2, amsgrad: Bool = false
  ) {
    self.init(groups, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, amsgrad: amsgrad, decoupled: true)
  }
}

/// RMSprop with optional momentum and centering (PyTorch: `torch.optim.RMSprop`).
public final class RMSprop: Optimizer {
  /// RMSprop over `params`.
  public convenience init(
    _ params: [Tensor], lr: Double = 1e-2, alpha: Double = 0.99, eps: Double = 1e-8, weightDecay: Double = 0,
    momentum: Double = 0, centered: Bool = false
  ) {
    self.init(
      [ParamGroup(params)], lr: lr, alpha: alpha, eps: eps, weightDecay: weightDecay, momentum: momentum,
      centered: centered)
  }

  /// RMSprop over parameter groups, each with its own hyper-parameters or these.
  public init(
    _ groups: [ParamGroup], lr: Double = 1e-2, alpha: Double = 0.99, eps: Double = 1e-8, weightDecay: Double = 0,
    momentum: Double = 0, centered: Bool = false
  ) {
    super.init(
      groups,
      defaults: ParamGroup(
        [], lr: lr, weightDecay: weightDecay, momentum: momentum, eps: eps, alpha: alpha, centered: centered))
  }

  /// One RMSprop step.
  public override func update(_ p: Tensor, grad: Tensor, group: ParamGroup, state: inout [String: Tensor]) {
    let (lr, weightDecay, eps) = (group.lr, group.weightDecay ?? 0, group.eps ?? 1e-8)
    let (alpha, momentum) = (group.alpha ?? 0.99, group.momentum ?? 0)
    var g = grad
    if weightDecay != 0 { g = g.add(p, alpha: .double(weightDecay)) }
    let squareAvg = state["square_avg"] ?? Tensor.zeros(like: p)
    state["square_avg"] = squareAvg
    squareAvg.mul_(alpha).add_(g * g * (1 - alpha))
    var avg: Tensor
    if group.centered == true {
      let gradAvg = state["grad_avg"] ?? Tensor.zeros(like: p)
      state["grad_avg"] = gradAvg
      gradAvg.add_((g - gradAvg) * (1 - alpha))
      avg = (squareAvg - gradAvg * gradAvg).sqrt()
    } else {
      avg = squareAvg.sqrt()
    }
    avg = avg + eps
    if momentum > 0 {
      let buffer = state["momentum_buffer"] ?? Tensor.zeros(like: p)
      state["momentum_buffer"] = buffer
      buffer.mul_(momentum).add_(g / avg)
      p.add_(buffer, alpha: .double(-lr))
    } else {
      p.add_(g / avg, alpha: .double(-lr))
    }
  }
}
