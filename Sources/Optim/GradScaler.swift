// PyTorch's in-place suffix `_` (`add_`, `uniform_`) is part of the API's names.
// swift-format-ignore-file: AlwaysUseLowerCamelCase
import Autograd

/// Dynamic loss scaling for mixed-precision training (PyTorch: `torch.amp.GradScaler`).
///
/// Multiply the loss by the scale before `backward()` (`scale(_:)`) so that small float16
/// gradients do not flush to zero; `step(_:)` divides the gradients by the scale again
/// (`unscale_(_:)`, which you may call earlier, e.g. to clip) and skips the optimizer's step
/// when any gradient is infinite or NaN; `update()` then halves the scale after a skipped step
/// and doubles it after `growthInterval` clean steps in a row.
///
/// ```swift
/// let scaler = GradScaler(device: .cuda(0))
/// optimizer.zeroGrad()
/// let loss = withAutocast(device: .cuda(0)) { lossFunction(model(x), y) }
/// scaler.scale(loss).backward()
/// scaler.step(optimizer)
/// scaler.update()
/// ```
public final class GradScaler {
  /// Where an optimizer stands between two `update()` calls.
  private enum Stage {
    case unscaled
    case stepped
  }

  /// The device kind the scaler was made for (PyTorch's `device` argument).
  public let device: Device
  /// The factor the scale grows by after `growthInterval` clean steps.
  public let growthFactor: Double
  /// The factor the scale shrinks by after a step with an infinite or NaN gradient.
  public let backoffFactor: Double
  /// Clean steps in a row before the scale grows.
  public let growthInterval: Int
  /// Whether scaling is on; when off every method passes through (`scale` returns the loss,
  /// `step` just steps).
  public let isEnabled: Bool
  /// The scale, held as float32 as PyTorch holds it.
  private var scaleValue: Float
  /// Clean steps since the scale last changed.
  private var growthTracker = 0
  /// Per optimizer since the last `update()`: its stage and whether its gradients held an
  /// infinite or NaN value.
  private var optimizers: [ObjectIdentifier: (stage: Stage, foundInf: Bool)] = [:]

  /// A scaler starting at `initScale` (PyTorch's defaults: 2¹⁶, growth 2, backoff 0.5,
  /// every 2000 steps).
  public init(
    device: Device = .cuda(0), initScale: Double = 65536, growthFactor: Double = 2, backoffFactor: Double = 0.5,
    growthInterval: Int = 2000, enabled: Bool = true
  ) {
    usageCheck(growthFactor > 1, "GradScaler: the growth factor must be > 1.0, got \(growthFactor)")
    usageCheck(backoffFactor < 1, "GradScaler: the backoff factor must be < 1.0, got \(backoffFactor)")
    usageCheck(
      growthInterval > 0, "GradScaler: growthInterval must be a positive number of steps, got \(growthInterval)")
    self.device = device
    self.growthFactor = growthFactor
    self.backoffFactor = backoffFactor
    self.growthInterval = growthInterval
    self.isEnabled = enabled
    self.scaleValue = Float(initScale)
  }

  /// The current scale, or 1 when scaling is off (PyTorch: `get_scale()`).
  public var scale: Double { isEnabled ? Double(scaleValue) : 1 }

  /// `loss` times the scale (PyTorch: `scaler.scale(outputs)`); the loss itself when off.
  public func scale(_ loss: Tensor) -> Tensor {
    guard isEnabled else { return loss }
    return loss * Tensor(Double(scaleValue), dtype: .float32, device: loss.device)
  }

  /// Divides `optimizer`'s gradients by the scale in place and notes whether any of them was
  /// infinite or NaN (PyTorch: `unscale_`). Call it at most once per optimizer between
  /// updates, before `step(_:)`; `step` calls it when you did not.
  public func unscale_(_ optimizer: Optimizer) {
    guard isEnabled else { return }
    switch optimizers[ObjectIdentifier(optimizer)]?.stage {
    case .unscaled: usageFailure("unscale_() has already been called on this optimizer since the last update().")
    case .stepped: usageFailure("unscale_() is being called after step().")
    case nil: break
    }
    // PyTorch takes the reciprocal in double and rounds it to float once.
    let inverse = Tensor(Double(Float(1 / Double(scaleValue))), dtype: .float32)
    var foundInf = false
    withNoGrad {
      for parameter in optimizer.paramGroups.flatMap(\.params) {
        guard let grad = parameter.grad else { continue }
        usageCheck(grad.dtype != .float16, "GradScaler.unscale_: Attempting to unscale FP16 gradients.")
        if !foundInf && grad.isfinite().all().item() == 0 { foundInf = true }
        grad.mul_(inverse)
      }
    }
    optimizers[ObjectIdentifier(optimizer)] = (.unscaled, foundInf)
  }

  /// Unscales `optimizer`'s gradients (unless `unscale_` already did) and runs its step when
  /// they are all finite (PyTorch: `scaler.step(optimizer)`); returns whether it stepped.
  @discardableResult
  public func step(_ optimizer: Optimizer) -> Bool {
    guard isEnabled else {
      optimizer.step()
      return true
    }
    if optimizers[ObjectIdentifier(optimizer)]?.stage == .stepped {
      usageFailure("step() has already been called since the last update().")
    }
    if optimizers[ObjectIdentifier(optimizer)] == nil { unscale_(optimizer) }
    let foundInf = optimizers[ObjectIdentifier(optimizer)]!.foundInf
    if !foundInf { optimizer.step() }
    optimizers[ObjectIdentifier(optimizer)] = (.stepped, foundInf)
    return !foundInf
  }

  /// Adjusts the scale for the next iteration (PyTorch: `scaler.update()`): times the backoff
  /// factor if any optimizer saw an infinite or NaN gradient, else times the growth factor
  /// once `growthInterval` clean steps have passed; or set to `newScale` when given.
  public func update(newScale: Double? = nil) {
    guard isEnabled else { return }
    defer { optimizers = [:] }
    if let newScale {
      scaleValue = Float(newScale)
      return
    }
    usageCheck(!optimizers.isEmpty, "GradScaler.update: No inf checks were recorded prior to update.")
    if optimizers.values.contains(where: \.foundInf) {
      scaleValue *= Float(backoffFactor)
      growthTracker = 0
    } else if growthTracker + 1 == growthInterval {
      let grown = scaleValue * Float(growthFactor)
      if grown.isFinite { scaleValue = grown }
      growthTracker = 0
    } else {
      growthTracker += 1
    }
  }

  /// What a checkpoint keeps (PyTorch: `state_dict()`; its keys are `scale`, `growth_factor`,
  /// `backoff_factor`, `growth_interval`, `_growth_tracker`).
  public struct State: Equatable, Sendable {
    /// The scale.
    public var scale: Double
    /// Clean steps since the scale last changed.
    public var growthTracker: Int

    /// A state with these values (to restore a PyTorch checkpoint's `scale` and
    /// `_growth_tracker`).
    public init(scale: Double, growthTracker: Int) {
      self.scale = scale
      self.growthTracker = growthTracker
    }
  }

  /// The scale and growth tracker (the factors are the scaler's settings).
  public func stateDict() -> State { State(scale: Double(scaleValue), growthTracker: growthTracker) }

  /// Restores `stateDict()`.
  public func loadStateDict(_ state: State) {
    scaleValue = Float(state.scale)
    growthTracker = state.growthTracker
  }
}
