import CZlib
import Foundation

/// The subset of the ZIP format that `.npz` files use: stored or deflated entries, with
/// ZIP64 extensions (NumPy always writes them), read from memory and written whole.
enum Zip {
  struct Entry {
    var name: String
    var data: Data
  }

  private static func fail(_ path: String, _ reason: String) -> TensorFileError {
    .malformed(path: path, reason: reason)
  }

  /// The entries of an archive; throws on anything malformed, never trusting a size that
  /// the file cannot back.
  static func read(_ bytes: Data, path: String) throws -> [Entry] {
    let reader = ByteReader(bytes)
    // The end-of-central-directory record is in the last 64 KiB + 22 bytes.
    guard bytes.count >= 22 else { throw fail(path, "too short to be a zip archive (\(bytes.count) bytes)") }
    var eocd = -1
    var i = bytes.count - 22
    let lowest = max(0, bytes.count - 22 - 65_535)
    while i >= lowest {
      if reader.u32(i) == 0x0605_4B50 {
        eocd = i
        break
      }
      i -= 1
    }
    guard eocd >= 0 else { throw fail(path, "no end-of-central-directory record (not a zip archive)") }
    var count = Int(reader.u16(eocd + 10)!)
    var directorySize = Int(reader.u32(eocd + 12)!)
    var directoryOffset = Int(reader.u32(eocd + 16)!)
    // ZIP64: a locator just before the record points at the 64-bit record.
    if eocd >= 20, reader.u32(eocd - 20) == 0x0706_4B50, let recordOffset = reader.u64(eocd - 12) {
      let r = Int(clamping: recordOffset)
      guard reader.u32(r) == 0x0606_4B50, let c = reader.u64(r + 32), let s = reader.u64(r + 40), let o = reader.u64(r + 48)
      else { throw fail(path, "broken ZIP64 end-of-central-directory record") }
      count = Int(clamping: c)
      directorySize = Int(clamping: s)
      directoryOffset = Int(clamping: o)
    }
    guard directoryOffset >= 0, directorySize >= 0, directoryOffset <= bytes.count - directorySize, count <= directorySize / 46 + 1
    else { throw fail(path, "central directory (offset \(directoryOffset), \(directorySize) bytes) lies outside the file") }
    var entries: [Entry] = []
    var p = directoryOffset
    for index in 0..<count {
      guard reader.u32(p) == 0x0201_4B50, let method = reader.u16(p + 10), let crc = reader.u32(p + 16),
        var compressed = reader.u32(p + 20).map(Int.init), var size = reader.u32(p + 24).map(Int.init),
        let nameLength = reader.u16(p + 28).map(Int.init), let extraLength = reader.u16(p + 30).map(Int.init),
        let commentLength = reader.u16(p + 32).map(Int.init), var localOffset = reader.u32(p + 42).map(Int.init),
        let nameBytes = reader.slice(p + 46, nameLength)
      else { throw fail(path, "central directory entry \(index) is truncated") }
      let name = String(decoding: nameBytes, as: UTF8.self)
      // ZIP64 extra field: 64-bit sizes and offset for the fields saturated at 0xFFFFFFFF.
      var e = p + 46 + nameLength
      let extraEnd = e + extraLength
      while e + 4 <= extraEnd, let id = reader.u16(e), let length = reader.u16(e + 2).map(Int.init) {
        if id == 1 {
          var f = e + 4
          if size == 0xFFFF_FFFF, let v = reader.u64(f) { size = Int(clamping: v); f += 8 }
          if compressed == 0xFFFF_FFFF, let v = reader.u64(f) { compressed = Int(clamping: v); f += 8 }
          if localOffset == 0xFFFF_FFFF, let v = reader.u64(f) { localOffset = Int(clamping: v) }
        }
        e += 4 + length
      }
      guard reader.u32(localOffset) == 0x0403_4B50, let localName = reader.u16(localOffset + 26).map(Int.init),
        let localExtra = reader.u16(localOffset + 28).map(Int.init)
      else { throw fail(path, "entry '\(name)': local header at offset \(localOffset) is missing") }
      let dataStart = localOffset + 30 + localName + localExtra
      guard let raw = reader.slice(dataStart, compressed) else {
        throw fail(path, "entry '\(name)': \(compressed) bytes of data at offset \(dataStart) run past the end of the file")
      }
      let data: Data
      switch method {
      case 0:
        guard compressed == size else { throw fail(path, "entry '\(name)': stored size \(compressed) differs from \(size)") }
        data = Data(raw)
      case 8: data = try inflate(raw, expectedSize: size, path: path, name: name)
      default: throw fail(path, "entry '\(name)': unsupported compression method \(method) (only stored and deflate)")
      }
      guard checksum(data) == crc else { throw fail(path, "entry '\(name)': CRC-32 mismatch (the data is corrupt)") }
      entries.append(Entry(name: name, data: data))
      p += 46 + nameLength + extraLength + commentLength
    }
    return entries
  }

  static func checksum(_ data: Data) -> UInt32 {
    data.withUnsafeBytes { raw in
      var crc = crc32(0, nil, 0)
      var offset = 0
      while offset < raw.count {
        let chunk = min(raw.count - offset, Int(UInt32.max >> 1))
        crc = crc32(crc, raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset, uInt(chunk))
        offset += chunk
      }
      return UInt32(crc)
    }
  }

