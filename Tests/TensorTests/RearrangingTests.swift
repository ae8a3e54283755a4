import Foundation
import TestSupport
import Testing

@testable import Tensor

/// Integer, empty and 0-d cases of the rearranging ops (float values and gradients are in
/// the Autograd fixtures); expected values are PyTorch 2.13's.
@Suite struct RearrangingTests {
  let x = Tensor.arange(6).view(2, 3)

  @Test func repeatAndTileOfIntegers() {
    #expect(
      x.repeat(2, 2) == Tensor([[0, 1, 2, 0, 1, 2], [3, 4, 5, 3, 4, 5], [0, 1, 2, 0, 1, 2], [3, 4, 5, 3, 4, 5]]))
    #expect(Tensor(5).repeat(2, 3) == Tensor.full([2, 3], 5, dtype: .int64))
    #expect(x.tile(2) == x.repeat(1, 2))
    #expect(Tensor.repeatInterleave(Tensor([2, 0, 1])) == Tensor([0, 0, 2]))
  }

  @Test func flipRollAndRotate() {
    #expect(x.flip(1) == Tensor([[2, 1, 0], [5, 4, 3]]))
    #expect(x.roll(shifts: [1]) == Tensor([[5, 0, 1], [2, 3, 4]]))
    #expect(x.roll(-1, dim: 1) == Tensor([[1, 2, 0], [4, 5, 3]]))
    #expect(x.rot90() == Tensor([[2, 5], [1, 4], [0, 3]]))
    #expect(Tensor.zeros(0, 3).flip(0).shape == [0, 3])
    #expect(Tensor.zeros(0, 3).roll(1, dim: 0).shape == [0, 3])
    // Copies, as in PyTorch: writing the result leaves the input alone.
    let copy = x.flip(0)
    copy.fill_(9)
    #expect(x[0, 0].item() == 0)
  }

  @Test func splitsDiagonalsAndWindows() {
    #expect(Tensor.arange(7).tensorSplit(sections: 3).map { $0.toArray(Int.self) } == [[0, 1, 2], [3, 4], [5, 6]])
    #expect(Tensor([1, 2]).diag(-1) == Tensor([[0, 0, 0], [1, 0, 0], [0, 2, 0]]))
    #expect(Tensor.arange(5).unfold(dimension: 0, size: 2, step: 2) == Tensor([[0, 1], [2, 3]]))
    #expect(Tensor(5).unfold(dimension: 0, size: 1, step: 1) == Tensor([5]))
    #expect(Tensor.hstack([Tensor(1), Tensor([2, 3])]) == Tensor([1, 2, 3]))
    let grids = Tensor.meshgrid([Tensor([1, 2, 3]), Tensor([4, 5])], indexing: .xy)
    #expect(grids[0] == Tensor([[1, 2, 3], [1, 2, 3]]) && grids[1] == Tensor([[4, 4, 4], [5, 5, 5]]))
  }

  @Test func repeatWithTooFewSizesStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.ones(2, 3).repeat(2)
    }
    #expect(
      standardError(of: result).contains(
        "Number of dimensions of repeat dims (1) can not be smaller than number of dimensions of tensor (2)"))
  }

  @Test func unfoldPastTheSizeStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor(5).unfold(dimension: 0, size: 2, step: 1)
    }
    #expect(standardError(of: result).contains("maximum size for tensor at dimension 0 is 1 but size is 2"))
  }
}
