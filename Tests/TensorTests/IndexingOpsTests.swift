import Foundation
import TestSupport
import Testing

@testable import Tensor

/// Integer cases of the indexing ops, searches and counts (float values and gradients are in
/// the Autograd fixtures); expected values are PyTorch 2.13's.
@Suite struct IndexingOpsTests {
  @Test func searchsortedAndBucketize() {
    let sequence = Tensor([1, 3, 5, 7, 9])
    let values = Tensor([[3, 6, 9], [3, 6, 9]])
    #expect(Tensor.searchsorted(sequence, values) == Tensor([[1, 3, 4], [1, 3, 4]]))
    #expect(Tensor.searchsorted(sequence, values, right: true) == Tensor([[2, 3, 5], [2, 3, 5]]))
    #expect(
      Tensor.searchsorted(Tensor([[1, 3, 5, 7, 9], [2, 4, 6, 8, 10]]), values) == Tensor([[1, 3, 4], [1, 2, 4]]))
    #expect(Tensor.searchsorted(Tensor([1, 2, .nan] as [Float]), Tensor([.nan, 1.5] as [Float])) == Tensor([3, 1]))
    #expect(values.bucketize(sequence) == Tensor([[1, 3, 4], [1, 3, 4]]))
    #expect(Tensor([3, 6, 9]).bucketize(sequence, right: true, outInt32: true).dtype == .int32)
  }

  @Test func countsAndHistograms() {
    #expect(Tensor([0, 1, 1, 3, 2, 1, 7]).bincount() == Tensor([1, 3, 1, 1, 0, 0, 0, 1]))
    let weighted = Tensor([0, 1, 1]).bincount(weights: Tensor([0.5, 1, 2] as [Float]), minlength: 4)
    #expect(weighted == Tensor([0.5, 3, 0, 0] as [Float]) && weighted.dtype == .float32)
    #expect(Tensor([0, 1, 1]).bincount(weights: Tensor([1, 2, 3])).dtype == .float64)
    #expect(Tensor.zeros(0, dtype: .int64).bincount().shape == [0])
    #expect(Tensor([1, 2, 1] as [Float]).histc(bins: 4, min: 0, max: 3) == Tensor([0, 2, 1, 0] as [Float]))
    #expect(Tensor([1, 2, 1, 4] as [Float]).histc(bins: 3) == Tensor([2, 1, 1] as [Float]))
    let coordinates = Tensor([[0, 1], [2, 0]]).nonzero(asTuple: true)
    #expect(coordinates.count == 2 && coordinates[0] == Tensor([0, 1]) && coordinates[1] == Tensor([1, 0]))
    #expect(Tensor([[0, 1], [2, 0]]).argwhere() == Tensor([[0, 1], [1, 0]]))
  }

  @Test func integerIndexOps() {
    let zeros = Tensor.zeros(3, 4, dtype: .int64)
    #expect(
      zeros.indexAdd(dim: 1, index: Tensor([0, 3, 0]), source: Tensor.ones(3, 3, dtype: .int64))
        == Tensor([[2, 0, 0, 1], [2, 0, 0, 1], [2, 0, 0, 1]]))
    let x = Tensor.arange(6).view(2, 3)
    let index = Tensor([[0, 0], [2, 2]])
    let src = Tensor([[5, 7], [1, 1]])
    #expect(x.scatterReduce(dim: 1, index: index, src: src, reduce: .mean) == Tensor([[4, 1, 2], [3, 4, 2]]))
    #expect(
      x.scatterReduce(dim: 1, index: index, src: src, reduce: .amax, includeSelf: false)
        == Tensor([[7, 1, 2], [3, 4, 1]]))
    #expect(
      Tensor.zeros(2, 3, dtype: .int64).put_(index: Tensor([0, -1]), source: Tensor([4, 5]))
        == Tensor([[4, 0, 0], [0, 0, 5]]))
    let mask = Tensor([[true, false, true], [false, true, false]])
    #expect(
      Tensor.zeros(2, 3, dtype: .int64).maskedScatter(mask, Tensor([7, 8, 9, 10])) == Tensor([[7, 0, 8], [0, 9, 0]]))
    #expect(
      Tensor.zeros(2, 2, dtype: .int64).indexFill(dim: 0, index: Tensor([1]), value: 3) == Tensor([[0, 0], [3, 3]]))
  }
}
