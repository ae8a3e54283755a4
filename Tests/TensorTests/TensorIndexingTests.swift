import TestSupport
import Testing

@testable import Tensor

private let fixtures = Fixtures()

@Suite struct TensorIndexingTests {
  let ar = Tensor.arange(60).view(3, 4, 5)
  let idx = Tensor([[0, 2], [1, 1]])
  let idx2 = Tensor([4, -1])

  private func check(_ t: Tensor, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
    expectClose(t, fixtures.tensor("index_\(name)"), rtol: 0, atol: 0, sourceLocation: sourceLocation)
  }

  @Test func basicIndexingGivesViews() {
    let v = ar[1, 1..<3, .stride(by: 2)]
    check(v, "basic")
    #expect(v.storage === ar.storage)
    check(ar[-1, .all, -2], "neg")
    check(ar[.ellipsis, .newAxis, 1], "ellipsis_none")
    #expect(ar[.slice(1, nil, 2)].shape == [1, 4, 5])
    #expect(ar[..<2, 1...].shape == [2, 3, 5])
    #expect(ar[0...1].shape == [2, 4, 5])
    #expect(ar[0..., 1].shape == [3, 5])
    #expect(ar[.slice(-2, nil)].shape == [2, 4, 5])
    #expect(ar[.slice(10, 20)].shape == [0, 4, 5])
  }

  @Test func advancedIndexingMatchesPyTorch() {
    check(ar[idx], "adv0")
    check(ar[.all, idx], "adv1")
    check(ar[idx[0], .all, idx2], "adv_pair")
    check(ar[.all, idx[0], idx2], "adv_adjacent")
    check(ar[ar % 7 .== 0], "mask")
    check(ar[.all, Tensor.arange(20).view(4, 5) % 3 .== 0], "mask2d")
    check(ar.indexSelect(dim: 1, index: Tensor([3, 0, 3])), "index_select")
    #expect(ar[idx].storage !== ar.storage)
  }

  @Test func gatherScatterMaskedFill() {
    let gi = Tensor([[[0, 4], [1, 1], [2, 0], [3, 3]]]).expand(3, 4, 2).contiguous()
    check(ar.gather(dim: 2, index: gi), "gather")
    let si = Tensor([[0, 4], [1, 1], [2, 0]])
    let src = Tensor([[1, 2], [3, 4], [5, 6]])
    let z = Tensor.zeros(3, 5, dtype: .int64)
    #expect(
      z.scatter(dim: 1, index: Tensor([[0], [1], [2]]), src: src).toArray(Int.self)
        == [1, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 5, 0, 0])
    check(z.scatter(dim: 1, index: si, src: src), "scatter")
    check(z.scatterAdd(dim: 1, index: si, src: src), "scatter_add")
    check(ar.maskedFill(ar .> 30, -1), "masked_fill")
    #expect(z.scatter(dim: 1, index: Tensor([[4]]), value: 9).toArray(Int.self)[4] == 9)
    #expect(Tensor([1, 2, 3]).maskedSelect(Tensor([true, false, true])).toArray(Int.self) == [1, 3])
  }

  @Test func subscriptAssignmentWritesInPlace() {
    var x = ar.clone()
    x[idx[0], 1..<3, idx2] = Tensor([100, 200])
    check(x, "put_pair")
    x = ar.clone()
    x[x .> 50] = Tensor(0)
    check(x, "put_mask")
    x = ar.clone()
    let version = x.version
    x[.all, 1] = Tensor([7, 8, 9, 10, 11])
    check(x, "put_basic")
    #expect(x.version > version)
  }

  @Test func tutorialColumnIndexing() {
    let x = Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    #expect(x[0..., 1].toArray(Float.self) == [2, 4, 6])
    #expect(x[.all, 1].toArray(Float.self) == [2, 4, 6])
  }

  @Test func indexOutOfRangeStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor.zeros(3)[3] }
  }

  @Test func tensorIndexOutOfRangeStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor.zeros(3)[Tensor([0, 5])] }
  }

  @Test func tooManyIndicesStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor.zeros(3)[0, 0] }
  }

  @Test func maskOfWrongShapeStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor.zeros(3)[Tensor([true, false])] }
  }

  @Test func floatIndexTensorStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor.zeros(3)[Tensor([0.0])] }
  }
}
