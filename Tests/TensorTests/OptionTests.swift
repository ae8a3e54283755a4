import Foundation
import TestSupport
import Testing

@testable import Tensor

/// Options PyTorch users pass that were missing; expected values are PyTorch 2.13's.
@Suite struct OptionTests {
  @Test func roundToDecimals() {
    let x = Tensor([1.2345, -2.5, 2.5, 123.45, 0.125] as [Float])
    let expected: [(Int, [Double])] = [
      (2, [1.2300000190734863, -2.5, 2.5, 123.44999694824219, 0.11999999731779099]),
      (-1, [0, -0.0, 0, 120, 0]),
      (1, [1.2000000476837158, -2.5, 2.5, 123.4000015258789, 0.10000000149011612]),
    ]
    for (decimals, values) in expected {
      #expect(x.round(decimals: decimals) == Tensor(values, shape: [5]).float(), "decimals \(decimals)")
    }
  }

  @Test func fractionalCorrectionSqueezeDimsAndTensorFill() {
    expectClose(
      Tensor([[1, 2], [3, 5]] as [[Float]]).var(dim: 1, correction: 0.5),
      Tensor([0.3333333432674408, 1.3333333730697632] as [Double]).float(), rtol: 1e-6, atol: 0)
    #expect(Tensor.zeros(1, 2, 1, 3).squeeze(dims: [0, 2, 3]).shape == [2, 3])
    #expect(
      Tensor([1, 2, 3] as [Float]).maskedFill(Tensor([true, false, true]), Tensor(Float(9)))
        == Tensor([9, 2, 9] as [Float]))
    expectClose(
      Tensor([1, 2, 3]).softmax(dim: 0, dtype: .float64),
      Tensor([0.09003057317038045, 0.2447284710547976, 0.6652409557748218], shape: [3]), rtol: 1e-15, atol: 0)
  }

  @Test func scatterWithAReduction() {
    let index = Tensor([[0, 0], [2, 1]])
    #expect(
      Tensor.zeros(2, 3).scatter(dim: 1, index: index, src: Tensor([[1, 2], [3, 4]] as [[Float]]), reduce: .add)
        == Tensor([[3, 0, 0], [0, 4, 3]] as [[Float]]))
    #expect(
      Tensor.ones(2, 3).scatter(dim: 1, index: index, src: Tensor([[2, 3], [3, 4]] as [[Float]]), reduce: .multiply)
        == Tensor([[6, 1, 1], [1, 4, 3]] as [[Float]]))
  }
}
