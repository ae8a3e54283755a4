// PyTorch's in-place suffix `_` (`add_`, `uniform_`) is part of the API's names.
// swift-format-ignore-file: AlwaysUseLowerCamelCase
import Foundation

extension Tensor {
  /// Adds `alpha * other` in place (PyTorch: `x.add_(y, alpha=)`).
  @discardableResult
  public func add_(_ other: some TensorOperand, alpha: Scalar = 1) -> Tensor {
    // `y += alpha * x` as one fused kernel when nothing needs recording (an optimizer step).
    if alpha.doubleValue != 1, case .tensor(let x) = other.operand, x.device == device, x.dtype == dtype,
      !(Tensor.recorder?.shouldRebaseInPlace(target: self, inputs: [x], op: "add_") ?? false)
    {
      checkWritable(inputs: [x], op: "add_")
      if backend.fusedAddScaled(self, x, alpha: alpha.doubleValue) {
        markWritten()
        return self
      }
    }
    binaryInPlace(.add, scaled(other.operand, by: alpha), name: "add_")
    return self
  }
  /// Subtracts `alpha * other` in place.
  @discardableResult
  public func sub_(_ other: some TensorOperand, alpha: Scalar = 1) -> Tensor {
    binaryInPlace(.sub, scaled(other.operand, by: alpha), name: "sub_")
    return self
  }
  /// Multiplies in place.
  @discardableResult
  public func mul_(_ other: some TensorOperand) -> Tensor {
    binaryInPlace(.mul, other.operand, name: "mul_")
    return self
  }
  /// Divides in place (an integer tensor cannot hold the float result and stops).
  @discardableResult
  public func div_(_ other: some TensorOperand) -> Tensor {
    binaryInPlace(.div, other.operand, name: "div_")
    return self
  }
  /// Raises to `exponent` in place.
  @discardableResult
  public func pow_(_ exponent: some TensorOperand) -> Tensor {
    binaryInPlace(.pow, exponent.operand, name: "pow_")
    return self
  }
  /// Python's modulus in place.
  @discardableResult
  public func remainder_(_ other: some TensorOperand) -> Tensor {
    binaryInPlace(.remainder, other.operand, name: "remainder_")
    return self
  }
  /// Limits values to `[min, max]` in place.
  @discardableResult
  public func clamp_(min lower: Scalar? = nil, max upper: Scalar? = nil) -> Tensor {
    usageCheck(lower != nil || upper != nil, "clamp_: At least one of 'min' or 'max' must not be None")
    checkWritable(inputs: [], op: "clamp_")
    inPlace(inputs: [], op: "clamp_") {
      let clamped = Tensor.unrecorded { clamp(min: lower, max: upper) }
      usageCheck(
        Tensor.canCast(from: clamped.dtype, to: dtype),
        "clamp_: result type \(clamped.dtype.scalarTypeName) can't be cast to the desired output type \(dtype.scalarTypeName)"
      )
      backend.copy(clamped, into: self)
    } outOfPlace: {
      clone().clamp(min: lower, max: upper).to(dtype)
    }
    return self
  }

  /// Copies `src` into `self`, broadcasting and converting dtype and device
  /// (PyTorch: `x.copy_(y)`).
  @discardableResult
  public func copy_(_ src: Tensor) -> Tensor {
    let target = Tensor.broadcastShape([shape, src.shape], op: "copy_")
    usageCheck(
      target == shape,
      "copy_: output with shape \(shapeString(shape)) doesn't match the broadcast shape \(shapeString(target))")
    checkWritable(inputs: [src], op: "copy_")
    inPlace(inputs: [src], op: "copy_") {
      var source = src.movedTo(device)
      // A source that overlaps the destination in memory is read from a copy.
      if source.storage === storage && source.layout != layout { source = source.clone() }
      backend.copy(source.broadcastView(to: shape), into: self)
    } outOfPlace: {
      src.movedTo(device).to(dtype).expand(shape)
    }
    return self
  }

  /// Sets every element to zero (PyTorch: `x.zero_()`).
  @discardableResult
  public func zero_() -> Tensor { fill_(0) }

  /// Sets every element to `value` (PyTorch: `x.fill_(v)`).
  @discardableResult
  public func fill_(_ value: Scalar) -> Tensor {
    checkWritable(inputs: [], op: "fill_")
    inPlace(inputs: [], op: "fill_") {
      backend.fill(self, with: value)
    } outOfPlace: {
      recorded(.fill, [self], Tensor.full(shape, value, dtype: dtype, device: device))
    }
    return self
  }

