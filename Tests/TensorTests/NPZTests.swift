import Foundation
import TestSupport
import Testing

@testable import Tensor

@Suite struct NPZTests {
  @Test(arguments: [false, true])
  func roundTripsEveryDType(compressed: Bool) throws {
    let folder = ScratchFolder()
    defer { folder.cleanUp() }
    var tensors: [String: Tensor] = [:]
    for dtype in DType.allCases where dtype != .bfloat16 {
      tensors[dtype.name] = Tensor.arange(24).view(2, 3, 4).to(dtype)
    }
    tensors["scalar"] = Tensor(2.5, dtype: .float64)
    tensors["empty"] = Tensor.zeros(0, 3)
    let url = folder.file("all.npz")
    try Tensor.save(npz: url, tensors, compressed: compressed)
    let loaded = try Tensor.load(npz: url)
    #expect(Set(loaded.keys) == Set(tensors.keys))
    for (key, t) in tensors {
      #expect(loaded[key]?.dtype == t.dtype)
      #expect(loaded[key]?.shape == t.shape)
      #expect(loaded[key]?.toArray(Double.self) == t.toArray(Double.self))
    }
    #expect(folder.contents == ["all.npz"])
  }

  @Test func corruptArchivesThrow() throws {
    let good = try Zip.write([Zip.Entry(name: "a.npy", data: try Tensor.arange(10).npyData())], compress: true)
    #expect(throws: TensorFileError.self) { try Tensor.load(npz: Data("PK not really".utf8)) }
    #expect(throws: TensorFileError.self) { try Tensor.load(npz: good.prefix(good.count - 30)) }
    var flipped = good
    flipped[60] ^= 0xFF  // inside the deflated payload
    #expect(throws: TensorFileError.self) { try Tensor.load(npz: flipped) }
  }
}