  private static func inflate(_ raw: Data.SubSequence, expectedSize: Int, path: String, name: String) throws -> Data {
    // The declared size bounds the output: a corrupt header cannot make us allocate more
    // than deflate's maximum expansion of the bytes actually present.
    guard expectedSize <= raw.count * 1032 + 64 else {
      throw fail(path, "entry '\(name)': declared size \(expectedSize) is impossible for \(raw.count) compressed bytes")
    }
    var output = Data(count: expectedSize)
    var stream = z_stream()
    guard czlib_inflate_init_raw(&stream) == Z_OK else { throw fail(path, "entry '\(name)': zlib failed to start") }
    defer { inflateEnd(&stream) }
    let status: Int32 = raw.withUnsafeBytes { input in
      output.withUnsafeMutableBytes { out in
        stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
        stream.avail_in = uInt(input.count)
        stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
        stream.avail_out = uInt(out.count)
        return CZlib.inflate(&stream, Z_FINISH)
      }
    }
    guard status == Z_STREAM_END, Int(stream.total_out) == expectedSize else {
      throw fail(path, "entry '\(name)': deflate data is corrupt (zlib status \(status), \(stream.total_out) of \(expectedSize) bytes)")
    }
    return output
  }

  private static func deflate(_ data: Data) -> Data {
    var stream = z_stream()
    _ = czlib_deflate_init_raw(&stream, Z_DEFAULT_COMPRESSION)
    defer { deflateEnd(&stream) }
    var output = Data(count: Int(deflateBound(&stream, uLong(data.count))))
    let produced: Int = data.withUnsafeBytes { input in
      output.withUnsafeMutableBytes { out in
        stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
        stream.avail_in = uInt(input.count)
        stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
        stream.avail_out = uInt(out.count)
        _ = CZlib.deflate(&stream, Z_FINISH)
        return Int(stream.total_out)
      }
    }
    return output.prefix(produced)
  }

  /// An archive holding `entries`, stored or deflated, with ZIP64 records so that entries
  /// over 4 GiB work (as NumPy writes them).
  static func write(_ entries: [Entry], compress: Bool) -> Data {
    var out = Data()
    var directory = Data()
    for entry in entries {
      let payload = compress ? deflate(entry.data) : entry.data
      let crc = checksum(entry.data)
      let name = Data(entry.name.utf8)
      let offset = out.count
      var local = ByteWriter()
      local.u32(0x0403_4B50); local.u16(45); local.u16(0); local.u16(compress ? 8 : 0); local.u16(0); local.u16(0x21)
      local.u32(crc); local.u32(0xFFFF_FFFF); local.u32(0xFFFF_FFFF); local.u16(UInt16(name.count)); local.u16(20)
      local.bytes.append(name)
      local.u16(1); local.u16(16); local.u64(UInt64(entry.data.count)); local.u64(UInt64(payload.count))
      out.append(local.bytes)
      out.append(payload)
      var central = ByteWriter()
      central.u32(0x0201_4B50); central.u16(45); central.u16(45); central.u16(0); central.u16(compress ? 8 : 0)
      central.u16(0); central.u16(0x21); central.u32(crc); central.u32(0xFFFF_FFFF); central.u32(0xFFFF_FFFF)
      central.u16(UInt16(name.count)); central.u16(28); central.u16(0); central.u16(0); central.u16(0); central.u32(0)
      central.u32(0xFFFF_FFFF)
      central.bytes.append(name)
      central.u16(1); central.u16(24); central.u64(UInt64(entry.data.count)); central.u64(UInt64(payload.count)); central.u64(UInt64(offset))
      directory.append(central.bytes)
    }
    let directoryOffset = out.count
    out.append(directory)
    var tail = ByteWriter()
    let record = out.count
    tail.u32(0x0606_4B50); tail.u64(44); tail.u16(45); tail.u16(45); tail.u32(0); tail.u32(0)
    tail.u64(UInt64(entries.count)); tail.u64(UInt64(entries.count)); tail.u64(UInt64(directory.count)); tail.u64(UInt64(directoryOffset))
    tail.u32(0x0706_4B50); tail.u32(0); tail.u64(UInt64(record)); tail.u32(1)
    tail.u32(0x0605_4B50); tail.u16(0); tail.u16(0); tail.u16(UInt16(min(entries.count, 0xFFFF))); tail.u16(UInt16(min(entries.count, 0xFFFF)))
    tail.u32(UInt32(min(directory.count, 0xFFFF_FFFF))); tail.u32(0xFFFF_FFFF); tail.u16(0)
    out.append(tail.bytes)
    return out
  }
}

/// Bounds-checked little-endian reads: `nil` instead of reading past the end.
struct ByteReader {
  let bytes: Data
  init(_ bytes: Data) { self.bytes = bytes }

  func slice(_ offset: Int, _ count: Int) -> Data.SubSequence? {
    guard offset >= 0, count >= 0, offset <= bytes.count - count else { return nil }
    let start = bytes.startIndex + offset
    return bytes[start..<(start + count)]
  }

  private func value(_ offset: Int, _ width: Int) -> UInt64? {
    guard let s = slice(offset, width) else { return nil }
    return s.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
  }
  func u16(_ offset: Int) -> UInt16? { value(offset, 2).map { UInt16($0) } }
  func u32(_ offset: Int) -> UInt32? { value(offset, 4).map { UInt32($0) } }
  func u64(_ offset: Int) -> UInt64? { value(offset, 8) }
}

/// Little-endian writes.
struct ByteWriter {
  var bytes = Data()
  mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
  mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
  mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
}
