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
    _ params: [Tensor], lr: Double? = nil, weightDecay: Double? = nil, momentum: Double? = nil,
    dampening: Double? = nil,
    nesterov: Bool? = nil, betas: (Double, Double)? = nil, eps: Double? = nil, amsgrad: Bool? = nil,
    alpha: Double? = nil,
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

/// What an optimizer saves, in PyTorch's layout (`optimizer.state_dict()`): per-parameter
/// state keyed by the parameter's position across all groups, and each group's
/// hyper-parameters with its parameters' positions. `savedValue` and `init(_:)` convert it to
/// and from the tree `Tensor.save(pt:object:)` writes, so a checkpoint holds it as PyTorch's
/// does (and a PyTorch optimizer's state dict loads here when the optimizers match).
public struct OptimizerState {
  /// Per-parameter tensors (momentum buffers, moment estimates, Adam's `step`), keyed by
  /// the parameter's position across all groups.
  public var state: [Int: [String: Tensor]]
  /// Each group's hyper-parameters by PyTorch's names (`lr`, `momentum`, `betas`, ...) and
  /// `params`, the positions of its parameters.
  public var paramGroups: [[String: SavedValue]]
  /// Steps taken (this library's count; PyTorch keeps only the per-parameter `step`).
  public var stepCount: Int

  /// A state to restore with `loadStateDict`.
  public init(state: [Int: [String: Tensor]], paramGroups: [[String: SavedValue]], stepCount: Int) {
    self.state = state
    self.paramGroups = paramGroups
    self.stepCount = stepCount
  }

  /// Each group's learning rate.
  public var groupLRs: [Double] { paramGroups.map { $0["lr"]?.double ?? .nan } }

  /// The state as PyTorch's dict: `{"state": {0: {...}}, "param_groups": [{...}]}`, plus
  /// this library's `step_count`.
  public var savedValue: SavedValue {
    let stateEntries = state.keys.sorted().map { index in
      (key: SavedValue.int(index), value: SavedValue.stateDict(state[index]!))
    }
    let groups = paramGroups.map { group in
      SavedValue.dict(group.keys.sorted().map { (key: .string($0), value: group[$0]!) })
    }
    return ["state": .dict(stateEntries), "param_groups": .list(groups), "step_count": .int(stepCount)]
  }

  /// Reads a state saved as `savedValue` (or by PyTorch's `optimizer.state_dict()`);
  /// throws `OptimizerStateError` when the tree does not have that layout.
  public init(_ saved: SavedValue) throws {
    guard let stateEntries = saved["state"]?.entries, let groups = saved["param_groups"]?.elements else {
      throw OptimizerStateError(
        description: "an optimizer state needs 'state' (a dict) and 'param_groups' (a list), got \(saved.kindName)")
    }
    var state: [Int: [String: Tensor]] = [:]
    for (key, value) in stateEntries {
      guard let index = key.int, let tensors = value.entries else {
        throw OptimizerStateError(description: "optimizer state entries must map parameter positions to dicts")
      }
      var entry: [String: Tensor] = [:]
      for (name, v) in tensors {
        guard let name = name.string else {
          throw OptimizerStateError(description: "parameter \(index)'s state has a non-string key")
        }
        // PyTorch stores some counters as numbers (SGD's nothing; Adagrad's step as a tensor).
        if let t = v.tensor {
          entry[name] = t
        } else if let number = v.double {
          entry[name] = Tensor(number, dtype: .float32)
        }
      }
      state[index] = entry
    }
    paramGroups = try groups.map { group in
      guard let entries = group.entries else {
        throw OptimizerStateError(description: "each param_groups entry must be a dict")
      }
      var settings: [String: SavedValue] = [:]
      for (key, value) in entries {
        guard let name = key.string else {
          throw OptimizerStateError(description: "a param_groups entry has a non-string key")
        }
        settings[name] = value
      }
      return settings
    }
    self.state = state
    stepCount = saved["step_count"]?.int ?? 0
  }
}

/// Why a saved optimizer state cannot be read or loaded.
public struct OptimizerStateError: Error, CustomStringConvertible {
  /// What is wrong, in PyTorch's words where it has them.
  public var description: String
}

extension ParamGroup {
  /// The hyper-parameters by PyTorch's names (those the group has).
  func settings(params: [Int]) -> [String: SavedValue] {
    var s: [String: SavedValue] = [
      "lr": .double(lr), "initial_lr": .double(initialLR), "params": .list(params.map { .int($0) }),
    ]
    if let weightDecay { s["weight_decay"] = .double(weightDecay) }
    if let momentum { s["momentum"] = .double(momentum) }
    if let dampening { s["dampening"] = .double(dampening) }
    if let nesterov { s["nesterov"] = .bool(nesterov) }
    if let betas { s["betas"] = .tuple([.double(betas.0), .double(betas.1)]) }
    if let eps { s["eps"] = .double(eps) }
    if let amsgrad { s["amsgrad"] = .bool(amsgrad) }
    if let alpha { s["alpha"] = .double(alpha) }
    if let centered { s["centered"] = .bool(centered) }
    return s
  }

