import Foundation

/// Elementwise functions of one operand.
package enum UnaryOp: String, Sendable, CaseIterable {
  case abs, neg, sign, floor, ceil, round, trunc
  case exp, expm1, log, log1p, log2, sqrt, rsqrt, sin, cos, tan, tanh
  case sigmoid, relu, gelu, silu, erf, reciprocal
  case logicalNot, isnan, isfinite, bitwiseNot
  case exp2, log10, asin, acos, atan, sinh, cosh, asinh, acosh, atanh, erfc, erfinv, lgamma

  /// Functions defined only on floating values: integer inputs are promoted to float32.
  var promotesIntegersToFloat: Bool {
    switch self {
    case .exp, .expm1, .log, .log1p, .log2, .sqrt, .rsqrt, .sin, .cos, .tan, .tanh,
      .sigmoid, .gelu, .silu, .erf, .reciprocal,
      .exp2, .log10, .asin, .acos, .atan, .sinh, .cosh, .asinh, .acosh, .atanh, .erfc, .erfinv, .lgamma:
      true
    default: false
    }
  }

  /// Functions whose result is bool.
  package var producesBool: Bool { self == .logicalNot || self == .isnan || self == .isfinite }
}

/// Elementwise functions of two operands.
package enum BinaryOp: String, Sendable, CaseIterable {
  case add, sub, mul, div, remainder, pow, maximum, minimum, floorDivide
  case eq, ne, lt, le, gt, ge
  case logicalAnd, logicalOr, logicalXor
  case bitwiseAnd, bitwiseOr, bitwiseXor
  case atan2, fmod, hypot, copysign, bitwiseLeftShift, bitwiseRightShift

  /// Comparisons and logical ops produce bool.
  package var producesBool: Bool {
    switch self {
    case .eq, .ne, .lt, .le, .gt, .ge, .logicalAnd, .logicalOr, .logicalXor: true
    default: false
    }
  }
}

/// Reductions over a set of dimensions.
package enum ReduceOp: String, Sendable {
  case sum, prod, amax, amin, all, any
}

/// Reductions along one dimension that also return the position of the winner.
package enum ArgReduceOp: String, Sendable {
  case max, min
}

/// Running reductions along one dimension.
package enum ScanOp: String, Sendable {
  case cumsum, cumprod
}

