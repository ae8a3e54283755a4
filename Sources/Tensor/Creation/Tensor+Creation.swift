import Foundation

/// A value that can appear as a leaf of a nested array literal passed to `Tensor(_:)`.
public protocol TensorLiteralLeaf {
  /// The dtype PyTorch infers for such values (`Double` → float32, as Python floats).
  static var inferredDType: DType { get }
  /// The value as a weak scalar.
  var literalScalar: Scalar { get }
}

extension Double: TensorLiteralLeaf {
  public static var inferredDType: DType { .float32 }
  public var literalScalar: Scalar { .double(self) }
}
extension Float: TensorLiteralLeaf {
  public static var inferredDType: DType { .float32 }
  public var literalScalar: Scalar { .double(Double(self)) }
}
extension Float16: TensorLiteralLeaf {
  public static var inferredDType: DType { .float16 }
  public var literalScalar: Scalar { .double(Double(self)) }
}
extension BFloat16: TensorLiteralLeaf {
  public static var inferredDType: DType { .bfloat16 }
  public var literalScalar: Scalar { .double(elementDouble) }
}
extension Int: TensorLiteralLeaf {
  public static var inferredDType: DType { .int64 }
  public var literalScalar: Scalar { .int(Int64(self)) }
}
extension Int64: TensorLiteralLeaf {
  public static var inferredDType: DType { .int64 }
  public var literalScalar: Scalar { .int(self) }
}
extension Int32: TensorLiteralLeaf {
  public static var inferredDType: DType { .int32 }
  public var literalScalar: Scalar { .int(Int64(self)) }
}
extension Int16: TensorLiteralLeaf {
  public static var inferredDType: DType { .int16 }
  public var literalScalar: Scalar { .int(Int64(self)) }
}
extension Int8: TensorLiteralLeaf {
  public static var inferredDType: DType { .int8 }
  public var literalScalar: Scalar { .int(Int64(self)) }
}
extension UInt8: TensorLiteralLeaf {
  public static var inferredDType: DType { .uint8 }
  public var literalScalar: Scalar { .int(Int64(self)) }
}
extension Bool: TensorLiteralLeaf {
  public static var inferredDType: DType { .bool }
  public var literalScalar: Scalar { .bool(self) }
}

/// Nested arrays of literal leaves: `[1.0, 2.0]`, `[[1, 2], [3, 4]]`.
public protocol NestedTensorData {
  /// The dtype inferred from the leaves.
  static var inferredDType: DType { get }
  /// The shape of the nested array (checked to be rectangular).
  var nestedShape: [Int] { get }
  /// Appends the leaves in row-major order.
  func appendLeaves(to leaves: inout [Scalar])
}

extension Array: NestedTensorData where Element: NestedTensorData {
  public static var inferredDType: DType { Element.inferredDType }
  public var nestedShape: [Int] {
    guard let first else { return [0] }
    let inner = first.nestedShape
    for (i, e) in enumerated() {
      let s = e.nestedShape
      usageCheck(
        s == inner,
        "Tensor(_:): expected sequence of length \(inner.first ?? 0) at dim 1 (got \(s.first ?? 0)) at element \(i); nested arrays must be rectangular"
      )
    }
    return [count] + inner
  }
  public func appendLeaves(to leaves: inout [Scalar]) {
    for e in self { e.appendLeaves(to: &leaves) }
  }
}

extension Double: NestedTensorData {
  public var nestedShape: [Int] { [] }
  public func appendLeaves(to leaves: inout [Scalar]) { leaves.append(literalScalar) }
}
extension Float: NestedTensorData {
  public var nestedShape: [Int] { [] }
  public func appendLeaves(to leaves: inout [Scalar]) { leaves.append(literalScalar) }
}
extension Int: NestedTensorData {
  public var nestedShape: [Int] { [] }
  public func appendLeaves(to leaves: inout [Scalar]) { leaves.append(literalScalar) }
}
extension Int64: NestedTensorData {
  public var nestedShape: [Int] { [] }
  public func appendLeaves(to leaves: inout [Scalar]) { leaves.append(literalScalar) }
}
extension Int32: NestedTensorData {
  public var nestedShape: [Int] { [] }
  public func appendLeaves(to leaves: inout [Scalar]) { leaves.append(literalScalar) }
}
extension UInt8: NestedTensorData {
  public var nestedShape: [Int] { [] }
  public func appendLeaves(to leaves: inout [Scalar]) { leaves.append(literalScalar) }
}
extension Bool: NestedTensorData {
  public var nestedShape: [Int] { [] }
  public func appendLeaves(to leaves: inout [Scalar]) { leaves.append(literalScalar) }
}

