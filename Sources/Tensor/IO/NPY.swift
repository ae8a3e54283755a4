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

  /// Parses the header at the start of `bytes`; throws on anything malformed.
  static func parseHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws -> Header {
    func fail(_ reason: String) -> TensorFileError { .malformed(path: path, reason: reason) }
    guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("missing the \\x93NUMPY magic string") }
    let major = bytes[6]
    let headerLength: Int
    let start: Int
    switch major {
    case 1:
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      start = 10
    case 2, 3:
      guard bytes.count >= 12 else { throw fail("truncated header length") }
      headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
      start = 12
    default: throw fail("unknown format version \(major).\(bytes[7])")
    }
    guard headerLength <= bytes.count - start else {
      throw fail("header of \(headerLength) bytes runs past the end of the file (\(bytes.count) bytes)")
    }
    guard let text = String(bytes: bytes[start..<(start + headerLength)], encoding: major == 3 ? .utf8 : .isoLatin1) else {
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
    guard let dtype = dtype(forTypeCode: code) else { throw TensorFileError.unsupportedDType(path: path, descriptor: descr) }
    guard "<>|=".contains(order) else { throw fail("unknown byte order '\(order)' in '\(descr)'") }
    let fortranField = try field("fortran_order")
    let fortran: Bool
    if fortranField.hasPrefix("True") { fortran = true } else if fortranField.hasPrefix("False") { fortran = false } else {
      throw fail("'fortran_order' is neither True nor False")
    }
    let shapeField = try field("shape")
    guard shapeField.first == "(", let closing = shapeField.firstIndex(of: ")") else { throw fail("'shape' is not a tuple") }
    let inner = shapeField[shapeField.index(after: shapeField.startIndex)..<closing]
    var shape: [Int] = []
    for part in inner.split(separator: ",") {
      let trimmed = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
      if trimmed.isEmpty { continue }
      guard let n = Int(trimmed), n >= 0 else { throw fail("shape entry '\(trimmed)' is not a size") }
      shape.append(n)
    }
    var count = 1
    for s in shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: s)
      guard !overflow else { throw fail("shape \(shape) overflows") }
      count = product
    }
    let dataOffset = start + headerLength
    let (bytesNeeded, overflow) = count.multipliedReportingOverflow(by: dtype.itemSize)
    guard !overflow, bytesNeeded <= bytes.count - dataOffset else {
      throw fail("data of shape \(shape) needs \(bytesNeeded) bytes but the file has \(bytes.count - dataOffset) after the header")
    }
    return Header(dtype: dtype, bigEndian: order == ">", fortranOrder: fortran, shape: shape, dataOffset: dataOffset)
  }

  /// A tensor with a copy of the data of a `.npy` file's bytes.
  static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws -> Tensor {
    let header = try parseHeader(bytes, path: path)
    let storageShape = header.fortranOrder ? Array(header.shape.reversed()) : header.shape
    let t = Tensor(uninitializedShape: storageShape, dtype: header.dtype, device: .cpu)
    let byteCount = t.numel * header.dtype.itemSize
    if byteCount > 0 {
      t.storage.data.copyMemory(from: bytes.baseAddress! + header.dataOffset, byteCount: byteCount)
      if header.bigEndian && header.dtype.itemSize > 1 { swapBytes(t.storage.data, count: t.numel, width: header.dtype.itemSize) }
    }
    if header.fortranOrder && header.shape.count > 1 {
      return t.permute(Array((0..<storageShape.count).reversed())).contiguous()
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

  /// The bytes of a `.npy` file (version 1.0, little-endian, C order) holding `tensor`.
  static func encode(_ tensor: Tensor, path: String) throws -> Data {
    guard let code = typeCode(tensor.dtype) else {
      throw TensorFileError.unsupportedDType(path: path, descriptor: tensor.dtype.name)
    }
    let host = tensor.movedTo(.cpu).contiguous()
    let shapeText = host.shape.count == 1 ? "(\(host.shape[0]),)" : "(" + host.shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '\(code == "b1" || code == "i1" || code == "u1" ? "|" : "<")\(code)', 'fortran_order': False, 'shape': \(shapeText), }"
    // Pad so that the data starts on a 64-byte boundary, ending with a newline.
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    // Version 1.0 has a 2-byte header length; longer headers (huge ranks) need 2.0.
    let length = header.utf8.count
    var data: Data
    if length + 10 <= 65_535 {
      data = Data(magic + [1, 0])
      data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
    } else {
      header = String(header.dropLast()) + "  \n"  // 12-byte preamble: keep 64-byte alignment
      data = Data(magic + [2, 0])
      let l = header.utf8.count
      data.append(contentsOf: (0..<4).map { UInt8((l >> (8 * $0)) & 0xFF) })
    }
    data.append(contentsOf: Array(header.utf8))
    data.append(Data(bytes: host.storage.data + host.storageOffset * host.dtype.itemSize, count: host.numel * host.dtype.itemSize))
    return data
  }
}

extension Tensor {
  /// Decodes the bytes of a `.npy` file (the in-memory form of `init(npy:)`).
  public convenience init(npy data: Data, path: String = "<memory>") throws {
    let t = try data.withUnsafeBytes { try NPY.decode($0, path: path) }
    self.init(storage: t.storage, layout: t.layout, dtype: t.dtype)
  }

  /// The bytes of a `.npy` file holding this tensor (the in-memory form of `save(npy:)`).
  public func npyData() throws -> Data { try NPY.encode(self, path: "<memory>") }

  /// Reads a `.npy` file (every NumPy dtype the library has, either byte order, C or
  /// Fortran order) into a new CPU tensor (PyTorch/NumPy: `np.load`).
  public convenience init(npy url: URL) throws {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw TensorFileError.io(path: url.path, reason: error.localizedDescription)
    }
    let t = try data.withUnsafeBytes { try NPY.decode($0, path: url.path) }
    self.init(storage: t.storage, layout: t.layout, dtype: t.dtype)
  }

  /// Writes the tensor as a `.npy` file (through a temporary file renamed into place, so an
  /// interrupted save leaves any old file intact) (NumPy: `np.save`).
  public func save(npy url: URL) throws {
    let bytes = try NPY.encode(self, path: url.path)
    try Tensor.writeAtomically(bytes, to: url)
  }

  /// Writes `data` to a temporary file beside `url`, then renames it over `url`.
  package static func writeAtomically(_ data: Data, to url: URL) throws {
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
    do {
      try data.write(to: temporary)
      if FileManager.default.fileExists(atPath: url.path) {
        _ = try FileManager.default.replaceItemAt(url, withItemAt: temporary)
      } else {
        try FileManager.default.moveItem(at: temporary, to: url)
      }
    } catch {
      try? FileManager.default.removeItem(at: temporary)
      throw TensorFileError.io(path: url.path, reason: error.localizedDescription)
    }
  }
}
