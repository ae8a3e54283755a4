@_exported import Autograd

/// A set of parameters that share hyper-parameters (PyTorch: an entry of `param_groups`).
/// Every hyper-parameter of the optimizers can be set per group; the ones left `nil` take
/// the optimizer's value when the optimizer is made, so that afterwards each group holds
/// its full set (as PyTorch fills a group's dict from the optimizer's defaults).
public struct ParamGroup {
  /// The tensors this group updates.
  public var params: [Tensor]
  /// The group's learning rate (schedulers change it).
  public var lr: Double
  /// The learning rate the group started with (PyTorch: `initial_lr`).
  public var initialLR: Double
  /// L2 penalty (Adam, SGD, RMSprop) or decoupled decay (AdamW).
  public var weightDecay: Double?
  /// SGD's and RMSprop's momentum (`OneCycleLR` cycles it).
  public var momentum: Double?
  /// SGD's dampening.
  public var dampening: Double?
  /// SGD's Nesterov momentum.
  public var nesterov: Bool?
  /// Adam's and AdamW's coefficients of the moment averages (`OneCycleLR` cycles the first).
  public var betas: (Double, Double)?
  /// The term added to denominators (Adam, AdamW, RMSprop).
  public var eps: Double?
  /// Adam's AMSGrad variant.
  public var amsgrad: Bool?
  /// RMSprop's smoothing constant.
  public var alpha: Double?
  /// RMSprop's centering.
  public var centered: Bool?

  /// A group with its own hyper-parameters; those left `nil` take the optimizer's.
  public init(
    _ params: [Tensor], lr: Double? = nil, weightDecay: Double? = nil, momentum: Double? = nil, dampening: Double? = nil,
    nesterov: Bool? = nil, betas: (Double, Double)? = nil, eps: Double? = nil, amsgrad: Bool? = nil, alpha: Double? = nil,
    centered: Bool? = nil
  ) {
    self.params = params
    self.lr = lr ?? .nan
    self.initialLR = lr ?? .nan
    self.weightDecay = weightDecay
    self.momentum = momentum
    self.dampening = dampening
    self.nesterov = nesterov
    self.betas = betas
    self.eps = eps
    self.amsgrad = amsgrad
    self.alpha = alpha
    self.centered = centered
  }

  /// This group with every unset hyper-parameter taken from `defaults`.
  func filled(from defaults: ParamGroup) -> ParamGroup {
    var group = self
    if group.lr.isNaN {
      group.lr = defaults.lr
      group.initialLR = defaults.lr
    }
    group.weightDecay = weightDecay ?? defaults.weightDecay
    group.momentum = momentum ?? defaults.momentum
    group.dampening = dampening ?? defaults.dampening
    group.nesterov = nesterov ?? defaults.nesterov
    group.betas = betas ?? defaults.betas
    group.eps = eps ?? defaults.eps
    group.amsgrad = amsgrad ?? defaults.amsgrad
    group.alpha = alpha ?? defaults.alpha
    group.centered = centered ?? defaults.centered
    return group
  }
}

/// What an optimizer saves: per-parameter state by position, and each group's learning
/// rate and step count (PyTorch: `optimizer.state_dict()`).
public struct OptimizerState {
  /// Per-parameter tensors (momentum buffers, moment estimates), keyed by the parameter's
  /// position across all groups.
  public var state: [Int: [String: Tensor]]
  /// Each group's learning rate.
  public var groupLRs: [Double]
  /// Steps taken.
  public var stepCount: Int

  /// A state to restore with `loadStateDict` (as read back from a checkpoint).
  public init(state: [Int: [String: Tensor]], groupLRs: [Double], stepCount: Int) {
    self.state = state
    self.groupLRs = groupLRs
    self.stepCount = stepCount
  }
}

/// The base of the optimizers (PyTorch: `torch.optim.Optimizer`): parameter groups,
/// per-parameter state, `zeroGrad()` and `step()`.
open class Optimizer {
  /// The parameter groups, each with its full set of hyper-parameters.
  public var paramGroups: [ParamGroup]
  /// Per-parameter state, by parameter identity.
  var state: [ObjectIdentifier: [String: Tensor]] = [:]
  /// Steps taken so far.
  public internal(set) var stepCount = 0

  /// An optimizer over `groups`; what a group leaves unset comes from `defaults` (whose
  /// `params` are ignored).
  public init(_ groups: [ParamGroup], defaults: ParamGroup) {
    usageCheck(defaults.lr >= 0, "Invalid learning rate: \(defaults.lr)")
    usageCheck(!groups.flatMap(\.params).isEmpty, "optimizer got an empty parameter list")
    paramGroups = groups.map { $0.filled(from: defaults) }
    for group in paramGroups {
      usageCheck(group.lr >= 0, "Invalid learning rate: \(group.lr)")
      usageCheck((group.weightDecay ?? 0) >= 0, "Invalid weight_decay value: \(group.weightDecay ?? 0)")
      for p in group.params { usageCheck(p.isLeaf, "can't optimize a non-leaf Tensor") }
    }
  }

  /// An optimizer over `groups`; groups without a learning rate get `lr`.
  public convenience init(_ groups: [ParamGroup], lr: Double) {
    self.init(groups, defaults: ParamGroup([], lr: lr))
  }

  /// Clears every parameter's gradient (PyTorch: `zero_grad(set_to_none=True)`), or, with
  /// `setToNone: false`, fills the existing gradients with zeros.
  public func zeroGrad(setToNone: Bool = true) {
    for group in paramGroups {
      for p in group.params {
        if setToNone {
          p.grad = nil
        } else if let grad = p.grad {
          withNoGrad { _ = grad.detach().zero_() }
        }
      }
    }
  }

  /// Applies one update to every parameter that has a gradient.
  public func step() {
    stepCount += 1
    withNoGrad {
      for group in paramGroups {
        for p in group.params {
          guard let grad = p.grad else { continue }
          var s = state[ObjectIdentifier(p)] ?? [:]
          update(p, grad: grad, group: group, state: &s)
          state[ObjectIdentifier(p)] = s
        }
      }
    }
  }

  /// Updates one parameter in place with its group's hyper-parameters; subclasses
  /// implement their rule here.
  open func update(_ param: Tensor, grad: Tensor, group: ParamGroup, state: inout [String: Tensor]) {
    usageFailure("\(type(of: self)) does not override update(_:grad:group:state:)")
  }

  /// The optimizer's state (PyTorch: `state_dict()`).
  public func stateDict() -> OptimizerState {
    var saved: [Int: [String: Tensor]] = [:]
    for (i, p) in paramGroups.flatMap(\.params).enumerated() {
      if let s = state[ObjectIdentifier(p)] { saved[i] = s.mapValues { $0.clone() } }
    }
    return OptimizerState(state: saved, groupLRs: paramGroups.map(\.lr), stepCount: stepCount)
  }

  /// Restores state saved by `stateDict()` (PyTorch: `load_state_dict`).
  public func loadStateDict(_ saved: OptimizerState) {
    usageCheck(
      saved.groupLRs.count == paramGroups.count,
      "loaded state dict has a different number of parameter groups (\(saved.groupLRs.count) vs \(paramGroups.count))")
    let params = paramGroups.flatMap(\.params)
    state = [:]
    for (i, s) in saved.state {
      usageCheck(i < params.count, "loaded state dict contains a parameter index \(i) out of range")
      state[ObjectIdentifier(params[i])] = s.mapValues { $0.clone() }
    }
    for i in paramGroups.indices { paramGroups[i].lr = saved.groupLRs[i] }
    stepCount = saved.stepCount
  }
}
