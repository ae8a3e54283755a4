import Foundation
import TestSupport
import Testing

@testable import Tensor

/// Exact cases and errors of the factorizations (values and gradients of random matrices
/// are in the Autograd fixtures); expected values are PyTorch 2.13's.
@Suite struct LinalgTests {
  @Test func inverseSolveAndDeterminants() {
    expectClose(
      Linalg.inv(Tensor([[4, 7], [2, 6]] as [[Float]])),
      Tensor([[0.6000000238418579, -0.699999988079071], [-0.20000000298023224, 0.4000000059604645]] as [[Double]])
        .float(),
      rtol: 1e-6, atol: 1e-7)
    #expect(
      Linalg.solve(Tensor([[3, 1], [1, 2]], dtype: .float64), Tensor([9, 8], dtype: .float64))
        == Tensor([2, 3], dtype: .float64))
    #expect(Linalg.det(Tensor([[0, 1], [1, 0]] as [[Float]])).item() == -1)
    let singular = Linalg.slogdet(Tensor([[1, 2], [2, 4]] as [[Float]]))
    #expect(singular.sign.item() == 0 && singular.logAbsDet.item() == -.infinity)
    #expect(Linalg.det(Tensor([[1, 2], [2, 4]] as [[Float]])).item() == 0)
    #expect(Tensor([[1, 2, 3], [4, 5, 6]]).tril(diagonal: -1) == Tensor([[0, 0, 0], [4, 0, 0]]))
    #expect(Tensor([[1, 2, 3], [4, 5, 6]]).triu(diagonal: 1) == Tensor([[0, 2, 3], [0, 0, 6]]))
  }

  @Test func singularInverseStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Linalg.inv(Tensor([[1, 2], [2, 4]] as [[Float]]))
    }
    #expect(
      standardError(of: result).contains(
        "linalg.inv: The diagonal element 2 is zero, the inversion could not be completed because the input matrix is singular."
      ))
  }

  @Test func choleskyOfAnIndefiniteMatrixStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Linalg.cholesky(Tensor([[1, 2], [2, 1]] as [[Float]]))
    }
    #expect(
      standardError(of: result).contains(
        "linalg.cholesky: The factorization could not be completed because the input is not positive-definite (the leading minor of order 2 is not positive-definite)."
      ))
  }

  @Test func choleskyReconstructsItsInput() {
    let m = Tensor.randn(4, 4, dtype: .float64)
    let a = m.matmul(m.mT) + Tensor.eye(4, dtype: .float64)
    let l = Linalg.cholesky(a)
    expectClose(l.matmul(l.mT), a, rtol: 1e-12, atol: 1e-12)
    #expect(l == l.tril())
  }

  @Test func eighDiagonalizesWithOrthonormalVectors() {
    let m = Tensor.randn(3, 5, 5, dtype: .float64)
    let a = m + m.mT
    let (w, v) = Linalg.eigh(a)
    expectClose(a.matmul(v), v * w.unsqueeze(-2), rtol: 1e-12, atol: 1e-12)
    expectClose(v.mT.matmul(v), Tensor.eye(5, dtype: .float64).expand(3, 5, 5), rtol: 0, atol: 1e-13)
    #expect((w[.all, 1...] - w[.all, ..<4] .>= 0).all().item(Bool.self))
    // The eigenvalues of [[2, 1], [1, 2]] are 1 and 3; of the zero matrix, 0 and 0.
    expectClose(
      Linalg.eigvalsh(Tensor([[2, 1], [1, 2]], dtype: .float64)), Tensor([1, 3], dtype: .float64), rtol: 1e-15,
      atol: 1e-15)
    #expect(Linalg.eigvalsh(Tensor.zeros(2, 2)) == Tensor.zeros(2))
  }

  @Test func svdReconstructsAndRanksCount() {
    let a = Tensor.randn(2, 6, 4, dtype: .float64)
    let (u, s, vh) = Linalg.svd(a)
    expectClose((u * s.unsqueeze(-2)).matmul(vh), a, rtol: 1e-12, atol: 1e-12)
    expectClose(u.mT.matmul(u), Tensor.eye(4, dtype: .float64).expand(2, 4, 4), rtol: 0, atol: 1e-13)
    #expect((s[.all, ..<3] - s[.all, 1...] .>= 0).all().item(Bool.self))
    // A rank-2 matrix (PyTorch 2.13: matrix_rank 2), and a pseudo-inverse's defining identity.
    let rankTwo = Tensor([[1, 2, 3], [2, 4, 6], [1, 0, 1]], dtype: .float64)
    #expect(Linalg.matrixRank(rankTwo) == Tensor(2))
    let p = Linalg.pinv(rankTwo)
    expectClose(rankTwo.matmul(p).matmul(rankTwo), rankTwo, rtol: 1e-12, atol: 1e-12)
  }

  @Test func qrMatrixExpAndLeastSquaresMatchPyTorch() {
    let a = Tensor([[1, 2], [3, 4], [5, 6]], dtype: .float64)
    let (q, r) = Linalg.qr(a)
    // LAPACK's signs: PyTorch 2.13's Q and R exactly.
    expectClose(
      q,
      Tensor(
        [
          [-0.16903085094570325, 0.8970852271450607], [-0.50709255283711, 0.27602622373694136],
          [-0.8451542547285166, -0.34503277967117696],
        ], dtype: .float64), rtol: 1e-14, atol: 1e-15)
    expectClose(
      r, Tensor([[-5.916079783099615, -7.437357441610946], [0, 0.828078671210825]], dtype: .float64), rtol: 1e-14,
      atol: 1e-15)
    expectClose(
      Linalg.matrixExp(Tensor([[0, 1], [-1, 0]], dtype: .float64)),
      Tensor([[0.54030230586814, 0.8414709848078963], [-0.8414709848078963, 0.54030230586814]], dtype: .float64),
      rtol: 1e-14, atol: 1e-15)
    expectClose(
      Linalg.lstsq(a, Tensor([1, 2, 4], dtype: .float64)).solution,
      Tensor([0.6666666666666665, 0.08333333333333355], dtype: .float64), rtol: 1e-13, atol: 1e-14)
  }

  @Test func qrModesMatchPyTorch() {
    let a = Tensor([[1, 2], [3, 4], [5, 6]], dtype: .float64)
    let (q, r) = Linalg.qr(a, mode: .complete)
    expectClose(
      q,
      Tensor(
        [
          [-0.16903085094570325, 0.8970852271450607, 0.4082482904638627],
          [-0.50709255283711, 0.27602622373694136, -0.8164965809277263],
          [-0.8451542547285166, -0.34503277967117696, 0.40824829046386313],
        ], dtype: .float64), rtol: 1e-14, atol: 1e-15)
    expectClose(
      r, Tensor([[-5.916079783099615, -7.437357441610946], [0, 0.828078671210825], [0, 0]], dtype: .float64),
      rtol: 1e-14, atol: 1e-15)
    let (noQ, rOnly) = Linalg.qr(a, mode: .r)
    #expect(noQ.shape == [0])
    expectClose(
      rOnly, Tensor([[-5.916079783099615, -7.437357441610946], [0, 0.828078671210825]], dtype: .float64), rtol: 1e-14,
      atol: 1e-15)
    // A wide matrix: Q is 2 x 2 and R is 2 x 3 (PyTorch 2.13's values).
    let (wq, wr) = Linalg.qr(Tensor([[1, 2, 3], [4, 5, 7]], dtype: .float64))
    expectClose(
      wq,
      Tensor(
        [[-0.24253562503633308, -0.970142500145332], [-0.970142500145332, 0.24253562503633286]], dtype: .float64),
      rtol: 1e-14, atol: 1e-15)
    expectClose(
      wr,
      Tensor(
        [
          [-4.123105625617661, -5.335783750799326, -7.518604376126323], [0, -0.7276068751089992, -1.2126781251816663],
        ], dtype: .float64), rtol: 1e-14, atol: 1e-15)
    // Empty matrices: k = 0 reflections.
    #expect(Linalg.qr(Tensor.zeros(3, 0)).Q.shape == [3, 0])
    #expect(Linalg.qr(Tensor.zeros(3, 0), mode: .complete).Q == Tensor.eye(3))
    #expect(Linalg.qr(Tensor.zeros(2, 0, 4)).R.shape == [2, 0, 4])
  }

  @Test func leastSquaresOutputsFollowTheDriver() {
    let a = Tensor([[1, 2], [3, 4], [5, 6]], dtype: .float64)
    let b = Tensor([[1, 0], [2, 1], [4, -1]], dtype: .float64)
    let solution = Tensor(
      [[0.6666666666666664, -0.9999999999999992], [0.08333333333333355, 0.7499999999999993]], dtype: .float64)
    let residuals = Tensor([0.1666666666666668, 1.5000000000000009], dtype: .float64)
    let singularValues = Tensor([9.525518091565106, 0.5143005806586444], dtype: .float64)
    // PyTorch 2.13: which outputs each driver fills.
    let gels = Linalg.lstsq(a, b, driver: .gels)
    expectClose(gels.solution, solution, rtol: 1e-13, atol: 1e-14)
    expectClose(gels.residuals, residuals, rtol: 1e-13, atol: 1e-14)
    #expect(gels.rank.shape == [0] && gels.rank.dtype == .int64 && gels.singularValues.shape == [0])
    let gelsy = Linalg.lstsq(a, b)
    expectClose(gelsy.solution, solution, rtol: 1e-13, atol: 1e-14)
    #expect(gelsy.residuals.shape == [0] && gelsy.rank == Tensor(Int64(2)) && gelsy.singularValues.shape == [0])
    for driver in [Linalg.LstsqDriver.gelsd, .gelss] {
      let result = Linalg.lstsq(a, b, driver: driver)
      expectClose(result.residuals, residuals, rtol: 1e-13, atol: 1e-14)
      expectClose(result.singularValues, singularValues, rtol: 1e-14, atol: 1e-14)
      #expect(result.rank == Tensor(Int64(2)))
    }
    // Rank deficient: the minimum-norm solution, no residuals.
    let deficient = Linalg.lstsq(Tensor([[1, 2], [2, 4], [3, 6]], dtype: .float64), b, driver: .gelsd)
    expectClose(
      deficient.solution,
      Tensor(
        [[0.24285714285714294, -0.01428571428571429], [0.4857142857142856, -0.02857142857142857]], dtype: .float64),
      rtol: 1e-13, atol: 1e-14)
    #expect(deficient.rank == Tensor(Int64(1)) && deficient.residuals.shape == [0])
    // rcond drops the smaller singular value.
    let truncated = Linalg.lstsq(a, b, rcond: 0.1, driver: .gelsd)
    expectClose(
      truncated.solution,
      Tensor(
        [[0.29648911023194124, -0.01918288852683278], [0.37556743852303287, -0.02429926786133716]], dtype: .float64),
      rtol: 1e-13, atol: 1e-14)
    #expect(truncated.rank == Tensor(Int64(1)))
    // A vector right-hand side gives a vector solution and one residual.
    let vector = Linalg.lstsq(a, Tensor([1, 2, 4], dtype: .float64), driver: .gelsd)
    #expect(vector.solution.shape == [2] && vector.residuals.shape == [1])
    // A batch with one rank-deficient matrix: ranks per matrix, no residuals.
    let batch = Linalg.lstsq(
      Tensor.stack([a, Tensor([[1, 2], [2, 4], [3, 6]], dtype: .float64)]), Tensor.stack([b, b]), driver: .gelsd)
    #expect(batch.rank == Tensor([2, 1] as [Int64]) && batch.residuals.shape == [0])
  }

  @Test func leastSquaresWithMismatchedInputsStops() async {
    let rows = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Linalg.lstsq(Tensor.zeros(3, 3), Tensor.zeros(4, 1))
    }
    #expect(standardError(of: rows).contains("torch.linalg.lstsq: input.size(-2) should match other.size(-2)"))
    let dtypes = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Linalg.lstsq(Tensor.zeros(3, 3), Tensor.zeros(3, 1, dtype: .float64))
    }
    #expect(
      standardError(of: dtypes).contains(
        "torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's dtype Float and other's dtype Double"
      ))
  }
}
