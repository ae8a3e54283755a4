import Foundation
import TestSupport
import Testing

@testable import Tensor

/// NaN, tie and integer cases of the composed reductions; expected values are PyTorch 2.13's
/// (float values and gradients are in the Autograd fixtures).
@Suite struct MoreReductionTests {
  @Test func runningExtremesKeepTheLastTieAndNaN() {
    let (values, indices) = Tensor([1, 3, 3, 2, .nan, 5] as [Float]).cummax(dim: 0)
    #expect(values[..<4] == Tensor([1, 3, 3, 3] as [Float]) && values[4...].isnan().all().item(Bool.self))
    #expect(indices == Tensor([0, 1, 2, 2, 4, 4]))
    let running = Tensor([4, 3, 3, 5, 1]).cummin(dim: 0)
    #expect(running.values == Tensor([4, 3, 3, 3, 1]) && running.indices == Tensor([0, 1, 2, 2, 4]))
  }

  @Test func closenessCountsAndNaNSums() {
    let a = Tensor([1, .infinity, .nan, 1] as [Float])
    let b = Tensor([1 + 1e-9, .infinity, .nan, 1.1] as [Float])
    #expect(a.isclose(b) == Tensor([true, true, false, false]))
    #expect(Tensor([Float.nan]).isclose(Tensor([Float.nan]), equalNaN: true) == Tensor([true]))
    #expect(!a.allclose(b) && Tensor([1, 2] as [Float]).allclose(Tensor([1, 2.000001] as [Float])))
    #expect(Tensor([[0, 1, 2], [3, 0, 0]]).countNonzero(dim: 1) == Tensor([2, 1]))
    #expect(Tensor([1, .nan, 2] as [Float]).nansum().item() == 3)
    #expect(Tensor([1, .nan, 2] as [Float]).nanmean().item() == 1.5)
    let (low, high) = Tensor([[1, 5], [3, 2]]).aminmax(dim: 0)
    #expect(low == Tensor([1, 2]) && high == Tensor([3, 5]))
  }

  @Test func crossAndCosineSimilarity() {
    #expect(Tensor([1, 0, 0] as [Float]).cross(Tensor([0, 1, 0] as [Float])) == Tensor([0, 0, 1] as [Float]))
    // Each vector's norm is clamped to eps before the product (PyTorch's order).
    let similarity = Tensor.cosineSimilarity(
      Tensor([[1e-5, 0], [3, 4]] as [[Float]]), Tensor([[1e-5, 1e-9], [4, 3]] as [[Float]]), dim: 1, eps: 1e-4)
    expectClose(
      similarity, Tensor([0.010000000707805157, 0.9600000381469727] as [Double]).float(), rtol: 1e-6, atol: 0)
    expectClose(
      Tensor.pairwiseDistance(Tensor([[1, 2]] as [[Float]]), Tensor([[2, 4]] as [[Float]])),
      Tensor([2.2360665798187256] as [Double]).float(), rtol: 1e-6, atol: 0)
  }
}

@Suite struct ModeAndDistanceTests {
  @Test func modePicksTheSmallestMostFrequentValueAndItsLastPosition() {
    let (values, indices) = Tensor([[1, 2, 2, 3, 3, 1], [5, 5, 4, 4, 4, 5]]).mode(dim: 1)
    #expect(values == Tensor([1, 4]) && indices == Tensor([5, 4]))
    let withNaN = Tensor([1, .nan, .nan, 2] as [Float]).mode(dim: 0)
    #expect(withNaN.values.item() == 1 && withNaN.indices.item() == 0)
  }

  @Test func logcumsumexpMatchesPyTorch() {
    expectClose(
      Tensor([1, 2, -1000, 3] as [Float]).logcumsumexp(dim: 0),
      Tensor([1.0, 2.3132617473602295, 2.3132617473602295, 3.4076058864593506] as [Double]).float(), rtol: 1e-6, atol: 0
    )
  }
}
