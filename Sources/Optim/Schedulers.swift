import Foundation

/// The base of the learning-rate schedules (PyTorch: `torch.optim.lr_scheduler.LRScheduler`):
/// made at epoch 0 (setting the epoch-0 rates at once, as PyTorch's initial step does), each
/// `step()` advances one epoch and sets every group's rate to `getLR()`. Subclass it and
/// override `getLR()` (PyTorch's chainable form, from the groups' current rates), and
/// `closedFormLR()` if the schedule has one (`SequentialLR` restarts schedules through it).
open class LRScheduler {
  /// The optimizer whose rates change.
  public let optimizer: Optimizer
  /// Epochs stepped so far; 0 right after construction (PyTorch: `last_epoch`).
  public internal(set) var lastEpoch = -1
  /// Each group's initial rate (PyTorch: `base_lrs`).
  public let baseLRs: [Double]
  /// How many times `step()` has run, the initial step included (PyTorch: `_step_count`).
  public internal(set) var stepCount = 0

  /// A schedule over `optimizer`'s groups, starting from their initial rates; runs the
  /// initial step, so subclasses set their own properties before calling it.
  public init(_ optimizer: Optimizer) {
    self.optimizer = optimizer
    baseLRs = optimizer.paramGroups.map(\.initialLR)
    initialStep()
  }

  /// PyTorch's `_initial_step`: the step count restarts and epoch 0's rates are set.
  func initialStep() {
    stepCount = 0
    step()
  }

  /// The rates for `lastEpoch`, from the groups' current rates (PyTorch: `get_lr()`); the
  /// base keeps them.
  open func getLR() -> [Double] { optimizer.paramGroups.map(\.lr) }

  /// The rates for `lastEpoch` from the initial rates alone, or `nil` when the schedule has
  /// no closed form (PyTorch: `_get_closed_form_lr`).
  open func closedFormLR() -> [Double]? { nil }

  /// Advances one epoch.
  open func step() {
    stepCount += 1
    lastEpoch += 1
    setRates(getLR())
  }

  /// Jumps to `epoch`, through the closed form when there is one (PyTorch's `_update_lr(epoch)`,
  /// which `SequentialLR` uses to restart a schedule at a milestone).
  public func step(epoch: Int) {
    lastEpoch = epoch
    setRates(closedFormLR() ?? getLR())
  }

  func setRates(_ rates: [Double]) {
    for i in optimizer.paramGroups.indices { optimizer.paramGroups[i].lr = rates[i] }
  }

  /// The current learning rates (PyTorch: `get_last_lr()`).
  public var lastLR: [Double] { optimizer.paramGroups.map(\.lr) }

  /// The schedule's position, by PyTorch's names (`last_epoch`, `_step_count`, `base_lrs`,
  /// `_last_lr`), to save in a checkpoint beside the optimizer's state (PyTorch:
  /// `state_dict()`). The rates themselves live in the optimizer's groups.
  open func stateDict() -> SavedValue {
    [
      "last_epoch": .int(lastEpoch), "_step_count": .int(stepCount), "base_lrs": .list(baseLRs.map { .double($0) }),
      "_last_lr": .list(lastLR.map { .double($0) }),
    ]
  }

  /// Restores a position saved by `stateDict()` (PyTorch: `load_state_dict`).
  open func loadStateDict(_ saved: SavedValue) throws {
    guard let epoch = saved["last_epoch"]?.int, let steps = saved["_step_count"]?.int else {
      throw OptimizerStateError(
        description: "a scheduler state needs integer 'last_epoch' and '_step_count', got \(saved.kindName)")
    }
    lastEpoch = epoch
    stepCount = steps
  }
}

/// Multiplies every group's learning rate by `gamma` each `stepSize` epochs
/// (PyTorch: `torch.optim.lr_scheduler.StepLR`).
public final class StepLR: LRScheduler {
  let stepSize: Int
  let gamma: Double

  /// A schedule for `optimizer`.
  public init(_ optimizer: Optimizer, stepSize: Int, gamma: Double = 0.1) {
    self.stepSize = stepSize
    self.gamma = gamma
    super.init(optimizer)
  }

  /// PyTorch's chainable rule.
  public override func getLR() -> [Double] {
    lastLR.map { lastEpoch == 0 || lastEpoch % stepSize != 0 ? $0 : $0 * gamma }
  }

