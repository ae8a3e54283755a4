/// One operand of an elementwise op: a tensor or a weak scalar.
public enum Operand {
  case tensor(Tensor)
  case scalar(Scalar)
}

/// Anything that can be the other operand of `+`, `add`, `.==`, `where`, ...: a `Tensor` or
/// a Swift number (which acts like a Python scalar in type promotion).
public protocol TensorOperand {
  /// The value as an operand.
  var operand: Operand { get }
}

extension Tensor: TensorOperand {
  /// The tensor itself.
  public var operand: Operand { .tensor(self) }
}

extension ScalarConvertible {
  /// The number as a weak scalar.
  public var operand: Operand { .scalar(scalar) }
}
extension Int: TensorOperand {}
extension Int64: TensorOperand {}
extension Int32: TensorOperand {}
extension Double: TensorOperand {}
extension Float: TensorOperand {}
extension Bool: TensorOperand {}
extension Scalar: TensorOperand {}

extension Tensor {
  /// The dtype PyTorch computes a result in for these operands: dimensioned tensors take
  /// priority over 0-d tensors, which take priority over scalars, except that a lower group
  /// of a higher category (bool < integer < floating) lifts the result
  /// (PyTorch: `torch.result_type`).
  public static func resultType(_ operands: [Operand]) -> DType {
    var dimResult: DType?
    var zeroDimResult: DType?
    var scalarResult: DType?
    for operand in operands {
      switch operand {
      case .tensor(let t) where t.dim > 0:
        dimResult = dimResult.map { DType.promote($0, t.dtype) } ?? t.dtype
      case .tensor(let t):
        zeroDimResult = zeroDimResult.map { DType.promote($0, t.dtype) } ?? t.dtype
      case .scalar(let s):
        scalarResult = scalarResult.map { DType.promote($0, s.weakDType) } ?? s.weakDType
      }
    }
    let result = DType.combineCategories(dimResult, DType.combineCategories(zeroDimResult, scalarResult))
    return result ?? .float32
  }

  /// Whether values of `from` may be written into a tensor of `to` (PyTorch's `canCast`:
  /// no floating → integral, no numeric → bool).
  public static func canCast(from: DType, to: DType) -> Bool {
    if from.isFloatingPoint && !to.isFloatingPoint { return false }
    if from != .bool && to == .bool { return false }
    return true
  }

  /// The broadcast shape of several shapes, stopping with PyTorch's message on a mismatch.
  package static func broadcastShape(_ shapes: [[Int]], op: String) -> [Int] {
    var result: [Int] = []
    for (i, s) in shapes.enumerated() {
      if i == 0 {
        result = s
        continue
      }
      switch Layout.broadcastShapes(result, s) {
      case .success(let shape): result = shape
      case .failure(let m):
        usageFailure(
          "\(op): The size of tensor a (\(m.sizeA)) must match the size of tensor b (\(m.sizeB)) at non-singleton dimension \(m.dim) (shapes \(shapeString(result)) and \(shapeString(s)))"
        )
      }
    }
    return result
  }

  /// The tensor form of an operand: scalars become 0-d tensors of `dtype` on `device`.
  package static func materialize(_ operand: Operand, dtype: DType, device: Device) -> Tensor {
    switch operand {
    case .tensor(let t): return t
    case .scalar(let s):
      let t = Tensor(uninitializedShape: [], dtype: dtype, device: device)
      t.backend.fill(t, with: s)
      return t
    }
  }

  /// Checks that all tensors share a device (0-d CPU tensors may join any device, as in
  /// PyTorch) and returns it.
  package static func commonDevice(_ tensors: [Tensor], op: String) -> Device {
    let dimensioned = tensors.first { $0.dim > 0 || !($0.device == .cpu) } ?? tensors[0]
    for t in tensors where t.device != dimensioned.device && !(t.dim == 0 && t.device == .cpu) {
      usageFailure(
        "\(op): Expected all tensors to be on the same device, but found at least two devices, \(dimensioned.device) and \(t.device)!"
      )
    }
    return dimensioned.device
  }

  /// Validates an `out:` tensor for a result of `shape` and `dtype`: an empty `out` is
  /// resized, a non-empty one must already have the shape.
  package static func prepareOut(_ out: Tensor, shape: [Int], dtype: DType, device: Device, op: String) {
    usageCheck(
      canCast(from: dtype, to: out.dtype),
      "\(op): result type \(dtype.scalarTypeName) can't be cast to the desired output type \(out.dtype.scalarTypeName)")
    usageCheck(
      out.device == device,
      "\(op): Expected out tensor to be on \(device) but got \(out.device); move it first")
    if out.shape != shape {
      usageCheck(
        out.numel == 0,
        "\(op): output with shape \(shapeString(out.shape)) doesn't match the broadcast shape \(shapeString(shape)); pass an empty tensor to have it resized"
      )
      out.resize_(shape)
    }
    out.checkWritable(inputs: [], op: op)
  }

  /// Writes a computed result into a caller's `out:` tensor (converting its dtype). As in
  /// PyTorch, a result that autograd would track cannot go to `out:`.
  package static func deliver(_ result: Tensor, into out: Tensor?, op: String) -> Tensor {
    guard let out else { return result }
    checkOutIsNotDifferentiated([result], op: op)
    prepareOut(out, shape: result.shape, dtype: result.dtype, device: result.device, op: op)
    out.backend.copy(result, into: out)
    out.markWritten()
    return out
  }

  /// Stops, with PyTorch's message, when any of `tensors` requires grad while gradients are
  /// recorded: `out:` results are never part of the graph.
  package static func checkOutIsNotDifferentiated(_ tensors: [Tensor], op: String) {
    guard let recorder = Tensor.recorder, tensors.contains(where: { recorder.requiresGradient($0) }) else { return }
    usageFailure(
      "\(op)(): functions with out=... arguments don't support automatic differentiation, but one of the arguments requires grad."
    )
  }

  /// Runs a composed op and, when the caller passed `out:`, writes its result there
  /// (PyTorch's `out=` for ops built from other ops).
  @inline(__always)
  package static func writing(into out: Tensor?, op: String, _ body: () -> Tensor) -> Tensor {
    deliver(body(), into: out, op: op)
  }

  /// `writing` for ops with two results (`out=(values, indices)` in PyTorch).
  @inline(__always)
  package static func writing(into out: (Tensor, Tensor)?, op: String, _ body: () -> (Tensor, Tensor)) -> (
    Tensor, Tensor
  ) {
    let result = body()
    guard let out else { return result }
    return (deliver(result.0, into: out.0, op: op), deliver(result.1, into: out.1, op: op))
  }

  /// `writing` for ops with three results (`linalg.svd`'s `out=(U, S, Vh)`).
  @inline(__always)
  package static func writing(
    into out: (Tensor, Tensor, Tensor)?, op: String, _ body: () -> (Tensor, Tensor, Tensor)
  ) -> (Tensor, Tensor, Tensor) {
    let result = body()
    guard let out else { return result }
    return (
      deliver(result.0, into: out.0, op: op), deliver(result.1, into: out.1, op: op),
      deliver(result.2, into: out.2, op: op)
    )
  }
}
