@_exported import Autograd

/// A set of parameters that share hyper-parameters (PyTorch: an entry of `param_groups`).
public struct ParamGroup {
  /// The tensors this group updates.
  public var params: [Tensor]
  /// The group's learning rate (schedulers change it).
  public var lr: Double
  /// The learning rate the group started with (PyTorch: `initial_lr`).
  public var initialLR: Double

  /// A group with its own learning rate, or the optimizer's default when `nil`.
  public init(_ params: [Tensor], lr: Double? = nil) {
    self.params = params
    self.lr = lr ?? .nan
    self.initialLR = lr ?? .nan
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
}

/// The base of the optimizers (PyTorch: `torch.optim.Optimizer`): parameter groups,
/// per-parameter state, `zeroGrad()` and `step()`.
open class Optimizer {
  /// The parameter groups.
  public var paramGroups: [ParamGroup]
  /// Per-parameter state, by parameter identity.
  var state: [ObjectIdentifier: [String: Tensor]] = [:]
  /// Steps taken so far.
  public internal(set) var stepCount = 0

  /// An optimizer over `groups`; groups without a learning rate get `lr`.
  public init(_ groups: [ParamGroup], lr: Double) {
    usageCheck(lr >= 0, "Invalid learning rate: \(lr)")
    usageCheck(!groups.flatMap(\.params).isEmpty, "optimizer got an empty parameter list")
    paramGroups = groups.map { g in
      var group = g
      if group.lr.isNaN {
        group.lr = lr
        group.initialLR = lr
      }
      return group
    }
    for p in paramGroups.flatMap(\.params) {
      usageCheck(p.isLeaf, "can't optimize a non-leaf Tensor")
    }
  }

  /// Clears every parameter's gradient (PyTorch: `zero_grad()`, which sets `.grad` to None).
  public func zeroGrad() {
    for group in paramGroups { for p in group.params { p.grad = nil } }
  }

  /// Applies one update to every parameter that has a gradient.
  public func step() {
    stepCount += 1
    withNoGrad {
      for group in paramGroups {
        for p in group.params {
          guard let grad = p.grad else { continue }
          var s = state[ObjectIdentifier(p)] ?? [:]
          update(p, grad: grad, lr: group.lr, state: &s)
          state[ObjectIdentifier(p)] = s
        }
      }
    }
  }

  /// Updates one parameter in place; subclasses implement their rule here.
  open func update(_ param: Tensor, grad: Tensor, lr: Double, state: inout [String: Tensor]) {
    usageFailure("\(type(of: self)) does not override update(_:grad:lr:state:)")
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
