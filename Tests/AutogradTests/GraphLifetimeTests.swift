import Autograd
import Foundation
import TestSupport
import Testing

/// The resident set size of this process, in bytes.
private func residentBytes() -> Int {
  guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
    let pages = Int(text.split(separator: " ")[1])
  else { return 0 }
  return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

@Suite(.serialized) struct GraphLifetimeTests {
  @Test func graphsAreFreedWithTheirOutputs() {
    let before = Function.liveCount.current
    do {
      let x = Tensor.randn(4, requiresGrad: true)
      let y = (x.exp() * x).sigmoid().sum()
      #expect(Function.liveCount.current > before)
      y.backward()
    }
    #expect(Function.liveCount.current == before)
  }

  @Test func trainingLikeLoopKeepsMemoryFlat() {
    // Small tensors: the test is about graph bookkeeping, not arithmetic.
    let w = Tensor.randn(8, 8, requiresGrad: true)
    let input = Tensor.randn(4, 8)
    func step() {
      let loss = input.matmul(w).relu().softmax(dim: 1).log().mean()
      loss.backward()
      withNoGrad { w.sub_(w.grad! * 0.01) }
      w.grad = nil
    }
    for _ in 0..<200 { step() }
    let nodesBefore = Function.liveCount.current
    let memoryBefore = residentBytes()
    for _ in 0..<10_000 { step() }
    #expect(Function.liveCount.current == nodesBefore)
    // Each step builds and frees a graph of ~10 nodes and ~20 tensors; leaking just one
    // node with its saved tensors per step would add several MB over 10,000 steps.
    #expect(residentBytes() - memoryBefore < 4 << 20)
  }

  @Test func deepGraphsNeitherOverflowNorLeak() {
    let before = Function.liveCount.current
    do {
      let x = Tensor([1.0], requiresGrad: true)
      var y = x
      for _ in 0..<100_000 { y = y * 1.0 }
      y.sum().backward()
      #expect(x.grad?.item() == 1)
    }
    #expect(Function.liveCount.current == before)
  }
}

private enum Cube: CustomFunction {
  static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor {
    ctx.saveForBackward(inputs[0])
    return inputs[0] * inputs[0] * inputs[0]
  }
  static func backward(_ ctx: FunctionContext, _ grad: Tensor) throws -> [Tensor?] {
    let x = try ctx.savedTensors()[0]
    return [grad * 3 * x * x]
  }
}

private enum WrongSquare: CustomFunction {
  static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor { inputs[0] * inputs[0] }
  static func backward(_ ctx: FunctionContext, _ grad: Tensor) throws -> [Tensor?] { [grad] }
}

private enum NaNGradient: CustomFunction {
  static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor { inputs[0] * 1 }
  static func backward(_ ctx: FunctionContext, _ grad: Tensor) throws -> [Tensor?] { [grad * Double.nan] }
}

@Suite struct CustomFunctionTests {
  @Test func customFunctionsJoinTheGraph() throws {
    let x = Tensor([2.0], dtype: .float64, requiresGrad: true)
    let y = Cube.apply(x)
    #expect(y.gradFn?.name == "CubeBackward")
    (y * 2).sum().backward()
    #expect(x.grad?.item() == 24)
    #expect(try Autograd.gradcheck({ Cube.apply($0[0]) }, inputs: [Tensor.randn(3, dtype: .float64, requiresGrad: true)]))
  }

  @Test func gradcheckCatchesAWrongFormula() {
    let x = Tensor.randn(3, dtype: .float64, requiresGrad: true)
    #expect(throws: GradcheckError.self) { try Autograd.gradcheck({ WrongSquare.apply($0[0]) }, inputs: [x]) }
  }

  @Test func anomalyDetectionNamesTheOpAndItsLine() throws {
    let x = Tensor([1.0], requiresGrad: true)
    try withDetectAnomaly {
      let y = NaNGradient.apply(x).exp()
      do {
        try y.sum().backwardThrowing()
        Issue.record("expected an anomaly")
      } catch let error as AutogradError {
        let message = "\(error)"
        #expect(message.contains("NaNGradientBackward"))
        #expect(message.contains("GraphLifetimeTests.swift:"))
      }
    }
  }
}