  /// `base * gamma^(epoch / stepSize)`.
  public override func closedFormLR() -> [Double]? {
    baseLRs.map { $0 * Foundation.pow(gamma, Double(lastEpoch / stepSize)) }
  }
}

/// Multiplies the rate by `gamma` at each epoch in `milestones`
/// (PyTorch: `torch.optim.lr_scheduler.MultiStepLR`).
public final class MultiStepLR: LRScheduler {
  let milestones: [Int]
  let gamma: Double

  /// A schedule for `optimizer`.
  public init(_ optimizer: Optimizer, milestones: [Int], gamma: Double = 0.1) {
    self.milestones = milestones.sorted()
    self.gamma = gamma
    super.init(optimizer)
  }

  /// PyTorch's chainable rule (a milestone listed twice multiplies twice).
  public override func getLR() -> [Double] {
    let hits = milestones.filter { $0 == lastEpoch }.count
    return lastLR.map { $0 * Foundation.pow(gamma, Double(hits)) }
  }

  /// `base * gamma^(milestones passed)`.
  public override func closedFormLR() -> [Double]? {
    let passed = milestones.filter { $0 <= lastEpoch }.count
    return baseLRs.map { $0 * Foundation.pow(gamma, Double(passed)) }
  }
}

/// Multiplies the rate by `gamma` every epoch (PyTorch: `torch.optim.lr_scheduler.ExponentialLR`).
public final class ExponentialLR: LRScheduler {
  let gamma: Double

  /// A schedule for `optimizer`.
  public init(_ optimizer: Optimizer, gamma: Double) {
    self.gamma = gamma
    super.init(optimizer)
  }

  /// PyTorch's chainable rule.
  public override func getLR() -> [Double] { lastLR.map { lastEpoch == 0 ? $0 : $0 * gamma } }

  /// `base * gamma^epoch`.
  public override func closedFormLR() -> [Double]? { baseLRs.map { $0 * Foundation.pow(gamma, Double(lastEpoch)) } }
}

/// The initial rate times `lrLambda(epoch)` (PyTorch: `torch.optim.lr_scheduler.LambdaLR`).
public final class LambdaLR: LRScheduler {
  let lrLambda: (Int) -> Double

  /// A schedule for `optimizer` with one factor function for every group.
  public init(_ optimizer: Optimizer, lrLambda: @escaping (Int) -> Double) {
    self.lrLambda = lrLambda
    super.init(optimizer)
  }

  /// `base * lrLambda(epoch)`.
  public override func getLR() -> [Double] { baseLRs.map { $0 * lrLambda(lastEpoch) } }
}

/// The rate scaled by a factor going linearly from `startFactor` to `endFactor` over
/// `totalIters` epochs, then held (PyTorch: `torch.optim.lr_scheduler.LinearLR`).
public final class LinearLR: LRScheduler {
  let startFactor: Double
  let endFactor: Double
  let totalIters: Int

  /// A schedule for `optimizer`.
  public init(_ optimizer: Optimizer, startFactor: Double = 1.0 / 3, endFactor: Double = 1, totalIters: Int = 5) {
    usageCheck(
      startFactor > 0 && startFactor <= 1,
      "Starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
    usageCheck(endFactor >= 0 && endFactor <= 1, "Ending multiplicative factor expected to be between 0 and 1.")
    self.startFactor = startFactor
    self.endFactor = endFactor
    self.totalIters = totalIters
    super.init(optimizer)
  }

  /// PyTorch's chainable rule.
  public override func getLR() -> [Double] {
    if lastEpoch == 0 { return lastLR.map { $0 * startFactor } }
    if lastEpoch > totalIters { return lastLR }
    let change = endFactor - startFactor
    return lastLR.map { $0 * (1 + change / (Double(totalIters) * startFactor + Double(lastEpoch - 1) * change)) }
  }

  /// `base * (start + (end - start) * min(epoch, totalIters) / totalIters)`.
  public override func closedFormLR() -> [Double]? {
    let progress = Double(Swift.min(totalIters, lastEpoch)) / Double(totalIters)
    return baseLRs.map { $0 * (startFactor + (endFactor - startFactor) * progress) }
  }
}

/// Cosine annealing from each group's initial rate to `etaMin` over `tMax` epochs, with
/// PyTorch's recursive form (PyTorch: `torch.optim.lr_scheduler.CosineAnnealingLR`).
public final class CosineAnnealingLR: LRScheduler {
  let tMax: Int
  let etaMin: Double

