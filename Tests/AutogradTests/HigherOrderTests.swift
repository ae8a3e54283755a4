import Autograd
import Foundation
import TestSupport
import Testing

private let fixtures = Fixtures(named: "GradGradFixtures")

/// exp as a custom function that saves its output, as PyTorch's documentation example.
private enum SavedOutputExp: CustomFunction {
  static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor {
    let y = inputs[0].exp()
    ctx.saveForBackward(y)
    return y
  }
  static func backward(_ ctx: FunctionContext, _ grad: Tensor) throws -> [Tensor?] {
    [grad * (try ctx.savedTensors()[0])]
  }
}

/// Higher-order gradients end to end: the cases that silently lost their graph before saved
/// outputs were linked to their node, and the workloads that rely on them.
@Suite struct HigherOrderTests {
  @Test func secondDerivativeOfExpIsExp() throws {
    let x = Tensor([0.3, -0.5, 0.8]).to(.float64)
    x.requiresGrad = true
    let g = try Autograd.grad(of: [x.exp().sum()], wrt: [x], createGraph: true)[0]!
    #expect(g.requiresGrad)
    #expect(g.gradFn?.name == "MulBackward0")
    let second = try Autograd.grad(of: [g.sum()], wrt: [x])[0]!
    #expect(second.toArray(Double.self) == x.toArray(Double.self).map(Foundation.exp))
  }

  /// Every formula that reads its own output keeps the graph of its gradient.
  @Test(arguments: [
    "exp", "tanh", "sigmoid", "sqrt", "rsqrt", "reciprocal", "softmax", "relu", "expm1", "exp2", "tan", "erfinv",
  ])
  func gradientsThroughSavedOutputsRequireGrad(op: String) throws {
    let x = Tensor([0.3, 0.5, 0.8]).to(.float64).requiresGrad_()
    let functions: [String: (Tensor) -> Tensor] = [
      "exp": { $0.exp() }, "tanh": { $0.tanh() }, "sigmoid": { $0.sigmoid() }, "sqrt": { $0.sqrt() },
      "rsqrt": { $0.rsqrt() },
      "reciprocal": { $0.reciprocal() }, "softmax": { $0.softmax(dim: 0) }, "relu": { $0.relu() },
      "expm1": { $0.expm1() },
      "exp2": { $0.exp2() }, "tan": { $0.tan() }, "erfinv": { $0.erfinv() },
    ]
    let y = functions[op]!(x)
    let g = try Autograd.grad(of: [(y * Tensor([1.0, -2.0, 0.5]).double()).sum()], wrt: [x], createGraph: true)[0]!
    #expect(g.requiresGrad, "the gradient through \(op) lost its graph")
  }

