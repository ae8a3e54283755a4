import Foundation

/// Why a tensor file could not be read or written.
public enum TensorFileError: Error, CustomStringConvertible, Sendable {
  /// The file is not in the expected format; says what is wrong and where.
  case malformed(path: String, reason: String)
  /// The file holds a type the library has no dtype for.
  case unsupportedDType(path: String, descriptor: String)
  /// The operating system refused a read or write.
  case io(path: String, reason: String)

  /// A message a user can act on.
  public var description: String {
    switch self {
    case .malformed(let path, let reason): "\(path): not a valid tensor file: \(reason)"
    case .unsupportedDType(let path, let d): "\(path): unsupported dtype '\(d)' (supported: f2 f4 f8 i1 i2 i4 i8 u1 b1)"
    case .io(let path, let reason): "\(path): \(reason)"
    }
  }
}

/// The `.npy` format: a magic string, a version, a Python-dict header and raw data.
enum NPY {
  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

  /// NumPy's type code for a dtype, without the byte-order character.
  static func typeCode(_ dtype: DType) -> String? {
    switch dtype {
    case .float32: "f4"
    case .float64: "f8"
    case .float16: "f2"
    case .int64: "i8"
    case .int32: "i4"
    case .int16: "i2"
    case .int8: "i1"
    case .uint8: "u1"
    case .bool: "b1"
    case .bfloat16: nil
    }
  }

  static func dtype(forTypeCode code: String) -> DType? {
    DType.allCases.first { typeCode($0) == code }
  }

  /// The header fields of a `.npy` file.
  struct Header {
    var dtype: DType
    var bigEndian: Bool
    var fortranOrder: Bool
    var shape: [Int]
    var dataOffset: Int
  }