  /// A schedule for `optimizer`.
  public init(_ optimizer: Optimizer, tMax: Int, etaMin: Double = 0) {
    self.tMax = tMax
    self.etaMin = etaMin
    super.init(optimizer)
  }

  /// PyTorch's chainable rule.
  public override func getLR() -> [Double] {
    let (t, e) = (Double(tMax), Double(lastEpoch))
    if lastEpoch == 0 { return lastLR }
    if stepCount == 1 && lastEpoch > 0 { return closedFormLR()! }
    if (lastEpoch - 1 - tMax) % (2 * tMax) == 0 {
      return zip(lastLR, baseLRs).map { $0 + ($1 - etaMin) * (1 - cos(Double.pi / t)) / 2 }
    }
    return lastLR.map { (1 + cos(Double.pi * e / t)) / (1 + cos(Double.pi * (e - 1) / t)) * ($0 - etaMin) + etaMin }
  }

  /// `etaMin + (base - etaMin) (1 + cos(pi epoch / tMax)) / 2`.
  public override func closedFormLR() -> [Double]? {
    baseLRs.map { etaMin + ($0 - etaMin) * (1 + cos(Double.pi * Double(lastEpoch) / Double(tMax))) / 2 }
  }
}

/// Runs `schedulers` one after another, switching at each epoch of `milestones` and
/// restarting the next one from its epoch 0 (PyTorch: `torch.optim.lr_scheduler.SequentialLR`):
/// warm-up then cosine is `SequentialLR(opt, schedulers: [warmup, cosine], milestones: [100])`.
public final class SequentialLR: LRScheduler {
  let schedulers: [LRScheduler]
  let milestones: [Int]

  /// Chains `schedulers` (made over the same optimizer) at `milestones`.
  public init(_ optimizer: Optimizer, schedulers: [LRScheduler], milestones: [Int]) {
    usageCheck(!schedulers.isEmpty, "SequentialLR expects at least one scheduler")
    usageCheck(
      milestones.count == schedulers.count - 1,
      "Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone points, but got number of schedulers \(schedulers.count) and the number of milestones to be equal to \(milestones.count)"
    )
    for s in schedulers {
      usageCheck(
        s.optimizer === optimizer, "Sequential Schedulers expects all schedulers to belong to the same optimizer")
    }
    self.schedulers = schedulers
    self.milestones = milestones
    // As PyTorch: back to the initial rates, undo the schedulers' own initial steps, and
    // run the first one's initial step again.
    for i in optimizer.paramGroups.indices { optimizer.paramGroups[i].lr = optimizer.paramGroups[i].initialLR }
    for s in schedulers { s.lastEpoch -= 1 }
    super.init(optimizer)
  }

  /// The initial step re-runs the first schedule's; later steps advance the current one.
  public override func step() {
    lastEpoch += 1
    stepCount += 1
    if lastEpoch == 0 {
      schedulers[0].initialStep()
      return
    }
    let index = milestones.filter { $0 <= lastEpoch }.count
    if index > 0 && milestones[index - 1] == lastEpoch {
      schedulers[index].step(epoch: 0)
    } else {
      schedulers[index].step()
    }
  }

  /// The chain's position and each schedule's (PyTorch: `_schedulers` in its state dict).
  public override func stateDict() -> SavedValue {
    guard case .dict(var entries) = super.stateDict() else { return super.stateDict() }
    entries.append((key: "_schedulers", value: .list(schedulers.map { $0.stateDict() })))
    return .dict(entries)
  }

  /// Restores the chain's position and each schedule's.
  public override func loadStateDict(_ saved: SavedValue) throws {
    try super.loadStateDict(saved)
    guard let states = saved["_schedulers"]?.elements, states.count == schedulers.count else {
      throw OptimizerStateError(
        description: "SequentialLR's state needs '_schedulers' with one state per schedule (\(schedulers.count))")
    }
    for (s, state) in zip(schedulers, states) { try s.loadStateDict(state) }
  }
}

/// The 1cycle policy: the rate rises from `maxLR / divFactor` to `maxLR` over the first
/// `pctStart` of `totalSteps`, then anneals to `initial / finalDivFactor` (three phases with
/// `threePhase`); momentum (or Adam's first beta) cycles inversely between `baseMomentum` and
/// `maxMomentum` (PyTorch: `torch.optim.lr_scheduler.OneCycleLR`, stepped once per batch).
public final class OneCycleLR: LRScheduler {
  /// How `OneCycleLR` moves between two values.
  public enum AnnealStrategy: Sendable { case cos, linear }

