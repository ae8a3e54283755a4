import Autograd
import Foundation
import TestSupport
import Testing

@Suite struct MechanicsTests {
  @Test func requiresGradPropagatesFromAnyInput() {
    // The tutorial's example: a = x + y does not require grad, b = a + z does.
    let x = Tensor.randn(5, 5)
    let y = Tensor.randn(5, 5)
    let z = Tensor.randn(5, 5, requiresGrad: true)
    let a = x + y
    #expect(!a.requiresGrad)
    #expect(a.gradFn == nil)
    let b = a + z
    #expect(b.requiresGrad)
    #expect(b.gradFn?.name == "AddBackward0")
    #expect(z.isLeaf && !b.isLeaf && a.isLeaf)
  }

  @Test func nextFunctionsLinkToLeafAccumulators() {
    let x = Tensor.ones(2, requiresGrad: true)
    let y = Tensor.ones(2)
    let z = x * y
    let edges = z.gradFn!.nextFunctions
    #expect(edges.count == 2)
    #expect(edges[0].function?.name == "AccumulateGrad")
    #expect(edges[0].function?.variable === x)
    #expect(edges[1].function == nil)
  }

  @Test func frozenParametersGetNoGradAndNoGraph() {
    let frozen = Tensor.randn(3, 3, requiresGrad: true)
    frozen.requiresGrad = false
    let head = Tensor.randn(3, 2, requiresGrad: true)
    let input = Tensor.randn(4, 3)
    let hidden = input.matmul(frozen).relu()
    #expect(hidden.gradFn == nil)
    hidden.matmul(head).sum().backward()
    #expect(frozen.grad == nil)
    #expect(head.grad?.shape == [3, 2])
  }

  /// The engine sums a node's gradient contributions in place only when nothing else holds
  /// the buffer: `a + b` hands one gradient tensor to both `a`'s and `b`'s nodes, and `a`'s
  /// second use adds to its buffer. Summed in place there, `b`'s buffer (the same tensor) would
  /// read 2 and x.grad 2·2 + 3·2 = 10 instead of 2·2 + 3·1 = 7. Elsewhere (a chain of uses,
  /// each contribution fresh) the in-place sums must give the same values.
  @Test func gradientSumsNeverWriteIntoASharedBuffer() throws {
    let x = Tensor([1, 2] as [Float]).requiresGrad_()
    let (a, b) = (x * 2, x * 3)
    // The product with ones makes the gradient a dense tensor (a sum's is an expanded view).
    (((a + b) + a) * Tensor([1, 1] as [Float])).sum().backward()
    #expect(x.grad!.toArray(Float.self) == [7, 7])
    let y = Tensor([1, -2, 3] as [Float]).requiresGrad_()
    let h = y * y
    // h is used four times: its buffer gets y, then 3, then cos(h), then 1 added to it.
    (h * y + h * 3 + h.sin() + h).sum().backward()
    let values: [Float] = [1, -2, 3]
    let expected = values.map { v in (v + 3 + cos(v * v) + 1) * 2 * v + v * v }
    expectClose(y.grad!, Tensor(expected), rtol: 1e-5, atol: 1e-5)
  }

  @Test func gradientsAccumulateUntilZeroed() {
    let x = Tensor([1.0, 2.0], requiresGrad: true)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    #expect(x.grad?.toArray(Float.self) == [6, 6])
    x.grad = nil
    (x * x).sum().backward()
    #expect(x.grad?.toArray(Float.self) == [2, 4])
  }

  @Test func backwardWithGradientOnNonScalar() {
    let x = Tensor([1.0, 2.0, 3.0], requiresGrad: true)
    let y = x * x
    y.backward(gradient: Tensor([1.0, 0.1, 0.01]))
    expectClose(x.grad!, Tensor([2.0, 0.4, 0.06]))
  }

  @Test func retainGraphAllowsSecondBackward() {
    let x = Tensor([2.0], requiresGrad: true)
    let y = x.exp() * x
    y.backward(retainGraph: true)
    y.backward()
    expectClose(x.grad!, Tensor([2 * 3 * exp(2.0)]), rtol: 1e-5)
  }

  @Test func secondBackwardThroughFreedValuesThrows() {
    let x = Tensor([2.0], requiresGrad: true)
    let y = (x * x).sum()
    y.backward()
    #expect(throws: AutogradError.self) { try y.backwardThrowing() }
    do {
      try y.backwardThrowing()
    } catch {
      #expect("\(error)".hasPrefix("Trying to backward through the graph a second time"))
    }
  }

