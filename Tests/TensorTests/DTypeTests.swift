import Foundation
import TestSupport
import Testing

@testable import Tensor

private let fixtures = Fixtures()

private func dtype(named name: String) -> DType {
  guard let d = DType.allCases.first(where: { $0.name == name }) else { preconditionFailure("unknown dtype \(name)") }
  return d
}

@Suite struct DTypeTests {
  let table = fixtures.strings("promotion")

  @Test(arguments: DType.allCases, DType.allCases)
  func promoteTypesMatchesPyTorch(a: DType, b: DType) {
    #expect(DType.promote(a, b) == dtype(named: table["\(a.name),\(b.name)"]!))
  }

  @Test(arguments: DType.allCases)
  func scalarsAreWeakAsInPyTorch(a: DType) {
    let t = Tensor.ones([2], dtype: a)
    #expect((t * 2).dtype == dtype(named: table["\(a.name),int"]!))
    #expect((t * 2.5).dtype == dtype(named: table["\(a.name),float"]!))
    #expect(t.logicalAnd(true).dtype == .bool)
    if a != .bool { #expect((t * true).dtype == dtype(named: table["\(a.name),bool"]!)) }
  }

  @Test(arguments: DType.allCases)
  func zeroDimTensorsPromoteOnlyAcrossCategories(a: DType) {
    let t = Tensor.ones([2], dtype: a)
    #expect(
      Tensor.resultType([.tensor(t), .tensor(Tensor(1.0, dtype: .float64))])
        == dtype(named: table["\(a.name),0d_float64"]!))
    #expect(Tensor.resultType([.tensor(t), .tensor(Tensor(1))]) == dtype(named: table["\(a.name),0d_int64"]!))
  }

  @Test(arguments: DType.allCases.filter { $0 != .bool })
  func trueDivisionGivesFloat(a: DType) {
    let t = Tensor.ones([2], dtype: a)
    #expect((t / t).dtype == dtype(named: table["\(a.name),div"]!))
  }

  @Test func itemSizesAndNames() {
    #expect(DType.float32.itemSize == 4)
    #expect(DType.bfloat16.itemSize == 2)
    #expect(DType.bool.itemSize == 1)
    #expect(DType.float64.description == "torch.float64")
    #expect(DType.int64.scalarTypeName == "Long")
  }

  @Test func bfloat16RoundsToNearestEven() {
    #expect(BFloat16(Float(1.00390625)).floatValue == 1.0)  // halfway, rounds to even
    #expect(BFloat16(Float(1.01171875)).floatValue == 1.015625)  // halfway, rounds up to even
    #expect(BFloat16(Float.nan).floatValue.isNaN)
    #expect(BFloat16(Float(-3.5)).floatValue == -3.5)
  }
}
