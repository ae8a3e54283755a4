import Foundation
import TestSupport
import Testing

@testable import Tensor

@Suite struct FuzzTests {
  /// Valid files of every reader's format.
  private func seeds() throws -> [(String, Data)] {
    let x = Tensor.arange(24).view(2, 3, 4).float()
    return [
      ("npy", try x.npyData()),
      ("npy", try Tensor.ones(3, dtype: .bool).npyData()),
      ("npz", try Zip.write([Zip.Entry(name: "x.npy", data: try x.npyData())], compress: false)),
      ("npz", try Zip.write([Zip.Entry(name: "x.npy", data: try x.npyData()), Zip.Entry(name: "y.npy", data: try x.long().npyData())], compress: true)),
      ("safetensors", try Tensor.safetensorsData(["x": x, "h": x.half(), "b": Tensor([true])], metadata: ["k": "v"])),
    ]
  }

  private func read(_ kind: String, _ data: Data) throws -> [Tensor] {
    switch kind {
    case "npy": [try Tensor(npy: data)]
    case "npz": Array(try Tensor.load(npz: data).values)
    default: Array(try Tensor.load(safetensors: data).values)
    }
  }

  @Test func mutatedAndTruncatedFilesThrowOrDecode() throws {
    var rng = SeededGenerator(seed: 2026)
    var decoded = 0
    var rejected = 0
    for (kind, original) in try seeds() {
      for _ in 0..<600 {
        var data = original
        switch rng.next() % 4 {
        case 0: data = data.prefix(Int(rng.next() % UInt64(data.count)))
        case 1:
          for _ in 0..<(1 + rng.next() % 4) {
            let i = Int(rng.next() % UInt64(data.count))
            data[i] = UInt8(truncatingIfNeeded: rng.next())
          }
        case 2:
          let i = Int(rng.next() % UInt64(min(data.count, 128)))
          data[i] = [0x00, 0xFF, 0x7F, 0x80, 0x30, 0x39][Int(rng.next() % 6)]
        default:
          let i = Int(rng.next() % UInt64(data.count))
          data.insert(UInt8(truncatingIfNeeded: rng.next()), at: i)
        }
        do {
          for t in try read(kind, data) {
            // A decoded tensor must be usable end to end.
            _ = t.to(.float64).sum().item()
            #expect(t.numel == t.shape.reduce(1, *))
          }
          decoded += 1
        } catch is TensorFileError {
          rejected += 1
        }
      }
    }
    #expect(decoded + rejected == 3000)
    #expect(rejected > 1000)
  }
}