  /// A custom function's saved output is linked to its node too (PyTorch's `is_output`).
  @Test func customFunctionSavingItsOutputDifferentiatesTwice() throws {
    let x = Tensor([0.3, -0.5], dtype: .float64).requiresGrad_()
    let g = try Autograd.grad(of: [SavedOutputExp.apply(x).sum()], wrt: [x], createGraph: true)[0]!
    #expect(
      try Autograd.grad(of: [g.sum()], wrt: [x])[0]!.toArray(Double.self) == x.toArray(Double.self).map(Foundation.exp))
  }

  /// relu's gradient requires grad (PyTorch's threshold_backward), and its own derivative is
  /// zero instead of an error.
  @Test func reluSecondDerivativeIsZero() throws {
    let x = Tensor([-1.0, 0.5, 2.0]).to(.float64).requiresGrad_()
    let g = try Autograd.grad(of: [x.relu().sum()], wrt: [x], createGraph: true)[0]!
    #expect(g.requiresGrad)
    #expect(g.gradFn?.name == "ThresholdBackwardBackward0")
    #expect(try Autograd.grad(of: [g.sum()], wrt: [x])[0]!.toArray(Double.self) == [0, 0, 0])
  }

  /// PyTorch's edge shapes: 0-d tensors, empty tensors and empty batches differentiate twice.
  @Test func edgeShapesDifferentiateTwice() throws {
    func second(_ f: (Tensor) -> Tensor, _ x: Tensor) throws -> (first: Tensor, second: Tensor?) {
      let g = try Autograd.grad(of: [f(x).sum()], wrt: [x], createGraph: true)[0]!
      return (g, g.requiresGrad ? try Autograd.grad(of: [g.sum()], wrt: [x], allowUnused: true)[0] : nil)
    }
    let scalar = Tensor(0.5, dtype: .float64).requiresGrad_()
    #expect(try second({ $0.exp() }, scalar).second?.item() == Foundation.exp(0.5))
    #expect(try second({ $0.relu() }, scalar).second?.item() == 0.0)
    // The product of the others, with zeros: d(sum of pairwise products)/dx.
    let zeros = Tensor([[0.0, 2, 3], [0, 0, 4]], dtype: .float64).requiresGrad_()
    #expect(try second({ $0.prod(dim: 1) }, zeros).second?.toArray(Double.self) == [5, 3, 2, 4, 4, 0])
    let empty = Tensor.zeros(0, 3, dtype: .float64).requiresGrad_()
    for log in [false, true] {
      let result = try second({ (log ? $0.logSoftmax(dim: 1) : $0.softmax(dim: 1)) * 2 }, empty)
      #expect(result.first.requiresGrad && result.second?.shape == [0, 3], "empty \(log ? "logSoftmax" : "softmax")")
    }
    #expect(empty.softmax(dim: 1).gradFn?.name == "SoftmaxBackward0")
    let emptyBatch = Tensor.zeros(0, 3, 3, dtype: .float64).requiresGrad_()
    #expect(try second({ Linalg.inv($0) }, emptyBatch).second?.shape == [0, 3, 3])
    #expect(try second({ Linalg.eigh($0 + $0.mT).eigenvalues }, emptyBatch).second?.shape == [0, 3, 3])
    #expect(try second({ Linalg.svd($0).S }, emptyBatch).second?.shape == [0, 3, 3])
  }

  /// A saved output changed in place is caught, and the message names the node whose output it is.
  @Test func savedOutputWrittenInPlaceIsNamed() throws {
    let x = Tensor([0.3, 0.5]).to(.float64).requiresGrad_()
    let y = x.exp()
    withNoGrad { _ = y.mul_(2) }
    #expect {
      try Autograd.grad(of: [y.sum()], wrt: [x])
    } throws: { error in
      "\(error)".contains("[Double [2]], which is output 0 of ExpBackward0, is at version 1; expected version 0")
    }
  }

  /// A node that saved its own output does not keep it (or itself) alive: no ARC cycle.
  @Test func nodeSavingItsOutputIsFreedWithIt() {
    let x = Tensor([0.3, 0.5]).requiresGrad_()
    weak var node: Function?
    do {
      let y = x.tanh()
      node = y.gradFn
      #expect(node != nil)
    }
    #expect(node == nil)
  }

  /// The Hessian-vector product of a tanh MLP's loss equals PyTorch's.
  @Test func tanhMLPHessianVectorProductMatchesPyTorch() throws {
    let params = (0..<4).map { fixtures.tensor("mlp_param\($0)").requiresGrad_() }
    let (x, y) = (fixtures.tensor("mlp_x"), fixtures.tensor("mlp_y"))
    let loss = ((x.matmul(params[0].t()) + params[1]).tanh().matmul(params[2].t()) + params[3] - y).pow(2).mean()
    let grads = try Autograd.grad(of: [loss], wrt: params, createGraph: true)
    let dot = zip(grads, 0..<4).map { ($0! * fixtures.tensor("mlp_v\($1)")).sum() }.reduce(
      Tensor(0.0, dtype: .float64), +)
    let hvp = try Autograd.grad(of: [dot], wrt: params)
    for i in 0..<4 { expectClose(hvp[i]!, fixtures.tensor("mlp_hvp\(i)"), rtol: 1e-10, atol: 1e-12) }
  }

  /// A WGAN-GP critic step (the gradient penalty differentiates a gradient) equals PyTorch's.
  @Test func wganGradientPenaltyMatchesPyTorch() throws {
    let critic = (0..<3).map { fixtures.tensor("wgan_param\($0)").requiresGrad_() }
    func score(_ inputs: Tensor) -> Tensor { (inputs.matmul(critic[0].t()) + critic[1]).tanh().matmul(critic[2].t()) }
    let (real, fake, mix) = (fixtures.tensor("wgan_real"), fixtures.tensor("wgan_fake"), fixtures.tensor("wgan_mix"))
    let between = (mix * real + (1 - mix) * fake).requiresGrad_()
    let slopes = try Autograd.grad(of: [score(between).sum()], wrt: [between], createGraph: true)[0]!
    let penalty = (Linalg.vectorNorm(slopes, ord: 2, dim: [1]) - 1).pow(2).mean() * 10
    let loss = score(fake).mean() - score(real).mean() + penalty
    expectClose(penalty, fixtures.tensor("wgan_penalty"), rtol: 1e-12, atol: 1e-12)
    expectClose(loss, fixtures.tensor("wgan_loss"), rtol: 1e-12, atol: 1e-12)
    let grads = try Autograd.grad(of: [loss], wrt: critic)
    for i in 0..<3 { expectClose(grads[i]!, fixtures.tensor("wgan_grad\(i)"), rtol: 1e-10, atol: 1e-12) }
  }
}
