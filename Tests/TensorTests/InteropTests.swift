import Foundation
import TestSupport
import Testing

@testable import Tensor

extension Interop {
  /// The NumPy/safetensors side of these tests.
  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "Interop/interop.py")

  static func runScript(_ python: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    try run(python, [script.path] + arguments)
  }
}

private let codes: [(String, DType)] = [
  ("f4", .float32), ("f8", .float64), ("f2", .float16), ("i8", .int64), ("i4", .int32), ("i2", .int16),
  ("i1", .int8), ("u1", .uint8), ("b1", .bool),
]

private func reference(_ dtype: DType) -> Tensor { Tensor.arange(12).view(3, 4).to(dtype) }

@Suite struct InteropTests {
  @Test(.enabled(if: Interop.numpyPython != nil, "needs python3 with numpy (.ci/run installs it)"))
  func readsWhatNumPyWrites() throws {
    let folder = ScratchFolder()
    defer { folder.cleanUp() }
    let result = try Interop.runScript(Interop.numpyPython!, ["write", folder.url.path])
    try #require(result.status == 0, "\(result.output)")
    var checked = 0
    for (code, dtype) in codes {
      for name in folder.contents where name.hasPrefix(code + "_") && name.hasSuffix(".npy") {
        let t = try Tensor(npy: folder.file(name))
        #expect(t.dtype == dtype, "\(name)")
        #expect(t.shape == [3, 4], "\(name)")
        #expect(t.toArray(Double.self) == reference(dtype).toArray(Double.self), "\(name)")
        checked += 1
      }
    }
    // Six multi-byte types in two byte orders, three one-byte types; C and Fortran; versions 1-3.
    #expect(checked == 6 * 2 * 2 * 3 + 3 * 2 * 3)
    for archive in ["stored.npz", "compressed.npz"] {
      let arrays = try Tensor.load(npz: folder.file(archive))
      for (code, dtype) in codes {
        #expect(arrays[code]?.toArray(Double.self) == reference(dtype).toArray(Double.self), "\(archive)[\(code)]")
      }
    }
  }

  @Test(
    .enabled(if: Interop.safetensorsPython != nil, "needs python3 with numpy and safetensors (.ci/run installs them)"))
  func readsWhatSafetensorsWrites() throws {
    let folder = ScratchFolder()
    defer { folder.cleanUp() }
    let result = try Interop.runScript(Interop.safetensorsPython!, ["write", folder.url.path])
    try #require(result.status == 0, "\(result.output)")
    let loaded = try Tensor.load(safetensors: folder.file("numpy.safetensors"))
    for (code, dtype) in codes {
      #expect(loaded[code]?.dtype == dtype)
      #expect(loaded[code]?.toArray(Double.self) == reference(dtype).toArray(Double.self), "\(code)")
    }
    #expect(try Tensor.safetensorsMetadata(folder.file("numpy.safetensors"))["written_by"] == "safetensors.numpy")
    if Interop.torchPython != nil, Interop.torchPython == Interop.safetensorsPython {
      let bf16 = try Tensor.load(safetensors: folder.file("torch.safetensors"))["bf16"]!
      #expect(bf16.dtype == .bfloat16)
      #expect(bf16.toArray(Float.self) == (Tensor.arange(12).view(3, 4).bfloat16() / 3).toArray(Float.self))
    }
  }

  @Test(.enabled(if: Interop.numpyPython != nil, "needs python3 with numpy (.ci/run installs it)"))
  func numpyReadsWhatSwiftWrites() throws {
    let folder = ScratchFolder()
    defer { folder.cleanUp() }
    var all: [String: Tensor] = [:]
    for (code, dtype) in codes {
      try reference(dtype).save(npy: folder.file("swift_\(code).npy"))
      all[code] = reference(dtype)
    }
    try Tensor.save(npz: folder.file("swift_stored.npz"), all)
    try Tensor.save(npz: folder.file("swift_compressed.npz"), all, compressed: true)
    try Tensor.save(safetensors: folder.file("swift.safetensors"), all, metadata: ["written_by": "swift"])
    try Tensor.save(
      safetensors: folder.file("swift_torch.safetensors"),
      ["bf16": Tensor.arange(12).view(3, 4).bfloat16() / 3, "f16": Tensor([0.5, -1.5], dtype: .float16)])
    let python = Interop.torchPython ?? Interop.safetensorsPython ?? Interop.numpyPython!
    let result = try Interop.runScript(python, ["check", folder.url.path])
    #expect(result.status == 0, "\(result.output)")
  }

  @Test(.enabled(if: Interop.numpyPython != nil, "needs python3 with numpy (.ci/run installs it)"))
  func sharedMemoryMapAcrossProcesses() throws {
    let folder = ScratchFolder()
    defer { folder.cleanUp() }
    let url = folder.file("shared.npy")
    try Tensor.arange(6).float().save(npy: url)
    let mapped = try Tensor(npy: url, mapping: .readWrite)
    mapped.mul_(2)
    try mapped.flush()
    // NumPy, in another process, sees our writes and writes back through its own mapping.
    let result = try Interop.runScript(Interop.numpyPython!, ["mmap", url.path])
    try #require(result.status == 0, "\(result.output)")
    #expect(mapped.toArray(Float.self) == [100, 2, 4, 6, 8, 10])
  }
}
