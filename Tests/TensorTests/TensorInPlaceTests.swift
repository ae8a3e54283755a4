import TestSupport
import Testing

@testable import Tensor

@Suite struct TensorInPlaceTests {
  @Test func fourWaysToAdd() {
    let x = Tensor.rand(5, 3)
    let y = Tensor.rand(5, 3)
    let expected = (x + y).toArray(Float.self)
    #expect(x.add(y).toArray(Float.self) == expected)
    let result = Tensor.empty(5, 3)
    x.add(y, out: result)
    #expect(result.toArray(Float.self) == expected)
    let returned = y.add_(x)
    #expect(returned === y)
    #expect(y.toArray(Float.self) == expected)
  }

  @Test func inPlaceOpsBumpTheVersion() {
    let x = Tensor.ones(3)
    let view = x[0..<2]
    let v0 = x.version
    x.mul_(2)
    #expect(x.version == v0 + 1)
    #expect(view.version == x.version)
    x += 1
    x -= 1
    x *= 2
    x /= 4
    #expect(x.version == v0 + 5)
    #expect(x.toArray(Float.self) == [1, 1, 1])
  }

  @Test func unaryInPlaceOps() {
    let x = Tensor([-1.0, 0.0, 4.0])
    x.abs_().sqrt_()
    #expect(x.toArray(Float.self) == [1, 0, 2])
    x.neg_()
    x.relu_()
    #expect(x.toArray(Float.self) == [0, 0, 0])
    x.exp_()
    #expect(x.toArray(Float.self) == [1, 1, 1])
    let y = Tensor([0.0]).sigmoid_()
    #expect(y.item() == 0.5)
    #expect(Tensor([2.0]).pow_(3).item() == 8)
    #expect(Tensor([5.0]).clamp_(min: 0, max: 1).item() == 1)
    #expect(Tensor([1.0]).log_().item() == 0)
    #expect(Tensor([0.0]).tanh_().item() == 0)
    #expect(Tensor([7.0]).sub_(Tensor([2.0]), alpha: 2).item() == 3)
    #expect(Tensor([7.0]).div_(2).item() == 3.5)
  }

  @Test func copyBroadcastsAndConverts() {
    let x = Tensor.zeros(2, 3, dtype: .int32)
    x.copy_(Tensor([1.7, 2.2, -3.9]))
    #expect(x.toArray(Int32.self) == [1, 2, -3, 1, 2, -3])
    let y = Tensor.arange(4).float()
    y[1..<4].copy_(y[0..<3].clone())
    #expect(y.toArray(Float.self) == [0, 0, 1, 2])
  }

  @Test func fillZeroRandomAndResize() {
    let x = Tensor.empty(2, 2)
    x.fill_(3)
    #expect(x.toArray(Float.self) == [3, 3, 3, 3])
    x.zero_()
    #expect(x.sum().item() == 0)
    x.uniform_(from: 2, to: 3)
    #expect(x.min().item() >= 2 && x.max().item() < 3)
    x.normal_(mean: 10, std: 0.001)
    #expect(abs(x.mean().item() - 10) < 0.01)
    let r = Tensor.arange(4)
    r.resize_(2, 2)
    #expect(r.shape == [2, 2] && r.toArray(Int.self) == [0, 1, 2, 3])
    r.resize_(3, 3)
    #expect(r.shape == [3, 3] && Array(r.toArray(Int.self)[0..<4]) == [0, 1, 2, 3])
  }

  @Test func inPlaceOnIntegerWithFloatResultStops() async {
    await #expect(processExitsWith: .failure) { Tensor([1, 2]).div_(2) }
  }

  @Test func inPlaceThatWouldBroadcastSelfStops() async {
    await #expect(processExitsWith: .failure) { Tensor.zeros(3).add_(Tensor.zeros(2, 3)) }
  }

  @Test func inPlaceOnExpandedTensorStops() async {
    await #expect(processExitsWith: .failure) { Tensor.zeros(1).expand(3).add_(1) }
  }

  @Test func copyFromPartiallyOverlappingViewStops() async {
    await #expect(processExitsWith: .failure) {
      let y = Tensor.arange(4).float()
      y[1..<4].copy_(y[0..<3])
    }
  }

  @Test func inPlaceWithPartialOverlapStops() async {
    await #expect(processExitsWith: .failure) {
      let x = Tensor.ones(2, 3)
      x.add_(x[0])
    }
  }
}
