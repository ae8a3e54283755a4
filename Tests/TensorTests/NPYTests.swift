import Foundation
import TestSupport
import Testing

@testable import Tensor

private let fixtures = Fixtures()

@Suite struct NPYTests {
  @Test func readsNumPyByteOrdersAndFortranOrder() {
    let big = fixtures.tensor("npy_big_endian")
    #expect(big.dtype == .int32 && big.shape == [2, 3] && big.toArray(Int32.self) == [0, 1, 2, 3, 4, 5])
    let fortran = fixtures.tensor("npy_fortran")
    #expect(fortran.dtype == .float64 && fortran.toArray(Double.self) == [0, 1, 2, 3, 4, 5])
    #expect(fixtures.tensor("npy_bool").toArray(Bool.self) == [true, false, true])
    #expect(fixtures.tensor("npy_f16").toArray(Float.self) == [1.5, -2])
  }

  @Test(arguments: DType.allCases.filter { $0 != .bfloat16 })
  func roundTripsEveryDType(dtype: DType) throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "roundtrip-\(dtype.name)-\(UUID().uuidString).npy")
    defer { try? FileManager.default.removeItem(at: url) }
    let x = Tensor.arange(12).view(3, 4).t().to(dtype)
    try x.save(npy: url)
    let y = try Tensor(npy: url)
    #expect(y.dtype == dtype && y.shape == [4, 3])
    #expect(y.toArray(Double.self) == x.toArray(Double.self))
  }

  @Test func malformedFilesThrow() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).npy")
    defer { try? FileManager.default.removeItem(at: url) }
    try Data("not numpy".utf8).write(to: url)
    #expect(throws: TensorFileError.self) { try Tensor(npy: url) }
    // A valid header promising more data than the file holds.
    let good = try Data(contentsOf: fixtures.directory.appendingPathComponent("npy_big_endian.npy"))
    try good.prefix(good.count - 4).write(to: url)
    #expect(throws: TensorFileError.self) { try Tensor(npy: url) }
    #expect(throws: TensorFileError.self) { try Tensor(npy: url.appendingPathExtension("missing")) }
  }

  @Test func bfloat16CannotBeSavedAsNpy() {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bf16.npy")
    #expect(throws: TensorFileError.self) { try Tensor.ones(2, dtype: .bfloat16).save(npy: url) }
  }
}
