import TestSupport
import Testing

@testable import Tensor

private let fixtures = Fixtures()

@Suite struct TensorDescriptionTests {
  @Test(arguments: fixtures.strings("printed").keys.sorted())
  func printsLikePyTorch(name: String) {
    let expected = fixtures.strings("printed")[name]!
    var t = fixtures.tensor("print_\(name)")
    // NumPy has no bfloat16 and stores int64 arange as int64 already; float16 survives.
    if name == "empty" { t = Tensor.zeros(0) }
    #expect(t.description == expected)
  }

  @Test func deviceSuffixAndScalars() {
    #expect(Tensor(3.5).description == "tensor(3.5000)")
    #expect(Tensor(7).description == "tensor(7)")
    #expect(Tensor([1.0, 2.0], dtype: .float64).description == "tensor([1., 2.], dtype=torch.float64)")
    #expect(Tensor([1.5], dtype: .bfloat16).description == "tensor([1.5000], dtype=torch.bfloat16)")
  }
}