  /// Where the header text starts and how long it is, from the first bytes of a file
  /// (`bytes` may be just those); throws on a wrong magic string or version.
  static func headerExtent(_ bytes: UnsafeRawBufferPointer, path: String) throws -> (start: Int, length: Int) {
    func fail(_ reason: String) -> TensorFileError { .malformed(path: path, reason: reason) }
    guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("missing the \\x93NUMPY magic string") }
    switch bytes[6] {
    case 1: return (10, Int(bytes[8]) | Int(bytes[9]) << 8)
    case 2, 3:
      guard bytes.count >= 12 else { throw fail("truncated header length") }
      return (12, (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) })
    default: throw fail("unknown format version \(bytes[6]).\(bytes[7])")
    }
  }

  /// Parses the header at the start of `bytes` (the whole file, or at least its header) of
  /// a file of `totalSize` bytes; throws on anything malformed, on a shape whose element
  /// count, strides or byte size overflow, and on data the file is too short to hold.
  static func parseHeader(_ bytes: UnsafeRawBufferPointer, totalSize: Int? = nil, path: String) throws -> Header {
    func fail(_ reason: String) -> TensorFileError { .malformed(path: path, reason: reason) }
    let totalSize = totalSize ?? bytes.count
    let (start, headerLength) = try headerExtent(bytes, path: path)
    guard headerLength <= bytes.count - start, headerLength <= totalSize - start else {
      throw fail("header of \(headerLength) bytes runs past the end of the file (\(totalSize) bytes)")
    }
    let major = bytes[6]
    guard let text = String(bytes: bytes[start..<(start + headerLength)], encoding: major == 3 ? .utf8 : .isoLatin1)
    else {
      throw fail("header is not text")
    }
    func field(_ name: String) throws -> Substring {
      guard let keyRange = text.range(of: "'\(name)'") else { throw fail("header has no '\(name)' key") }
      var rest = text[keyRange.upperBound...].drop { $0 == " " }
      guard rest.first == ":" else { throw fail("no ':' after '\(name)'") }
      rest = rest.dropFirst().drop { $0 == " " }
      return rest
    }
    let descrField = try field("descr")
    guard let quote = descrField.first, quote == "'" || quote == "\"",
      let close = descrField.dropFirst().firstIndex(of: quote)
    else { throw fail("'descr' is not a string (structured arrays are not supported)") }
    let descr = String(descrField[descrField.index(after: descrField.startIndex)..<close])
    guard descr.count >= 2 else { throw fail("'descr' '\(descr)' is too short") }
    let order = descr.first!
    let code = String(descr.dropFirst())
    guard let dtype = dtype(forTypeCode: code) else {
      throw TensorFileError.unsupportedDType(path: path, descriptor: descr)
    }
    guard "<>|=".contains(order) else { throw fail("unknown byte order '\(order)' in '\(descr)'") }
    let fortranField = try field("fortran_order")
    let fortran: Bool
    if fortranField.hasPrefix("True") {
      fortran = true
    } else if fortranField.hasPrefix("False") {
      fortran = false
    } else {
      throw fail("'fortran_order' is neither True nor False")
    }
    let shapeField = try field("shape")
    guard shapeField.first == "(", let closing = shapeField.firstIndex(of: ")") else {
      throw fail("'shape' is not a tuple")
    }
    let inner = shapeField[shapeField.index(after: shapeField.startIndex)..<closing]
    var shape: [Int] = []
    for part in inner.split(separator: ",") {
      let trimmed = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
      if trimmed.isEmpty { continue }
      guard let n = Int(trimmed), n >= 0 else { throw fail("shape entry '\(trimmed)' is not a size") }
      shape.append(n)
    }
    let dataOffset = start + headerLength
    let bytesNeeded = try Tensor.checkedByteCount(shape, dtype: dtype, path: path)
    guard bytesNeeded <= totalSize - dataOffset else {
      throw fail(
        "data of shape \(shape) needs \(bytesNeeded) bytes but the file has \(totalSize - dataOffset) after the header")
    }
    return Header(dtype: dtype, bigEndian: order == ">", fortranOrder: fortran, shape: shape, dataOffset: dataOffset)
  }

  /// Reads a `.npy` file of `totalSize` bytes from `source` into a new tensor: the header,
  /// then the data straight into the tensor's storage. A Fortran-order file gives a tensor
  /// with column-major strides, as NumPy's array has.
  static func decode(from source: inout some ByteSource, totalSize: Int, path: String) throws -> Tensor {
    var prefix = try source.read(min(10, totalSize))
    if prefix.count == 10, prefix[6] == 2 || prefix[6] == 3, totalSize >= 12 { prefix += try source.read(2) }
    let extent = try prefix.withUnsafeBytes { try headerExtent($0, path: path) }
    guard extent.length <= totalSize - extent.start else {
      throw TensorFileError.malformed(
        path: path, reason: "header of \(extent.length) bytes runs past the end of the file (\(totalSize) bytes)")
    }
    prefix += try source.read(extent.start + extent.length - prefix.count)
    let header = try prefix.withUnsafeBytes { try parseHeader($0, totalSize: totalSize, path: path) }
    let storageShape = header.fortranOrder ? Array(header.shape.reversed()) : header.shape
    let t = try Tensor.allocatedForReading(storageShape, dtype: header.dtype, path: path)
    try source.readExactly(
      into: UnsafeMutableRawBufferPointer(start: t.storage.data, count: t.numel * header.dtype.itemSize))
    if header.bigEndian && header.dtype.itemSize > 1 {
      swapBytes(t.storage.data, count: t.numel, width: header.dtype.itemSize)
    }
    if header.fortranOrder && header.shape.count > 1 {
      return t.permute(Array((0..<storageShape.count).reversed()))
    }
    return t
  }

  static func swapBytes(_ p: UnsafeMutableRawPointer, count: Int, width: Int) {
    let bytes = p.assumingMemoryBound(to: UInt8.self)
    for i in 0..<count {
      let base = bytes + i * width
      for k in 0..<(width / 2) { swap(&base[k], &base[width - 1 - k]) }
    }
  }

  /// The header bytes of a `.npy` file (version 1.0, little-endian, C order) for a tensor
  /// of `shape` and `dtype`; the data follows them.
  static func header(shape: [Int], dtype: DType, path: String) throws -> [UInt8] {
    guard let code = typeCode(dtype) else {
      throw TensorFileError.unsupportedDType(path: path, descriptor: dtype.name)
    }
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header =
      "{'descr': '\(code == "b1" || code == "i1" || code == "u1" ? "|" : "<")\(code)', 'fortran_order': False, 'shape': \(shapeText), }"
    // Pad so that the data starts on a 64-byte boundary, ending with a newline.
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    // Version 1.0 has a 2-byte header length; longer headers (huge ranks) need 2.0.
    let length = header.utf8.count
    if length + 10 <= 65_535 {
      return magic + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8)
    }
    header = String(header.dropLast()) + "  \n"  // 12-byte preamble: keep 64-byte alignment
    let l = header.utf8.count
    return magic + [2, 0] + (0..<4).map { UInt8((l >> (8 * $0)) & 0xFF) } + Array(header.utf8)
  }

  /// Writes `tensor` as a `.npy` file into `sink`, its data straight from its storage.
  static func encode(_ tensor: Tensor, into sink: inout some ByteSink, path: String) throws {
    let host = tensor.movedTo(.cpu).contiguous()
    try sink.write(header(shape: host.shape, dtype: host.dtype, path: path))
    try sink.write(host.rawBytes)
  }
}

