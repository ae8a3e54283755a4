// The synchronous and async `withNoGrad` share a name on purpose, as the standard library's
// `withTaskCancellationHandler` pair does: the call site picks by context.
// swift-format-ignore-file: AmbiguousTrailingClosureOverload
@_exported import Tensor

/// Namespace for autograd's switches and entry points (PyTorch: `torch.autograd`).
public enum Autograd {
  @TaskLocal static var gradEnabled = true
  @TaskLocal static var inferenceMode = false
  @TaskLocal static var anomalyDetection = false

  /// Whether ops are being recorded for gradients (PyTorch: `torch.is_grad_enabled()`).
  public static var isGradEnabled: Bool { gradEnabled }

  /// Whether an inference-mode block is running (PyTorch: `torch.is_inference_mode_enabled()`).
  public static var isInferenceModeEnabled: Bool { inferenceMode }

  /// Whether anomaly detection is on (PyTorch: `torch.is_anomaly_enabled()`).
  public static var isAnomalyDetectionEnabled: Bool { anomalyDetection }
}

/// Runs `body` without recording gradients and returns its value (PyTorch: `with torch.no_grad():`).
/// Task-local: other threads and tasks keep their own mode.
@discardableResult
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
  try Autograd.$gradEnabled.withValue(false) { try body() }
}

/// The async form of `withNoGrad`.
@discardableResult
public func withNoGrad<T>(_ body: () async throws -> T) async rethrows -> T {
  try await Autograd.$gradEnabled.withValue(false) { try await body() }
}

/// Runs `body` with recording on or off (PyTorch: `torch.set_grad_enabled(mode)`).
public func withGradEnabled<T>(_ enabled: Bool, _ body: () throws -> T) rethrows -> T {
  try Autograd.$gradEnabled.withValue(enabled) { try body() }
}

/// Runs `body` with recording off, as PyTorch's inference mode (the modern form of the old
/// `volatile=True`): nothing inside builds a graph.
public func withInferenceMode<T>(_ body: () throws -> T) rethrows -> T {
  try Autograd.$inferenceMode.withValue(true) { try Autograd.$gradEnabled.withValue(false) { try body() } }
}

/// Runs `body` with anomaly detection: every node remembers the Swift file and line that
/// created it, and a backward that produces NaN stops naming them
/// (PyTorch: `torch.autograd.detect_anomaly()`).
public func withDetectAnomaly<T>(_ body: () throws -> T) rethrows -> T {
  try Autograd.$anomalyDetection.withValue(true) { try body() }
}
