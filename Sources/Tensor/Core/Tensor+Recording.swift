import Synchronization

/// What an op did, as reported to the recorder that `Autograd` installs: enough for a
/// backward formula, nothing device-specific.
package enum RecordedOp {
  case unary(UnaryOp)
  case binary(BinaryOp)
  /// `where(condition, a, b)`; inputs are `[a, b]`, the condition is carried here.
  case select(condition: Tensor)
  case reduce(ReduceOp, dims: [Int], keepdim: Bool)
  /// `max`/`min` along a dim; `indices` are the winners' positions.
  case argReduce(ArgReduceOp, dim: Int, keepdim: Bool, indices: Tensor)
  case scan(ScanOp, dim: Int)
  /// Batched 3-d matmul.
  case matmul
  /// A view over the input's storage; `name` is PyTorch's node name (`TBackward0`).
  case view(ViewKind, name: String)
  /// `clamp` with scalar or tensor bounds (the tensors are `inputs[1...]`).
  case clamp(lower: Scalar?, upper: Scalar?, hasLowerTensor: Bool, hasUpperTensor: Bool)
  /// `mean` over `dims`.
  case mean(dims: [Int], keepdim: Bool)
  /// `softmax` / `logSoftmax` along `dim`.
  case softmax(dim: Int, log: Bool)
  case conversion
  /// A copy from device `from` to the output's device.
  case deviceCopy(from: Device)
  case clone
  /// `fill_` of a tensor in the graph: the old values get no gradient.
  case fill
  /// `out = src.storage[offsets]` (advanced indexing, gather, index_select).
  case take(offsets: Tensor)
  /// The input was `dst`'s contents with `values` written (or added) at `offsets`.
  case put(offsets: Tensor, accumulate: Bool)
  /// Concatenation along `dim`.
  case cat(dim: Int)
  /// An op given by its value and its linear map (the factorizations): see `Linearization`.
  case linearized(Linearization)
  /// An output PyTorch defines no derivative for: a backward that reaches it stops with
  /// `message` (`name` is the node's name).
  case notDifferentiable(name: String, message: String)
}

/// How a view relates to its input, so that its backward can map gradients back exactly.
package enum ViewKind {
  /// Same elements, another shape (`view`, `reshape`, `flatten`, `squeeze`, `unsqueeze`).
  case reshape
  /// Dims reordered (`permute`, `transpose`, `t`, `mT`).
  case permute([Int])
  /// Size-1 dims broadcast with zero strides (`expand`).
  case expand
  /// Every `step`-th element of `dim` from `start`, `length` of them (`narrow`, slices).
  case slice(dim: Int, start: Int, step: Int, length: Int)
  /// One index of `dim`, which is removed (`select`, integer subscripts).
  case select(dim: Int, index: Int)
  /// A diagonal (`diagonal`).
  case diagonal(offset: Int, dim1: Int, dim2: Int)
  /// Explicit sizes, strides and offset over the storage (`asStrided`).
  case asStrided(Layout)
  /// The same layout (`t()` of a vector).
  case alias
}

/// The installed recorder in one reference, so that it can be published with one atomic store.
private final class RecorderSlot: Sendable {
  let recorder: any OpRecorder
  init(_ recorder: any OpRecorder) { self.recorder = recorder }
}

/// Receives every op that runs while it is installed (the autograd seam).
package protocol OpRecorder: AnyObject, Sendable {
  /// Called after an out-of-place op produced `output` from `inputs`.
  func record(_ op: RecordedOp, inputs: [Tensor], output: Tensor)
  /// Called before an in-place op writes `target` (with the op's other `inputs`): stops if
  /// the write is illegal, and says whether the op must run out of place and be rebased
  /// (`rebaseInPlace`) to be differentiable.
  func shouldRebaseInPlace(target: Tensor, inputs: [Tensor], op: String) -> Bool
  /// Makes `result` (computed out of place from `target`'s old value) the new history of
  /// `target`, whose storage now holds `result`'s values (`dataWritten`), or whose layout
  /// changed to `result`'s (an in-place view op such as `t_()`).
  func rebaseInPlace(target: Tensor, result: Tensor, dataWritten: Bool)
  /// Runs `body` without recording (for composite ops recorded as a whole).
  func withoutRecording<T>(_ body: () -> T) -> T
  /// Whether `tensor` requires grad while gradients are being recorded (ops with `out:`
  /// refuse such inputs, as PyTorch does).
  func requiresGradient(_ tensor: Tensor) -> Bool
  /// Whether `tensor` is a leaf that requires grad and is not a view (a parameter): the
  /// tensors whose autocast casts are cached for the region.
  func isLeafRequiringGrad(_ tensor: Tensor) -> Bool
  /// What `description` adds for autograd (`grad_fn=<MulBackward0>`, `requires_grad=True`).
  func descriptionSuffixes(for tensor: Tensor) -> [String]
}

