import NN
import TestSupport
import Testing

/// `Functional.linear` with a bias takes the fused product (the bias added as the product
/// forms, one `AddmmBackward0` node) for contiguous float32 inputs: values and gradients
/// against the float64 composed path (`matmul` then `+`), for 2-D and 3-D inputs, partial
/// tiles, no rows and no inner dimension, and second derivatives through the composed form.
/// `.ci/run` runs this suite under every instruction set (the bias is in each micro-kernel's
/// store).
@Suite struct FusedLinearTests {
  /// The last two cases are large enough for two threads: 100 outputs split by columns (the
  /// second range's bias starts at its first column), 50 rows by rows, both over two k blocks
  /// of 150 (the bias enters with the first block only) and with partial tiles.
  @Test(arguments: [
    ([7, 5], 33), ([3, 13, 29], 33), ([0, 4], 33), ([6, 0], 33), ([20, 300], 100), ([50, 300], 40),
  ])
  func valuesAndGradientsMatchFloat64(shape: [Int], outFeatures: Int) throws {
    let inFeatures = shape.last!
    let x = Tensor.randn(shape).requiresGrad_()
    let w = Tensor.randn(outFeatures, inFeatures).requiresGrad_()
    let b = Tensor.randn(outFeatures).requiresGrad_()
    let y = Functional.linear(x, weight: w, bias: b)
    #expect(y.gradFn?.name == "AddmmBackward0")
    #expect(y.shape == Array(shape.dropLast()) + [outFeatures])
    let up = Tensor.randn(y.shape)
    y.backward(gradient: up)
    let (x64, w64, b64) = (
      x.detach().double().requiresGrad_(), w.detach().double().requiresGrad_(), b.detach().double().requiresGrad_()
    )
    let y64 = x64.matmul(w64.t()) + b64
    y64.backward(gradient: up.double())
    // float32 sums over k terms of size ~1 round off by ~1e-7 sqrt(k) of their size ~sqrt(k).
    let tolerance = 1e-6 * Double(max(inFeatures, 10))
    expectClose(y.double(), y64.detach(), rtol: tolerance, atol: tolerance)
    expectClose(x.grad!.double(), x64.grad!, rtol: tolerance, atol: tolerance)
    expectClose(w.grad!.double(), w64.grad!, rtol: tolerance, atol: tolerance)
    expectClose(b.grad!.double(), b64.grad!, rtol: tolerance, atol: tolerance)
  }

  /// A transposed input is not contiguous: the composed path, with the same values.
  @Test func aTransposedInputTakesTheComposedPath() {
    let x = Tensor.randn(5, 7).t()
    let (w, b) = (Tensor.randn(4, 5), Tensor.randn(4))
    let y = Functional.linear(x.requiresGrad_(), weight: w, bias: b)
    #expect(y.gradFn?.name == "AddBackward0")
    expectClose(y, Functional.linear(x.detach().contiguous(), weight: w, bias: b), rtol: 1e-6, atol: 1e-6)
  }

  /// The second derivative comes from the composed form: d/dx of sum((dL/dw)^2) for
  /// L = sum(linear(x)^2) against the float64 composed path.
  @Test func secondDerivativesMatchTheComposedPath() throws {
    let x = Tensor.randn(4, 6).requiresGrad_()
    let (w, b) = (Tensor.randn(3, 6).requiresGrad_(), Tensor.randn(3).requiresGrad_())
    let gw = try Autograd.grad(
      of: [Functional.linear(x, weight: w, bias: b).pow(2).sum()], wrt: [w], createGraph: true)[0]!
    let gx = try Autograd.grad(of: [gw.pow(2).sum()], wrt: [x])[0]!
    let (x64, w64, b64) = (
      x.detach().double().requiresGrad_(), w.detach().double().requiresGrad_(), b.detach().double()
    )
    let gw64 = try Autograd.grad(of: [(x64.matmul(w64.t()) + b64).pow(2).sum()], wrt: [w64], createGraph: true)[0]!
    let gx64 = try Autograd.grad(of: [gw64.pow(2).sum()], wrt: [x64])[0]!
    expectClose(gx.double(), gx64, rtol: 1e-4, atol: 1e-4)
  }
}