  /// Fills with uniform samples from `[from, to)` (PyTorch: `x.uniform_(a, b)`).
  @discardableResult
  public func uniform_(from low: Double = 0, to high: Double = 1, generator: Generator? = nil) -> Tensor {
    usageCheck(low <= high, "uniform_ expects to return a [from, to) range, but found from=\(low) > to=\(high)")
    if let filled = filledOnDevice(.uniform(from: low, to: high), generator: generator) { return filled }
    let width = high - low
    let values: Tensor
    if dtype == .float64 {
      values = Tensor.randomCPU(shape, dtype: .float64, generator: generator) { g in g.uniformDouble() * width + low }
    } else {
      let bits = dtype == .float16 ? 11 : (dtype == .bfloat16 ? 8 : 24)
      // PyTorch scales in double (its CPU `dist_acctype`) and rounds once.
      let (from, span) = (Double(Float(low)), Double(Float(high) - Float(low)))
      values = Tensor.randomCPU(shape, dtype: .float64, generator: generator) { g in
        Double(g.uniformFloat(bits: bits)) * span + from
      }
    }
    return overwriteRandom(with: values)
  }

  /// Fills with normal samples (PyTorch: `x.normal_(mean, std)`).
  @discardableResult
  public func normal_(mean: Double = 0, std: Double = 1, generator: Generator? = nil) -> Tensor {
    usageCheck(std >= 0, "normal expects std >= 0.0, but found std \(std)")
    if let filled = filledOnDevice(.normal(mean: mean, std: std), generator: generator) { return filled }
    let values = Tensor.normalValues(count: numel, dtype: dtype, mean: mean, std: std, generator: generator)
    return overwriteRandom(with: Tensor(flat: values, shape: shape))
  }

  /// Fills with exponential samples of rate `lambd`, `-log(1 - u) / lambd` from uniform
  /// doubles `u` (PyTorch: `exponential_`; a seed gives torch's float32 numbers).
  @discardableResult
  public func exponential_(lambd: Double = 1, generator: Generator? = nil) -> Tensor {
    usageCheck(lambd > 0, "exponential_ expects lambda > 0.0, but found lambda=\(lambd)")
    if let u = drawnOnDevice(.uniform(from: 0, to: 1), generator: generator) {
      return overwriteRandom(with: u.neg().log1p().neg() / lambd)
    }
    let values = Tensor.randomCPU(shape, dtype: .float64, generator: generator) { g in
      -Foundation.log1p(-g.uniformDouble()) / lambd
    }
    return overwriteRandom(with: values)
  }

  /// This tensor filled from `distribution` on its device, or nil where the numbers are drawn
  /// on the host. Without autograd state the numbers land in place (no second device tensor);
  /// otherwise in a fresh tensor that `overwriteRandom` records as the fill.
  private func filledOnDevice(_ distribution: RandomDistribution, generator: Generator?) -> Tensor? {
    if case .cpu = device { return nil }
    guard hasAutogradState else {
      usageCheck(dtype.isFloatingPoint, "random fill: expected a floating point tensor, got \(dtype)")
      checkWritable(inputs: [], op: "random fill")
      guard fillRandomOnDevice(distribution, generator: generator) else { return nil }
      markWritten()
      return self
    }
    return drawnOnDevice(distribution, generator: generator).map(overwriteRandom)
  }

  /// A new tensor like this one filled from `distribution` on the device, or nil where the
  /// numbers are drawn on the host (see `fillRandomOnDevice`).
  func drawnOnDevice(_ distribution: RandomDistribution, generator: Generator?) -> Tensor? {
    if case .cpu = device { return nil }
    let drawn = Tensor.empty(shape, dtype: dtype, device: device)
    return drawn.fillRandomOnDevice(distribution, generator: generator) ? drawn : nil
  }

  /// Writes `values` (of any float type) into this tensor, converting them as they land (one
  /// copy, no converted intermediate), or as a recorded fill when autograd tracks the tensor.
  private func overwriteRandom(with values: Tensor) -> Tensor {
    usageCheck(dtype.isFloatingPoint, "random fill: expected a floating point tensor, got \(dtype)")
    checkWritable(inputs: [], op: "random fill")
    let onDevice = values.movedTo(device)
    inPlace(inputs: [], op: "random fill") {
      backend.copy(onDevice, into: self)
    } outOfPlace: {
      onDevice.to(dtype)
    }
    return self
  }

  /// Changes the shape in place, keeping the storage (grown when needed) and making the
  /// tensor contiguous; new elements are uninitialised (PyTorch: `x.resize_(...)`).
  @discardableResult
  public func resize_(_ shape: Int...) -> Tensor { resize_(shape) }

  /// Changes the shape in place (array form).
  @discardableResult
  public func resize_(_ newShape: [Int]) -> Tensor {
    for s in newShape {
      usageCheck(s >= 0, "resize_: Trying to create tensor with negative dimension \(s): \(shapeString(newShape))")
    }
    let newLayout = Layout(contiguous: newShape, offset: layout.offset)
    storage.grow(to: (newLayout.offset + newLayout.numel) * dtype.itemSize)
    layout = newLayout
    return self
  }
}
