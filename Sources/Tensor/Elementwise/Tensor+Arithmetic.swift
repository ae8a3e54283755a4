extension Tensor {
  /// `self + alpha * other`, broadcasting (PyTorch: `torch.add(x, y, alpha=, out=)`).
  @discardableResult
  public func add(_ other: some TensorOperand, alpha: Scalar = 1, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.add, operand, scaled(other.operand, by: alpha), out: out, name: "add")
  }
  /// `self - alpha * other` (PyTorch: `torch.sub`).
  @discardableResult
  public func sub(_ other: some TensorOperand, alpha: Scalar = 1, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.sub, operand, scaled(other.operand, by: alpha), out: out, name: "sub")
  }
  /// `self * other` (PyTorch: `torch.mul`).
  @discardableResult
  public func mul(_ other: some TensorOperand, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.mul, operand, other.operand, out: out, name: "mul")
  }
  /// True division; integer inputs give float32 (PyTorch: `torch.div`).
  @discardableResult
  public func div(_ other: some TensorOperand, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.div, operand, other.operand, out: out, name: "div")
  }
  /// `self ** exponent` (PyTorch: `torch.pow`).
  @discardableResult
  public func pow(_ exponent: some TensorOperand, out: Tensor? = nil) -> Tensor {
    if out == nil,
      let cast = Autocast.run(
        .float32OnDevices, [self, exponent.operand.tensor],
        { cast in cast[1].map { cast[0]!.pow($0) } ?? cast[0]!.pow(exponent) })
    {
      return cast
    }
    if case .scalar(let s) = exponent.operand, !dtype.isFloatingPoint, case .int(let e) = s {
      usageCheck(e >= 0, "pow: Integers to negative integer powers are not allowed.")
    }
    return Tensor.binaryOp(.pow, operand, exponent.operand, out: out, name: "pow")
  }
  /// Python's modulus: the result has the divisor's sign (PyTorch: `torch.remainder`).
  @discardableResult
  public func remainder(_ other: some TensorOperand, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.remainder, operand, other.operand, out: out, name: "remainder")
  }
  /// Division rounded toward negative infinity (PyTorch: `torch.floor_divide`).
  @discardableResult
  public func floorDivide(_ other: some TensorOperand, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.floorDivide, operand, other.operand, out: out, name: "floor_divide")
  }
  /// The elementwise maximum, propagating NaN (PyTorch: `torch.maximum`).
  @discardableResult
  public func maximum(_ other: Tensor, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.maximum, operand, other.operand, out: out, name: "maximum")
  }
  /// The elementwise minimum, propagating NaN (PyTorch: `torch.minimum`).
  @discardableResult
  public func minimum(_ other: Tensor, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.minimum, operand, other.operand, out: out, name: "minimum")
  }
  /// Elementwise logical and (PyTorch: `torch.logical_and`).
  public func logicalAnd(_ other: some TensorOperand) -> Tensor {
    Tensor.binaryOp(.logicalAnd, operand, other.operand, name: "logical_and")
  }
  /// Elementwise logical or (PyTorch: `torch.logical_or`).
  public func logicalOr(_ other: some TensorOperand) -> Tensor {
    Tensor.binaryOp(.logicalOr, operand, other.operand, name: "logical_or")
  }
  /// Elementwise logical xor (PyTorch: `torch.logical_xor`).
  public func logicalXor(_ other: some TensorOperand) -> Tensor {
    Tensor.binaryOp(.logicalXor, operand, other.operand, name: "logical_xor")
  }
  /// Elementwise logical not (PyTorch: `torch.logical_not`).
  public func logicalNot() -> Tensor { unaryOp(.logicalNot, name: "logical_not") }
  /// Elementwise `==` as a bool tensor (PyTorch: `torch.eq`).
  public func eq(_ other: some TensorOperand) -> Tensor { Tensor.binaryOp(.eq, operand, other.operand, name: "eq") }
  /// Elementwise `!=` (PyTorch: `torch.ne`).
  public func ne(_ other: some TensorOperand) -> Tensor { Tensor.binaryOp(.ne, operand, other.operand, name: "ne") }
  /// Elementwise `<` (PyTorch: `torch.lt`).
  public func lt(_ other: some TensorOperand) -> Tensor { Tensor.binaryOp(.lt, operand, other.operand, name: "lt") }
  /// Elementwise `<=` (PyTorch: `torch.le`).
  public func le(_ other: some TensorOperand) -> Tensor { Tensor.binaryOp(.le, operand, other.operand, name: "le") }
  /// Elementwise `>` (PyTorch: `torch.gt`).
  public func gt(_ other: some TensorOperand) -> Tensor { Tensor.binaryOp(.gt, operand, other.operand, name: "gt") }
  /// Elementwise `>=` (PyTorch: `torch.ge`).
  public func ge(_ other: some TensorOperand) -> Tensor { Tensor.binaryOp(.ge, operand, other.operand, name: "ge") }

  /// Whether both tensors have the same shape and elements (PyTorch: `torch.equal`).
  public func equal(_ other: Tensor) -> Bool {
    shape == other.shape && eq(other).all().item(Bool.self)
  }

  /// `condition ? a : b` elementwise, broadcasting all three (PyTorch: `torch.where`).
  public static func `where`(_ condition: Tensor, _ a: some TensorOperand, _ b: some TensorOperand) -> Tensor {
    usageCheck(
      condition.dtype == .bool || condition.dtype == .uint8,
      "where expected condition to be a boolean tensor, but got a tensor with dtype \(condition.dtype.scalarTypeName)")
    let ops = [a.operand, b.operand]
    let tensors = [condition] + ops.compactMap(\.tensor)
    let device = commonDevice(tensors, op: "where")
    let dtype = resultType(ops)
    let ta = materialize(a.operand, dtype: dtype, device: device)
    let tb = materialize(b.operand, dtype: dtype, device: device)
    let shape = broadcastShape([condition.shape, ta.shape, tb.shape], op: "where")
    let result = Tensor.uninitialized(
      shape, dtype: dtype, device: device, memoryFormat: resultMemoryFormat(tensors, shape: shape))
    result.backend.select(
      condition.to(.bool).broadcastView(to: shape), ta.to(dtype).broadcastView(to: shape),
      tb.to(dtype).broadcastView(to: shape), into: result)
    return result.recorded(.select(condition: condition.to(.bool)), [ta, tb], result)
  }

  /// Limits values to `[min, max]`; NaN stays NaN (PyTorch: `torch.clamp`).
  public func clamp(min lower: Scalar? = nil, max upper: Scalar? = nil, out: Tensor? = nil) -> Tensor {
    clamped(lower.map { .scalar($0) }, upper.map { .scalar($0) }, out: out)
  }

  /// Limits values elementwise to tensor bounds (PyTorch: `torch.clamp(x, min_t, max_t)`).
  public func clamp(min lower: Tensor?, max upper: Tensor? = nil, out: Tensor? = nil) -> Tensor {
    clamped(lower.map { .tensor($0) }, upper.map { .tensor($0) }, out: out)
  }

  private func clamped(_ lower: Operand?, _ upper: Operand?, out: Tensor?) -> Tensor {
    usageCheck(lower != nil || upper != nil, "clamp: At least one of 'min' or 'max' must not be None")
    let result = Tensor.unrecorded {
      var r = self
      if let lower { r = Tensor.binaryOp(.maximum, r.operand, lower, name: "clamp") }
      if let upper { r = Tensor.binaryOp(.minimum, r.operand, upper, name: "clamp") }
      return r === self ? clone() : r
    }
    if out != nil { return Tensor.deliver(result, into: out, op: "clamp") }
    let bounds = [lower?.tensor, upper?.tensor].compactMap { $0 }
    let op = RecordedOp.clamp(
      lower: lower.flatMap { if case .scalar(let s) = $0 { s } else { nil } },
      upper: upper.flatMap { if case .scalar(let s) = $0 { s } else { nil } },
      hasLowerTensor: lower?.tensor != nil, hasUpperTensor: upper?.tensor != nil)
    return recorded(op, [self] + bounds, result)
  }

  /// `operand * alpha`, or the operand itself when `alpha` is 1.
  package func scaled(_ operand: Operand, by alpha: Scalar) -> Operand {
    if alpha.doubleValue == 1 { return operand }
    switch operand {
    case .tensor(let t): return .tensor(t.mul(alpha))
    case .scalar(let s):
      if case .double = s { return .scalar(.double(s.doubleValue * alpha.doubleValue)) }
      if case .double = alpha { return .scalar(.double(s.doubleValue * alpha.doubleValue)) }
      return .scalar(.int(s.int64Value &* alpha.int64Value))
    }
  }
}

