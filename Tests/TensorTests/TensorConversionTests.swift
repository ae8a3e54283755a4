import TestSupport
import Testing

@testable import Tensor

private let fixtures = Fixtures()

@Suite struct TensorConversionTests {
  @Test(arguments: DType.allCases)
  func conversionsMatchPyTorchCasts(to: DType) {
    let converted = fixtures.tensor("conv_src").to(to)
    #expect(converted.dtype == to)
    let expected = fixtures.tensor("conv_\(to.name)")
    if to == .bool {
      #expect(converted.toArray(Bool.self) == expected.toArray(Bool.self))
    } else {
      #expect(converted.toArray(Double.self) == expected.toArray(Double.self))
    }
  }

  @Test func toReturnsSelfForSameType() {
    let x = Tensor.ones(3)
    #expect(x.to(.float32) === x)
    #expect(x.double().dtype == .float64)
    #expect(x.long().dtype == .int64)
    #expect(x.int().dtype == .int32)
    #expect(x.bool().dtype == .bool)
    #expect(x.half().dtype == .float16)
    #expect(x.float().dtype == .float32)
  }

  @Test func itemAndArrays() {
    let x = Tensor([[1.5, 2.5], [3.5, 4.5]])
    #expect(x[1, 0].item() == 3.5)
    #expect(x[0, 1].item(Float.self) == 2.5)
    #expect(x.toArray(Float.self) == [1.5, 2.5, 3.5, 4.5])
    #expect([Float](x.t()) == [1.5, 3.5, 2.5, 4.5])
    #expect(x.toArray(Int.self) == [1, 2, 3, 4])
  }

  @Test func cloneCopiesAndContiguousReturnsSelfWhenContiguous() {
    let x = Tensor.arange(6).view(2, 3)
    #expect(x.contiguous() === x)
    let c = x.t().contiguous()
    #expect(c.isContiguous && c.stride() == [2, 1])
    #expect(c.toArray(Int.self) == [0, 3, 1, 4, 2, 5])
    let y = x.clone()
    y.fill_(0)
    #expect(x.sum().item() == 15)
  }

  @Test func itemOnManyElementsStops() async {
    await #expect(processExitsWith: .failure) {
      _ = Tensor.ones(2).item()
    }
  }
}
