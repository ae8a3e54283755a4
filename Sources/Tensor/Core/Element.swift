import Foundation

/// A Swift type that can be a tensor's element: `Float`, `Double`, `Float16`, `BFloat16`,
/// `Int64`, `Int32`, `Int16`, `Int8`, `UInt8`, `Bool` (and `Int`, stored as int64).
public protocol TensorElement: Sendable {
  /// The dtype of tensors holding this type.
  static var dtype: DType { get }
  /// Converts from a `Double`, truncating toward zero for integer types.
  init(elementFrom value: Double)
  /// Converts from an `Int64`, wrapping for narrower integer types.
  init(elementFrom value: Int64)
  /// The value as a `Double`.
  var elementDouble: Double { get }
  /// The value as an `Int64` (floating values truncate toward zero).
  var elementInt64: Int64 { get }
}

/// The element types the kernels are written against (everything but `Int`, which shares
/// int64's layout).
protocol KernelElement: TensorElement, Equatable {
  static var isFloatingPointElement: Bool { get }
  static var zero: Self { get }
  /// The order kernels compare in (`false < true` for bool, which is not `Comparable`).
  static func isLess(_ a: Self, _ b: Self) -> Bool
}

extension KernelElement where Self: Comparable {
  @inline(__always) static func isLess(_ a: Self, _ b: Self) -> Bool { a < b }
}

extension KernelElement {
  /// Converts between element types with C++ `static_cast` semantics, as PyTorch's `to()`.
  @inline(__always)
  static func converting<S: KernelElement>(_ s: S) -> Self {
    if Self.self == S.self { return unsafeBitCast(s, to: Self.self) }
    return S.isFloatingPointElement ? Self(elementFrom: s.elementDouble) : Self(elementFrom: s.elementInt64)
  }
}

/// Floating-point element types; arithmetic happens in `Math` (`Float` for 16-bit types,
/// as PyTorch's `opmath_type`) and rounds back.
protocol FloatElement: KernelElement, Comparable {
  associatedtype Math: MathFloat
  init(math: Math)
  var math: Math { get }
}

/// Integer element types (bool excluded).
protocol IntElement: KernelElement, FixedWidthInteger {}

/// The two types floating-point math is computed in, with the C library's functions.
protocol MathFloat: BinaryFloatingPoint, Sendable {
  static func exp(_ x: Self) -> Self
  static func expm1(_ x: Self) -> Self
  static func log(_ x: Self) -> Self
  static func log1p(_ x: Self) -> Self
  static func log2(_ x: Self) -> Self
  static func sin(_ x: Self) -> Self
  static func cos(_ x: Self) -> Self
  static func tan(_ x: Self) -> Self
  static func tanh(_ x: Self) -> Self
  static func erf(_ x: Self) -> Self
  static func pow(_ x: Self, _ y: Self) -> Self
  static func fmod(_ x: Self, _ y: Self) -> Self
  static func rint(_ x: Self) -> Self
  static func exp2(_ x: Self) -> Self
  static func log10(_ x: Self) -> Self
  static func asin(_ x: Self) -> Self
  static func acos(_ x: Self) -> Self
  static func atan(_ x: Self) -> Self
  static func sinh(_ x: Self) -> Self
  static func cosh(_ x: Self) -> Self
  static func asinh(_ x: Self) -> Self
  static func acosh(_ x: Self) -> Self
  static func atanh(_ x: Self) -> Self
  static func erfc(_ x: Self) -> Self
  static func lgamma(_ x: Self) -> Self
  static func atan2(_ y: Self, _ x: Self) -> Self
  static func hypot(_ x: Self, _ y: Self) -> Self
  init(_ d: Double)
  var doubleValue: Double { get }
}