extension Tensor {
  /// A tensor from a (nested) array literal, with PyTorch's dtype inference: `[1.0, 2.0]`
  /// is float32, `[[1, 2], [3, 4]]` int64, `[true]` bool, and a bare number is 0-d:
  /// `Tensor(3.5)` (PyTorch: `torch.tensor`).
  public convenience init<Data: NestedTensorData>(_ data: Data, dtype: DType? = nil, device: Device = .cpu) {
    var leaves: [Scalar] = []
    data.appendLeaves(to: &leaves)
    let t = Tensor.fromScalars(leaves, shape: data.nestedShape, dtype: dtype ?? Data.inferredDType, device: device)
    self.init(storage: t.storage, layout: t.layout, dtype: t.dtype)
  }

  /// A tensor from flat row-major data and a shape; the dtype is the element type's own
  /// (`[Float]` → float32, `[Double]` → float64) unless `dtype` says otherwise.
  public convenience init<T: TensorElement>(_ data: [T], shape: [Int], dtype: DType? = nil, device: Device = .cpu) {
    let count = Layout.numel(of: shape)
    usageCheck(
      count == data.count,
      "Tensor(_:shape:): shape \(shapeString(shape)) holds \(count) elements but \(data.count) were given")
    let t = Tensor(uninitializedShape: shape, dtype: T.dtype, device: .cpu)
    data.withUnsafeBytes { raw in
      if raw.count > 0 { t.storage.data.copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
    }
    let converted = t.to(dtype ?? T.dtype).movedTo(device)
    self.init(storage: converted.storage, layout: converted.layout, dtype: converted.dtype)
  }

  /// A float64 CPU tensor over a copy of `values`.
  convenience init(flat values: [Double], shape: [Int]) {
    self.init(values, shape: shape)
  }

  static func fromScalars(_ leaves: [Scalar], shape: [Int], dtype: DType, device: Device) -> Tensor {
    let isFloating = leaves.contains { if case .double = $0 { true } else { false } }
    let staging: Tensor =
      isFloating
      ? Tensor(leaves.map(\.doubleValue), shape: shape)
      : Tensor(leaves.map(\.int64Value), shape: shape)
    return staging.to(dtype).movedTo(device)
  }

  /// An uninitialised tensor (PyTorch: `torch.empty`, `torch.Tensor(5, 3)`).
  public static func empty(_ shape: Int..., dtype: DType = .float32, device: Device = .cpu) -> Tensor {
    empty(shape, dtype: dtype, device: device)
  }

  /// An uninitialised tensor of `shape`.
  public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
    Tensor(uninitializedShape: shape, dtype: dtype, device: device)
  }

  /// A tensor filled with `value` (PyTorch: `torch.full`).
  public static func full(_ shape: [Int], _ value: some ScalarConvertible, dtype: DType? = nil, device: Device = .cpu)
    -> Tensor
  {
    let s = value.scalar
    let t = Tensor(uninitializedShape: shape, dtype: dtype ?? (s.weakDType), device: device)
    t.backend.fill(t, with: s)
    return t
  }