  private struct Phase {
    let endStep: Double
    let lr: (start: Int, end: Int)  // 0 initial, 1 max, 2 min
    let momentum: (start: Double, end: Double)
  }

  let totalSteps: Int
  let annealStrategy: AnnealStrategy
  let cycleMomentum: Bool
  let useBeta1: Bool
  let rates: [[Double]]  // per group: initial, max, min
  private let phases: [Phase]

  /// A 1cycle schedule for `optimizer` over `totalSteps` steps (or `epochs * stepsPerEpoch`).
  public init(
    _ optimizer: Optimizer, maxLR: Double, totalSteps: Int? = nil, epochs: Int? = nil, stepsPerEpoch: Int? = nil,
    pctStart: Double = 0.3,
    annealStrategy: AnnealStrategy = .cos, cycleMomentum: Bool = true, baseMomentum: Double = 0.85,
    maxMomentum: Double = 0.95,
    divFactor: Double = 25, finalDivFactor: Double = 1e4, threePhase: Bool = false
  ) {
    let total = totalSteps ?? epochs.flatMap { e in stepsPerEpoch.map { e * $0 } }
    usageCheck(total != nil, "You must define either total_steps OR (epochs AND steps_per_epoch)")
    usageCheck(total! > 0, "Expected positive integer total_steps, but got \(total!)")
    usageCheck(pctStart >= 0 && pctStart <= 1, "Expected float between 0 and 1 pct_start, but got \(pctStart)")
    self.totalSteps = total!
    self.annealStrategy = annealStrategy
    self.cycleMomentum = cycleMomentum
    let steps = Double(total!)
    phases =
      threePhase
      ? [
        Phase(endStep: pctStart * steps - 1, lr: (0, 1), momentum: (maxMomentum, baseMomentum)),
        Phase(endStep: 2 * pctStart * steps - 2, lr: (1, 0), momentum: (baseMomentum, maxMomentum)),
        Phase(endStep: steps - 1, lr: (0, 2), momentum: (maxMomentum, maxMomentum)),
      ]
      : [
        Phase(endStep: pctStart * steps - 1, lr: (0, 1), momentum: (maxMomentum, baseMomentum)),
        Phase(endStep: steps - 1, lr: (1, 2), momentum: (baseMomentum, maxMomentum)),
      ]
    let initial = maxLR / divFactor
    rates = optimizer.paramGroups.map { _ in [initial, maxLR, initial / finalDivFactor] }
    useBeta1 = optimizer.paramGroups.first?.betas != nil
    if cycleMomentum {
      usageCheck(
        optimizer.paramGroups.allSatisfy { $0.betas != nil || $0.momentum != nil },
        "optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
    }
    for i in optimizer.paramGroups.indices {
      optimizer.paramGroups[i].initialLR = initial
      if cycleMomentum { Self.setMomentum(maxMomentum, of: &optimizer.paramGroups[i], useBeta1: useBeta1) }
    }
    super.init(optimizer)
  }

  private static func setMomentum(_ value: Double, of group: inout ParamGroup, useBeta1: Bool) {
    if useBeta1 { group.betas = (value, group.betas!.1) } else { group.momentum = value }
  }

  private func anneal(_ start: Double, _ end: Double, _ pct: Double) -> Double {
    switch annealStrategy {
    case .cos: return end + (start - end) / 2 * (cos(Double.pi * pct) + 1)
    case .linear: return (end - start) * pct + start
    }
  }

  /// The rates of the phase `lastEpoch` falls in (also sets the momentum).
  public override func getLR() -> [Double] {
    usageCheck(
      lastEpoch <= totalSteps, "Tried to step \(lastEpoch) times. The specified number of total steps is \(totalSteps)")
    let stepNumber = Double(lastEpoch)
    var startStep = 0.0
    for (i, phase) in phases.enumerated() {
      if stepNumber <= phase.endStep || i == phases.count - 1 {
        let pct = (stepNumber - startStep) / (phase.endStep - startStep)
        if cycleMomentum {
          let momentum = anneal(phase.momentum.start, phase.momentum.end, pct)
          for g in optimizer.paramGroups.indices {
            Self.setMomentum(momentum, of: &optimizer.paramGroups[g], useBeta1: useBeta1)
          }
        }
        return rates.map { anneal($0[phase.lr.start], $0[phase.lr.end], pct) }
      }
      startStep = phase.endStep
    }
    return lastLR
  }
}

/// Divides the rate by `1 / factor` when a metric has stopped improving for `patience`
/// epochs (PyTorch: `torch.optim.lr_scheduler.ReduceLROnPlateau`); call `step(metric)`.
public final class ReduceLROnPlateau {
  /// Whether lower (`.min`) or higher (`.max`) metrics are better.
  public enum Mode: Sendable { case min, max }
  /// Whether `threshold` is relative to the best metric or absolute.
  public enum ThresholdMode: Sendable { case rel, abs }

