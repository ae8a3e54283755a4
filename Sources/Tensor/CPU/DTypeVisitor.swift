/// Runs generic kernel code for the Swift element type of a `DType`: the one place that
/// maps dtypes to types, so each kernel is a visitor instead of a `switch`.
protocol DTypeVisitor {
  associatedtype Result = Void
  func float<T: FloatElement>(_: T.Type) -> Result
  func integer<T: IntElement>(_: T.Type) -> Result
  func bool() -> Result
}

/// A visitor with one generic body for every element type.
protocol AnyDTypeVisitor: DTypeVisitor {
  func any<T: KernelElement>(_: T.Type) -> Result
}

extension AnyDTypeVisitor {
  func float<T: FloatElement>(_: T.Type) -> Result { any(T.self) }
  func integer<T: IntElement>(_: T.Type) -> Result { any(T.self) }
  func bool() -> Result { any(Bool.self) }
}

extension DType {
  /// Calls `visitor` with this dtype's element type.
  func visit<V: DTypeVisitor>(_ visitor: V) -> V.Result {
    switch self {
    case .float32: visitor.float(Float.self)
    case .float64: visitor.float(Double.self)
    case .float16: visitor.float(Float16.self)
    case .bfloat16: visitor.float(BFloat16.self)
    case .int64: visitor.integer(Int64.self)
    case .int32: visitor.integer(Int32.self)
    case .int16: visitor.integer(Int16.self)
    case .int8: visitor.integer(Int8.self)
    case .uint8: visitor.integer(UInt8.self)
    case .bool: visitor.bool()
    }
  }
}
