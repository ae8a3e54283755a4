import Foundation
import TestSupport
import Testing

@testable import Tensor

/// Integer einsum and its error cases (float values and gradients are in the Autograd
/// fixtures); expected values are PyTorch 2.13's.
@Suite struct EinsumTests {
  @Test func integerProductsAndBroadcastEllipsis() {
    let a = Tensor([[1, 2], [3, 4]])
    #expect(Tensor.einsum("ij,jk->ik", a, a) == Tensor([[7, 10], [15, 22]]))
    #expect(Tensor.einsum("ii", a) == Tensor(5))
    #expect(Tensor.einsum("ij->", a) == Tensor(10))
    // Ellipsis dims broadcast like elementwise ops: [2, 1, 2] with [3, 2] gives [2, 3].
    let batch = Tensor.einsum("...i,...i->...", Tensor.ones(2, 1, 2), Tensor.ones(3, 2))
    #expect(batch == Tensor.full([2, 3], 2.0))
  }

  @Test func aSubscriptCountThatMissesTheRankStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.einsum("ij,jk->ik", Tensor.ones(2, 3), Tensor.ones(3))
    }
    #expect(
      standardError(of: result).contains(
        "einsum(): the number of subscripts in the equation (2) does not match the number of dimensions (1)"))
  }

  @Test func anOutputLetterNotInTheInputsStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.einsum("ij->k", Tensor.ones(2, 3))
    }
    #expect(
      standardError(of: result).contains(
        "einsum(): output subscript k does not appear in the equation for any input operand"))
  }
}