/// The primitives a device implements; every public op is composed from them.
///
/// Operands arrive on the backend's device, already broadcast to the output's shape and
/// converted to the op's compute type; only the strides vary. The CPU backend is the
/// reference implementation.
package protocol Backend: Sendable {
  /// Allocates storage on this device.
  var allocator: any StorageAllocator { get }
  /// Copies `src` into `dst` (same shape), converting the element type.
  func copy(_ src: Tensor, into dst: Tensor)
  /// Page-locked host memory this device copies from and to directly (`pinMemory`), or nil
  /// when it has none (the CPU).
  var pinnedHostAllocator: (any StorageAllocator)? { get }
  /// Copies the bytes of dense `src` into `dst` (same shape, dtype and strides) where one of
  /// them is on this backend's device and the other in host memory or on another device of
  /// the same kind: the one path by which data crosses devices. With `nonBlocking`, a device
  /// with streams may queue the copy and return before it finishes (from and to pinned host
  /// memory). Throws the runtime's error.
  func transfer(_ src: Tensor, into dst: Tensor, nonBlocking: Bool) throws
  /// Writes `value` into every element of `dst`.
  func fill(_ dst: Tensor, with value: Scalar)
  /// `out = op(x)`; `x` has the compute type, `out` that or bool.
  func unary(_ op: UnaryOp, _ x: Tensor, into out: Tensor)
  /// `out = op(a, b)`; `a` and `b` share the compute type, `out` has it or bool.
  func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor)
  /// `out = condition ? a : b`.
  func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor)
  /// Reduces `x` over `dims` into `out`, which has `x`'s rank with those dims of size 1.
  func reduce(_ op: ReduceOp, _ x: Tensor, dims: [Int], into out: Tensor)
  /// Max or min along `dim` with the index of the first winner (NaN wins, as in PyTorch).
  func argReduce(_ op: ArgReduceOp, _ x: Tensor, dim: Int, values: Tensor, indices: Tensor)
  /// A running sum or product along `dim`.
  func scan(_ op: ScanOp, _ x: Tensor, dim: Int, into out: Tensor)
  /// Batched matrix product of 3-d operands: `out[b] = a[b] @ b[b]`.
  func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor)
  /// `out[i] = src[offsets[i]]`, where an offset counts elements from `src`'s first element
  /// through its strides (int64 offsets; `out` is shaped like `offsets`).
  func take(_ src: Tensor, offsets: Tensor, into out: Tensor)
  /// `dst[offsets[i]] = values[i]` (or `+=` with `accumulate`), offsets as in `take`.
  func put(_ dst: Tensor, offsets: Tensor, values: Tensor, accumulate: Bool)
  /// The indices of the nonzero elements, as an int64 tensor of shape `[n, x.dim]`.
  func nonzero(_ x: Tensor) -> Tensor

  // Fused kernels a backend may offer (requirements, so that calls through `any Backend`
  // reach the backend's own; the extension below declines by default).
  /// Softmax (or log-softmax) over the last dim of a contiguous `x` into contiguous `out`;
  /// returns false when not fused here.
  func fusedSoftmax(_ x: Tensor, log: Bool, into out: Tensor) -> Bool
  /// `y += alpha * x` for same-shape contiguous operands; returns false when not fused here.
  func fusedAddScaled(_ y: Tensor, _ x: Tensor, alpha: Double) -> Bool
  /// `x @ weight.T + bias` (`x` `[M, K]`, `weight` `[N, K]`, `bias` `[N]`) into `out` `[M, N]`,
  /// the bias added as the product forms (a linear layer's forward); false when not fused here.
  func fusedLinear(_ x: Tensor, weight: Tensor, bias: Tensor, into out: Tensor) -> Bool
  /// An activation's gradient in one pass, for same-shape contiguous operands, into `out`:
  /// GELU's `grad * (cdf(x) + x pdf(x))` from its input (`saved` = x), ReLU's `y <= 0 ? 0 :
  /// grad` from its output (`saved` = y); returns false when not fused here.
  func fusedActivationBackward(_ op: UnaryOp, saved: Tensor, _ grad: Tensor, into out: Tensor) -> Bool
  /// One LSTM step's gate arithmetic, feature-major (see `Tensor.fusedLSTMCell`); returns
  /// false when not fused here.
  func fusedLSTMCell(_ step: LSTMCellStep) -> Bool
  /// That step's backward (see `Tensor.fusedLSTMCellBackward`); returns false when not fused here.
  func fusedLSTMCellBackward(_ step: LSTMCellStep, dh: Tensor, dcNext: Tensor, dGates: Tensor, dcPrevious: Tensor)
    -> Bool
  /// A whole LSTM direction's forward recurrence (see `LSTMRecurrence`); returns false when
  /// not fused here.
  func fusedLSTMRecurrence(_ problem: LSTMRecurrence) -> Bool
  /// Its backward: `dh`/`dc` hold the final states' gradients and receive the initial
  /// states'; `dGates` `[T*B, 4H]` receives the gate gradients. False when not fused here.
  func fusedLSTMRecurrenceBackward(
    _ problem: LSTMRecurrence, dOut: Tensor, dh: Tensor, dc: Tensor, dGates: Tensor
  ) -> Bool
  /// Blockwise attention (see `AttentionProblem`) into `problem.out` and
  /// `problem.logsumexp`; returns false when not fused here.
  func fusedAttention(_ problem: AttentionProblem) -> Bool
  /// The gradients of `fusedAttention` into `gradQuery`, `gradKey` and `gradValue` (shaped
  /// as the broadcast query, key and value, contiguous) from `gradOut`; returns false when
  /// not fused here.
  func fusedAttentionBackward(
    _ problem: AttentionProblem, gradOut: Tensor, gradQuery: Tensor, gradKey: Tensor, gradValue: Tensor
  ) -> Bool
  /// A 2-D convolution (see `Convolution2dProblem`) into contiguous `out`; returns false when
  /// not fused here.
  func fusedConvolution2d(_ problem: Convolution2dProblem, into out: Tensor) -> Bool
  /// Its gradients into `gradInput` and `gradWeight` (both written; either may be nil) from
  /// contiguous `gradOut`; false when not fused here.
  func fusedConvolution2dBackward(
    _ problem: Convolution2dProblem, gradOut: Tensor, gradInput: Tensor?, gradWeight: Tensor?
  ) -> Bool
  /// Batch normalization (see `BatchNormProblem`); returns false when not fused here.
  func fusedBatchNorm(_ problem: BatchNormProblem) -> Bool
  /// The backward of a training-mode `fusedBatchNorm` (`problem.out` holds the output's
  /// gradient) into the non-nil gradients; false when not fused here.
  func fusedBatchNormBackward(_ problem: BatchNormProblem, gradInput: Tensor?, gradWeight: Tensor?, gradBias: Tensor?)
    -> Bool
  /// Layer normalization (see `LayerNormProblem`); returns false when not fused here.
  func fusedLayerNorm(_ problem: LayerNormProblem) -> Bool
  /// The backward of `fusedLayerNorm` (`problem.out` holds the output's gradient) into the
  /// non-nil gradients; false when not fused here.
  func fusedLayerNormBackward(_ problem: LayerNormProblem, gradInput: Tensor?, gradWeight: Tensor?, gradBias: Tensor?)
    -> Bool
  /// One Adam or AdamW update in place (see `AdamStep`); returns false when not fused here.
  func fusedAdamStep(_ step: AdamStep) -> Bool
  /// A 2-D pooling (see `Pool2dProblem`) into `problem.out` and `problem.indices`; returns
  /// false when not fused here.
  func fusedPool2d(_ problem: Pool2dProblem) -> Bool
  /// Its input gradient, written into `problem.input`, from `problem.out` (the output's
  /// gradient) and, for max pooling, `problem.indices`; false when not fused here.
  func fusedPool2dBackward(_ problem: Pool2dProblem) -> Bool
  /// Fills contiguous `dst` from `distribution` with the Philox stream of `seed` at `offset`
  /// (see `Philox`), on the device; false where random numbers are drawn on the host (the CPU).
  func fillRandom(_ dst: Tensor, _ distribution: RandomDistribution, seed: UInt64, offset: UInt64) -> Bool
  /// The stable sorting permutation (int64, same shape) of each row of contiguous 2-D `rows`
  /// (NaN above every number; equal keys keep their order), or nil where sorting runs on the
  /// host.
  func sortPermutation(_ rows: Tensor, descending: Bool) -> Tensor?
}

