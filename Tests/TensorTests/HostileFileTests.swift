import Foundation
import TestSupport
import Testing

@testable import Tensor

/// Readers reject hostile files with `TensorFileError`: no crash, no runaway memory or time.
@Suite struct HostileFileTests {
  /// A shape with no elements whose strides overflow: it passed the old checks (the element
  /// count is 0) and trapped in the layout code.
  static let overflowingShape = [0, 1 << 62, 4]

  static func overflowingNPY() throws -> Data {
    Data(try NPY.header(shape: overflowingShape, dtype: .float32, path: ""))
  }

  static func overflowingSafetensors() -> Data {
    let json = #"{"x":{"dtype":"F32","shape":[0,4611686018427387904,4],"data_offsets":[0,0]}}"#
    var w = ByteWriter()
    w.u64(UInt64(json.utf8.count))
    w.bytes.append(contentsOf: Array(json.utf8))
    return Data(w.bytes)
  }

  @Test func overflowingShapesThrowThroughEveryReader() throws {
    let folder = ScratchFolder()
    defer { folder.cleanUp() }
    let npy = try HostileFileTests.overflowingNPY()
    let npyURL = folder.file("bad.npy")
    try npy.write(to: npyURL)
    let safetensors = HostileFileTests.overflowingSafetensors()
    let safetensorsURL = folder.file("bad.safetensors")
    try safetensors.write(to: safetensorsURL)
    let npz = try Zip.write([Zip.Entry(name: "x.npy", data: npy)], compress: true)
    let readers: [(String, () throws -> Any)] = [
      ("npy data", { try Tensor(npy: npy) }),
      ("npy file", { try Tensor(npy: npyURL) }),
      ("npy read-only map", { try Tensor(npy: npyURL, mapping: .readOnly) }),
      ("npy copy-on-write map", { try Tensor(npy: npyURL, mapping: .copyOnWrite) }),
      ("npz data", { try Tensor.load(npz: npz) }),
      ("safetensors data", { try Tensor.load(safetensors: safetensors) }),
      ("safetensors file", { try Tensor.load(safetensors: safetensorsURL) }),
      ("safetensors read-only map", { try Tensor.load(safetensors: safetensorsURL, mapping: .readOnly) }),
      ("safetensors metadata", { try Tensor.safetensorsMetadata(safetensorsURL) }),
    ]
    for (name, read) in readers {
      do {
        _ = try read()
        Issue.record("\(name): an overflowing shape was accepted")
      } catch let error as TensorFileError {
        #expect("\(error)".contains("overflows"), "\(name): \(error)")
      }
    }
  }