  /// Takes the hyper-parameters `settings` has (PyTorch's names); throws on a wrong type.
  mutating func apply(_ settings: [String: SavedValue]) throws {
    func number(_ key: String) throws -> Double? {
      guard let v = settings[key] else { return nil }
      guard let d = v.double else {
        throw OptimizerStateError(description: "param_groups '\(key)' is a \(v.kindName), not a number")
      }
      return d
    }
    func flag(_ key: String) throws -> Bool? {
      guard let v = settings[key] else { return nil }
      guard let b = v.bool else {
        throw OptimizerStateError(description: "param_groups '\(key)' is a \(v.kindName), not a bool")
      }
      return b
    }
    if let v = try number("lr") { lr = v }
    if let v = try number("initial_lr") { initialLR = v }
    if let v = try number("weight_decay") { weightDecay = v }
    if let v = try number("momentum") { momentum = v }
    if let v = try number("dampening") { dampening = v }
    if let v = try flag("nesterov") { nesterov = v }
    if let v = settings["betas"] {
      guard let pair = v.elements, pair.count == 2, let b1 = pair[0].double, let b2 = pair[1].double else {
        throw OptimizerStateError(description: "param_groups 'betas' must be a pair of numbers")
      }
      betas = (b1, b2)
    }
    if let v = try number("eps") { eps = v }
    if let v = try flag("amsgrad") { amsgrad = v }
    if let v = try number("alpha") { alpha = v }
    if let v = try flag("centered") { centered = v }
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

  /// Applies one update to every parameter that has a gradient. State a parameter left on
  /// another device (the model moved with `Module.to` after earlier steps) follows it there
  /// first; 0-d host values such as Adam's `step` stay on the host, as in PyTorch.
  public func step() {
    stepCount += 1
    withNoGrad {
      for group in paramGroups {
        for p in group.params {
          guard let grad = p.grad else { continue }
          var s = state[ObjectIdentifier(p)] ?? [:]
          for (key, value) in s where value.device != p.device && !(value.dim == 0 && value.device == .cpu) {
            s[key] = value.movedTo(p.device)
          }
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

  /// The optimizer's state (PyTorch: `state_dict()`): copies of the per-parameter tensors,
  /// and each group's hyper-parameters.
  public func stateDict() -> OptimizerState {
    var saved: [Int: [String: Tensor]] = [:]
    var groups: [[String: SavedValue]] = []
    var position = 0
    for group in paramGroups {
      for p in group.params {
        if let s = state[ObjectIdentifier(p)] { saved[position] = s.mapValues { $0.clone() } }
        position += 1
      }
      groups.append(group.settings(params: Array((position - group.params.count)..<position)))
    }
    return OptimizerState(state: saved, paramGroups: groups, stepCount: stepCount)
  }

  /// Restores a state from `stateDict()` (or PyTorch's, read with `OptimizerState(_:)`):
  /// the groups' hyper-parameters and the per-parameter tensors, moved to each parameter's
  /// device (PyTorch: `load_state_dict`). Throws, changing nothing, when the groups or the
  /// tensors' shapes do not match this optimizer's parameters.
  public func loadStateDict(_ saved: OptimizerState) throws {
    guard saved.paramGroups.count == paramGroups.count else {
      throw OptimizerStateError(
        description:
          "loaded state dict has a different number of parameter groups (\(saved.paramGroups.count) vs \(paramGroups.count))"
      )
    }
    var groups = paramGroups
    for (i, settings) in saved.paramGroups.enumerated() {
      if let params = settings["params"]?.elements, params.count != groups[i].params.count {
        throw OptimizerStateError(
          description: "loaded state dict contains a parameter group that doesn't match the size of optimizer's group "
            + "(group \(i): \(params.count) vs \(groups[i].params.count) parameters)")
      }
      try groups[i].apply(settings)
    }
    let params = paramGroups.flatMap(\.params)
    var restored: [ObjectIdentifier: [String: Tensor]] = [:]
    for (i, s) in saved.state {
      guard i >= 0 && i < params.count else {
        throw OptimizerStateError(
          description: "loaded state dict contains a parameter index \(i) out of range (\(params.count) parameters)")
      }
      let p = params[i]
      var entry: [String: Tensor] = [:]
      for (name, t) in s {
        guard t.dim == 0 || t.shape == p.shape else {
          throw OptimizerStateError(
            description: "state '\(name)' of parameter \(i) has shape \(t.shape), the parameter \(p.shape)")
        }
        // As PyTorch: per-parameter tensors take the parameter's dtype and device; `step` stays float32.
        entry[name] = (name == "step" ? t.to(.float32) : t.to(p.dtype)).movedTo(p.device).clone()
      }
      restored[ObjectIdentifier(p)] = entry
    }
    paramGroups = groups
    state = restored
    stepCount = saved.stepCount
  }
}