  @Test func secondBackwardStopsTheProcess() async {
    await #expect(processExitsWith: .failure) {
      let x = Tensor([2.0], requiresGrad: true)
      let y = (x * x).sum()
      y.backward()
      y.backward()
    }
  }

  @Test func modifyingASavedTensorFailsWithPyTorchsMessage() {
    let a = Tensor.randn(5, 5, requiresGrad: true)
    let b = a * 1
    b.mul_(2)
    let c = b * b
    b.add_(1)
    do {
      try c.sum().backwardThrowing()
      Issue.record("expected an error")
    } catch {
      #expect(
        "\(error)".hasPrefix(
          "one of the variables needed for gradient computation has been modified by an inplace operation: [Float [5, 5]], which is output 0 of MulBackward0, is at version 2; expected version 1 instead"
        ))
    }
  }

  @Test func inPlaceOnLeafThatRequiresGradStops() async {
    await #expect(processExitsWith: .failure) {
      let x = Tensor.ones(3, requiresGrad: true)
      x.add_(1)
    }
  }

  @Test func inPlaceOnViewOfLeafStops() async {
    await #expect(processExitsWith: .failure) {
      let x = Tensor.ones(3, requiresGrad: true)
      x[0].mul_(2)
    }
  }

  @Test func inPlaceRebasesTheGraph() {
    let x = Tensor.randn(3, requiresGrad: true)
    let y = x * 2
    y.add_(x)
    #expect(y.gradFn?.name == "AddBackward0")
    y.sum().backward()
    #expect(x.grad?.toArray(Float.self) == [3, 3, 3])
  }

  @Test func writesThroughViewsReachTheBase() {
    let x = Tensor.ones(2, 3, requiresGrad: true)
    let y = x * 1
    let row = y[0]
    row.mul_(5)
    #expect(y.gradFn?.name == "CopySlices")
    y.sum().backward()
    #expect(x.grad?.toArray(Float.self) == [5, 5, 5, 1, 1, 1])
  }

  @Test func viewsOfAModifiedBaseSeeTheNewHistory() {
    let x = Tensor.ones(2, 2, requiresGrad: true)
    let y = x * 1
    let column = y[.all, 1]
    y.mul_(3)
    column.sum().backward()
    #expect(x.grad?.toArray(Float.self) == [0, 3, 0, 3])
  }

  @Test func noGradRecordsNothingAndIsTaskLocal() async {
    let x = Tensor.ones(2, requiresGrad: true)
    let y = withNoGrad { x * 2 }
    #expect(!y.requiresGrad)
    #expect(withNoGrad { Autograd.isGradEnabled } == false)
    #expect(Autograd.isGradEnabled)
    let inference = withInferenceMode { (x * 2, Autograd.isInferenceModeEnabled) }
    #expect(!inference.0.requiresGrad && inference.1)
    #expect(withGradEnabled(false) { (x + 1).requiresGrad } == false)
    // Another task does not see this task's mode.
    await withNoGrad {
      let other = await Task.detached { Autograd.isGradEnabled }.value
      #expect(other)
      #expect(!Autograd.isGradEnabled)
    }
    // Inside no-grad, a leaf may be updated in place (as an optimizer does).
    withNoGrad { x.sub_(Tensor.ones(2) * 0.5) }
    #expect(x.toArray(Float.self) == [0.5, 0.5])
  }

  @Test func detachCutsTheGraph() {
    let x = Tensor.ones(2, requiresGrad: true)
    let y = x * 2
    let d = y.detach()
    #expect(!d.requiresGrad && d.gradFn == nil)
    let z = x * 3
    z.detach_()
    #expect(!z.requiresGrad && z.isLeaf)
  }

  @Test func retainGradKeepsNonLeafGradients() {
    let x = Tensor([1.0, 2.0], requiresGrad: true)
    let y = x * 3
    y.retainGrad()
    #expect(y.retainsGrad)
    (y * y).sum().backward()
    #expect(y.grad?.toArray(Float.self) == [6, 12])
    let z = x * 2
    (z * z).sum().backward()
    #expect(z.grad == nil)
  }

  @Test func hooksSeeAndReplaceGradients() {
    let x = Tensor([1.0, 2.0], requiresGrad: true)
    var seen: [Float] = []
    let handle = x.registerHook { grad in
      seen = grad.toArray(Float.self)
      return grad * 2
    }
    (x * 3).sum().backward()
    #expect(seen == [3, 3])
    #expect(x.grad?.toArray(Float.self) == [6, 6])
    handle.remove()
    x.grad = nil
    (x * 3).sum().backward()
    #expect(x.grad?.toArray(Float.self) == [3, 3])
    let y = x * 1
    y.registerHook { $0 * 10 }
    x.grad = nil
    y.sum().backward()
    #expect(x.grad?.toArray(Float.self) == [10, 10])
  }

  @Test func aHookUsingItsOwnTensorDoesNotKeepItAlive() {
    weak var leaf: Tensor?
    weak var nonLeaf: Tensor?
    var seen: [[Float]] = []
    do {
      let w = Tensor([1.0, 2.0], requiresGrad: true)
      // The two-argument form hands the hook its tensor: no capture, no cycle.
      w.registerHook { w, grad in
        seen.append((grad + w.detach() * 0).toArray(Float.self))
        return grad + w.detach()
      }
      let y = w * 3
      y.registerHook { y, grad in grad * Float(y.numel) }
      y.sum().backward()
      #expect(w.grad?.toArray(Float.self) == [7, 8])
      (w * 1).sum().backward()
      #expect(w.grad?.toArray(Float.self) == [9, 11])
      leaf = w
      nonLeaf = y
    }
    #expect(seen == [[6, 6], [1, 1]])
    #expect(leaf == nil, "a leaf whose hook uses it was kept alive")
    #expect(nonLeaf == nil, "a non-leaf whose hook uses it was kept alive")
  }

  @Test func autogradGradLeavesDotGradAlone() throws {
    let x = Tensor([1.0, 2.0], requiresGrad: true)
    let w = Tensor([3.0, 4.0], requiresGrad: true)
    let unused = Tensor([0.0], requiresGrad: true)
    let y = (x * w).sum()
    let grads = try Autograd.grad(of: [y], wrt: [x, w, unused], retainGraph: true, allowUnused: true)
    #expect(grads[0]?.toArray(Float.self) == [3, 4])
    #expect(grads[1]?.toArray(Float.self) == [1, 2])
    #expect(grads[2] == nil)
    #expect(x.grad == nil)
    #expect(throws: AutogradError.self) { try Autograd.grad(of: [y], wrt: [unused]) }
  }

  @Test func createGraphGivesHigherOrderGradients() throws {
    // d/dx (x^3) = 3x^2, d2/dx2 = 6x.
    let x = Tensor([2.0], requiresGrad: true)
    let y = x * x * x
    let dydx = try Autograd.grad(of: [y.sum()], wrt: [x], createGraph: true)[0]!
    #expect(dydx.toArray(Float.self) == [12])
    #expect(dydx.requiresGrad)
    dydx.sum().backward()
    #expect(x.grad?.toArray(Float.self) == [12])
    // A gradient penalty: || d(w.x)/dx ||^2 differentiated with respect to w.
    let w = Tensor([1.0, -2.0], requiresGrad: true)
    let input = Tensor([0.5, 0.25], requiresGrad: true)
    let out = (w * input.tanh()).sum()
    let g = try Autograd.grad(of: [out], wrt: [input], createGraph: true)[0]!
    g.pow(2).sum().backward()
    let t = Tensor([0.5, 0.25]).tanh()
    let expected = (Tensor([1.0, -2.0]) * (1 - t * t).pow(2)) * 2
    expectClose(w.grad!, expected, rtol: 1e-5)
  }

  @Test func backwardOnTensorWithoutGradStops() async {
    await #expect(processExitsWith: .failure) { Tensor.ones(2).sum().backward() }
  }

  @Test func backwardOnNonScalarWithoutGradientStops() async {
    await #expect(processExitsWith: .failure) { (Tensor.ones(2, requiresGrad: true) * 2).backward() }
  }

  @Test func onlyFloatingTensorsRequireGrad() async {
    await #expect(processExitsWith: .failure) { Tensor([1, 2]).requiresGrad = true }
  }

  @Test func nonLeafRequiresGradCannotBeChanged() async {
    await #expect(processExitsWith: .failure) { (Tensor.ones(2, requiresGrad: true) * 2).requiresGrad = false }
  }

  @Test func printedFormShowsGradFnAndRequiresGrad() {
    let x = Tensor([1.0, 2.0], requiresGrad: true)
    #expect(x.description == "tensor([1., 2.], requires_grad=True)")
    #expect((x * 2).description == "tensor([2., 4.], grad_fn=<MulBackward0>)")
    #expect(x.sum().description == "tensor(3., grad_fn=<SumBackward0>)")
  }

  @Test func controlFlowChangesTheGraphEachIteration() {
    let x = Tensor([1.5], requiresGrad: true)
    for steps in 1...3 {
      x.grad = nil
      var y = x
      for _ in 0..<steps { y = y * x }
      y.sum().backward()
      // d/dx x^(steps+1) = (steps+1) x^steps
      expectClose(x.grad!, Tensor([Double(steps + 1) * pow(1.5, Double(steps))]), rtol: 1e-5)
    }
  }
}