/// The fused kernels' defaults decline, and callers then compose the op from primitives.
extension Backend {
  /// Softmax (or log-softmax) over the last dim of a contiguous `x` into contiguous `out`;
  /// returns false when not fused here.
  package func fusedSoftmax(_ x: Tensor, log: Bool, into out: Tensor) -> Bool { false }
  /// `y += alpha * x` for same-shape contiguous operands; returns false when not fused here.
  package func fusedAddScaled(_ y: Tensor, _ x: Tensor, alpha: Double) -> Bool { false }
  /// A linear layer's product and bias in one pass; returns false when not fused here.
  package func fusedLinear(_ x: Tensor, weight: Tensor, bias: Tensor, into out: Tensor) -> Bool { false }
  /// An activation's gradient; returns false when not fused here.
  package func fusedActivationBackward(_ op: UnaryOp, saved: Tensor, _ grad: Tensor, into out: Tensor) -> Bool { false }
  /// One LSTM step; returns false when not fused here.
  package func fusedLSTMCell(_ step: LSTMCellStep) -> Bool { false }
  /// One LSTM step's backward; returns false when not fused here.
  package func fusedLSTMCellBackward(
    _ step: LSTMCellStep, dh: Tensor, dcNext: Tensor, dGates: Tensor, dcPrevious: Tensor
  ) -> Bool { false }
  /// An LSTM direction's recurrence; returns false when not fused here.
  package func fusedLSTMRecurrence(_ problem: LSTMRecurrence) -> Bool { false }
  /// Its backward; returns false when not fused here.
  package func fusedLSTMRecurrenceBackward(
    _ problem: LSTMRecurrence, dOut: Tensor, dh: Tensor, dc: Tensor, dGates: Tensor
  ) -> Bool { false }
  /// Blockwise attention; returns false when not fused here.
  package func fusedAttention(_ problem: AttentionProblem) -> Bool { false }
  /// The gradients of `fusedAttention`; returns false when not fused here.
  package func fusedAttentionBackward(
    _ problem: AttentionProblem, gradOut: Tensor, gradQuery: Tensor, gradKey: Tensor, gradValue: Tensor
  ) -> Bool {
    false
  }
  /// A 2-D convolution; returns false when not fused here.
  package func fusedConvolution2d(_ problem: Convolution2dProblem, into out: Tensor) -> Bool { false }
  /// Its gradients; returns false when not fused here.
  package func fusedConvolution2dBackward(
    _ problem: Convolution2dProblem, gradOut: Tensor, gradInput: Tensor?, gradWeight: Tensor?
  ) -> Bool {
    false
  }
  /// Batch normalization; returns false when not fused here.
  package func fusedBatchNorm(_ problem: BatchNormProblem) -> Bool { false }
  /// Its backward; returns false when not fused here.
  package func fusedBatchNormBackward(
    _ problem: BatchNormProblem, gradInput: Tensor?, gradWeight: Tensor?, gradBias: Tensor?
  ) -> Bool {
    false
  }
  /// Layer normalization; returns false when not fused here.
  package func fusedLayerNorm(_ problem: LayerNormProblem) -> Bool { false }
  /// Its backward; returns false when not fused here.
  package func fusedLayerNormBackward(
    _ problem: LayerNormProblem, gradInput: Tensor?, gradWeight: Tensor?, gradBias: Tensor?
  ) -> Bool {
    false
  }
  /// One Adam update; returns false when not fused here.
  package func fusedAdamStep(_ step: AdamStep) -> Bool { false }
  /// A 2-D pooling; returns false when not fused here.
  package func fusedPool2d(_ problem: Pool2dProblem) -> Bool { false }
  /// Its input gradient; returns false when not fused here.
  package func fusedPool2dBackward(_ problem: Pool2dProblem) -> Bool { false }
  /// Random numbers are drawn on the host unless a backend draws them itself.
  package func fillRandom(_ dst: Tensor, _ distribution: RandomDistribution, seed: UInt64, offset: UInt64) -> Bool {
    false
  }
  /// Rows are sorted on the host unless a backend sorts them itself.
  package func sortPermutation(_ rows: Tensor, descending: Bool) -> Tensor? { nil }
}

