// Measures the library's speed; prints one JSON object of figures (seconds per call).
// Run with `swift run -c release Benchmarks`; Scripts/bench_torch.py measures the same
// cases with PyTorch, and Scripts/compare.py prints the ratios.
import Dispatch
import Foundation
import NN
import Optim

/// The median time of `body` over `repeats` timed runs of `inner` calls each, per call.
func measure(repeats: Int = 7, inner: Int, _ body: () -> Void) -> Double {
  for _ in 0..<max(1, inner / 10) { body() }
  var samples: [Double] = []
  for _ in 0..<repeats {
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<inner { body() }
    samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(inner))
  }
  return samples.sorted()[samples.count / 2]
}

var results: [String: Double] = [:]

// Per-op overhead: a 1-element add, with and without autograd.
let one = Tensor([1.0])
let oneGrad = Tensor([1.0], requiresGrad: true)
results["add_1elem"] = measure(inner: 20_000) { _ = one + one }
results["add_1elem_requires_grad"] = measure(inner: 20_000) { _ = oneGrad + oneGrad }

// A chain of 100 small ops (alternating mul and add on 16 elements).
let small = Tensor.randn(16)
let smallGrad = Tensor.randn(16, requiresGrad: true)
func chain(_ x: Tensor) -> Tensor {
  var y = x
  for i in 0..<50 {
    y = y * 1.0001
    y = y + Double(i) * 1e-4
  }
  return y
}
results["chain100_forward"] = measure(inner: 200) { _ = chain(small) }
results["chain100_forward_requires_grad"] = measure(inner: 200) { _ = chain(smallGrad) }
results["chain100_forward_backward"] = measure(inner: 100) {
  chain(smallGrad).sum().backward()
  smallGrad.grad = nil
}

// One SGD step of a 784-128-10 MLP at batch 64.
let mlp = Sequential(Linear(784, 128), ReLU(), Linear(128, 10))
let sgd = SGD(mlp.parameters(), lr: 0.01, momentum: 0.9)
let batch = Tensor.randn(64, 784)
let targets = Tensor.randint(0, 10, [64])
results["mlp_sgd_step"] = measure(inner: 50) {
  sgd.zeroGrad()
  crossEntropy(mlp(batch), targets).backward()
  sgd.step()
}

let encoder = JSONEncoder()
encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
print(String(data: try! encoder.encode(results), encoding: .utf8)!)