extension Float: MathFloat {
  static func exp(_ x: Float) -> Float { Foundation.expf(x) }
  static func expm1(_ x: Float) -> Float { Foundation.expm1f(x) }
  static func log(_ x: Float) -> Float { Foundation.logf(x) }
  static func log1p(_ x: Float) -> Float { Foundation.log1pf(x) }
  static func log2(_ x: Float) -> Float { Foundation.log2f(x) }
  static func sin(_ x: Float) -> Float { Foundation.sinf(x) }
  static func cos(_ x: Float) -> Float { Foundation.cosf(x) }
  static func tan(_ x: Float) -> Float { Foundation.tanf(x) }
  static func tanh(_ x: Float) -> Float { Foundation.tanhf(x) }
  static func erf(_ x: Float) -> Float { Foundation.erff(x) }
  static func pow(_ x: Float, _ y: Float) -> Float { Foundation.powf(x, y) }
  static func fmod(_ x: Float, _ y: Float) -> Float { Foundation.fmodf(x, y) }
  static func rint(_ x: Float) -> Float { Foundation.rintf(x) }
  static func exp2(_ x: Float) -> Float { Foundation.exp2f(x) }
  static func log10(_ x: Float) -> Float { Foundation.log10f(x) }
  static func asin(_ x: Float) -> Float { Foundation.asinf(x) }
  static func acos(_ x: Float) -> Float { Foundation.acosf(x) }
  static func atan(_ x: Float) -> Float { Foundation.atanf(x) }
  static func sinh(_ x: Float) -> Float { Foundation.sinhf(x) }
  static func cosh(_ x: Float) -> Float { Foundation.coshf(x) }
  static func asinh(_ x: Float) -> Float { Foundation.asinhf(x) }
  static func acosh(_ x: Float) -> Float { Foundation.acoshf(x) }
  static func atanh(_ x: Float) -> Float { Foundation.atanhf(x) }
  static func erfc(_ x: Float) -> Float { Foundation.erfcf(x) }
  static func lgamma(_ x: Float) -> Float { Foundation.lgammaf(x) }
  static func atan2(_ y: Float, _ x: Float) -> Float { Foundation.atan2f(y, x) }
  static func hypot(_ x: Float, _ y: Float) -> Float { Foundation.hypotf(x, y) }
  var doubleValue: Double { Double(self) }
}

extension Double: MathFloat {
  static func exp(_ x: Double) -> Double { Foundation.exp(x) }
  static func expm1(_ x: Double) -> Double { Foundation.expm1(x) }
  static func log(_ x: Double) -> Double { Foundation.log(x) }
  static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
  static func log2(_ x: Double) -> Double { Foundation.log2(x) }
  static func sin(_ x: Double) -> Double { Foundation.sin(x) }
  static func cos(_ x: Double) -> Double { Foundation.cos(x) }
  static func tan(_ x: Double) -> Double { Foundation.tan(x) }
  static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
  static func erf(_ x: Double) -> Double { Foundation.erf(x) }
  static func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
  static func fmod(_ x: Double, _ y: Double) -> Double { Foundation.fmod(x, y) }
  static func rint(_ x: Double) -> Double { Foundation.rint(x) }
  static func exp2(_ x: Double) -> Double { Foundation.exp2(x) }
  static func log10(_ x: Double) -> Double { Foundation.log10(x) }
  static func asin(_ x: Double) -> Double { Foundation.asin(x) }
  static func acos(_ x: Double) -> Double { Foundation.acos(x) }
  static func atan(_ x: Double) -> Double { Foundation.atan(x) }
  static func sinh(_ x: Double) -> Double { Foundation.sinh(x) }
  static func cosh(_ x: Double) -> Double { Foundation.cosh(x) }
  static func asinh(_ x: Double) -> Double { Foundation.asinh(x) }
  static func acosh(_ x: Double) -> Double { Foundation.acosh(x) }
  static func atanh(_ x: Double) -> Double { Foundation.atanh(x) }
  static func erfc(_ x: Double) -> Double { Foundation.erfc(x) }
  static func lgamma(_ x: Double) -> Double { Foundation.lgamma(x) }
  static func atan2(_ y: Double, _ x: Double) -> Double { Foundation.atan2(y, x) }
  static func hypot(_ x: Double, _ y: Double) -> Double { Foundation.hypot(x, y) }
  var doubleValue: Double { self }
}

