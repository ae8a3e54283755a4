import Foundation
import TestSupport
import Testing

@testable import Tensor

/// Sorting with NaN and ties, integer order statistics, quantile modes and unique; expected
/// values are PyTorch 2.13's (float gradients are in the Autograd fixtures).
@Suite struct SortingTests {
  let x = Tensor([[3, .nan, 1, 3, 2], [0, -1, 5, 5, .nan]] as [[Float]])

  @Test func sortPutsNaNLastAndKeepsTiesInOrder() {
    let (values, indices) = x.sort(dim: 1)
    #expect(values.isnan() == Tensor([[false, false, false, false, true], [false, false, false, false, true]]))
    #expect(values.nanToNum() == Tensor([[1, 2, 3, 3, 0], [-1, 0, 5, 5, 0]] as [[Float]]))
    #expect(indices == Tensor([[2, 4, 0, 3, 1], [1, 0, 2, 3, 4]]))
    let descending = x.sort(dim: 1, descending: true, stable: true)
    #expect(descending.indices == Tensor([[1, 0, 3, 4, 2], [4, 2, 3, 0, 1]]))
    #expect(Tensor([3, 1, 2, 1]).argsort(stable: true) == Tensor([1, 3, 2, 0]))
    #expect(Tensor([[3, 1], [1, 2]]).msort() == Tensor([[1, 1], [3, 2]]))
  }

  @Test func topkAndKthValue() {
    // NaN ranks highest; which of two equal values comes first is unspecified (PyTorch's
    // partial sort picks [1, 3] here, the stable sort [1, 0]), so only values are compared.
    let largest = x.topk(2, dim: 1)
    #expect(largest.indices[.all, 0] == Tensor([1, 4]) && largest.values[.all, 1] == Tensor([3, 5] as [Float]))
    let smallest = x.topk(2, dim: 1, largest: false)
    #expect(
      smallest.values == Tensor([[1, 2], [-1, 0]] as [[Float]]) && smallest.indices == Tensor([[2, 4], [1, 0]]))
    let kth = Tensor([[4, 1, 3], [2, 5, 9]] as [[Float]]).kthvalue(2, dim: 1)
    #expect(kth.values == Tensor([3, 5] as [Float]) && kth.indices == Tensor([2, 1]))
  }

  @Test func mediansWithAndWithoutNaN() {
    let median = x.median(dim: 1)
    #expect(median.values.isnan().all().item(Bool.self) && median.indices == Tensor([1, 4]))
    let nanmedian = x.nanmedian(dim: 1)
    #expect(nanmedian.values == Tensor([2, 0] as [Float]) && nanmedian.indices == Tensor([4, 0]))
    #expect(Tensor([4, 1, 3, 2] as [Float]).median().item() == 2)
    #expect(x.nanmedian().item() == 2)
    let integers = Tensor([[4, 1, 3, 2], [7, 7, 1, 0]]).median(dim: 1)
    #expect(integers.values == Tensor([2, 1]) && integers.indices == Tensor([3, 2]))
  }

  @Test func quantileInterpolationsAndShapes() {
    let y = Tensor([[1, 4, 2, 8], [3, .nan, 0, 6]] as [[Float]])
    let q = Tensor([0.25, 0.5] as [Float])
    let expected: [(Tensor.QuantileInterpolation, [Float], [Float])] = [
      (.linear, [1.75, 3.0], [2.4000000953674316, 2.4000000953674316]), (.lower, [1, 2], [2, 0]),
      (.higher, [2, 4], [4, 3]),
      (.midpoint, [1.5, 3], [3, 1.5]), (.nearest, [2, 4], [2, 3]),
    ]
    for (mode, firstRow, nanIgnored) in expected {
      let result = y.quantile(q, dim: 1, interpolation: mode)
      expectClose(result[.all, 0], Tensor(firstRow), rtol: 1e-6, atol: 0)
      #expect(result[.all, 1].isnan().all().item(Bool.self), "\(mode): a NaN row gives NaN")
      expectClose(y.nanquantile(0.4, dim: 1, interpolation: mode), Tensor(nanIgnored), rtol: 1e-6, atol: 0)
    }
    expectClose(Tensor([1, 4, 2, 8] as [Float]).quantile(0.3), Tensor(Float(1.9000000953674316)), rtol: 1e-6, atol: 0)
    #expect(y[0].quantile(0.3, keepdim: true).shape == [1])
    #expect(y.quantile(q, dim: 1, keepdim: true).shape == [2, 2, 1])
    #expect(y.quantile(0.5, dim: 0, keepdim: true).shape == [1, 4])
  }

  @Test func uniqueValuesSlicesAndRuns() {
    let u = Tensor([3, 1, 3, 2, 1, 1]).unique(returnInverse: true, returnCounts: true)
    #expect(
      u.values == Tensor([1, 2, 3]) && u.inverse == Tensor([2, 0, 2, 1, 0, 0]) && u.counts == Tensor([3, 1, 2]))
    let rows = Tensor([[1, 2], [0, 5], [1, 2], [0, 1]]).unique(returnInverse: true, returnCounts: true, dim: 0)
    #expect(
      rows.values == Tensor([[0, 1], [0, 5], [1, 2]]) && rows.inverse == Tensor([2, 1, 2, 0])
        && rows.counts == Tensor([1, 1, 2]))
    let runs = Tensor([1, 1, 2, 2, 3, 1, 1]).uniqueConsecutive(returnInverse: true, returnCounts: true)
    #expect(
      runs.values == Tensor([1, 2, 3, 1]) && runs.inverse == Tensor([0, 0, 1, 1, 2, 3, 3])
        && runs.counts == Tensor([2, 2, 1, 2]))
    let withNaN = Tensor([.nan, 1, .nan] as [Float]).unique().values
    #expect(withNaN[0].item() == 1 && withNaN[1...].isnan().all().item(Bool.self) && withNaN.shape == [3])
  }
}
