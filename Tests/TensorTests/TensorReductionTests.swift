import TestSupport
import Testing

@testable import Tensor

private let fixtures = Fixtures()

private let reductions: [String: @Sendable (Tensor) -> Tensor] = [
  "sum_all": { $0.sum() }, "sum_d1": { $0.sum(dim: 1) }, "sum_d02_keep": { $0.sum(dim: [0, 2], keepdim: true) },
  "mean_all": { $0.mean() }, "mean_d2": { $0.mean(dim: 2) }, "prod_d1": { $0.prod(dim: 1) },
  "amax_d1": { $0.amax(dim: 1) }, "amin_d02": { $0.amin(dim: [0, 2]) }, "max_all": { $0.max() },
  "min_all": { $0.min() },
  "var_d1": { $0.var(dim: 1) }, "var_d1_c0": { $0.var(dim: 1, correction: 0) }, "std_all": { $0.std() },
  "std_d2_keep": { $0.std(dim: 2, keepdim: true) },
  "norm_2": { $0.norm() }, "norm_1_d1": { $0.norm(p: 1, dim: 1) }, "norm_inf_d2": { $0.norm(p: .infinity, dim: 2) },
  "norm_3_d0": { $0.norm(p: 3, dim: 0) },
  "logsumexp_d2": { $0.logsumexp(dim: 2) }, "logsumexp_d01": { $0.logsumexp(dim: [0, 1]) },
  "softmax_d1": { $0.softmax(dim: 1) }, "softmax_dm1": { $0.softmax(dim: -1) },
  "log_softmax_d1": { $0.logSoftmax(dim: 1) },
  "cumsum_d1": { $0.cumsum(dim: 1) }, "cumprod_d2": { $0.cumprod(dim: 2) },
  "max_d1_values": { $0.max(dim: 1).values }, "max_d1_indices": { $0.max(dim: 1).indices },
  "min_d2_values": { $0.min(dim: 2, keepdim: true).values },
  "min_d2_indices": { $0.min(dim: 2, keepdim: true).indices },
  "argmax_all": { $0.argmax() }, "argmax_d2": { $0.argmax(dim: 2) }, "argmin_d0": { $0.argmin(dim: 0) },
  "all_d1": { ($0 .> -1).all(dim: 1) }, "any_d2": { ($0 .> 1.5).any(dim: 2) },
  "sum_t": { $0.transpose(0, 2).sum(dim: 1) }, "softmax_t": { $0.transpose(1, 2).softmax(dim: 1) },
]

@Suite struct TensorReductionTests {
  @Test(arguments: reductions.keys.sorted())
  func reductionMatchesPyTorch(name: String) {
    let x = fixtures.tensor("in_x345")
    let result = reductions[name]!(x)
    let expected = fixtures.tensor("reduce_\(name)")
    if name.hasSuffix("indices") || name.hasPrefix("arg") {
      #expect(result.dtype == .int64)
    }
    expectClose(result, expected, rtol: 1e-5, atol: 2e-6)
  }

  @Test func integerReductionsAccumulateInInt64() {
    let i = fixtures.tensor("in_i34").int()
    #expect(i.sum(dim: 0).dtype == .int64)
    expectClose(i.sum(dim: 0), fixtures.tensor("reduce_sum_int"), rtol: 0, atol: 0)
    expectClose(i.cumsum(dim: 1), fixtures.tensor("reduce_cumsum_int"), rtol: 0, atol: 0)
    expectClose(i.prod(dim: 1), fixtures.tensor("reduce_prod_int"), rtol: 0, atol: 0)
    #expect(Tensor([true, true, false]).sum().item() == 2)
    #expect(i.amax().dtype == .int32)
  }

  @Test func nanPropagatesThroughMaxAndArgmax() {
    let x = Tensor([1.0, .nan, 3.0])
    #expect(x.max().item().isNaN)
    #expect(x.argmax().item() == 1)
    #expect(x.amin().item().isNaN)
    #expect(x.sum().item().isNaN)
  }

  @Test func reductionsOfEmptyAndZeroDim() {
    #expect(Tensor.zeros(0).sum().item() == 0)
    #expect(Tensor.zeros(0).prod().item() == 1)
    #expect(Tensor.zeros(0).mean().item().isNaN)
    #expect(Tensor(5.0).sum().item() == 5)
    #expect(Tensor(5.0).max(dim: 0).values.item() == 5)
    #expect(Tensor(5.0).cumsum(dim: 0).item() == 5)
  }

  @Test func softmaxIsStableForLargeValues() {
    let s = Tensor([1000.0, 1000.0]).softmax(dim: 0)
    #expect(s.toArray(Float.self) == [0.5, 0.5])
    #expect(Tensor([-Double.infinity, -Double.infinity]).logsumexp(dim: 0).item() == -.infinity)
  }

  @Test func meanOfIntegersStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor([1, 2]).mean() }
  }

  @Test func reductionDimOutOfRangeStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor.ones(2, 3).sum(dim: 2) }
  }

  @Test func amaxOfEmptyStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor.zeros(0).amax() }
  }
}
