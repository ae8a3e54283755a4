import Foundation
import TestSupport
import Testing

@testable import Tensor

@Suite struct FuzzTests {
  /// Valid files of every reader's format, and the hostile shapes the readers must reject
  /// (overflowing shapes, a deflate stream listed twice, a member whose local header names
  /// another file); mutating them explores the space around each.
  private func seeds() throws -> [(String, Data)] {
    let x = Tensor.arange(24).view(2, 3, 4).float()
    let zeros = try Tensor.zeros(4096).npyData()
    let twice = try Zip.write([Zip.Entry(name: "x.npy", data: zeros)], compress: true)
    return [
      ("npy", try HostileFileTests.overflowingNPY()),
      ("safetensors", HostileFileTests.overflowingSafetensors()),
      ("npz", try Zip.write([Zip.Entry(name: "x.npy", data: try HostileFileTests.overflowingNPY())], compress: true)),
      ("npz", listedTwice(twice)),
      ("npy", try x.npyData()),
      ("npy", try Tensor.ones(3, dtype: .bool).npyData()),
      ("npz", try Zip.write([Zip.Entry(name: "x.npy", data: try x.npyData())], compress: false)),
      (
        "npz",
        try Zip.write(
          [Zip.Entry(name: "x.npy", data: try x.npyData()), Zip.Entry(name: "y.npy", data: try x.long().npyData())],
          compress: true)
      ),
      ("safetensors", try Tensor.safetensorsData(["x": x, "h": x.half(), "b": Tensor([true])], metadata: ["k": "v"])),
      ("pt", try Tensor.ptData(["v": .tensor(x[1]), "x": .tensor(x), "n": [1, 2.5, "s", .tuple([nil, true])]])),
      ("pkl", try Self.member("data.pkl", of: Self.checkpoint)),
      (
        "pkl",
        try Self.member(
          "data.pkl", of: try Tensor.ptData(["x": .tensor(x), "t": .tensor(x[0].t()), "i": .int(1 << 40)]))
      ),
    ]
  }

  /// A `torch.save` file written by PyTorch (a model, an optimizer, numbers, strings, bytes).
  static let checkpoint = try! Data(contentsOf: Fixtures().directory.appendingPathComponent("pt/checkpoint.pt"))

  /// The bytes of the member of `archive` whose name ends with `suffix`.
  static func member(_ suffix: String, of archive: Data) throws -> Data {
    try archive.withUnsafeBytes { raw in
      let member = try Zip.members(raw, path: "").first { $0.name.hasSuffix(suffix) }!
      return try Zip.read(member, of: raw, path: "") { Data(try $0.read(member.size)) }
    }
  }

  /// A `torch.save` archive around a (mutated) pickle, with the storages of both seeds:
  /// the fuzzing reaches the unpickler instead of stopping at the member's CRC.
  static func archive(pickle: Data) throws -> Data {
    var entries = [Zip.Entry(name: "archive/data.pkl", data: pickle)]
    for key in 0..<7 {
      let bytes = (try? member("/data/\(key)", of: checkpoint)) ?? Data(count: 96)
      entries.append(Zip.Entry(name: "archive/data/\(key)", data: bytes))
    }
    return try Zip.write(entries, compress: false)
  }

  /// `archive` (one member) with its central directory entry repeated: two entries over the
  /// same local data, and the end records patched to match.
  private func listedTwice(_ archive: Data) -> Data {
    let member = try! archive.withUnsafeBytes { try Zip.members($0, path: "")[0] }
    let directoryStart = member.dataStart + member.compressedSize
    let entryLength = 46 + 5 + 28  // "x.npy" and the ZIP64 extra field
    var data = archive
    data.insert(contentsOf: archive[directoryStart..<(directoryStart + entryLength)], at: directoryStart)
    // ZIP64 record: entry counts and directory size; locator: the record's offset.
    let record = directoryStart + 2 * entryLength
    func put64(_ value: Int, at offset: Int) {
      for k in 0..<8 { data[offset + k] = UInt8((value >> (8 * k)) & 0xFF) }
    }
    put64(2, at: record + 24)
    put64(2, at: record + 32)
    put64(2 * entryLength, at: record + 40)
    put64(record, at: record + 56 + 8)
    data[record + 56 + 20 + 8] = 2
    data[record + 56 + 20 + 10] = 2
    return data
  }

