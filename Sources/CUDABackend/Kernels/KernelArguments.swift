import Tensor

/// The one struct a kernel takes by value, described once: the CUDA C declaration and the
/// host's packing both follow from this description, so they cannot disagree.
///
/// Fields are laid out in order at their natural alignment (as the C compiler lays out the
/// struct); the declaration carries `static_assert`s of every offset and of the size, so NVRTC
/// rejects a module whose struct would differ from what the host packs. A geometry's size
/// follows from `KernelSource.maxRank` and its operand count (`Geometry<N>` in the prelude).
package struct KernelArguments: Sendable, Hashable {
  /// What a field holds.
  package enum Kind: Sendable, Hashable {
    /// A `Geometry<operands>`: rank, count, shape, strides and offsets of each operand.
    case geometry(operands: Int)
    /// A device pointer; `type` is its CUDA C spelling (`const float*`).
    case pointer(String)
    /// A 64-bit signed integer.
    case int64
    /// A 64-bit unsigned integer.
    case uint64
    /// A 32-bit signed integer.
    case int32
    /// A double.
    case double

    /// Bytes the field takes.
    package var size: Int {
      switch self {
      case .geometry(let operands): 8 * (2 + KernelSource.maxRank * (1 + operands) + operands)
      case .pointer, .int64, .uint64, .double: 8
      case .int32: 4
      }
    }

    /// The field's alignment.
    package var alignment: Int { self == .int32 ? 4 : 8 }

    /// Its CUDA C type.
    var cType: String {
      switch self {
      case .geometry(let operands): "Geometry<\(operands)>"
      case .pointer(let type): type
      case .int64: "i64"
      case .uint64: "u64"
      case .int32: "int"
      case .double: "double"
      }
    }
  }

  /// A named field.
  package struct Field: Sendable, Hashable {
    package let name: String
    package let kind: Kind
  }

  /// The struct's C name.
  package let name: String
  /// Its fields, in order.
  package let fields: [Field]
  /// Each field's byte offset.
  package let offsets: [Int]
  /// The struct's size, a multiple of its alignment (8).
  package let size: Int

  /// A struct named `name` with `fields` (name, kind) in order.
  package init(_ name: String, _ fields: [(String, Kind)]) {
    self.name = name
    self.fields = fields.map { Field(name: $0.0, kind: $0.1) }
    var offsets: [Int] = []
    var end = 0
    for field in self.fields {
      let start = (end + field.kind.alignment - 1) / field.kind.alignment * field.kind.alignment
      offsets.append(start)
      end = start + field.kind.size
    }
    self.offsets = offsets
    size = (end + 7) / 8 * 8
  }

  /// The CUDA C declaration, with the layout asserted field by field.
  package var declaration: String {
    var text = "struct \(name) {\n"
    for field in fields { text += "  \(field.kind.cType) \(field.name);\n" }
    text += "};\n"
    for (field, offset) in zip(fields, offsets) {
      text +=
        "static_assert(__builtin_offsetof(\(name), \(field.name)) == \(offset), \"\(name).\(field.name) is not where the host packs it\");\n"
    }
    text += "static_assert(sizeof(\(name)) == \(size), \"\(name) is not the size the host packs\");\n"
    return text
  }

  /// A value for one field, in the order of `fields`.
  package enum Value {
    /// A geometry's 64-bit words (see `KernelArguments.geometryWords`).
    case geometry([Int64])
    /// A device address (nil: a null pointer).
    case pointer(UnsafeMutableRawPointer?)
    /// A 64-bit signed integer.
    case int64(Int)
    /// A 64-bit unsigned integer.
    case uint64(UInt64)
    /// A 32-bit signed integer.
    case int32(Int32)
    /// A double.
    case double(Double)
  }

  /// The packed bytes of `values` (one per field, in order); stops with the kernel's name
  /// when a value does not match its field (a backend bug, not a user error).
  package func pack(_ values: [Value]) -> [UInt8] {
    usageCheck(
      values.count == fields.count, "kernel arguments \(name): \(values.count) values for \(fields.count) fields")
    var bytes = [UInt8](repeating: 0, count: size)
    func write<T>(_ value: T, at offset: Int) {
      withUnsafeBytes(of: value) { raw in
        for (k, byte) in raw.enumerated() { bytes[offset + k] = byte }
      }
    }
    for (k, (value, field)) in zip(values, fields).enumerated() {
      let offset = offsets[k]
      switch (value, field.kind) {
      case (.geometry(let words), .geometry):
        usageCheck(
          words.count * 8 == field.kind.size,
          "kernel arguments \(name).\(field.name): geometry of \(words.count) words for a \(field.kind.size)-byte field"
        )
        for (w, word) in words.enumerated() { write(word, at: offset + 8 * w) }
      case (.pointer(let p), .pointer): write(UInt(bitPattern: p), at: offset)
      case (.int64(let v), .int64): write(Int64(v), at: offset)
      case (.uint64(let v), .uint64): write(v, at: offset)
      case (.int32(let v), .int32): write(v, at: offset)
      case (.double(let v), .double): write(v, at: offset)
      default: usageFailure("kernel arguments \(name).\(field.name): a \(value) value for a \(field.kind) field")
      }
    }
    return bytes
  }

  /// The geometry value of `loop` for a kernel whose geometry describes `operands` operands.
  package static func geometry(_ loop: StridedLoop, operands: Int) -> Value {
    .geometry(geometryWords(shape: loop.shape, strides: loop.strides, offsets: loop.bases, operands: operands))
  }

  /// The words of a `Geometry<operands>` for a loop over `shape` where operand `k` has
  /// `strides[k]` and starts at `offsets[k]`: rank, count, shape, strides per operand, offsets.
  package static func geometryWords(shape: [Int], strides: [[Int]], offsets: [Int], operands: Int) -> [Int64] {
    let rank = KernelSource.maxRank
    usageCheck(
      shape.count <= rank,
      "CUDA kernels take at most \(rank) dims after merging; got shape \(shape); make the tensor contiguous first")
    var words = [Int64](repeating: 0, count: 2 + rank * (1 + operands) + operands)
    words[0] = Int64(shape.count)
    words[1] = Int64(shape.reduce(1, *))
    for (d, s) in shape.enumerated() { words[2 + d] = Int64(s) }
    for (k, operandStrides) in strides.prefix(operands).enumerated() {
      for (d, s) in operandStrides.enumerated() { words[2 + rank + k * rank + d] = Int64(s) }
    }
    for (k, offset) in offsets.prefix(operands).enumerated() { words[2 + rank * (1 + operands) + k] = Int64(offset) }
    return words
  }
}
