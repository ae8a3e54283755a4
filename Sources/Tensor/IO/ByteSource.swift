import CZlib
import Foundation

/// Where decoders take bytes from, in order: a region of memory (a mapped file, `Data`) or
/// a deflate stream inflated as it is read. Decoders read a tensor's data straight into its
/// storage, so no second copy of a file's contents is ever held.
protocol ByteSource {
  /// Fills `buffer` with the next bytes, or throws when the source ends first.
  mutating func readExactly(into buffer: UnsafeMutableRawBufferPointer) throws
}

extension ByteSource {
  /// The next `count` bytes as an array.
  mutating func read(_ count: Int) throws -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    try bytes.withUnsafeMutableBytes { try readExactly(into: $0) }
    return bytes
  }
}

/// Reads a region of memory from the start.
struct MemorySource: ByteSource {
  let bytes: UnsafeRawBufferPointer
  let path: String
  private(set) var position = 0

  init(_ bytes: UnsafeRawBufferPointer, path: String) {
    self.bytes = bytes
    self.path = path
  }

  mutating func readExactly(into buffer: UnsafeMutableRawBufferPointer) throws {
    guard buffer.count <= bytes.count - position else {
      throw TensorFileError.malformed(
        path: path, reason: "the data ends after \(bytes.count) bytes; \(position + buffer.count) are needed")
    }
    if buffer.count > 0 { buffer.baseAddress!.copyMemory(from: bytes.baseAddress! + position, byteCount: buffer.count) }
    position += buffer.count
  }
}

/// Inflates a raw deflate stream as it is read, in pieces that fit zlib's 32-bit counters
/// (members over 4 GiB work), never producing more than `declaredSize` bytes, and keeping
/// the CRC-32 of what it produced.
final class InflateSource: ByteSource {
  private let input: UnsafeRawBufferPointer
  private let declaredSize: Int
  private let path: String
  private var stream = z_stream()
  private var consumed = 0
  private(set) var produced = 0
  private(set) var crc = UInt32(crc32(0, nil, 0))
  private var ended = false
  /// The most bytes handed to zlib in one call (its counters are 32-bit); tests lower it.
  let pieceSize: Int

  init(_ input: UnsafeRawBufferPointer, declaredSize: Int, path: String, pieceSize: Int = 1 << 30) throws {
    self.input = input
    self.declaredSize = declaredSize
    self.path = path
    self.pieceSize = pieceSize
    guard czlib_inflate_init_raw(&stream) == Z_OK else {
      throw TensorFileError.malformed(path: path, reason: "zlib failed to start")
    }
  }

  deinit { inflateEnd(&stream) }

  func readExactly(into buffer: UnsafeMutableRawBufferPointer) throws {
    guard buffer.count <= declaredSize - produced else {
      throw TensorFileError.malformed(
        path: path, reason: "the data needs \(produced + buffer.count) bytes but the archive declares \(declaredSize)")
    }
    var filled = 0
    while filled < buffer.count {
      guard !ended else {
        throw TensorFileError.malformed(
          path: path, reason: "the deflate stream ends after \(produced) of \(declaredSize) bytes")
      }
      filled += try inflatePiece(into: buffer.baseAddress! + filled, capacity: buffer.count - filled)
    }
  }

  /// Inflates what remains into scratch space (for the checksum) and checks that the stream
  /// ends exactly at the declared size.
  func finish() throws {
    var scratch = [UInt8](repeating: 0, count: 1 << 16)
    while produced < declaredSize {
      try scratch.withUnsafeMutableBytes {
        try readExactly(
          into: UnsafeMutableRawBufferPointer(rebasing: $0.prefix(min($0.count, declaredSize - produced))))
      }
    }
    if !ended {
      // The stream must end here: one more byte of room must produce nothing.
      var extra: UInt8 = 0
      let more = try withUnsafeMutableBytes(of: &extra) { try inflatePiece(into: $0.baseAddress!, capacity: 1) }
      guard more == 0, ended else {
        throw TensorFileError.malformed(
          path: path, reason: "the deflate stream holds more than the declared \(declaredSize) bytes")
      }
    }
  }

  private func inflatePiece(into destination: UnsafeMutableRawPointer, capacity: Int) throws -> Int {
    let inputPiece = min(input.count - consumed, pieceSize)
    let outputPiece = min(capacity, pieceSize)
    stream.next_in = UnsafeMutablePointer(
      mutating: input.baseAddress?.advanced(by: consumed).assumingMemoryBound(to: Bytef.self))
    stream.avail_in = uInt(inputPiece)
    stream.next_out = destination.assumingMemoryBound(to: Bytef.self)
    stream.avail_out = uInt(outputPiece)
    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
    let used = inputPiece - Int(stream.avail_in)
    let made = outputPiece - Int(stream.avail_out)
    consumed += used
    produced += made
    if made > 0 { crc = UInt32(crc32(uLong(crc), destination.assumingMemoryBound(to: Bytef.self), uInt(made))) }
    switch status {
    case Z_STREAM_END: ended = true
    case Z_OK: break
    case Z_BUF_ERROR:
      // No progress with room on both sides: the input ran out mid-stream.
      throw TensorFileError.malformed(path: path, reason: "the deflate stream is cut short after \(produced) bytes")
    default:
      throw TensorFileError.malformed(
        path: path, reason: "the deflate data is corrupt (zlib status \(status) after \(produced) bytes)")
    }
    return made
  }
}