extension Tensor {
  /// The element count's bytes for a tensor of `shape` read from a file, or a `malformed`
  /// error when a size is negative or a count, stride or byte size overflows.
  static func checkedByteCount(_ shape: [Int], dtype: DType, path: String) throws -> Int {
    guard let bytes = Layout.byteCount(ofContiguous: shape, itemSize: dtype.itemSize) else {
      throw TensorFileError.malformed(
        path: path, reason: "shape \(shape) of \(dtype) elements overflows (it cannot be laid out in memory)")
    }
    return bytes
  }

  /// A new contiguous CPU tensor for a reader to fill; throws instead of stopping when the
  /// shape overflows or the memory cannot be had.
  static func allocatedForReading(_ shape: [Int], dtype: DType, path: String) throws -> Tensor {
    let byteCount = try checkedByteCount(shape, dtype: dtype, path: path)
    let allocator = CPUBackend.hostAllocator
    guard let pointer = allocator.allocateOrNil(byteCount: byteCount) else {
      throw TensorFileError.io(
        path: path, reason: "not enough memory for a tensor of shape \(shape) (\(byteCount) bytes)")
    }
    return Tensor(
      storage: Storage(adopting: pointer, byteCount: byteCount, allocator: allocator),
      layout: Layout(contiguous: shape), dtype: dtype)
  }

  /// The bytes of a contiguous CPU tensor's elements.
  var rawBytes: UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: storage.data + storageOffset * dtype.itemSize, count: numel * dtype.itemSize)
  }
}

extension Tensor {
  /// Decodes the bytes of a `.npy` file (the in-memory form of `init(npy:)`).
  public convenience init(npy data: Data, path: String = "<memory>") throws {
    let t = try data.withUnsafeBytes { raw in
      var source = MemorySource(raw, path: path)
      return try NPY.decode(from: &source, totalSize: raw.count, path: path)
    }
    self.init(storage: t.storage, layout: t.layout, dtype: t.dtype)
  }

  /// The bytes of a `.npy` file holding this tensor (the in-memory form of `save(npy:)`).
  public func npyData() throws -> Data {
    var sink = MemorySink()
    try NPY.encode(self, into: &sink, path: "<memory>")
    return sink.data
  }

  /// Reads a `.npy` file (every NumPy dtype the library has, either byte order, C or
  /// Fortran order) into a new CPU tensor (PyTorch/NumPy: `np.load`). The file is mapped and
  /// its data copied once, into the tensor.
  public convenience init(npy url: URL) throws {
    let t = try Tensor.readFile(url) { raw in
      var source = MemorySource(raw, path: url.path)
      return try NPY.decode(from: &source, totalSize: raw.count, path: url.path)
    }
    self.init(storage: t.storage, layout: t.layout, dtype: t.dtype)
  }

  /// Writes the tensor as a `.npy` file (NumPy: `np.save`). The file is replaced atomically:
  /// an interrupted or failed save leaves the old file (see `AtomicFileWriter`).
  public func save(npy url: URL) throws {
    try Tensor.writeAtomically(to: url) { file in
      var sink = file
      try NPY.encode(self, into: &sink, path: url.path)
    }
  }
}