  /// Zeros (PyTorch: `torch.zeros`).
  public static func zeros(_ shape: Int..., dtype: DType = .float32, device: Device = .cpu) -> Tensor {
    full(shape, 0, dtype: dtype, device: device)
  }
  /// Zeros of `shape`.
  public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
    full(shape, 0, dtype: dtype, device: device)
  }
  /// Ones (PyTorch: `torch.ones`).
  public static func ones(_ shape: Int..., dtype: DType = .float32, device: Device = .cpu) -> Tensor {
    full(shape, 1, dtype: dtype, device: device)
  }
  /// Ones of `shape`.
  public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
    full(shape, 1, dtype: dtype, device: device)
  }
  /// Zeros shaped like `other`, with its dtype and device unless given.
  public static func zeros(like other: Tensor, dtype: DType? = nil, device: Device? = nil) -> Tensor {
    zeros(other.shape, dtype: dtype ?? other.dtype, device: device ?? other.device)
  }
  /// Ones shaped like `other`.
  public static func ones(like other: Tensor, dtype: DType? = nil, device: Device? = nil) -> Tensor {
    ones(other.shape, dtype: dtype ?? other.dtype, device: device ?? other.device)
  }
  /// An uninitialised tensor shaped like `other`.
  public static func empty(like other: Tensor, dtype: DType? = nil, device: Device? = nil) -> Tensor {
    empty(other.shape, dtype: dtype ?? other.dtype, device: device ?? other.device)
  }
  /// `value` everywhere, shaped like `other`.
  public static func full(
    like other: Tensor, _ value: some ScalarConvertible, dtype: DType? = nil, device: Device? = nil
  ) -> Tensor {
    full(other.shape, value, dtype: dtype ?? other.dtype, device: device ?? other.device)
  }

  /// Uniform samples in [0, 1) (PyTorch: `torch.rand`; the same numbers for the same seed).
  public static func rand(_ shape: Int..., dtype: DType = .float32, device: Device = .cpu, generator: Generator? = nil)
    -> Tensor
  {
    rand(shape, dtype: dtype, device: device, generator: generator)
  }
  /// Uniform samples in [0, 1) of `shape`.
  public static func rand(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu, generator: Generator? = nil)
    -> Tensor
  {
    Tensor.empty(shape, dtype: dtype, device: device).uniform_(generator: generator)
  }
  /// Standard normal samples (PyTorch: `torch.randn`).
  public static func randn(_ shape: Int..., dtype: DType = .float32, device: Device = .cpu, generator: Generator? = nil)
    -> Tensor
  {
    randn(shape, dtype: dtype, device: device, generator: generator)
  }
  /// Standard normal samples of `shape`.
  public static func randn(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu, generator: Generator? = nil)
    -> Tensor
  {
    Tensor.empty(shape, dtype: dtype, device: device).normal_(generator: generator)
  }
  /// Uniform samples shaped like `other`.
  public static func rand(like other: Tensor, dtype: DType? = nil, device: Device? = nil) -> Tensor {
    rand(other.shape, dtype: dtype ?? other.dtype, device: device ?? other.device)
  }
  /// Normal samples shaped like `other`.
  public static func randn(like other: Tensor, dtype: DType? = nil, device: Device? = nil) -> Tensor {
    randn(other.shape, dtype: dtype ?? other.dtype, device: device ?? other.device)
  }

  /// Integers drawn uniformly from `[low, high)` (PyTorch: `torch.randint`; int64 by default).
  public static func randint(
    _ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .int64, device: Device = .cpu, generator: Generator? = nil
  ) -> Tensor {
    usageCheck(low < high, "random_ expects 'from' to be less than 'to', but got from=\(low) >= to=\(high)")
    let range = UInt64(high - low)
    let values = randomCPU(shape, dtype: .int64, generator: generator) { g in
      let r = range >= 1 << 32 ? g.next64() % range : UInt64(g.next32()) % range
      return Double(Int64(r) + Int64(low))
    }
    return values.to(dtype).movedTo(device)
  }

  /// `0, 1, ..., end - 1` (PyTorch: `torch.arange(end)`; int64).
  public static func arange(_ end: Int, dtype: DType = .int64, device: Device = .cpu) -> Tensor {
    arange(0, end, step: 1, dtype: dtype, device: device)
  }

  /// Integers from `start` up to `end` by `step` (int64 unless `dtype` says otherwise).
  public static func arange(_ start: Int, _ end: Int, step: Int = 1, dtype: DType = .int64, device: Device = .cpu)
    -> Tensor
  {
    usageCheck(step != 0, "arange: step must be nonzero")
    usageCheck(
      (step > 0 && end >= start) || (step < 0 && end <= start),
      "arange: upper bound and larger bound inconsistent with step sign")
    let count = (end - start + step - step.signum()) / step
    return Tensor((0..<count).map { Int64(start + $0 * step) }, shape: [count]).to(dtype).movedTo(device)
  }

  /// Values from `start` up to `end` by `step` (float32; PyTorch: `torch.arange(0, 1, 0.1)`).
  public static func arange(
    _ start: Double, _ end: Double, step: Double, dtype: DType = .float32, device: Device = .cpu
  ) -> Tensor {
    usageCheck(step != 0, "arange: step must be nonzero")
    usageCheck(
      (step > 0 && end >= start) || (step < 0 && end <= start),
      "arange: upper bound and larger bound inconsistent with step sign")
    let count = Int(((end - start) / step).rounded(.up))
    return Tensor((0..<count).map { start + Double($0) * step }, shape: [count]).to(dtype).movedTo(device)
  }

  /// `count` evenly spaced values from `start` to `end` inclusive (PyTorch: `torch.linspace`).
  public static func linspace(
    _ start: Double, _ end: Double, count: Int, dtype: DType = .float32, device: Device = .cpu
  ) -> Tensor {
    usageCheck(count >= 0, "linspace: number of steps must be non-negative")
    let step = count > 1 ? (end - start) / Double(count - 1) : 0
    // PyTorch fills the first half from the start and the second half from the end.
    let half = count / 2
    // One step is `start` (PyTorch special-cases it; the halves rule would give `end`).
    let values =
      count == 1
      ? [start] : (0..<count).map { i in i < half ? start + step * Double(i) : end - step * Double(count - i - 1) }
    return Tensor(values, shape: [count]).to(dtype).movedTo(device)
  }

  /// The identity matrix (PyTorch: `torch.eye`).
  public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32, device: Device = .cpu) -> Tensor {
    let cols = m ?? n
    var values = [Double](repeating: 0, count: n * cols)
    for i in 0..<Swift.min(n, cols) { values[i * cols + i] = 1 }
    return Tensor(values, shape: [n, cols]).to(dtype).movedTo(device)
  }
}
