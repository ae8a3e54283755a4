import Foundation
import TestSupport
import Testing

@testable import Tensor

private let fixtures = Fixtures()

@Suite struct TensorCreationTests {
  @Test func literalsInferPyTorchDTypes() {
    #expect(Tensor([1.0, 2.0]).dtype == .float32)
    #expect(Tensor([[1, 2], [3, 4]]).dtype == .int64)
    #expect(Tensor([true, false]).dtype == .bool)
    #expect(Tensor(3.5).dim == 0)
    #expect(Tensor(3.5).item() == 3.5)
    #expect(Tensor([[1, 2], [3, 4]]).shape == [2, 2])
    #expect(Tensor([1, 2], dtype: .float64).dtype == .float64)
    #expect(Tensor([Float](repeating: 1, count: 6), shape: [2, 3]).shape == [2, 3])
    #expect(Tensor([Double](repeating: 1, count: 2), shape: [2]).dtype == .float64)
  }

  @Test(arguments: DType.allCases)
  func factoriesTakeDType(dtype: DType) {
    #expect(Tensor.zeros(2, 3, dtype: dtype).dtype == dtype)
    #expect(Tensor.ones([4], dtype: dtype).toArray(Double.self) == [1, 1, 1, 1])
    #expect(Tensor.zeros(like: Tensor.ones(2, dtype: dtype)).dtype == dtype)
    #expect(Tensor.empty(5, 3, dtype: dtype).shape == [5, 3])
  }

  @Test func fullAndLikeFactories() {
    let f = Tensor.full([2, 3], 7.0)
    #expect(f.dtype == .float32 && f.toArray(Float.self) == [7, 7, 7, 7, 7, 7])
    #expect(Tensor.full([2], 7).dtype == .int64)
    #expect(Tensor.ones(like: f).sum().item() == 6)
    #expect(Tensor.full(like: f, 2).toArray(Float.self) == [2, 2, 2, 2, 2, 2])
    #expect(Tensor.rand(like: f).shape == [2, 3])
    #expect(Tensor.randn(like: f).dtype == .float32)
  }

  @Test func seededRandomMatchesTorch() async {
    // In a child process: the generator is global, and other tests draw from it concurrently.
    await #expect(processExitsWith: .success) {
      let fixtures = Fixtures()
      func same(_ t: Tensor, _ name: String, tolerance: Double = 0) {
        let a = t.toArray(Double.self)
        let e = fixtures.tensor(name).toArray(Double.self)
        if a.count != e.count || zip(a, e).contains(where: { abs($0 - $1) > tolerance }) {
          print("\(name): \(a) vs \(e)")
          exit(1)
        }
      }
      Tensor.manualSeed(0)
      same(Tensor.rand(5), "random_rand5")
      same(Tensor.randn(5), "random_randn5")
      same(Tensor.randn(37), "random_randn37", tolerance: 1e-6)
      same(Tensor.rand(4, dtype: .float64), "random_rand_f64")
      same(Tensor.randint(0, 10, [6]), "random_randint")
      same(Tensor.randn(20, dtype: .float64), "random_randn_f64_20", tolerance: 1e-12)
      same(Tensor.empty(5).uniform_(from: -2, to: 3), "random_uniform")
      same(Tensor.empty(18).normal_(mean: 1, std: 0.5), "random_normal", tolerance: 1e-6)
    }
  }

  @Test func rangesAndIdentity() {
    expectValues(Tensor.arange(5), [0, 1, 2, 3, 4] as [Int])
    #expect(Tensor.arange(5).dtype == .int64)
    expectClose(Tensor.arange(0, 1, step: 0.1), fixtures.tensor("create_arange_float"))
    expectClose(Tensor.arange(10, -3, step: -3), fixtures.tensor("create_arange_step"), rtol: 0, atol: 0)
    expectClose(Tensor.linspace(-1, 2, count: 7), fixtures.tensor("create_linspace"), rtol: 0, atol: 0)
    expectClose(Tensor.eye(3, 4), fixtures.tensor("create_eye"), rtol: 0, atol: 0)
  }

  @Test func emptyTensors() {
    let e = Tensor.zeros(0, 3)
    #expect(e.numel == 0 && e.shape == [0, 3])
    #expect(e.sum().item() == 0)
    #expect(e.sum(dim: 0).shape == [3])
    #expect(Tensor.arange(0).numel == 0)
  }

  @Test func raggedLiteralStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor([[1, 2], [3]]) }
  }

  @Test func negativeSizeStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor.zeros(2, -1) }
  }
}