  private func read(_ kind: String, _ data: Data) throws -> [Tensor] {
    switch kind {
    case "npy": [try Tensor(npy: data)]
    case "npz": Array(try Tensor.load(npz: data).values)
    case "pt": tensors(in: try Tensor.loadObject(pt: data))
    case "pkl": tensors(in: try Tensor.loadObject(pt: try Self.archive(pickle: data)))
    default: Array(try Tensor.load(safetensors: data).values)
    }
  }

  private func tensors(in value: SavedValue) -> [Tensor] {
    switch value {
    case .tensor(let t): [t]
    case .list(let items), .tuple(let items): items.flatMap { tensors(in: $0) }
    case .dict(let entries): entries.flatMap { tensors(in: $0.key) + tensors(in: $0.value) }
    default: []
    }
  }

  @Test func mutatedAndTruncatedFilesThrowOrDecode() throws {
    var rng = SeededGenerator(seed: 2026)
    var decoded = 0
    var rejected = 0
    // The hostile seeds themselves are rejected.
    for (kind, original) in try seeds().prefix(4) {
      #expect(throws: TensorFileError.self) { try read(kind, original) }
    }
    #expect {
      try read("npz", listedTwice(try Zip.write([Zip.Entry(name: "x.npy", data: Data())], compress: true)))
    } throws: {
      "\($0)".contains("overlap")
    }
    for (kind, original) in try seeds() {
      for _ in 0..<600 {
        var data = original
        switch rng.next() % 5 {
        case 0: data = data.prefix(Int(rng.next() % UInt64(data.count)))
        case 1:
          for _ in 0..<(1 + rng.next() % 4) {
            let i = Int(rng.next() % UInt64(data.count))
            data[i] = UInt8(truncatingIfNeeded: rng.next())
          }
        case 2:
          let i = Int(rng.next() % UInt64(min(data.count, 128)))
          data[i] = [0x00, 0xFF, 0x7F, 0x80, 0x30, 0x39][Int(rng.next() % 6)]
        case 3:
          // A size field grown huge: a run of digits (npy, safetensors) or 8 bytes (zip).
          if let digits = data.firstRange(of: Data("4".utf8)) ?? data.firstRange(of: Data("3".utf8)) {
            data.replaceSubrange(
              digits, with: Data(["4611686018427387904", "9223372036854775807", "0, 0"][Int(rng.next() % 3)].utf8))
          } else {
            let i = Int(rng.next() % UInt64(data.count))
            for k in i..<min(i + 8, data.count) { data[k] = 0xFF }
          }
        default:
          let i = Int(rng.next() % UInt64(data.count))
          data.insert(UInt8(truncatingIfNeeded: rng.next()), at: i)
        }
        let started = Date()
        do {
          var bytes = 0
          for t in try read(kind, data) {
            // A decoded tensor must be usable end to end.
            _ = t.to(.float64).sum().item()
            #expect(t.numel == t.shape.reduce(1, *))
            bytes += t.numel * t.dtype.itemSize
          }
          // Memory: no more than deflate's largest expansion of the file.
          #expect(bytes <= data.count * Zip.maximumExpansion)
          decoded += 1
        } catch is TensorFileError {
          rejected += 1
        }
        #expect(Date().timeIntervalSince(started) < 2, "a \(data.count)-byte \(kind) took too long")
      }
    }
    #expect(decoded + rejected == 600 * 12)
    #expect(rejected > 3500)
  }
}
