import Foundation
import NN
import TestSupport
import Testing

/// The fused float32 batch normalization against the composed float64 one (whose formulas the
/// layer fixtures pin to PyTorch): outputs, running statistics, gradients of every operand,
/// evaluation mode, and differentiable gradients under `createGraph: true`.
@Suite struct BatchNormKernelTests {
  struct Run {
    let out: Tensor, grads: [Tensor], runningMean: Tensor, runningVar: Tensor
  }

  static func run(_ dtype: DType, training: Bool, createGraph: Bool = false) throws -> Run {
    let generator = Generator(seed: 12)
    let x = (Tensor.randn([4, 3, 5, 6], generator: generator) * 2 + 1).to(dtype).requiresGrad_()
    let weight = Tensor.randn([3], generator: generator).to(dtype).requiresGrad_()
    let bias = Tensor.randn([3], generator: generator).to(dtype).requiresGrad_()
    let upstream = Tensor.randn([4, 3, 5, 6], generator: generator).to(dtype)
    let (runningMean, runningVar) = (Tensor([0.5, -1, 2]).to(dtype), Tensor([1.5, 0.5, 2]).to(dtype))
    let y = Functional.batchNorm(
      x, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias, training: training, momentum: 0.2
    )
    if createGraph {
      let gx = try Autograd.grad(of: [(y * upstream).sum()], wrt: [x], createGraph: true)[0]!
      (gx * gx).sum().backward()
    } else {
      y.backward(gradient: upstream)
    }
    // Under createGraph the bias gets no second-order gradient (nil, as in PyTorch).
    return Run(
      out: y.detach(), grads: [x.grad!, weight.grad!] + (createGraph ? [] : [bias.grad!]), runningMean: runningMean,
      runningVar: runningVar)
  }

  @Test(arguments: [true, false])
  func fusedMatchesComposedFloat64(training: Bool) throws {
    let (fused, reference) = (try Self.run(.float32, training: training), try Self.run(.float64, training: training))
    expectClose(fused.out, reference.out.float(), rtol: 1e-5, atol: 1e-5)
    for (a, b) in zip(fused.grads, reference.grads) { expectClose(a, b.float(), rtol: 1e-4, atol: 1e-4) }
    expectClose(fused.runningMean, reference.runningMean.float(), rtol: 1e-6, atol: 1e-6)
    expectClose(fused.runningVar, reference.runningVar.float(), rtol: 1e-6, atol: 1e-6)
  }

  @Test func doubleBackwardMatchesFloat64() throws {
    let (fused, reference) = (
      try Self.run(.float32, training: true, createGraph: true),
      try Self.run(.float64, training: true, createGraph: true)
    )
    for (a, b) in zip(fused.grads, reference.grads) { expectClose(a, b.float(), rtol: 1e-3, atol: 1e-4) }
  }

  @Test func recordsPyTorchsNode() {
    let x = Tensor.randn([2, 3, 4, 4], generator: Generator(seed: 1)).requiresGrad_()
    let y = BatchNorm2d(3)(x)
    #expect(y.gradFn?.name == "NativeBatchNormBackward0")
  }
}
