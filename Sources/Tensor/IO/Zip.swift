import CZlib
import Foundation

/// The subset of the ZIP format that `.npz` files use: stored or deflated members, with
/// ZIP64 extensions (NumPy always writes them). Reading validates the archive's structure
/// before anything is inflated; writing streams each member into a `ByteSink`.
enum Zip {
  /// A member of an archive, located and checked but not yet read.
  struct Member {
    var name: String
    /// 0 stored, 8 deflated.
    var method: Int
    var crc: UInt32
    /// The member's bytes as stored in the file (compressed or not).
    var dataStart: Int
    var compressedSize: Int
    /// The size once inflated, as the central directory declares it.
    var size: Int
  }

  /// An entry for `write(_:compress:)`: a name and its bytes.
  struct Entry {
    var name: String
    var data: Data
  }

  private static func fail(_ path: String, _ reason: String) -> TensorFileError {
    .malformed(path: path, reason: reason)
  }

  /// The largest ratio of inflated to deflated size that deflate can reach (1032:1).
  static let maximumExpansion = 1032

  /// The members of an archive; throws on anything malformed, never trusting a size that the
  /// file cannot back. Zip-bomb shapes are rejected here: members whose data overlap (one
  /// deflate stream listed many times), a local header whose name differs from the central
  /// directory's, and declared sizes deflate cannot reach from the bytes present.
  static func members(_ bytes: UnsafeRawBufferPointer, path: String) throws -> [Member] {
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
      guard reader.u32(r) == 0x0606_4B50, let c = reader.u64(r + 32), let s = reader.u64(r + 40),
        let o = reader.u64(r + 48)
      else { throw fail(path, "broken ZIP64 end-of-central-directory record") }
      count = Int(clamping: c)
      directorySize = Int(clamping: s)
      directoryOffset = Int(clamping: o)
    }
    guard directoryOffset >= 0, directorySize >= 0, directoryOffset <= bytes.count - directorySize,
      count <= directorySize / 46 + 1
    else {
      throw fail(path, "central directory (offset \(directoryOffset), \(directorySize) bytes) lies outside the file")
    }
    var members: [Member] = []
    var regions: [(start: Int, end: Int, name: String)] = [
      (directoryOffset, directoryOffset + directorySize, "the central directory")
    ]
    var p = directoryOffset
    for index in 0..<count {
      guard reader.u32(p) == 0x0201_4B50, let method = reader.u16(p + 10).map(Int.init), let crc = reader.u32(p + 16),
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
          if size == 0xFFFF_FFFF, let v = reader.u64(f) {
            size = Int(clamping: v)
            f += 8
          }
          if compressed == 0xFFFF_FFFF, let v = reader.u64(f) {
            compressed = Int(clamping: v)
            f += 8
          }
          if localOffset == 0xFFFF_FFFF, let v = reader.u64(f) { localOffset = Int(clamping: v) }
        }
        e += 4 + length
      }
      guard reader.u32(localOffset) == 0x0403_4B50, let localNameLength = reader.u16(localOffset + 26).map(Int.init),
        let localExtra = reader.u16(localOffset + 28).map(Int.init)
      else { throw fail(path, "member '\(name)': local header at offset \(localOffset) is missing") }
      guard let localName = reader.slice(localOffset + 30, localNameLength), Array(localName) == Array(nameBytes) else {
        throw fail(path, "member '\(name)': its local header names another file")
      }
      let dataStart = localOffset + 30 + localNameLength + localExtra
      guard reader.slice(dataStart, compressed) != nil else {
        throw fail(
          path, "member '\(name)': \(compressed) bytes of data at offset \(dataStart) run past the end of the file")
      }
      switch method {
      case 0:
        guard compressed == size else {
          throw fail(path, "member '\(name)': stored size \(compressed) differs from \(size)")
        }
      case 8:
        guard size <= compressed * maximumExpansion + 64 else {
          throw fail(path, "member '\(name)': declared size \(size) is impossible for \(compressed) compressed bytes")
        }
      default: throw fail(path, "member '\(name)': unsupported compression method \(method) (only stored and deflate)")
      }
      members.append(
        Member(name: name, method: method, crc: crc, dataStart: dataStart, compressedSize: compressed, size: size))
      regions.append((localOffset, dataStart + compressed, "member '\(name)'"))
      p += 46 + nameLength + extraLength + commentLength
    }
    regions.sort { $0.start < $1.start }
    for (a, b) in zip(regions, regions.dropFirst()) where b.start < a.end {
      throw fail(path, "\(a.name) and \(b.name) overlap in the file (a zip bomb shape: one payload listed many times)")
    }
    return members
  }

  /// Reads `member` of `archive` with `read`, which gets a source of its inflated bytes;
  /// then checks that the member's bytes were all there and match its CRC-32.
  static func read<R>(
    _ member: Member, of archive: UnsafeRawBufferPointer, path: String, pieceSize: Int = 1 << 30,
    _ read: (inout any ByteSource) throws -> R
  ) throws -> R {
    let raw = UnsafeRawBufferPointer(rebasing: archive[member.dataStart..<(member.dataStart + member.compressedSize)])
    let result: R
    let crc: UInt32
    if member.method == 0 {
      var source: any ByteSource = MemorySource(raw, path: path)
      result = try read(&source)
      crc = checksum([raw])
    } else {
      let inflater = try InflateSource(raw, declaredSize: member.size, path: path, pieceSize: pieceSize)
      var source: any ByteSource = inflater
      result = try read(&source)
      try inflater.finish()
      crc = inflater.crc
    }
    guard crc == member.crc else { throw fail(path, "member '\(member.name)': CRC-32 mismatch (the data is corrupt)") }
    return result
  }

  /// Copies `member`'s bytes into `destination` (which holds `member.size` bytes) and checks
  /// its CRC-32. A stored member is split into pieces copied and checksummed on the worker
  /// threads (each piece checked while it is in cache), their CRCs joined with
  /// `crc32_combine`: zlib's CRC was half of loading a `.pt` file, one thread at a time.
  static func copy(
    _ member: Member, of archive: UnsafeRawBufferPointer, path: String, into destination: UnsafeMutableRawPointer
  ) throws {
    guard member.method == 0 else {
      try read(member, of: archive, path: path) { source in
        try source.readExactly(into: UnsafeMutableRawBufferPointer(start: destination, count: member.size))
      }
      return
    }
    let start = archive.baseAddress! + member.dataStart
    let pieceSize = 1 << 22
    let pieces = max(1, (member.size + pieceSize - 1) / pieceSize)
    var crcs = [uLong](repeating: 0, count: pieces)
    crcs.withUnsafeMutableBufferPointer { crcs in
      parallelFor(pieces) { p in
        let offset = p * pieceSize
        let length = min(pieceSize, member.size - offset)
        var crc = crc32(0, nil, 0)
        var done = 0
        while done < length {
          let run = min(length - done, 1 << 18)
          (destination + offset + done).copyMemory(from: start + offset + done, byteCount: run)
          crc = crc32(crc, (destination + offset + done).assumingMemoryBound(to: UInt8.self), uInt(run))
          done += run
        }
        crcs[p] = crc
      }
    }
    var crc = crcs[0]
    for p in 1..<pieces { crc = crc32_combine(crc, crcs[p], Int(min(pieceSize, member.size - p * pieceSize))) }
    guard UInt32(crc) == member.crc else {
      throw fail(path, "member '\(member.name)': CRC-32 mismatch (the data is corrupt)")
    }
  }

  /// The CRC-32 of `pieces` taken in order: 4 MiB runs checksummed on the worker threads and
  /// joined with `crc32_combine`.
  static func checksum(_ pieces: [UnsafeRawBufferPointer]) -> UInt32 {
    let runSize = 1 << 22
    var runs: [UnsafeRawBufferPointer] = []
    for raw in pieces {
      for offset in stride(from: 0, to: raw.count, by: runSize) {
        runs.append(UnsafeRawBufferPointer(rebasing: raw[offset..<min(offset + runSize, raw.count)]))
      }
    }
    var crcs = [uLong](repeating: 0, count: runs.count)
    crcs.withUnsafeMutableBufferPointer { crcs in
      parallelFor(runs.count) { r in
        crcs[r] = crc32(crc32(0, nil, 0), runs[r].baseAddress!.assumingMemoryBound(to: UInt8.self), uInt(runs[r].count))
      }
    }
    var crc = crc32(0, nil, 0)
    for (r, run) in runs.enumerated() { crc = crc32_combine(crc, crcs[r], Int(run.count)) }
    return UInt32(crc)
  }

  /// Streams members into a sink: local header, data (deflated in pieces when
  /// `compress`), and at the end the central directory with ZIP64 records, so that members
  /// over 4 GiB work (as NumPy writes them).
  struct Writer<Sink: ByteSink> {
    var sink: Sink
    let compress: Bool
    let pieceSize: Int
    private var directory = ByteWriter()
    private var count = 0

    init(into sink: Sink, compress: Bool, pieceSize: Int = 1 << 30) {
      self.sink = sink
      self.compress = compress
      self.pieceSize = pieceSize
    }

    /// Adds a member whose bytes are `pieces` in order. With `alignment`, a padding field in
    /// the local header makes the data start at a multiple of it (as PyTorch aligns its
    /// storages to 64 bytes, so that they can be mapped).
    mutating func add(name: String, pieces: [UnsafeRawBufferPointer], alignment: Int = 1) throws {
      let crc = checksum(pieces)
      let size = pieces.reduce(0) { $0 + $1.count }
      let nameBytes = Array(name.utf8)
      let offset = sink.position
      let unpadded = offset + 30 + nameBytes.count + 20
      let padding = alignment > 1 ? (alignment - (unpadded + 4) % alignment) % alignment + 4 : 0
      var local = ByteWriter()
      local.u32(0x0403_4B50)
      local.u16(45)
      local.u16(0)
      local.u16(compress ? 8 : 0)
      local.u16(0)
      local.u16(0x21)
      local.u32(crc)
      local.u32(0xFFFF_FFFF)
      local.u32(0xFFFF_FFFF)
      local.u16(UInt16(nameBytes.count))
      local.u16(UInt16(20 + padding))
      local.bytes.append(contentsOf: nameBytes)
      local.u16(1)
      local.u16(16)
      local.u64(UInt64(size))
      local.u64(UInt64(size))
      if padding > 0 {
        local.u16(0x4246)
        local.u16(UInt16(padding - 4))
        local.bytes.append(contentsOf: [UInt8](repeating: 0, count: padding - 4))
      }
      try sink.write(local.bytes)
      let dataStart = sink.position
      if compress {
        try deflate(pieces)
        // The compressed size is known now: patch the local ZIP64 field.
        var patch = ByteWriter()
        patch.u64(UInt64(sink.position - dataStart))
        try sink.overwrite(at: offset + 30 + nameBytes.count + 12, with: patch.bytes)
      } else {
        for piece in pieces { try sink.write(piece) }
      }
      let stored = sink.position - dataStart
      directory.u32(0x0201_4B50)
      directory.u16(45)
      directory.u16(45)
      directory.u16(0)
      directory.u16(compress ? 8 : 0)
      directory.u16(0)
      directory.u16(0x21)
      directory.u32(crc)
      directory.u32(0xFFFF_FFFF)
      directory.u32(0xFFFF_FFFF)
      directory.u16(UInt16(nameBytes.count))
      directory.u16(28)
      directory.u16(0)
      directory.u16(0)
      directory.u16(0)
      directory.u32(0)
      directory.u32(0xFFFF_FFFF)
      directory.bytes.append(contentsOf: nameBytes)
      directory.u16(1)
      directory.u16(24)
      directory.u64(UInt64(size))
      directory.u64(UInt64(stored))
      directory.u64(UInt64(offset))
      count += 1
    }

    private mutating func deflate(_ pieces: [UnsafeRawBufferPointer]) throws {
      var stream = z_stream()
      guard czlib_deflate_init_raw(&stream, Z_DEFAULT_COMPRESSION) == Z_OK else {
        throw TensorFileError.io(path: "<zip>", reason: "zlib failed to start")
      }
      defer { deflateEnd(&stream) }
      var output = [UInt8](repeating: 0, count: 1 << 20)
      func drain(_ flush: Int32, _ input: UnsafeRawBufferPointer?) throws -> Int32 {
        stream.next_in = UnsafeMutablePointer(mutating: input?.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input?.count ?? 0)
        var status = Z_OK
        repeat {
          let produced: Int = output.withUnsafeMutableBytes { out in
            stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(out.count)
            status = CZlib.deflate(&stream, flush)
            return out.count - Int(stream.avail_out)
          }
          try output.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0.prefix(produced))) }
        } while stream.avail_out == 0 || (flush == Z_FINISH && status != Z_STREAM_END)
        return status
      }
      for piece in pieces {
        var offset = 0
        while offset < piece.count {
          let run = min(piece.count - offset, pieceSize)
          _ = try drain(Z_NO_FLUSH, UnsafeRawBufferPointer(rebasing: piece[offset..<(offset + run)]))
          offset += run
        }
      }
      _ = try drain(Z_FINISH, nil)
    }

    /// Writes the central directory and the end records.
    mutating func finish() throws {
      let directoryOffset = sink.position
      try sink.write(directory.bytes)
      var tail = ByteWriter()
      let record = sink.position
      tail.u32(0x0606_4B50)
      tail.u64(44)
      tail.u16(45)
      tail.u16(45)
      tail.u32(0)
      tail.u32(0)
      tail.u64(UInt64(count))
      tail.u64(UInt64(count))
      tail.u64(UInt64(directory.bytes.count))
      tail.u64(UInt64(directoryOffset))
      tail.u32(0x0706_4B50)
      tail.u32(0)
      tail.u64(UInt64(record))
      tail.u32(1)
      tail.u32(0x0605_4B50)
      tail.u16(0)
      tail.u16(0)
      tail.u16(UInt16(min(count, 0xFFFF)))
      tail.u16(UInt16(min(count, 0xFFFF)))
      tail.u32(UInt32(min(directory.bytes.count, 0xFFFF_FFFF)))
      tail.u32(0xFFFF_FFFF)
      tail.u16(0)
      try sink.write(tail.bytes)
    }
  }

  /// An archive holding `entries` in memory, stored or deflated.
  static func write(_ entries: [Entry], compress: Bool) throws -> Data {
    var writer = Writer(into: MemorySink(), compress: compress)
    for entry in entries {
      try entry.data.withUnsafeBytes { raw in try writer.add(name: entry.name, pieces: [raw]) }
    }
    try writer.finish()
    return writer.sink.data
  }
}

/// Bounds-checked little-endian reads: `nil` instead of reading past the end.
struct ByteReader {
  let bytes: UnsafeRawBufferPointer
  init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

  func slice(_ offset: Int, _ count: Int) -> UnsafeRawBufferPointer.SubSequence? {
    guard offset >= 0, count >= 0, offset <= bytes.count - count else { return nil }
    return bytes[offset..<(offset + count)]
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
  var bytes: [UInt8] = []
  mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
  mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
  mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
}