// MARK: Operators

extension Tensor {
  /// Elementwise sum, broadcasting.
  public static func + (lhs: Tensor, rhs: some TensorOperand) -> Tensor { lhs.add(rhs) }
  /// Elementwise sum with a scalar on the left.
  public static func + (lhs: some ScalarConvertible, rhs: Tensor) -> Tensor {
    binaryOp(.add, lhs.operand, rhs.operand, name: "add")
  }
  /// Elementwise difference.
  public static func - (lhs: Tensor, rhs: some TensorOperand) -> Tensor { lhs.sub(rhs) }
  /// Elementwise difference with a scalar on the left.
  public static func - (lhs: some ScalarConvertible, rhs: Tensor) -> Tensor {
    binaryOp(.sub, lhs.operand, rhs.operand, name: "sub")
  }
  /// Elementwise product.
  public static func * (lhs: Tensor, rhs: some TensorOperand) -> Tensor { lhs.mul(rhs) }
  /// Elementwise product with a scalar on the left.
  public static func * (lhs: some ScalarConvertible, rhs: Tensor) -> Tensor {
    binaryOp(.mul, lhs.operand, rhs.operand, name: "mul")
  }
  /// Elementwise true division.
  public static func / (lhs: Tensor, rhs: some TensorOperand) -> Tensor { lhs.div(rhs) }
  /// Elementwise true division with a scalar on the left.
  public static func / (lhs: some ScalarConvertible, rhs: Tensor) -> Tensor {
    binaryOp(.div, lhs.operand, rhs.operand, name: "div")
  }
  /// Elementwise remainder (Python's `%`).
  public static func % (lhs: Tensor, rhs: some TensorOperand) -> Tensor { lhs.remainder(rhs) }
  /// Negation.
  public static prefix func - (x: Tensor) -> Tensor { x.neg() }
  /// Logical not for bool tensors, bitwise not for integers (PyTorch: `~x`).
  public static prefix func ~ (x: Tensor) -> Tensor {
    x.dtype == .bool ? x.logicalNot() : x.unaryOp(.bitwiseNot, name: "bitwise_not")
  }
  /// Bitwise (or, for bool, logical) and.
  public static func & (lhs: Tensor, rhs: some TensorOperand) -> Tensor {
    binaryOp(.bitwiseAnd, lhs.operand, rhs.operand, name: "bitwise_and")
  }
  /// Bitwise (or, for bool, logical) or.
  public static func | (lhs: Tensor, rhs: some TensorOperand) -> Tensor {
    binaryOp(.bitwiseOr, lhs.operand, rhs.operand, name: "bitwise_or")
  }
  /// Bitwise (or, for bool, logical) xor.
  public static func ^ (lhs: Tensor, rhs: some TensorOperand) -> Tensor {
    binaryOp(.bitwiseXor, lhs.operand, rhs.operand, name: "bitwise_xor")
  }