extension Tensor {
  /// The installed recorder; `nil` costs one branch per op. It is published once, atomically
  /// (`installRecorder`), because the first tensor that requires grad may appear on one thread
  /// while others run ops.
  @inline(__always)
  package static var recorder: (any OpRecorder)? { installedRecorder.load()?.recorder }

  /// Installs `recorder` unless one is installed already.
  package static func installRecorder(_ recorder: any OpRecorder) {
    _ = installedRecorder.storeIfNil(RecorderSlot(recorder))
  }

  private static let installedRecorder = AtomicLazyReference<RecorderSlot>()

  /// Reports `op` to the recorder, if one is installed, and returns `output`.
  /// Runs `body` with recording off (composite ops recorded as one node).
  @inline(__always)
  package static func unrecorded<T>(_ body: () -> T) -> T {
    guard let recorder else { return body() }
    return recorder.withoutRecording(body)
  }

  /// Runs an in-place update: directly, or (when autograd must track it) out of place on
  /// `self`'s old value followed by a copy and a rebase of `self`'s history.
  package func inPlace(inputs: [Tensor], op: String, direct: () -> Void, outOfPlace: () -> Tensor) {
    if let recorder = Tensor.recorder, recorder.shouldRebaseInPlace(target: self, inputs: inputs, op: op) {
      let result = outOfPlace()
      Tensor.unrecorded { backend.copy(result.broadcastView(to: shape), into: self) }
      markWritten()
      recorder.rebaseInPlace(target: self, result: result, dataWritten: true)
    } else {
      direct()
      markWritten()
    }
  }

  /// Changes `self`'s layout in place to that of `makeView()` (a recorded view of `self`),
  /// keeping autograd's history in step (`t_()`, `squeeze_()`, ...).
  package func inPlaceView(op: String, _ makeView: () -> Tensor) {
    if let recorder = Tensor.recorder, recorder.shouldRebaseInPlace(target: self, inputs: [], op: op) {
      let view = makeView()
      layout = view.layout
      recorder.rebaseInPlace(target: self, result: view, dataWritten: false)
    } else {
      layout = Tensor.unrecorded(makeView).layout
    }
  }

  @inline(__always)
  package func recorded(_ op: @autoclosure () -> RecordedOp, _ inputs: [Tensor], _ output: Tensor) -> Tensor {
    if let recorder = Tensor.recorder { recorder.record(op(), inputs: inputs, output: output) }
    return output
  }

  /// `recorded` for ops that are not views: tensors autograd has never touched (no
  /// metadata) cannot require grad, so the common case costs two loads and no allocation.
  @inline(__always)
  package func recorded(_ op: @autoclosure () -> RecordedOp, _ a: Tensor, _ output: Tensor) -> Tensor {
    guard Tensor.recorder != nil, a.hasAutogradState else { return output }
    return recorded(op(), [a], output)
  }

  /// Two-input form of the fast `recorded`.
  @inline(__always)
  package func recorded(_ op: @autoclosure () -> RecordedOp, _ a: Tensor, _ b: Tensor, _ output: Tensor) -> Tensor {
    guard Tensor.recorder != nil, a.hasAutogradState || b.hasAutogradState else { return output }
    return recorded(op(), [a, b], output)
  }
}

extension Tensor {
  /// `self`, computed from `input`, recorded so that a backward reaching it stops with
  /// `message` (PyTorch's error for outputs without a derivative, such as `qr`'s `R` in mode 'r').
  package func notDifferentiable(from input: Tensor, name: String, message: String) -> Tensor {
    recorded(.notDifferentiable(name: name, message: message), input, self)
  }
}
