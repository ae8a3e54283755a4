import Foundation
import TestSupport
import Testing

@testable import Tensor

@Suite struct SafeTensorsTests {
  @Test func roundTripsEveryDTypeWithMetadata() throws {
    let folder = ScratchFolder()
    defer { folder.cleanUp() }
    var tensors: [String: Tensor] = [:]
    for dtype in DType.allCases { tensors["t_\(dtype.name)"] = Tensor.arange(12).view(3, 4).t().to(dtype) }
    tensors["odd"] = Tensor([1, 2, 3], dtype: .uint8)  // leaves later tensors misaligned if unpadded
    let url = folder.file("model.safetensors")
    try Tensor.save(safetensors: url, tensors, metadata: ["format": "pt", "note": "test"])
    let loaded = try Tensor.load(safetensors: url)
    #expect(Set(loaded.keys) == Set(tensors.keys))
    for (name, t) in tensors {
      #expect(loaded[name]?.dtype == t.dtype)
      #expect(loaded[name]?.shape == t.shape)
      #expect(loaded[name]?.toArray(Double.self) == t.toArray(Double.self))
    }
    #expect(try Tensor.safetensorsMetadata(url) == ["format": "pt", "note": "test"])
    // In-memory form and copy-on-write writes.
    let fromData = try Tensor.load(safetensors: try Data(contentsOf: url))
    #expect(fromData["t_bfloat16"]?.toArray(Float.self) == tensors["t_bfloat16"]?.toArray(Float.self))
    loaded["t_float32"]!.add_(1)
    #expect(try Tensor.load(safetensors: url)["t_float32"]!.sum().item() == 66)
  }

  @Test func malformedHeadersThrow() throws {
    let valid = try Tensor.safetensorsData(["a": Tensor.ones(2)])
    #expect(throws: TensorFileError.self) { try Tensor.load(safetensors: Data([1, 2, 3])) }
    #expect(throws: TensorFileError.self) { try Tensor.load(safetensors: valid.prefix(valid.count - 1)) }
    var hugeLength = valid
    hugeLength[6] = 0x7F
    #expect(throws: TensorFileError.self) { try Tensor.load(safetensors: hugeLength) }
    func file(_ json: String, dataBytes: Int) -> Data {
      var w = ByteWriter()
      w.u64(UInt64(json.utf8.count))
      w.bytes.append(contentsOf: Array(json.utf8))
      w.bytes.append(contentsOf: [UInt8](repeating: 0, count: dataBytes))
      return Data(w.bytes)
    }
    #expect(throws: TensorFileError.self) {
      try Tensor.load(safetensors: file(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}}"#, dataBytes: 8))
    }
    #expect(throws: TensorFileError.self) {
      try Tensor.load(safetensors: file(#"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, dataBytes: 8))
    }
    #expect(throws: TensorFileError.self) {
      try Tensor.load(safetensors: file(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, dataBytes: 4))
    }
    #expect(throws: TensorFileError.self) { try Tensor.load(safetensors: file("[1, 2]", dataBytes: 0)) }
  }
}