  @Test func hugeShapesStopWithAMessage() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.empty([Int.max, 2])
    }
    let message = standardError(of: result)
    #expect(message.contains("Storage size calculation overflowed with sizes=[9223372036854775807, 2]"))
  }

  @Test func numelOverflowStopsWithAMessage() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.ones(1, 1).expand(1 << 62, 1 << 62)
    }
    let message = standardError(of: result)
    #expect(message.contains("numel: integer multiplication overflow"))
  }

  // MARK: Zip archives

  /// A classic (non-ZIP64) archive: one local header named `localName` over `payload`, and a
  /// central directory entry per name in `centralNames`, all pointing at that local header.
  private func archive(localName: String, centralNames: [String], payload: Data, crc: UInt32, size: Int) -> Data {
    var w = ByteWriter()
    let name = Array(localName.utf8)
    w.u32(0x0403_4B50)
    w.u16(20)
    w.u16(0)
    w.u16(8)
    w.u16(0)
    w.u16(0)
    w.u32(crc)
    w.u32(UInt32(payload.count))
    w.u32(UInt32(size))
    w.u16(UInt16(name.count))
    w.u16(0)
    w.bytes += name
    w.bytes += Array(payload)
    let directoryOffset = w.bytes.count
    for central in centralNames {
      let n = Array(central.utf8)
      w.u32(0x0201_4B50)
      w.u16(20)
      w.u16(20)
      w.u16(0)
      w.u16(8)
      w.u16(0)
      w.u16(0)
      w.u32(crc)
      w.u32(UInt32(payload.count))
      w.u32(UInt32(size))
      w.u16(UInt16(n.count))
      w.u16(0)
      w.u16(0)
      w.u16(0)
      w.u16(0)
      w.u32(0)
      w.u32(0)
      w.bytes += n
    }
    let directorySize = w.bytes.count - directoryOffset
    w.u32(0x0605_4B50)
    w.u16(0)
    w.u16(0)
    w.u16(UInt16(centralNames.count))
    w.u16(UInt16(centralNames.count))
    w.u32(UInt32(directorySize))
    w.u32(UInt32(directoryOffset))
    w.u16(0)
    return Data(w.bytes)
  }

  /// The deflated payload, CRC and size of one member holding `bytes`.
  private func deflated(_ bytes: Data) throws -> (payload: Data, crc: UInt32, size: Int) {
    let zip = try Zip.write([Zip.Entry(name: "a.npy", data: bytes)], compress: true)
    let member = try zip.withUnsafeBytes { try Zip.members($0, path: "")[0] }
    return (zip[member.dataStart..<(member.dataStart + member.compressedSize)], member.crc, member.size)
  }

  @Test func oneDeflateStreamListedManyTimesIsRejectedBeforeInflating() throws {
    // 100 MB of zeros deflate to ~100 KB; listed 20 times, the old reader inflated 2 GB.
    let (payload, crc, size) = try deflated(try Tensor.zeros(25_000_000).npyData())
    let bomb = archive(
      localName: "a.npy", centralNames: (0..<20).map { _ in "a.npy" }, payload: payload, crc: crc, size: size)
    #expect(bomb.count < 200_000)
    let started = Date()
    #expect {
      try Tensor.load(npz: bomb)
    } throws: { error in
      "\(error)".contains("overlap")
    }
    #expect(Date().timeIntervalSince(started) < 1)
  }

  @Test func aLocalHeaderNamingAnotherFileIsRejected() throws {
    let (payload, crc, size) = try deflated(try Tensor.arange(10).npyData())
    let renamed = archive(localName: "a.npy", centralNames: ["b.npy"], payload: payload, crc: crc, size: size)
    #expect { try Tensor.load(npz: renamed) } throws: { "\($0)".contains("names another file") }
  }

  @Test func membersMustInflateToExactlyTheirDeclaredSize() throws {
    let npy = try Tensor.arange(10).npyData()
    // Declared larger than the stream: it ends early.
    let (payload, crc, size) = try deflated(npy)
    let short = archive(localName: "a.npy", centralNames: ["a.npy"], payload: payload, crc: crc, size: size + 100)
    #expect { try Tensor.load(npz: short) } throws: { "\($0)".contains("ends after") }
    // Declared smaller than the stream (the tensor fits, but bytes follow it).
    let padded = try deflated(npy + Data(count: 1000))
    let long = archive(
      localName: "a.npy", centralNames: ["a.npy"], payload: padded.payload, crc: padded.crc, size: npy.count)
    #expect { try Tensor.load(npz: long) } throws: { "\($0)".contains("more than the declared") }
    // Sizes deflate cannot reach from the bytes present are rejected up front.
    let impossible = archive(localName: "a.npy", centralNames: ["a.npy"], payload: payload, crc: crc, size: 0xFFFF_FF00)
    #expect { try Tensor.load(npz: impossible) } throws: { "\($0)".contains("impossible") }
  }

  @Test(arguments: [false, true])
  func membersStreamInPiecesAndReadOnlyWhatIsAsked(compressed: Bool) throws {
    // Pieces of 1000 bytes stand in for zlib's 4 GiB limit: every member crosses many.
    let tensors = [
      "a": Tensor.arange(30_000).float().view(100, 300), "b": Tensor.arange(7).long(), "c": Tensor.zeros(0, 3),
    ]
    var sink = MemorySink()
    try Tensor.writeNPZ(tensors, compressed: compressed, into: &sink, path: "", pieceSize: 1000)
    let bytes = sink.data
    #expect(try Tensor.load(npz: bytes) == Tensor.load(npz: try Tensor.npzData(tensors, compressed: compressed)))
    let loaded = try bytes.withUnsafeBytes { try Tensor.loadNPZ($0, keys: nil, path: "", pieceSize: 1000) }
    #expect(Set(loaded.keys) == ["a", "b", "c"])
    for (key, t) in tensors { #expect(loaded[key] == t) }
    let some = try Tensor.load(npz: bytes, keys: ["b"])
    #expect(Array(some.keys) == ["b"] && some["b"] == tensors["b"])
    #expect { try Tensor.load(npz: bytes, keys: ["b", "zz"]) } throws: { "\($0)".contains("no array 'zz'") }
  }

  /// A member over 4 GiB (zlib's counters are 32-bit). Set SWIFT_TENSOR_LARGE_FILE_TESTS=1 to
  /// run it: it needs ~10 GB of memory and disk and about a minute.
  @Test(.enabled(if: ProcessInfo.processInfo.environment["SWIFT_TENSOR_LARGE_FILE_TESTS"] == "1"))
  func membersOver4GiBRoundTrip() throws {
    let folder = ScratchFolder()
    defer { folder.cleanUp() }
    let url = folder.file("large.npz")
    let elements = (1 << 32) / 4 + 1000  // just over 4 GiB of float32
    let big = Tensor.zeros(elements)
    big[(elements - 3)...].copy_(Tensor([1, 2, 3] as [Float]))
    try Tensor.save(npz: url, ["big": big], compressed: true)
    let loaded = try Tensor.load(npz: url)["big"]!
    #expect(loaded.shape == [elements])
    #expect(loaded[(elements - 4)...] == Tensor([0, 1, 2, 3] as [Float]))
    #expect(loaded.sum().item() == 6)
  }
}
