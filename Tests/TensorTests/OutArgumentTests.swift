import TestSupport
import Testing

@testable import Tensor

/// Every composed op with PyTorch's `out=` writes its result into the caller's tensor: an
/// empty `out` is resized, the same object comes back, and the values are the op's own.
private let singleResultOps: [(name: String, run: @Sendable (Tensor, Tensor?) -> Tensor)] = {
  let a = Tensor([[1.5, -2, 0.25], [3, 0.5, -1]], dtype: .float64)
  let b = Tensor([[0.5, 2, -1], [1, 4, 0.75]], dtype: .float64)
  let square = Tensor([[4, 1, 0.5], [1, 3, 0.25], [0.5, 0.25, 2]], dtype: .float64)
  let vector = Tensor([1, 2, 3], dtype: .float64)
  return [
    ("hstack", { Tensor.hstack([a, b], out: $1) }), ("vstack", { Tensor.vstack([a, b], out: $1) }),
    ("dstack", { Tensor.dstack([a, b], out: $1) }), ("diag", { a.diag(out: $1) }),
    ("lerp", { a.lerp(b, weight: 0.3, out: $1) }), ("logaddexp", { a.logaddexp(b, out: $1) }),
    ("xlogy", { a.xlogy(b.abs(), out: $1) }), ("heaviside", { a.heaviside(b, out: $1) }), ("frac", { a.frac(out: $1) }),
    ("square", { a.square(out: $1) }), ("sgn", { a.sgn(out: $1) }), ("clip", { a.clip(min: -1, max: 1, out: $1) }),
    ("isposinf", { a.isposinf(out: $1) }), ("isneginf", { a.isneginf(out: $1) }),
    ("nan_to_num", { a.nanToNum(out: $1) }),
    ("digamma", { a.abs().digamma(out: $1) }), ("polygamma", { a.abs().polygamma(1, out: $1) }),
    ("nansum", { a.nansum(dim: [1], out: $1) }), ("nanmean", { a.nanmean(out: $1) }),
    ("cross", { square.cross(square.flip(0), out: $1) }),
    ("logcumsumexp", { a.logcumsumexp(dim: 1, out: $1) }), ("quantile", { a.quantile(0.3, dim: 1, out: $1) }),
    ("nanquantile", { a.nanquantile(0.7, out: $1) }), ("msort", { a.msort(out: $1) }),
    ("index_add", { a.indexAdd(dim: 0, index: Tensor([1]), source: b[..<1], out: $1) }),
    ("index_copy", { a.indexCopy(dim: 1, index: Tensor([2, 0]), source: b[.all, ..<2], out: $1) }),
    (
      "scatter_reduce",
      { a.scatterReduce(dim: 1, index: Tensor([[0, 0, 1], [2, 2, 2]]), src: b, reduce: .amax, out: $1) }
    ),
    ("take_along_dim", { a.takeAlongDim(Tensor([[2], [0]]), dim: 1, out: $1) }), ("nonzero", { a.nonzero(out: $1) }),
    ("searchsorted", { Tensor.searchsorted(vector, a, out: $1) }), ("bucketize", { a.bucketize(vector, out: $1) }),
    ("histc", { a.histc(bins: 4, min: -2, max: 3, out: $1) }), ("cumsum", { a.cumsum(dim: 1, out: $1) }),
    ("addmm", { square.addmm(square, square.t(), beta: 0.5, out: $1) }),
    ("addbmm", { square.addbmm(square.expand(2, 3, 3), square.expand(2, 3, 3), out: $1) }),
    ("baddbmm", { square.baddbmm(square.expand(2, 3, 3), square.expand(2, 3, 3), alpha: 2, out: $1) }),
    ("addmv", { vector.addmv(square, vector, out: $1) }), ("addr", { square.addr(vector, vector, out: $1) }),
    ("matrix_power", { square.matrixPower(3, out: $1) }),
    ("linalg.matrix_power", { Linalg.matrixPower(square, -1, out: $1) }),
    ("linalg.multi_dot", { Linalg.multiDot([a, square, vector], out: $1) }),
    ("chain_matmul", { Tensor.chainMatmul([square, square], out: $1) }),
    ("linalg.vector_norm", { Linalg.vectorNorm(a, ord: 3, out: $1) }),
    ("linalg.matrix_norm", { Linalg.matrixNorm(square, ord: .nuclear, out: $1) }),
    ("linalg.cross", { Linalg.cross(square, square.t(), out: $1) }), ("tril", { a.tril(out: $1) }),
    ("triu", { a.triu(diagonal: 1, out: $1) }),
    ("linalg.inv", { Linalg.inv(square, out: $1) }), ("linalg.solve", { Linalg.solve(square, vector, out: $1) }),
    ("linalg.det", { Linalg.det(square, out: $1) }), ("linalg.cholesky", { Linalg.cholesky(square, out: $1) }),
    ("linalg.eigvalsh", { Linalg.eigvalsh(square, out: $1) }), ("linalg.svdvals", { Linalg.svdvals(a, out: $1) }),
    ("linalg.matrix_rank", { Linalg.matrixRank(a, out: $1) }), ("linalg.pinv", { Linalg.pinv(a, out: $1) }),
    ("logspace", { Tensor.logspace(0, 2, count: 3, dtype: .float64, out: $1) }),
  ]
}()

