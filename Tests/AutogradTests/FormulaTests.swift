import Autograd
import TestSupport
import Testing

private let fixtures = Fixtures()

/// Loads a case's inputs, marked as requiring grad.
private func inputs(_ name: String, as dtype: DType? = nil) -> [Tensor] {
  var result: [Tensor] = []
  while let t = try? Tensor(npy: fixtures.directory.appendingPathComponent("\(name)_in\(result.count).npy")) {
    result.append((dtype.map { t.to($0) } ?? t).requiresGrad_())
  }
  return result
}

@Suite struct FormulaTests {
  @Test(arguments: formulaCases.keys.sorted())
  func gradientsMatchPyTorch(name: String) throws {
    let f = formulaCases[name]!
    let xs = inputs(name)
    #expect(!xs.isEmpty)
    let out = f(xs)
    expectClose(out, fixtures.tensor("\(name)_out"), rtol: 1e-5, atol: 1e-5)
    (out * fixtures.tensor("\(name)_up")).sum().backward()
    for (i, x) in xs.enumerated() {
      let expected = fixtures.tensor("\(name)_grad\(i)")
      expectClose(x.grad ?? Tensor.zeros(like: x), expected, rtol: 1e-4, atol: 1e-5)
    }
  }

  @Test(arguments: formulaCases.keys.sorted())
  func gradientsMatchFiniteDifferences(name: String) throws {
    let f = formulaCases[name]!
    let xs = inputs(name, as: .float64)
    #expect(try Autograd.gradcheck(f, inputs: xs, eps: 1e-6, atol: 1e-5, rtol: 1e-3))
  }

  @Test func nodeNamesMatchPyTorch() {
    let names = fixtures.strings("node_names")
    let x = Tensor.randn(3, requiresGrad: true)
    let made: [String: Tensor] = [
      "add": x + x, "mul": x * 2, "sum": x.sum(), "view": x.view(3, 1), "t": x.view(3, 1).t(), "exp": x.exp(),
      "mean": x.mean(), "select": x[0], "slice": x[1...], "index": x[Tensor([0])],
      "mm": x.view(3, 1).mm(x.view(1, 3)), "cat": Tensor.cat([x, x]), "clone": x.clone(),
      "where": Tensor.where(x .> 0, x, x), "pow": x.pow(2), "softmax": x.softmax(dim: 0),
      "expand": x.expand(2, 3), "unsqueeze": x.unsqueeze(0), "permute": x.view(3, 1).permute(1, 0),
    ]
    for (key, tensor) in made {
      #expect(tensor.gradFn?.name == names[key], "node for \(key)")
    }
  }
}
