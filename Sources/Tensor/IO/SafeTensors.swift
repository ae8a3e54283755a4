import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian data.
enum SafeTensors {
  static func code(_ dtype: DType) -> String {
    switch dtype {
    case .float64: "F64"
    case .float32: "F32"
    case .float16: "F16"
    case .bfloat16: "BF16"
    case .int64: "I64"
    case .int32: "I32"
    case .int16: "I16"
    case .int8: "I8"
    case .uint8: "U8"
    case .bool: "BOOL"
    }
  }

  struct Entry {
    var name: String
    var dtype: DType
    var shape: [Int]
    var begin: Int
    var end: Int
  }

  /// Parses and validates the header of a file of `bytes.count` bytes: every range must lie
  /// inside the data and match its dtype and shape.
  static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> (
    entries: [Entry], metadata: [String: String], dataStart: Int
  ) {
    func fail(_ reason: String) -> TensorFileError { .malformed(path: path, reason: reason) }
    guard bytes.count >= 8 else { throw fail("shorter than the 8-byte header length") }
    let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
    guard length <= UInt64(bytes.count - 8) else {
      throw fail("header length \(length) runs past the end of the file (\(bytes.count) bytes)")
    }
    let dataStart = 8 + Int(length)
    let headerBytes = Data(bytes[8..<dataStart])
    guard let object = try? JSONSerialization.jsonObject(with: headerBytes), let header = object as? [String: Any]
    else {
      throw fail("the header is not a JSON object")
    }
    var metadata: [String: String] = [:]
    var entries: [Entry] = []
    let dataSize = bytes.count - dataStart
    for (name, value) in header {
      if name == "__metadata__" {
        guard let m = value as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
        metadata = m
        continue
      }
      guard let info = value as? [String: Any], let code = info["dtype"] as? String,
        let shapeValues = info["shape"] as? [Any], let offsets = info["data_offsets"] as? [Any], offsets.count == 2
      else { throw fail("tensor '\(name)' needs dtype, shape and data_offsets") }
      guard let dtype = DType.allCases.first(where: { self.code($0) == code }) else {
        throw TensorFileError.unsupportedDType(path: path, descriptor: code)
      }
      let shape = try shapeValues.map { v -> Int in
        guard let n = (v as? NSNumber)?.intValue, n >= 0, (v as? NSNumber)?.doubleValue == Double(n) else {
          throw fail("tensor '\(name)' has an invalid shape entry \(v)")
        }
        return n
      }
      let range = try offsets.map { v -> Int in
        guard let n = (v as? NSNumber)?.intValue, n >= 0 else {
          throw fail("tensor '\(name)' has an invalid data offset \(v)")
        }
        return n
      }
      let expected = try Tensor.checkedByteCount(shape, dtype: dtype, path: "\(path)[\(name)]")
      guard range[0] <= range[1], range[1] <= dataSize, range[1] - range[0] == expected else {
        throw fail(
          "tensor '\(name)': bytes \(range[0])..<\(range[1]) do not hold \(shape) \(code) within the \(dataSize) data bytes"
        )
      }
      entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: range[0], end: range[1]))
    }
    return (entries, metadata, dataStart)
  }

  /// A new tensor holding a copy of `entry`'s bytes in a file of `bytes`.
  static func copy(_ entry: Entry, dataStart: Int, of bytes: UnsafeRawBufferPointer, path: String) throws -> Tensor {
    let t = try Tensor.allocatedForReading(entry.shape, dtype: entry.dtype, path: "\(path)[\(entry.name)]")
    var source = MemorySource(
      UnsafeRawBufferPointer(rebasing: bytes[(dataStart + entry.begin)..<(dataStart + entry.end)]), path: path)
    try source.readExactly(into: UnsafeMutableRawBufferPointer(start: t.storage.data, count: entry.end - entry.begin))
    return t
  }

  /// Writes `tensors` and `metadata` as a safetensors file into `sink`, each tensor's data
  /// straight from its storage.
  static func encode(_ tensors: [String: Tensor], metadata: [String: String], into sink: inout some ByteSink) throws {
    var header: [String: Any] = [:]
    if !metadata.isEmpty { header["__metadata__"] = metadata }
    var offset = 0
    var hosts: [Tensor] = []
    for name in tensors.keys.sorted() {
      let t = tensors[name]!.movedTo(.cpu).contiguous()
      let bytes = t.numel * t.dtype.itemSize
      header[name] =
        ["dtype": code(t.dtype), "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
      offset += bytes
      hosts.append(t)
    }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    // Pad with spaces so that the data starts 8-byte aligned.
    json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
    var length = ByteWriter()
    length.u64(UInt64(json.count))
    try sink.write(length.bytes)
    try sink.write(json)
    for t in hosts { try sink.write(t.rawBytes) }
  }
}

extension Tensor {
  /// Reads a safetensors file. The file is memory-mapped (copy-on-write by default) and the
  /// tensors are views of it: nothing is read until used, and writes stay private unless
  /// `mapping` is `.readWrite`.
  public static func load(safetensors url: URL, mapping: FileMapping = .copyOnWrite) throws -> [String: Tensor] {
    let file = try MappedFile(url, mapping: mapping)
    let parsed: (entries: [SafeTensors.Entry], metadata: [String: String], dataStart: Int)
    do {
      parsed = try SafeTensors.parse(file.bytes, path: url.path)
    } catch {
      file.unmap()
      throw error
    }
    let storage = file.makeStorage()
    var result: [String: Tensor] = [:]
    for entry in parsed.entries {
      let start = parsed.dataStart + entry.begin
      if start % entry.dtype.itemSize == 0 {
        result[entry.name] = Tensor(
          storage: storage, layout: Layout(contiguous: entry.shape, offset: start / entry.dtype.itemSize),
          dtype: entry.dtype)
      } else {
        // Misaligned for its element type: copy out.
        result[entry.name] = try SafeTensors.copy(entry, dataStart: parsed.dataStart, of: file.bytes, path: url.path)
      }
    }
    return result
  }

  /// Reads safetensors bytes (copied into new tensors).
  public static func load(safetensors data: Data, path: String = "<memory>") throws -> [String: Tensor] {
    try data.withUnsafeBytes { raw in
      let parsed = try SafeTensors.parse(raw, path: path)
      var result: [String: Tensor] = [:]
      for entry in parsed.entries {
        result[entry.name] = try SafeTensors.copy(entry, dataStart: parsed.dataStart, of: raw, path: path)
      }
      return result
    }
  }

  /// The `__metadata__` strings of a safetensors file.
  public static func safetensorsMetadata(_ url: URL) throws -> [String: String] {
    let file = try MappedFile(url, mapping: .readOnly)
    defer { file.unmap() }
    return try SafeTensors.parse(file.bytes, path: url.path).metadata
  }

  /// Writes tensors (any dtype, bfloat16 and float16 included) and optional string
  /// metadata as a safetensors file, replaced atomically.
  public static func save(safetensors url: URL, _ tensors: [String: Tensor], metadata: [String: String] = [:]) throws {
    try writeAtomically(to: url) { file in
      var sink = file
      try SafeTensors.encode(tensors, metadata: metadata, into: &sink)
    }
  }

  /// The bytes of a safetensors file holding `tensors`.
  public static func safetensorsData(_ tensors: [String: Tensor], metadata: [String: String] = [:]) throws -> Data {
    var sink = MemorySink()
    try SafeTensors.encode(tensors, metadata: metadata, into: &sink)
    return sink.data
  }
}
