/// The element type of a tensor (PyTorch: `torch.dtype`).
///
/// `float32` is the default, as `torch.get_default_dtype()`.
public enum DType: Sendable, Hashable, CaseIterable, CustomStringConvertible {
  case float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool

  /// Bytes per element (PyTorch: `dtype.itemsize`).
  public var itemSize: Int {
    switch self {
    case .float64, .int64: 8
    case .float32, .int32: 4
    case .float16, .bfloat16, .int16: 2
    case .int8, .uint8, .bool: 1
    }
  }

  /// Whether the type is a floating-point type (PyTorch: `dtype.is_floating_point`).
  public var isFloatingPoint: Bool {
    switch self {
    case .float32, .float64, .float16, .bfloat16: true
    default: false
    }
  }

  /// The type's position in `allCases`, `0..<allCases.count`: an integer key for tables
  /// indexed by dtype.
  package var ordinal: Int {
    switch self {
    case .float32: 0
    case .float64: 1
    case .float16: 2
    case .bfloat16: 3
    case .int64: 4
    case .int32: 5
    case .int16: 6
    case .int8: 7
    case .uint8: 8
    case .bool: 9
    }
  }

  /// Whether the type is an integer type, `bool` excluded.
  public var isIntegral: Bool { !isFloatingPoint && self != .bool }

  /// PyTorch's spelling, as printed in a tensor's `dtype=` suffix: `torch.float64`.
  public var description: String { "torch.\(name)" }

  /// The bare name: `float32`, `int64`, ...
  public var name: String {
    switch self {
    case .float32: "float32"
    case .float64: "float64"
    case .float16: "float16"
    case .bfloat16: "bfloat16"
    case .int64: "int64"
    case .int32: "int32"
    case .int16: "int16"
    case .int8: "int8"
    case .uint8: "uint8"
    case .bool: "bool"
    }
  }

  /// The C++-style name PyTorch uses in error messages (`Float`, `Long`, ...).
  public var scalarTypeName: String {
    switch self {
    case .float32: "Float"
    case .float64: "Double"
    case .float16: "Half"
    case .bfloat16: "BFloat16"
    case .int64: "Long"
    case .int32: "Int"
    case .int16: "Short"
    case .int8: "Char"
    case .uint8: "Byte"
    case .bool: "Bool"
    }
  }

  /// The default floating-point type (PyTorch: `torch.get_default_dtype()`).
  public static let defaultFloat: DType = .float32

  /// The type of a floating-point result computed from this type: itself when it is
  /// floating, else the default float (PyTorch's rule for `exp`, `sqrt`, `/`, ...).
  public var floatingResult: DType { isFloatingPoint ? self : .float32 }

  var category: Int { isFloatingPoint ? 2 : (self == .bool ? 0 : 1) }
}

extension DType {
  /// The smallest type both `a` and `b` convert to safely (PyTorch: `torch.promote_types`).
  public static func promote(_ a: DType, _ b: DType) -> DType {
    if a == b { return a }
    if a == .bool { return b }
    if b == .bool { return a }
    if a.isFloatingPoint || b.isFloatingPoint {
      if !b.isFloatingPoint { return a }
      if !a.isFloatingPoint { return b }
      if a == .float64 || b == .float64 { return .float64 }
      return .float32  // float16 with bfloat16, or either with float32
    }
    // Both integral.
    if a == .uint8 || b == .uint8 {
      let other = a == .uint8 ? b : a
      return other == .int8 ? .int16 : other
    }
    return a.itemSize >= b.itemSize ? a : b
  }

  /// Combines the result of a higher-priority group (dimensioned tensors) with a lower one
  /// (zero-dim tensors, then Python-like scalars): the lower group only wins when it is of a
  /// higher category (bool < integer < floating).
  static func combineCategories(_ higher: DType?, _ lower: DType?) -> DType? {
    guard let higher else { return lower }
    guard let lower else { return higher }
    if higher.isFloatingPoint { return higher }
    if higher == .bool || lower.isFloatingPoint { return promote(higher, lower) }
    return higher
  }
}

/// A Swift number used as an operand next to a tensor: like a Python scalar, it is "weak"
/// and does not widen a tensor's type within its category (`int32 tensor + 5` is int32,
/// `int64 tensor * 2.5` is float32).
public enum Scalar: Sendable, Hashable, CustomStringConvertible {
  case bool(Bool)
  case int(Int64)
  case double(Double)

  /// The type PyTorch gives such a scalar when it participates in type promotion.
  public var weakDType: DType {
    switch self {
    case .bool: .bool
    case .int: .int64
    case .double: .float32
    }
  }

  /// The value as a `Double`.
  public var doubleValue: Double {
    switch self {
    case .bool(let b): b ? 1 : 0
    case .int(let i): Double(i)
    case .double(let d): d
    }
  }

  /// The value as an `Int64` (floating values truncate toward zero).
  public var int64Value: Int64 {
    switch self {
    case .bool(let b): b ? 1 : 0
    case .int(let i): i
    case .double(let d): Int64(x86Truncating: d)
    }
  }

  /// A readable spelling of the value.
  public var description: String {
    switch self {
    case .bool(let b): b ? "True" : "False"
    case .int(let i): "\(i)"
    case .double(let d): "\(d)"
    }
  }
}

/// A Swift value that can stand as a scalar operand of a tensor op.
public protocol ScalarConvertible {
  /// The value as a weak scalar.
  var scalar: Scalar { get }
}

extension Int: ScalarConvertible { public var scalar: Scalar { .int(Int64(self)) } }
extension Int64: ScalarConvertible { public var scalar: Scalar { .int(self) } }
extension Int32: ScalarConvertible { public var scalar: Scalar { .int(Int64(self)) } }
extension Double: ScalarConvertible { public var scalar: Scalar { .double(self) } }
extension Float: ScalarConvertible { public var scalar: Scalar { .double(Double(self)) } }
extension Bool: ScalarConvertible { public var scalar: Scalar { .bool(self) } }
extension Scalar: ScalarConvertible { public var scalar: Scalar { self } }

extension Scalar: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral {
  /// An integer scalar from a literal.
  public init(integerLiteral value: Int) { self = .int(Int64(value)) }
  /// A floating scalar from a literal.
  public init(floatLiteral value: Double) { self = .double(value) }
  /// A bool scalar from a literal.
  public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension Int64 {
  /// Converts like x86's `cvttsd2si`, which C++ casts compile to: truncation toward zero,
  /// and `Int64.min` for NaN and out-of-range values (where Swift's `Int64(_:)` traps).
  init(x86Truncating d: Double) {
    if d.isNaN || d >= 9.223372036854775807e18 || d < -9.223372036854775808e18 {
      self = .min
    } else {
      self = Int64(d)
    }
  }
}
