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
  /// A view with a new layout over the input's storage.
  case view(Layout)
  case conversion
  case clone
  /// `out = src.storage[offsets]` (advanced indexing, gather, index_select).
  case take(offsets: Tensor)
  /// The input was `dst`'s contents with `values` written (or added) at `offsets`.
  case put(offsets: Tensor, accumulate: Bool)
  /// Concatenation along `dim`.
  case cat(dim: Int)
}

/// Receives every op that runs while it is installed (the autograd seam).
package protocol OpRecorder: AnyObject, Sendable {
  /// Called after an out-of-place op produced `output` from `inputs`.
  func record(_ op: RecordedOp, inputs: [Tensor], output: Tensor)
  /// Called after an in-place op rewrote `target`; `inputs` were the op's other inputs.
  func recordInPlace(_ op: RecordedOp, target: Tensor, inputs: [Tensor])
}

extension Tensor {
  /// The installed recorder; `nil` costs one branch per op.
  nonisolated(unsafe) package static var recorder: (any OpRecorder)?

  /// Reports `op` to the recorder, if one is installed, and returns `output`.
  @inline(__always)
  package func recorded(_ op: @autoclosure () -> RecordedOp, _ inputs: [Tensor], _ output: Tensor) -> Tensor {
    if let recorder = Tensor.recorder { recorder.record(op(), inputs: inputs, output: output) }
    return output
  }
}
