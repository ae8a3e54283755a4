import Foundation
import TestSupport
import Testing

@testable import Tensor

@Suite struct MappedFileTests {
  @Test func readWriteMappingWritesTheFile() throws {
    let folder = ScratchFolder()
    defer { folder.cleanUp() }
    let url = folder.file("m.npy")
    try Tensor.arange(6).float().view(2, 3).save(npy: url)
    do {
      let mapped = try Tensor(npy: url, mapping: .readWrite)
      #expect(mapped.shape == [2, 3] && mapped.dtype == .float32)
      mapped.mul_(10)
      mapped[1, 2] = Tensor(-1.0)
      try mapped.flush()
    }
    #expect(try Tensor(npy: url).toArray(Float.self) == [0, 10, 20, 30, 40, -1])
  }

  @Test func copyOnWriteKeepsTheFile() throws {
    let folder = ScratchFolder()
    defer { folder.cleanUp() }
    let url = folder.file("c.npy")
    try Tensor.ones(4, dtype: .float64).save(npy: url)
    let mapped = try Tensor(npy: url, mapping: .copyOnWrite)
    mapped.add_(1)
    #expect(mapped.toArray(Double.self) == [2, 2, 2, 2])
    #expect(try Tensor(npy: url).toArray(Double.self) == [1, 1, 1, 1])
  }

  @Test func readOnlyMappingReadsFortranOrder() throws {
    let fixtures = Fixtures()
    let mapped = try Tensor(npy: fixtures.directory.appendingPathComponent("npy_fortran.npy"), mapping: .readOnly)
    #expect(mapped.toArray(Double.self) == [0, 1, 2, 3, 4, 5])
    #expect(!mapped.isContiguous)
    #expect((mapped * 2).sum().item() == 30)
  }

  @Test func bigEndianFilesCannotBeMapped() {
    let fixtures = Fixtures()
    #expect(throws: TensorFileError.self) {
      try Tensor(npy: fixtures.directory.appendingPathComponent("npy_big_endian.npy"), mapping: .readOnly)
    }
  }

  @Test func writingAReadOnlyMappingStops() async {
    await #expect(processExitsWith: .failure) {
      let url = FileManager.default.temporaryDirectory.appendingPathComponent("ro-\(UUID().uuidString).npy")
      try? Tensor.ones(2).save(npy: url)
      let mapped = try? Tensor(npy: url, mapping: .readOnly)
      mapped?.add_(1)
    }
  }

  @Test func failedSaveLeavesTheOldFile() throws {
    let folder = ScratchFolder()
    defer { folder.cleanUp() }
    let url = folder.file("keep.npy")
    try Tensor.arange(3).save(npy: url)
    #expect(throws: TensorFileError.self) { try Tensor.ones(2, dtype: .bfloat16).save(npy: url) }
    #expect(try Tensor(npy: url).toArray(Int.self) == [0, 1, 2])
    #expect(folder.contents == ["keep.npy"])
  }
}
