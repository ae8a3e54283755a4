extension Tensor {
  /// The type a binary op computes in and the type of its result.
  static func binaryTypes(_ op: BinaryOp, _ a: Operand, _ b: Operand, name: String) -> (compute: DType, result: DType) {
    var compute = resultType([a, b])
    switch op {
    case .div, .atan2, .hypot, .copysign:
      if !compute.isFloatingPoint { compute = .float32 }
    case .sub:
      usageCheck(
        compute != .bool,
        "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead."
      )
    case .bitwiseLeftShift, .bitwiseRightShift:
      usageCheck(
        !compute.isFloatingPoint && compute != .bool,
        "\(name): \"\(name)_cpu\" not implemented for '\(compute.scalarTypeName)'; shifts take integer tensors")
    case .bitwiseAnd, .bitwiseOr, .bitwiseXor:
      usageCheck(
        !compute.isFloatingPoint,
        "\(name): \"\(name)_cpu\" not implemented for '\(compute.scalarTypeName)'; bitwise ops take integer or bool tensors"
      )
    case .remainder, .floorDivide, .fmod:
      usageCheck(compute != .bool, "\(name): \"\(name)_cpu\" not implemented for 'Bool'")
    default: break
    }
    return (compute, op.producesBool ? .bool : compute)
  }

  /// Runs a broadcasting binary op: promotes, broadcasts, allocates (or checks `out`),
  /// runs the kernel and reports the op to the recorder.
  package static func binaryOp(_ op: BinaryOp, _ a: Operand, _ b: Operand, out: Tensor? = nil, name: String) -> Tensor {
    // Same shape, dtype and device: no promotion or broadcasting to work out.
    if out == nil, case .tensor(let ta) = a, case .tensor(let tb) = b, ta.dtype == tb.dtype, ta.device == tb.device,
      ta.shape == tb.shape, ta.dtype.isFloatingPoint || !(op == .div || op == .atan2 || op == .hypot || op == .copysign)
    {
      let (_, resultDType) = binaryTypes(op, a, b, name: name)
      let result = Tensor(uninitializedLike: ta, dtype: resultDType)
      result.backend.binary(op, ta, tb, into: result)
      return result.recorded(.binary(op), ta, tb, result)
    }
    let tensors = [a, b].compactMap { if case .tensor(let t) = $0 { t } else { nil } }
    let device = commonDevice(tensors, op: name)
    let (compute, resultDType) = binaryTypes(op, a, b, name: name)
    let ta = materialize(a, dtype: compute, device: device)
    let tb = materialize(b, dtype: compute, device: device)
    let shape = broadcastShape([ta.shape, tb.shape], op: name)
    let ka = ta.to(compute).broadcastView(to: shape)
    let kb = tb.to(compute).broadcastView(to: shape)
    if let out {
      checkOutIsNotDifferentiated(tensors, op: name)
      prepareOut(out, shape: shape, dtype: resultDType, device: device, op: name)
      if out.dtype == resultDType {
        out.backend.binary(op, ka, kb, into: out)
        out.markWritten()
        return out
      }
    }
    let result = Tensor.uninitialized(
      shape, dtype: resultDType, device: device, memoryFormat: resultMemoryFormat(tensors, shape: shape))
    result.backend.binary(op, ka, kb, into: result)
    if out != nil { return deliver(result, into: out, op: name) }
    return result.recorded(.binary(op), ta, tb, result)
  }

  /// Runs a binary op in place on `self` (`add_`, `+=`), with PyTorch's checks: the result
  /// type must cast to `self`'s, the broadcast shape must be `self`'s, and `self` must not
  /// be a view whose elements alias each other.
  package func binaryInPlace(_ op: BinaryOp, _ other: Operand, name: String) {
    let (compute, resultDType) = Tensor.binaryTypes(op, .tensor(self), other, name: name)
    usageCheck(
      Tensor.canCast(from: resultDType, to: dtype),
      "\(name): result type \(resultDType.scalarTypeName) can't be cast to the desired output type \(dtype.scalarTypeName)"
    )
    let device = Tensor.commonDevice([self] + (other.tensor.map { [$0] } ?? []), op: name)
    let tb = Tensor.materialize(other, dtype: compute, device: device)
    let shape = Tensor.broadcastShape([shape, tb.shape], op: name)
    usageCheck(
      shape == self.shape,
      "\(name): output with shape \(shapeString(self.shape)) doesn't match the broadcast shape \(shapeString(shape))")
    checkWritable(inputs: [tb], op: name)
    inPlace(inputs: [tb], op: name) {
      let ka = to(compute)
      let kb = tb.to(compute).broadcastView(to: shape)
      if resultDType == dtype && ka === self {
        backend.binary(op, self, kb, into: self)
      } else {
        let result = Tensor(uninitializedShape: shape, dtype: resultDType, device: device)
        backend.binary(op, ka, kb, into: result)
        backend.copy(result, into: self)
      }
    } outOfPlace: {
      // Add and sub save nothing, so they can read `self` itself; the others need its old
      // value after it is overwritten.
      let old = op == .add || op == .sub ? self : clone()
      return Tensor.binaryOp(op, .tensor(old), .tensor(tb), name: name).to(dtype)
    }
  }

  /// Stops when writing into `self` is unsafe: `self` aliases its own elements (an expanded
  /// view), or an input partially overlaps it.
  package func checkWritable(inputs: [Tensor], op: String) {
    usageCheck(
      !storage.isReadOnly,
      "\(op): the tensor's memory is a read-only file mapping; open it with mapping: .readWrite or .copyOnWrite, or clone() it"
    )
    usageCheck(
      !layout.hasInternalOverlap,
      "\(op): unsupported operation: more than one element of the written-to tensor refers to a single memory location. Please clone() the tensor before performing the operation."
    )
    for input in inputs where partiallyOverlaps(input) {
      usageFailure(
        "\(op): unsupported operation: some elements of the input tensor and the written-to tensor refer to a single memory location. Please clone() the tensor before performing the operation."
      )
    }
  }

  /// Whether `other` shares some but not all of this tensor's elements, as far as can be
  /// proven cheaply (PyTorch's `get_overlap_status` answering `Partial`): both layouts are
  /// non-overlapping and dense, and their blocks of storage intersect without being the
  /// same block with the same strides. Irregular layouts are not judged, as in PyTorch.
  package func partiallyOverlaps(_ other: Tensor) -> Bool {
    guard other.storage === storage, numel > 0, other.numel > 0,
      layout.isNonOverlappingAndDense, other.layout.isNonOverlappingAndDense
    else { return false }
    let a = layout.storageSpan
    let b = other.layout.storageSpan
    if a == b { return layout.strides != other.layout.strides }
    return a.lower < b.upper && b.lower < a.upper
  }

  /// The type a unary op computes in and the type of its result.
  static func unaryTypes(_ op: UnaryOp, _ dtype: DType, name: String) -> (compute: DType, result: DType) {
    if op == .neg {
      usageCheck(
        dtype != .bool,
        "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
      )
    }
    if op == .bitwiseNot {
      usageCheck(!dtype.isFloatingPoint, "\(name): \"bitwise_not_cpu\" not implemented for '\(dtype.scalarTypeName)'")
    }
    let compute = op.promotesIntegersToFloat ? dtype.floatingResult : dtype
    return (compute, op.producesBool ? .bool : compute)
  }

  /// Runs an elementwise unary op (allocating, or into `out`).
  package func unaryOp(_ op: UnaryOp, out: Tensor? = nil, name: String) -> Tensor {
    let (compute, resultDType) = Tensor.unaryTypes(op, dtype, name: name)
    let input = to(compute)
    if let out {
      Tensor.checkOutIsNotDifferentiated([self], op: name)
      Tensor.prepareOut(out, shape: shape, dtype: resultDType, device: device, op: name)
      if out.dtype == resultDType {
        backend.unary(op, input, into: out)
        out.markWritten()
        return out
      }
    }
    let result = Tensor(uninitializedLike: self, dtype: resultDType)
    backend.unary(op, input, into: result)
    if out != nil { return Tensor.deliver(result, into: out, op: name) }
    return recorded(.unary(op), self, result)
  }

  /// Runs a unary op in place (`exp_`, `relu_`, ...).
  package func unaryInPlace(_ op: UnaryOp, name: String) {
    let (compute, resultDType) = Tensor.unaryTypes(op, dtype, name: name)
    usageCheck(
      Tensor.canCast(from: resultDType, to: dtype),
      "\(name): result type \(resultDType.scalarTypeName) can't be cast to the desired output type \(dtype.scalarTypeName)"
    )
    checkWritable(inputs: [], op: name)
    inPlace(inputs: [], op: name) {
      if compute == dtype && resultDType == dtype {
        backend.unary(op, self, into: self)
      } else {
        let result = Tensor(uninitializedShape: shape, dtype: resultDType, device: device)
        backend.unary(op, to(compute), into: result)
        backend.copy(result, into: self)
      }
    } outOfPlace: {
      clone().unaryOp(op, name: name).to(dtype)
    }
  }

  /// A view of `self` broadcast to `shape` (zero strides), not reported to the recorder:
  /// the kernels' view of an operand.
  package func broadcastView(to target: [Int]) -> Tensor {
    if target == shape { return self }
    guard let expanded = layout.expanded(to: target) else {
      usageFailure(
        "The expanded size of the tensor must match the existing size at non-singleton dimensions: cannot broadcast \(shapeString(shape)) to \(shapeString(target))"
      )
    }
    return aliased(as: expanded)
  }
}

extension Operand {
  /// The tensor, when this operand is one.
  var tensor: Tensor? { if case .tensor(let t) = self { t } else { nil } }
}
