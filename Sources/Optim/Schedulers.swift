import Foundation

/// The base of the learning-rate schedules: each `step()` advances one epoch and sets every
/// group's rate (PyTorch: `torch.optim.lr_scheduler.LRScheduler`).
public class LRScheduler {
  /// The optimizer whose rates change.
  public let optimizer: Optimizer
  /// Epochs stepped so far (PyTorch: `last_epoch`).
  public private(set) var lastEpoch = 0

  init(_ optimizer: Optimizer) { self.optimizer = optimizer }

  /// Advances one epoch.
  public func step() {
    lastEpoch += 1
    for i in optimizer.paramGroups.indices {
      optimizer.paramGroups[i].lr = rate(current: optimizer.paramGroups[i].lr, initial: optimizer.paramGroups[i].initialLR)
    }
  }

  /// The rate after this epoch, from the group's current and initial rates.
  func rate(current: Double, initial: Double) -> Double { current }

  /// The current learning rates (PyTorch: `get_last_lr()`).
  public var lastLR: [Double] { optimizer.paramGroups.map(\.lr) }
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

  override func rate(current: Double, initial: Double) -> Double {
    lastEpoch % stepSize == 0 ? current * gamma : current
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

  override func rate(current: Double, initial: Double) -> Double {
    let (t, e) = (Double(tMax), Double(lastEpoch))
    if (lastEpoch - 1 - tMax) % (2 * tMax) == 0 {
      return current + (initial - etaMin) * (1 - cos(Double.pi / t)) / 2
    }
    return (1 + cos(Double.pi * e / t)) / (1 + cos(Double.pi * (e - 1) / t)) * (current - etaMin) + etaMin
  }
}
