import Foundation
import Synchronization

/// Runs `body` with automatic mixed precision for tensors on `device`'s kind (PyTorch:
/// `with torch.autocast(device_type, dtype)`): matrix products, linear layers, convolutions
/// and attention run in `dtype` (float16 or bfloat16; the default is bfloat16 on the CPU and
/// float16 elsewhere), while the ops that need float32's range run in float32 (losses
/// everywhere; on GPUs, and the test device that stands in for one, also softmax, norms,
/// `exp`, `log`, `pow` and sums). Other ops run in their inputs' type. The casts are recorded
/// for autograd, so gradients reach float32 parameters in float32. `enabled: false` turns
/// autocast off for the device kind inside an enclosing region. Ops called with `out:` or an
/// explicit `dtype:` are not cast, as in PyTorch. With `cacheEnabled` (the default, as
/// PyTorch's `cache_enabled`), the lower-precision cast of a float32 parameter (a leaf that
/// requires grad, not a view) is made once and reused until the outermost region ends, so a
/// weight used by several ops, or in several time steps, is cast once per forward pass.
public func withAutocast<R>(
  device: Device, dtype: DType? = nil, enabled: Bool = true, cacheEnabled: Bool = true, _ body: () throws -> R
) rethrows -> R {
  let dtype = dtype ?? (device == .cpu ? .bfloat16 : .float16)
  usageCheck(
    dtype == .float16 || dtype == .bfloat16,
    "withAutocast: the lower-precision type must be float16 or bfloat16, got \(dtype.name)")
  var regions = Autocast.current
  regions[device.type] = enabled ? dtype : nil
  Autocast.activeRegions.add(1, ordering: .relaxed)
  defer { Autocast.activeRegions.subtract(1, ordering: .relaxed) }
  // The outermost region owns the cast cache; nested ones share it (or turn it off).
  let cache = cacheEnabled ? (Autocast.castCache ?? Autocast.CastCache()) : nil
  return try Autocast.$castCache.withValue(cache) {
    try Autocast.$current.withValue(regions) { try body() }
  }
}

/// The autocast state and the op lists (PyTorch's `autocast_mode.cpp` policies).
public enum Autocast {
  /// The lower-precision type of each device kind (`Device.type`) with autocast on, where the
  /// caller runs.
  @TaskLocal package static var current: [String: DType] = [:]
  /// How many `withAutocast` regions are open in the process: ops skip the task-local lookup
  /// while there are none.
  static let activeRegions = Atomic<Int>(0)

  /// Whether autocast is on for `device`'s kind here (PyTorch: `torch.is_autocast_enabled`).
  public static func isEnabled(_ device: Device) -> Bool { current[device.type] != nil }

  /// The lower-precision type autocast uses for `device`'s kind here, if it is on (PyTorch:
  /// `torch.get_autocast_dtype`).
  public static func dtype(_ device: Device) -> DType? { current[device.type] }

  /// The ops that autocast, by policy.
  package enum Op {
    /// Run in the lower-precision type everywhere: matmul, mm, bmm, addmm, baddbmm, einsum,
    /// linear, convolutions, attention, prelu.
    case lowerPrecision
    /// Run in float32 everywhere: losses and `prod`.
    case float32
    /// Run in float32 on GPUs (and the test device) only; on the CPU in the inputs' type:
    /// softmax, log-softmax, layer/group/RMS norm, exp, log, pow, rsqrt, reciprocal, sum,
    /// cumsum, logsumexp.
    case float32OnDevices
  }

  /// `body` on `inputs` cast by `op`'s policy when an autocast region covers their device
  /// kind (floating inputs other than float64 are cast; the rest pass as they are), run with
  /// autocast off inside as PyTorch's autocast kernels run; `nil` when no region applies, so
  /// that the caller runs its ordinary path.
  /// The inputs are an autoclosure so that ops build no array while no region is open.
  @inline(__always)
  package static func run(_ op: Op, _ inputs: @autoclosure () -> [Tensor?], _ body: ([Tensor?]) -> Tensor) -> Tensor? {
    guard activeRegions.load(ordering: .relaxed) > 0 else { return nil }
    return castAndRun(op, inputs(), body)
  }

  private static func castAndRun(_ op: Op, _ inputs: [Tensor?], _ body: ([Tensor?]) -> Tensor) -> Tensor? {
    let regions = current
    guard let device = inputs.lazy.compactMap({ $0 }).first?.device, let lower = regions[device.type] else {
      return nil
    }
    let target: DType
    switch op {
    case .lowerPrecision: target = lower
    case .float32: target = .float32
    case .float32OnDevices:
      guard device != .cpu else { return nil }
      target = .float32
    }
    let cache = target == lower ? castCache : nil
    let cast = inputs.map { input in
      input.map { t in
        guard t.dtype.isFloatingPoint && t.dtype != .float64 && t.device.type == device.type && t.dtype != target else {
          return t
        }
        if let cache, t.dtype == .float32, Tensor.recorder?.isLeafRequiringGrad(t) == true {
          return cache.cast(t, to: target)
        }
        return t.to(target)
      }
    }
    return $current.withValue([:]) { body(cast) }
  }

  /// The casts of parameters made in the current outermost region (PyTorch's autocast
  /// weight cache), keyed by the parameter's identity; the entry keeps the parameter alive,
  /// so an identity is never reused while cached.
  package final class CastCache: @unchecked Sendable {
    private let lock = NSLock()
    private var casts: [ObjectIdentifier: (source: Tensor, cast: Tensor)] = [:]

    /// `t` cast to `dtype`, made on first use in the region.
    func cast(_ t: Tensor, to dtype: DType) -> Tensor {
      let key = ObjectIdentifier(t)
      if let hit = lock.withLock({ casts[key] }), hit.cast.dtype == dtype { return hit.cast }
      let made = t.to(dtype)
      lock.withLock { casts[key] = (t, made) }
      return made
    }

    /// How many casts are cached.
    package var count: Int { lock.withLock { casts.count } }
  }

  /// The cache of the enclosing regions, if caching is on.
  @TaskLocal package static var castCache: CastCache?
}

extension Tensor {
  /// `Autocast.run` for an op of one tensor.
  @inline(__always)
  package static func autocast(_ op: Autocast.Op, _ input: Tensor, _ body: (Tensor) -> Tensor) -> Tensor? {
    Autocast.run(op, [input]) { body($0[0]!) }
  }
}
