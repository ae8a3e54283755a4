import TestSupport
import Testing

@testable import Tensor

@Suite struct TensorViewsTests {
  @Test func viewSharesStorageWithBase() {
    let x = Tensor.randn(4, 4)
    let y = x.view(16)
    let z = x.view(-1, 8)
    #expect(x.size() == [4, 4] && y.size() == [16] && z.size() == [2, 8])
    y[3] = Tensor(100.0)
    #expect(x[0, 3].item() == 100)
    #expect(z[0, 3].item() == 100)
    #expect(y.storage === x.storage)
  }

  @Test func viewOfTransposedNeedsReshape() {
    let x = Tensor.arange(6).view(2, 3).t()
    let r = x.reshape(6)
    #expect(r.toArray(Int.self) == [0, 3, 1, 4, 2, 5])
    #expect(r.storage !== x.storage)
    let v = Tensor.arange(6).view(2, 3).reshape(3, 2)
    #expect(v.stride() == [2, 1])
  }

  @Test func transposePermuteAndMT() {
    let x = Tensor.arange(24).view(2, 3, 4)
    #expect(x.transpose(0, 2).shape == [4, 3, 2])
    #expect(x.transpose(0, 2).stride() == [1, 4, 12])
    #expect(x.permute(2, 0, 1).stride() == [1, 12, 4])
    #expect(x.mT.shape == [2, 4, 3])
    #expect(Tensor.arange(3).t().shape == [3])
    #expect(x.permute(2, 0, 1)[1, 1, 2].item() == 21)
  }

  @Test func expandUsesZeroStridesAndDoesNotCopy() {
    let x = Tensor([[1], [2], [3]])
    let e = x.expand(3, 4)
    #expect(e.stride() == [1, 0])
    #expect(e.storage === x.storage)
    #expect(x.expand(2, -1, 4).shape == [2, 3, 4])
    #expect(Tensor([1, 2]).broadcast(to: [3, 2]).toArray(Int.self) == [1, 2, 1, 2, 1, 2])
    #expect(Tensor([5]).expand(as: Tensor.zeros(2, 2)).shape == [2, 2])
  }

  @Test func squeezeUnsqueezeFlattenUnflatten() {
    let x = Tensor.zeros(1, 3, 1, 2)
    #expect(x.squeeze().shape == [3, 2])
    #expect(x.squeeze(dim: 0).shape == [3, 1, 2])
    #expect(x.squeeze(dim: 1).shape == [1, 3, 1, 2])
    #expect(x.unsqueeze(-1).shape == [1, 3, 1, 2, 1])
    #expect(x.flatten().shape == [6])
    #expect(x.flatten(startDim: 1).shape == [1, 6])
    #expect(Tensor.zeros(2, 6).unflatten(dim: 1, sizes: [2, -1]).shape == [2, 2, 3])
    #expect(Tensor(1.0).flatten().shape == [1])
  }

  @Test func narrowSelectUnbindChunkSplit() {
    let x = Tensor.arange(10)
    #expect(x.narrow(dim: 0, start: 2, length: 3).toArray(Int.self) == [2, 3, 4])
    #expect(x.narrow(dim: 0, start: 2, length: 3).storageOffset == 2)
    let m = Tensor.arange(6).view(2, 3)
    #expect(m.select(dim: 1, index: -1).toArray(Int.self) == [2, 5])
    #expect(m.unbind(dim: 1).map { $0.toArray(Int.self) } == [[0, 3], [1, 4], [2, 5]])
    #expect(x.chunk(3).map(\.numel) == [4, 4, 2])
    #expect(x.split(4).map(\.numel) == [4, 4, 2])
    #expect(x.split(sizes: [1, 9]).map(\.numel) == [1, 9])
  }

  @Test func diagonalAndAsStrided() {
    let m = Tensor.arange(12).view(3, 4)
    #expect(m.diagonal().toArray(Int.self) == [0, 5, 10])
    #expect(m.diagonal(offset: 1).toArray(Int.self) == [1, 6, 11])
    #expect(m.diagonal(offset: -1).toArray(Int.self) == [4, 9])
    let s = Tensor.arange(6).asStrided(size: [2, 2], stride: [1, 2], storageOffset: 1)
    #expect(s.toArray(Int.self) == [1, 3, 2, 4])
  }

  @Test func catAndStackCopy() {
    let a = Tensor([[1, 2]])
    let b = Tensor([[3, 4], [5, 6]])
    #expect(Tensor.cat([a, b]).toArray(Int.self) == [1, 2, 3, 4, 5, 6])
    #expect(Tensor.cat([a, a], dim: 1).shape == [1, 4])
    #expect(Tensor.cat([a, a.float()]).dtype == .float32)
    let s = Tensor.stack([Tensor([1, 2]), Tensor([3, 4])], dim: 1)
    #expect(s.shape == [2, 2] && s.toArray(Int.self) == [1, 3, 2, 4])
    #expect(Tensor.cat([Tensor.zeros(0), Tensor([1.0])]).shape == [1])
  }

  @Test func detachSharesStorage() {
    let x = Tensor.ones(3)
    let d = x.detach()
    d.add_(1)
    #expect(x.toArray(Float.self) == [2, 2, 2])
  }

  @Test func inPlaceViewOps() {
    let x = Tensor.zeros(2, 3)
    x.t_()
    #expect(x.shape == [3, 2] && x.stride() == [1, 3])
    x.unsqueeze_(0)
    #expect(x.shape == [1, 3, 2])
    x.squeeze_()
    #expect(x.shape == [3, 2])
    x.transpose_(0, 1)
    #expect(x.isContiguous)
  }

  @Test func viewAcrossNonContiguousDimsStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor.zeros(4, 6).t().view(24) }
  }

  @Test func viewWithWrongSizeStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor.zeros(7).view(2, -1) }
  }

  @Test func expandOfNonSingletonStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor.zeros(3).expand(4) }
  }

  @Test func transposeDimOutOfRangeStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor.zeros(2, 2).transpose(0, 2) }
  }

  @Test func catOfMismatchedSizesStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor.cat([Tensor.zeros(2, 3), Tensor.zeros(2, 4)]) }
  }
}
