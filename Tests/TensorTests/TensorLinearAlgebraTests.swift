import TestSupport
import Testing

@testable import Tensor

private let fixtures = Fixtures()

@Suite struct TensorLinearAlgebraTests {
  @Test(arguments: ["dot", "mm", "vm", "mv", "bmm_bcast", "batch_bcast", "vec_batch", "batch_vec", "mm_t", "odd"])
  func matmulFollowsPyTorchRankRules(name: String) {
    let a = fixtures.tensor("mm_\(name)_a")
    let b = fixtures.tensor("mm_\(name)_b")
    let operands = name == "mm_t" ? (a.t().contiguous().t(), b.t().contiguous().t()) : (a, b)
    if name == "mm_t" { #expect(!operands.0.isContiguous && !operands.1.isContiguous) }
    expectClose(operands.0.matmul(operands.1), fixtures.tensor("mm_\(name)_out"), rtol: 1e-5, atol: 1e-5)
  }

  @Test func namedProducts() {
    let a = fixtures.tensor("mm_mm_a")
    let b = fixtures.tensor("mm_mm_b")
    expectClose(a.mm(b), fixtures.tensor("mm_mm_out"), rtol: 1e-5, atol: 1e-6)
    expectClose(
      a.unsqueeze(0).bmm(b.unsqueeze(0)).squeeze(dim: 0), fixtures.tensor("mm_mm_out"), rtol: 1e-5, atol: 1e-6)
    expectClose(
      fixtures.tensor("mm_mv_a").mv(fixtures.tensor("mm_mv_b")), fixtures.tensor("mm_mv_out"), rtol: 1e-5, atol: 1e-6)
    expectClose(
      fixtures.tensor("mm_dot_a").dot(fixtures.tensor("mm_dot_b")), fixtures.tensor("mm_dot_out"), rtol: 1e-5,
      atol: 1e-6)
    expectClose(fixtures.tensor("mm_dot_a").outer(fixtures.tensor("mm_dot_b")), fixtures.tensor("outer_out"))
    expectClose(matmul(a.double(), b.double()), fixtures.tensor("mm_f64_out"), rtol: 1e-12, atol: 1e-12)
    expectClose(
      Tensor.arange(6).view(2, 3).matmul(Tensor.arange(12).view(3, 4)), fixtures.tensor("mm_int_out"), rtol: 0, atol: 0)
  }

  @Test func matmulOut() {
    let out = Tensor.empty(0)
    Tensor.eye(2).matmul(Tensor([[1.0, 2.0], [3.0, 4.0]]), out: out)
    #expect(out.toArray(Float.self) == [1, 2, 3, 4])
  }

  @Test func emptyInnerDimensionGivesZeros() {
    #expect(Tensor.ones(2, 0).mm(Tensor.ones(0, 3)).toArray(Float.self) == [0, 0, 0, 0, 0, 0])
    // A stack of rows times a matrix (folded into one product) with empty dims, as PyTorch.
    #expect(Tensor.ones(2, 3, 0).matmul(Tensor.ones(0, 4)) == Tensor.zeros(2, 3, 4))
    #expect(Tensor.ones(0, 3, 5).matmul(Tensor.ones(5, 4)).shape == [0, 3, 4])
  }

  @Test func aStackOfRowsTimesAMatrixIsOneProduct() {
    // [B, T, K] @ [K, N] equals the per-batch products, and the weight's gradient is the sum of
    // theirs; non-contiguous rows too.
    let x = Tensor.randn(3, 4, 5).transpose(0, 1)
    let w = Tensor.randn(5, 2)
    let folded = x.matmul(w)
    let perBatch = Tensor.stack((0..<4).map { x[$0].mm(w) })
    #expect(folded.shape == [4, 3, 2])
    #expect((folded - perBatch).abs().max().item() < 1e-5)
  }

  @Test func incompatibleShapesStop() async {
    await #expect(processExitsWith: .failure) { _ = Tensor.ones(2, 3).mm(Tensor.ones(4, 5)) }
  }

  @Test func mixedDTypesStop() async {
    await #expect(processExitsWith: .failure) { _ = Tensor.ones(2, 2).mm(Tensor.ones(2, 2, dtype: .float64)) }
  }
}
