import Autograd
import Foundation
import TestSupport
import Testing

/// Gradients at the edges PyTorch's sample sets probe; expected values are PyTorch 2.13's.
@Suite struct EdgeCaseGradientTests {
  @Test func zeroNormStaysInTheGraphWithZeroGradients() {
    let x = Tensor([1.0, 0.0, 2.0] as [Float], requiresGrad: true)
    let y = x.norm(p: 0)
    #expect(y.item() == 2)
    #expect(y.requiresGrad)
    y.backward()
    #expect(x.grad == Tensor([0, 0, 0] as [Float]))
  }

  @Test func fillOfATensorInTheGraphRecordsFillBackward() {
    let a = Tensor([1.0, 2.0] as [Float], requiresGrad: true)
    let b = a * 1
    b.fill_(3.0)
    #expect(b.gradFn?.name == "FillBackward2")
    #expect(b == Tensor([3, 3] as [Float]))
    b.sum().backward()
    #expect(a.grad == Tensor([0, 0] as [Float]))
  }

  @Test func prodOverAnEmptyDimHasAnEmptyGradient() {
    let p = Tensor.ones(2, 0).requiresGrad_()
    let q = p.prod(dim: 1)
    #expect(q == Tensor([1, 1] as [Float]))
    q.sum().backward()
    #expect(p.grad?.shape == [2, 0])
  }

  @Test func clampWithMinAboveMaxSendsTheGradientToMax() {
    let v = Tensor([0.0, 1.0, 2.0, 3.0] as [Float], requiresGrad: true)
    let low = Tensor([2.0, 2.0, 2.0, 2.0] as [Float], requiresGrad: true)
    let high = Tensor([1.0, 1.0, 1.0, 1.0] as [Float], requiresGrad: true)
    let c = v.clamp(min: low, max: high)
    #expect(c == Tensor([1, 1, 1, 1] as [Float]))
    c.sum().backward()
    #expect(v.grad == Tensor([0, 0, 0, 0] as [Float]))
    #expect(low.grad == Tensor([0, 0, 0, 0] as [Float]))
    #expect(high.grad == Tensor([1, 1, 1, 1] as [Float]))
    // Where min < max, as before: below min to min, above max to max, inside to the input.
    let w = Tensor([0.0, 1.5, 3.0] as [Float], requiresGrad: true)
    let lo = Tensor([1.0, 1.0, 1.0] as [Float], requiresGrad: true)
    let hi = Tensor([2.0, 2.0, 2.0] as [Float], requiresGrad: true)
    w.clamp(min: lo, max: hi).sum().backward()
    #expect(w.grad == Tensor([0, 1, 0] as [Float]))
    #expect(lo.grad == Tensor([1, 0, 0] as [Float]))
    #expect(hi.grad == Tensor([0, 0, 1] as [Float]))
  }

  @Test func absAndReluGradientsAtNaN() {
    let n = Tensor([Float.nan, -1, 0], requiresGrad: true)
    n.abs().sum().backward()
    #expect(n.grad == Tensor([0, -1, 0] as [Float]))
    let r = Tensor([Float.nan, -1, 0, 1], requiresGrad: true)
    r.relu().sum().backward()
    #expect(r.grad == Tensor([1, 0, 0, 1] as [Float]))
    // The one-pass kernel over vector lanes, a tail and threads: the gradient where y > 0.
    let values = (0..<100_003).map { Float($0 % 7) - 3 }
    let long = Tensor(values, requiresGrad: true)
    long.relu().backward(gradient: Tensor((0..<100_003).map { Float($0) }))
    #expect(long.grad!.toArray(Float.self) == values.indices.map { values[$0] > 0 ? Float($0) : 0 })
  }

  @Test func distancesHaveZeroGradientAtZero() {
    let x = Tensor([[0, 1], [1, 1]] as [[Float]]).requiresGrad_()
    let d = Tensor.cdist(x, x)
    #expect(d == Tensor([[0, 1], [1, 0]] as [[Float]]))
    d.sum().backward()
    #expect(x.grad == Tensor([[-2, 0], [2, 0]] as [[Float]]))
    let zero = Tensor.zeros(3).requiresGrad_()
    zero.norm().backward()
    #expect(zero.grad == Tensor.zeros(3))
  }

  @Test func qrFactorsWithoutADerivativeStopInBackward() async {
    // PyTorch 2.13 raises these when backward reaches the factors (the forward succeeds).
    let modeR = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let a = Tensor([[1, 2], [3, 4], [5, 6]], dtype: .float64, requiresGrad: true)
      Linalg.qr(a, mode: .r).R.sum().backward()
    }
    #expect(
      standardError(of: modeR).contains(
        "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
      ))
    let complete = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let a = Tensor([[1, 2], [3, 4], [5, 6]], dtype: .float64, requiresGrad: true)
      Linalg.qr(a, mode: .complete).Q.sum().backward()
    }
    #expect(
      standardError(of: complete).contains(
        "The QR decomposition is not differentiable when mode='complete' and nrows > ncols."))
  }

  @Test func outArgumentsRefuseInputsThatRequireGrad() async {
    // PyTorch 2.13: torch.exp(x, out=o) and torch.logaddexp(x, y, out=o) with x requiring grad.
    let kernel = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor([1.0], requiresGrad: true).exp(out: Tensor.empty([0], dtype: .float64))
    }
    #expect(
      standardError(of: kernel).contains(
        "exp(): functions with out=... arguments don't support automatic differentiation, but one of the arguments requires grad."
      ))
    let composed = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let x = Tensor([1.0], requiresGrad: true)
      _ = x.logaddexp(x, out: Tensor.empty([0], dtype: .float64))
    }
    #expect(
      standardError(of: composed).contains(
        "logaddexp(): functions with out=... arguments don't support automatic differentiation, but one of the arguments requires grad."
      ))
    // Without grad mode, out: is fine.
    let out = Tensor.empty([0], dtype: .float64)
    withNoGrad { _ = Tensor([0.0], requiresGrad: true).exp(out: out) }
    #expect(out == Tensor([1.0]))
  }
}