  /// The optimizer whose rates change.
  public let optimizer: Optimizer
  let mode: Mode
  let factor: Double
  let patience: Int
  let threshold: Double
  let thresholdMode: ThresholdMode
  let cooldown: Int
  let minLRs: [Double]
  let eps: Double
  /// The best metric so far.
  public private(set) var best: Double
  /// Epochs without improvement.
  public private(set) var numBadEpochs = 0
  var cooldownCounter = 0
  /// Epochs stepped.
  public private(set) var lastEpoch = 0

  /// A plateau schedule for `optimizer`; `minLR` bounds every group's rate.
  public init(
    _ optimizer: Optimizer, mode: Mode = .min, factor: Double = 0.1, patience: Int = 10, threshold: Double = 1e-4,
    thresholdMode: ThresholdMode = .rel, cooldown: Int = 0, minLR: Double = 0, eps: Double = 1e-8
  ) {
    usageCheck(factor < 1, "Factor should be < 1.0.")
    self.optimizer = optimizer
    self.mode = mode
    self.factor = factor
    self.patience = patience
    self.threshold = threshold
    self.thresholdMode = thresholdMode
    self.cooldown = cooldown
    minLRs = optimizer.paramGroups.map { _ in minLR }
    self.eps = eps
    best = mode == .min ? .infinity : -.infinity
  }

  private func isBetter(_ a: Double) -> Bool {
    switch (mode, thresholdMode) {
    case (.min, .rel): return a < best * (1 - threshold)
    case (.min, .abs): return a < best - threshold
    case (.max, .rel): return a > best * (threshold + 1)
    case (.max, .abs): return a > best + threshold
    }
  }

  /// Records one epoch's metric and lowers the rates after `patience` bad epochs.
  public func step(_ metric: Double) {
    lastEpoch += 1
    if isBetter(metric) {
      best = metric
      numBadEpochs = 0
    } else {
      numBadEpochs += 1
    }
    if cooldownCounter > 0 {
      cooldownCounter -= 1
      numBadEpochs = 0
    }
    if numBadEpochs > patience {
      for i in optimizer.paramGroups.indices {
        let old = optimizer.paramGroups[i].lr
        let new = Swift.max(old * factor, minLRs[i])
        if old - new > eps { optimizer.paramGroups[i].lr = new }
      }
      cooldownCounter = cooldown
      numBadEpochs = 0
    }
  }

  /// The current learning rates (PyTorch: `get_last_lr()`).
  public var lastLR: [Double] { optimizer.paramGroups.map(\.lr) }

  /// The plateau tracking by PyTorch's names (`best`, `num_bad_epochs`, `cooldown_counter`,
  /// `last_epoch`).
  public func stateDict() -> SavedValue {
    [
      "best": .double(best), "num_bad_epochs": .int(numBadEpochs), "cooldown_counter": .int(cooldownCounter),
      "last_epoch": .int(lastEpoch), "_last_lr": .list(lastLR.map { .double($0) }),
    ]
  }

  /// Restores tracking saved by `stateDict()`.
  public func loadStateDict(_ saved: SavedValue) throws {
    guard let best = saved["best"]?.double, let bad = saved["num_bad_epochs"]?.int,
      let cooldown = saved["cooldown_counter"]?.int,
      let epoch = saved["last_epoch"]?.int
    else {
      throw OptimizerStateError(
        description: "a ReduceLROnPlateau state needs best, num_bad_epochs, cooldown_counter and last_epoch")
    }
    self.best = best
    numBadEpochs = bad
    cooldownCounter = cooldown
    lastEpoch = epoch
  }
}