@Suite struct OutArgumentTests {
  @Test(arguments: singleResultOps.map(\.name))
  func composedOpsWriteIntoOut(name: String) {
    let run = singleResultOps.first { $0.name == name }!.run
    let expected = run(Tensor([1.0]), nil)
    let out = Tensor.empty([0], dtype: expected.dtype)
    let result = run(Tensor([1.0]), out)
    #expect(result === out)
    #expect(out.shape == expected.shape)
    #expect(out == expected)
  }

  @Test func opsWithTwoOrThreeResultsFillEachOut() {
    let a = Tensor([[3, 1, 2], [0.5, 5, 4]], dtype: .float64)
    let checks: [((values: Tensor, indices: Tensor)?) -> (values: Tensor, indices: Tensor)] = [
      { a.sort(dim: 1, out: $0) }, { a.topk(2, out: $0) }, { a.kthvalue(2, out: $0) }, { a.median(dim: 1, out: $0) },
      { a.nanmedian(dim: 0, out: $0) }, { a.mode(dim: 1, out: $0) }, { a.cummax(dim: 1, out: $0) },
      { a.cummin(dim: 0, out: $0) },
    ]
    for check in checks {
      let pair = (values: Tensor.empty([0], dtype: .float64), indices: Tensor.empty([0], dtype: .int64))
      let expected = check(nil)
      let result = check(pair)
      #expect(result.values === pair.values && result.indices === pair.indices)
      #expect(pair.values == expected.values && pair.indices == expected.indices)
    }
    let extremes = (min: Tensor.empty([0], dtype: .float64), max: Tensor.empty([0], dtype: .float64))
    _ = a.aminmax(dim: 1, out: extremes)
    #expect(extremes.min == Tensor([1, 0.5], dtype: .float64) && extremes.max == Tensor([3, 5], dtype: .float64))
    let square = a.matmul(a.mT)
    let factors = (
      U: Tensor.empty([0], dtype: .float64), S: Tensor.empty([0], dtype: .float64),
      Vh: Tensor.empty([0], dtype: .float64)
    )
    _ = Linalg.svd(square, out: factors)
    #expect(factors.S == Linalg.svdvals(square))
    let qr = (Q: Tensor.empty([0], dtype: .float64), R: Tensor.empty([0], dtype: .float64))
    _ = Linalg.qr(a.mT, out: qr)
    #expect(qr.Q.shape == [3, 2] && qr.R == Linalg.qr(a.mT).R)
    let eigen = (eigenvalues: Tensor.empty([0], dtype: .float64), eigenvectors: Tensor.empty([0], dtype: .float64))
    _ = Linalg.eigh(square, out: eigen)
    #expect(eigen.eigenvalues == Linalg.eigvalsh(square))
    let logDet = (sign: Tensor.empty([0], dtype: .float64), logAbsDet: Tensor.empty([0], dtype: .float64))
    _ = Linalg.slogdet(square, out: logDet)
    #expect(logDet.sign == Tensor(1.0, dtype: .float64))
  }

  @Test func randomOpsWriteIntoOut() {
    Tensor.manualSeed(3)
    let expected = (Tensor.randperm(5), Tensor.normal(mean: Tensor.zeros(3), std: 1), Tensor.ones(4).bernoulli())
    Tensor.manualSeed(3)
    let outs = (Tensor.empty([0], dtype: .int64), Tensor.empty([0]), Tensor.empty([0]))
    #expect(Tensor.randperm(5, out: outs.0) === outs.0 && outs.0 == expected.0)
    #expect(Tensor.normal(mean: Tensor.zeros(3), std: 1, out: outs.1) === outs.1 && outs.1 == expected.1)
    #expect(Tensor.ones(4).bernoulli(out: outs.2) === outs.2 && outs.2 == expected.2)
  }

  @Test func aFilledOutOfTheWrongShapeStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.ones(2, 3).logaddexp(Tensor.ones(2, 3), out: Tensor.zeros(4))
    }
    #expect(
      standardError(of: result).contains("logaddexp: output with shape [4] doesn't match the broadcast shape [2, 3]"))
  }
}