/// Finds the backend of a device; device backends other than the CPU register here.
package enum BackendRegistry {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var factories: [String: @Sendable (Device) throws -> any Backend] = [:]
  nonisolated(unsafe) private static var cache: [Device: any Backend] = [:]
  /// The CPU backend as an existential, made once: `CPUBackend` does not fit an
  /// existential's inline buffer, so converting it per call allocated a box per op.
  static let cpu: any Backend = CPUBackend.shared

  /// Installs the factory for a device kind (`"cuda"`, as `Device.type` spells it).
  package static func register(kind: String, _ factory: @escaping @Sendable (Device) throws -> any Backend) {
    lock.withLock { factories[kind] = factory }
  }

  /// The backend of `device`, or the error that says why it cannot be had. A device kind
  /// without a factory yet is loaded first (`loadBackends`).
  package static func backend(for device: Device) throws -> any Backend {
    switch device {
    case .cpu: return cpu
    case .test(let index): return try TestDevice.backend(index)
    case .cuda: break
    }
    if lock.withLock({ factories[device.type] == nil }) { loadBackends(for: device.type) }
    return try lock.withLock {
      if let cached = cache[device] { return cached }
      guard let factory = factories[device.type] else { throw DeviceError.backendMissing(device) }
      let made = try factory(device)
      cache[device] = made
      return made
    }
  }
}

/// A module with backends for a device kind, which the core finds and asks to register them
/// the first time a device of that kind is used: so the core needs no dependency on the
/// module, and a program that links it (`import CUDABackend`, built with the `CUDA` trait)
/// can use `.cuda` devices from any module, with nothing to call first.
package protocol DeviceBackendLoader {
  /// Registers the module's backend factories (`BackendRegistry.register`).
  static func registerBackends()
}

extension BackendRegistry {
  /// The mangled names of the loaders of each device kind: a type is found by its mangled name
  /// in every linked module (`_typeByName`; CUDATests checks the name against the type).
  package static let loaderNames = ["cuda": "11CUDABackend16CUDADeviceLoaderO"]

  /// Asks the loader of `kind` to register its backends, when the program links it.
  private static func loadBackends(for kind: String) {
    guard let name = loaderNames[kind], let loader = _typeByName(name) as? any DeviceBackendLoader.Type else { return }
    loader.registerBackends()
  }
}

/// Why a device cannot be used.
public enum DeviceError: Error, CustomStringConvertible, Sendable {
  /// The package was built without the device's backend.
  case backendMissing(Device)
  /// The device's runtime reported an error.
  case runtime(String)
  /// The device has no memory for an allocation; the message says how much was asked for.
  case outOfMemory(String)

  /// A message that says what to do.
  public var description: String {
    switch self {
    case .backendMissing(let device):
      "Cannot use device '\(device)': the package was built without the CUDA trait. Build with `swift build --traits CUDA` (and import CUDABackend) to enable it."
    case .runtime(let message), .outOfMemory(let message): message
    }
  }
}

extension Tensor {
  /// The backend of `device`; stops with the reason when the device cannot be used (tensors
  /// only exist on devices whose backend loaded, so this fails only at creation).
  @inline(__always)
  package static func backend(for device: Device) -> any Backend {
    if case .cpu = device { return BackendRegistry.cpu }
    return deviceBackend(for: device)
  }

  /// The backend of a device other than the CPU (kept out of line: every op asks for the
  /// CPU's).
  @inline(never)
  private static func deviceBackend(for device: Device) -> any Backend {
    do {
      return try BackendRegistry.backend(for: device)
    } catch {
      usageFailure("\(error)")
    }
  }
}