extension Float: FloatElement {
  public static var dtype: DType { .float32 }
  public init(elementFrom value: Double) { self = Float(value) }
  public init(elementFrom value: Int64) { self = Float(value) }
  public var elementDouble: Double { Double(self) }
  public var elementInt64: Int64 { Int64(x86Truncating: Double(self)) }
  static var isFloatingPointElement: Bool { true }
  init(math: Float) { self = math }
  var math: Float { self }
}

extension Double: FloatElement {
  public static var dtype: DType { .float64 }
  public init(elementFrom value: Double) { self = value }
  public init(elementFrom value: Int64) { self = Double(value) }
  public var elementDouble: Double { self }
  public var elementInt64: Int64 { Int64(x86Truncating: self) }
  static var isFloatingPointElement: Bool { true }
  init(math: Double) { self = math }
  var math: Double { self }
}

extension Float16: FloatElement {
  public static var dtype: DType { .float16 }
  public init(elementFrom value: Double) { self = Float16(Float(value)) }
  public init(elementFrom value: Int64) { self = Float16(Float(value)) }
  public var elementDouble: Double { Double(self) }
  public var elementInt64: Int64 { Int64(x86Truncating: Double(self)) }
  static var isFloatingPointElement: Bool { true }
  init(math: Float) { self = Float16(math) }
  var math: Float { Float(self) }
}

extension BFloat16: FloatElement, Comparable {
  public static var dtype: DType { .bfloat16 }
  public init(elementFrom value: Double) { self.init(Float(value)) }
  public init(elementFrom value: Int64) { self.init(Float(value)) }
  public var elementDouble: Double { Double(floatValue) }
  public var elementInt64: Int64 { Int64(x86Truncating: Double(floatValue)) }
  static var isFloatingPointElement: Bool { true }
  static var zero: BFloat16 { BFloat16(bitPattern: 0) }
  init(math: Float) { self.init(math) }
  var math: Float { floatValue }
  /// Orders by value.
  public static func < (a: BFloat16, b: BFloat16) -> Bool { a.floatValue < b.floatValue }
}

extension IntElement {
  public init(elementFrom value: Double) { self = Self(truncatingIfNeeded: Int64(x86Truncating: value)) }
  public init(elementFrom value: Int64) { self = Self(truncatingIfNeeded: value) }
  public var elementDouble: Double { Double(self) }
  public var elementInt64: Int64 { Int64(truncatingIfNeeded: self) }
  static var isFloatingPointElement: Bool { false }
}

extension Int64: IntElement { public static var dtype: DType { .int64 } }
extension Int32: IntElement { public static var dtype: DType { .int32 } }
extension Int16: IntElement { public static var dtype: DType { .int16 } }
extension Int8: IntElement { public static var dtype: DType { .int8 } }
extension UInt8: IntElement { public static var dtype: DType { .uint8 } }

extension Int: TensorElement {
  public static var dtype: DType { .int64 }
  public init(elementFrom value: Double) { self = Int(Int64(x86Truncating: value)) }
  public init(elementFrom value: Int64) { self = Int(value) }
  public var elementDouble: Double { Double(self) }
  public var elementInt64: Int64 { Int64(self) }
}

extension Bool: KernelElement {
  public static var dtype: DType { .bool }
  public init(elementFrom value: Double) { self = value != 0 }
  public init(elementFrom value: Int64) { self = value != 0 }
  public var elementDouble: Double { self ? 1 : 0 }
  public var elementInt64: Int64 { self ? 1 : 0 }
  static var isFloatingPointElement: Bool { false }
  static var zero: Bool { false }
  @inline(__always) static func isLess(_ a: Bool, _ b: Bool) -> Bool { !a && b }
}
