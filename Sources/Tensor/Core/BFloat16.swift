/// A 16-bit brain floating-point number: the top half of a `Float` (PyTorch: `torch.bfloat16`).
///
/// Conversions from `Float` round to nearest, ties to even, as PyTorch's `c10::BFloat16`.
public struct BFloat16: Sendable, Hashable, CustomStringConvertible, ExpressibleByFloatLiteral,
  ExpressibleByIntegerLiteral
{
  /// The raw bits.
  public var bitPattern: UInt16

  /// Wraps raw bits.
  public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

  /// Rounds a `Float` to the nearest `BFloat16` (ties to even; NaN stays NaN).
  public init(_ value: Float) {
    let bits = value.bitPattern
    if value.isNaN {
      bitPattern = 0x7FC0
    } else {
      let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
      bitPattern = UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }
  }

  /// Converts from `Double` (through `Float`, as PyTorch does).
  public init(_ value: Double) { self.init(Float(value)) }

  /// Creates a value from a float literal.
  public init(floatLiteral value: Double) { self.init(value) }

  /// Creates a value from an integer literal.
  public init(integerLiteral value: Int) { self.init(Float(value)) }

  /// The value as a `Float` (exact).
  public var floatValue: Float { Float(bitPattern: UInt32(bitPattern) << 16) }

  /// The value printed as a `Float`.
  public var description: String { floatValue.description }
}

extension Float {
  /// Converts a `BFloat16` exactly.
  public init(_ value: BFloat16) { self = value.floatValue }
}