  /// Adds in place (PyTorch: `x += y`).
  public static func += (lhs: Tensor, rhs: some TensorOperand) { lhs.add_(rhs) }
  /// Subtracts in place.
  public static func -= (lhs: Tensor, rhs: some TensorOperand) { lhs.sub_(rhs) }
  /// Multiplies in place.
  public static func *= (lhs: Tensor, rhs: some TensorOperand) { lhs.mul_(rhs) }
  /// Divides in place.
  public static func /= (lhs: Tensor, rhs: some TensorOperand) { lhs.div_(rhs) }
}

infix operator .== : ComparisonPrecedence
infix operator .!= : ComparisonPrecedence
infix operator .< : ComparisonPrecedence
infix operator .<= : ComparisonPrecedence
infix operator .> : ComparisonPrecedence
infix operator .>= : ComparisonPrecedence

extension Tensor {
  /// Elementwise `==` (PyTorch: `x == y`); `==` on tensors is whole-tensor `equal`.
  public static func .== (lhs: Tensor, rhs: some TensorOperand) -> Tensor { lhs.eq(rhs) }
  /// Elementwise `!=`.
  public static func .!= (lhs: Tensor, rhs: some TensorOperand) -> Tensor { lhs.ne(rhs) }
  /// Elementwise `<`.
  public static func .< (lhs: Tensor, rhs: some TensorOperand) -> Tensor { lhs.lt(rhs) }
  /// Elementwise `<=`.
  public static func .<= (lhs: Tensor, rhs: some TensorOperand) -> Tensor { lhs.le(rhs) }
  /// Elementwise `>`.
  public static func .> (lhs: Tensor, rhs: some TensorOperand) -> Tensor { lhs.gt(rhs) }
  /// Elementwise `>=`.
  public static func .>= (lhs: Tensor, rhs: some TensorOperand) -> Tensor { lhs.ge(rhs) }
}

extension Tensor: Equatable {
  /// Whole-tensor equality: same shape and equal elements (PyTorch: `torch.equal`).
  public static func == (lhs: Tensor, rhs: Tensor) -> Bool { lhs.equal(rhs) }
}
