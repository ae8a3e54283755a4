import Foundation
import TestSupport
import Testing

@testable import Tensor

/// Inputs from PyTorch's own sample sets (OpInfo) that used to trap or differ: 0-d tensors,
/// empty indices, one-step ranges, NaN. Expected values are PyTorch 2.13's.
@Suite struct EdgeCaseTests {
  @Test func linspaceOfOneStepIsTheStart() {
    #expect(Tensor.linspace(2, 5, count: 1) == Tensor([2] as [Float]))
    #expect(Tensor.linspace(2, 5, count: 0).shape == [0])
  }

  @Test func zeroDimensionalTensorsGatherAndScatterAsOneElement() {
    #expect(Tensor(3.0).gather(dim: 0, index: Tensor(0)) == Tensor(3.0))
    #expect(Tensor(3.0).gather(dim: 0, index: Tensor(0)).shape == [])
    #expect(Tensor([1.0, 2.0, 3.0] as [Float]).gather(dim: 0, index: Tensor(2)) == Tensor(Float(3)))
    #expect(Tensor(3.0).scatterAdd(dim: 0, index: Tensor(0), src: Tensor(5.0)) == Tensor(8.0))
    let x = Tensor(3.0)
    x.scatter_(dim: -1, index: Tensor([0]), src: Tensor([7.0]))
    #expect(x == Tensor(7.0))
  }

  @Test func zeroDimensionalIndexSelectAndMasks() {
    #expect(Tensor(3.0).indexSelect(dim: 0, index: Tensor([0])) == Tensor(3.0))
    #expect(Tensor(3.0).indexSelect(dim: 0, index: Tensor(0)).shape == [])
    #expect(Tensor(3.0).maskedSelect(Tensor(true)) == Tensor([3.0]))
    #expect(Tensor(3.0).maskedSelect(Tensor(false)).shape == [0])
    #expect(Tensor(3.0)[Tensor(true)] == Tensor([3.0]))
    #expect(Tensor.arange(3).float().maskedSelect(Tensor(true)) == Tensor([0, 1, 2] as [Float]))
  }

  @Test func zeroDimensionalIndexSelectNeedsOneIndex() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor(3.0).indexSelect(dim: 0, index: Tensor([0, 0]))
    }
    #expect(standardError(of: result).contains("index_select(): Index to scalar can have only 1 value, got 2 value(s)"))
  }

  @Test func emptyIndicesPickNothingWhateverTheirRank() {
    let x = Tensor.ones(2, 3)
    #expect(x.gather(dim: 1, index: Tensor.zeros(0, dtype: .int64)).shape == [0])
    #expect(x.gather(dim: 1, index: Tensor.zeros(0, 0, dtype: .int64)).shape == [0, 0])
    #expect(x.clone().scatter_(dim: 1, index: Tensor.zeros(0, dtype: .int64), src: Tensor.ones(0)) == x)
  }

  @Test func signOfNaNIsZero() {
    #expect(Tensor([Float.nan, -2, 0, 3]).sign() == Tensor([0, -1, 0, 1] as [Float]))
    #expect(Tensor([Double.nan]).sign() == Tensor([0.0]))
  }
}
