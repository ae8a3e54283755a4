import Foundation

/// Multiplies every group's learning rate by `gamma` each `stepSize` epochs
/// (PyTorch: `torch.optim.lr_scheduler.StepLR`).
public final class StepLR {
  let optimizer: Optimizer
  let stepSize: Int
  let gamma: Double
  /// Epochs stepped so far (PyTorch: `last_epoch`).
  public private(set) var lastEpoch = 0

  /// A schedule for `optimizer`.
  public init(_ optimizer: Optimizer, stepSize: Int, gamma: Double = 0.1) {
    self.optimizer = optimizer
    self.stepSize = stepSize
    self.gamma = gamma
  }

  /// Advances one epoch.
  public func step() {
    lastEpoch += 1
    if lastEpoch % stepSize == 0 {
      for i in optimizer.paramGroups.indices { optimizer.paramGroups[i].lr *= gamma }
    }
  }

  /// The current learning rates (PyTorch: `get_last_lr()`).
  public var lastLR: [Double] { optimizer.paramGroups.map(\.lr) }
}

/// Cosine annealing from each group's initial rate to `etaMin` over `tMax` epochs, with
/// PyTorch's recursive form (PyTorch: `torch.optim.lr_scheduler.CosineAnnealingLR`).
public final class CosineAnnealingLR {
  let optimizer: Optimizer
  let tMax: Int
  let etaMin: Double
  /// Epochs stepped so far.
  public private(set) var lastEpoch = 0

  /// A schedule for `optimizer`.
  public init(_ optimizer: Optimizer, tMax: Int, etaMin: Double = 0) {
    self.optimizer = optimizer
    self.tMax = tMax
    self.etaMin = etaMin
  }

  /// Advances one epoch.
  public func step() {
    lastEpoch += 1
    let t = Double(tMax)
    let e = Double(lastEpoch)
    for i in optimizer.paramGroups.indices {
      let lr = optimizer.paramGroups[i].lr
      let base = optimizer.paramGroups[i].initialLR
      if (lastEpoch - 1 - tMax) % (2 * tMax) == 0 {
        optimizer.paramGroups[i].lr = lr + (base - etaMin) * (1 - cos(Double.pi / t)) / 2
      } else {
        optimizer.paramGroups[i].lr = (1 + cos(Double.pi * e / t)) / (1 + cos(Double.pi * (e - 1) / t)) * (lr - etaMin) + etaMin
      }
    }
  }

  /// The current learning rates.
  public var lastLR: [Double] { optimizer.paramGroups.map(\.lr) }
}
