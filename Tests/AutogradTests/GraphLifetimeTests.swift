import Autograd
import Foundation
import Synchronization
import TestSupport
import Testing

/// The resident set size of this process, in bytes.
private func residentBytes() -> Int {
  guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
    let pages = Int(text.split(separator: " ")[1])
  else { return 0 }
  return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Every node reachable from `node`, held weakly.
private func weakGraph(_ node: Function?) -> [() -> Function?] {
  var result: [() -> Function?] = []
  var stack = [node].compactMap { $0 }
  var seen = Set<ObjectIdentifier>()
  while let n = stack.popLast() {
    guard seen.insert(ObjectIdentifier(n)).inserted else { continue }
    result.append { [weak n] in n }
    stack.append(contentsOf: n.nextFunctions.compactMap(\.function))
  }
  return result
}

@Suite struct GraphLifetimeTests {
  @Test func graphsAreFreedWithTheirOutputs() {
    var nodes: [() -> Function?] = []
    do {
      let x = Tensor.randn(4, requiresGrad: true)
      let y = (x.exp() * x).sigmoid().sum()
      nodes = weakGraph(y.gradFn)
      #expect(nodes.count == 5)
      y.backward()
    }
    #expect(nodes.allSatisfy { $0() == nil })
  }

  @Test func trainingLikeLoopKeepsMemoryFlat() async {
    // In a child process, so that other tests' allocations do not blur the measurement.
    await #expect(processExitsWith: .success) {
      // Small tensors: the test is about graph bookkeeping, not arithmetic.
      let w = Tensor.randn(8, 8, requiresGrad: true)
      let input = Tensor.randn(4, 8)
      var graphs: [() -> Function?] = []
      func step(keep: Bool) {
        let loss = input.matmul(w).relu().softmax(dim: 1).log().mean()
        if keep { graphs += weakGraph(loss.gradFn) }
        loss.backward()
        withNoGrad { w.sub_(w.grad! * 0.01) }
        w.grad = nil
      }
      for _ in 0..<200 { step(keep: false) }
      let memoryBefore = residentBytes()
      for i in 0..<10_000 { step(keep: i % 1000 == 0) }
      // Each step builds and frees a graph of ~10 nodes and ~20 tensors; leaking one node
      // with its saved tensors per step would add several MB over 10,000 steps.
      let grown = residentBytes() - memoryBefore
      // `w`'s AccumulateGrad node belongs to `w` (one node for its whole life); every other
      // node must be gone with its graph.
      let alive = graphs.compactMap { $0() }
      let leakedNodes = alive.filter { $0.name != "AccumulateGrad" }.count
      let accumulators = Set(alive.filter { $0.name == "AccumulateGrad" }.map(ObjectIdentifier.init))
      if grown >= 4 << 20 || leakedNodes > 0 || accumulators.count != 1 || graphs.isEmpty {
        print("memory grew by \(grown) bytes; \(leakedNodes) nodes leaked")
        exit(1)
      }
    }
  }

  /// A leaf's AccumulateGrad node lives as long as the leaf (PyTorch keeps it while a graph
  /// uses it); it does not keep the leaf alive, and a graph that outlives its leaf still runs.
  @Test func accumulatorsFollowTheirLeaf() {
    let x = Tensor.randn(3, requiresGrad: true)
    let first = (x * 2).gradFn!.nextFunctions[0].function!
    #expect((x + 1).gradFn!.nextFunctions[0].function! === first)
    #expect(first.variable === x)
    weak var accumulator: Function?
    var y: Tensor
    do {
      let leaf = Tensor.randn(3, requiresGrad: true)
      y = (leaf + 1).sum()  // saves nothing, so the graph does not hold the leaf
      accumulator = y.gradFn!.nextFunctions[0].function!.nextFunctions[0].function
      #expect(accumulator?.variable === leaf)
    }
    // The leaf is gone; its node stays with the graph, knows it, and backward still runs.
    #expect(accumulator != nil && accumulator?.variable == nil)
    y.backward()
    y = Tensor(0)
    #expect(accumulator == nil)
  }

  @Test func deepGraphsNeitherOverflowNorLeak() {
    var first: () -> Function? = { nil }
    do {
      let x = Tensor([1.0], requiresGrad: true)
      var y = x * 1.0
      let firstNode = y.gradFn!
      first = { [weak firstNode] in firstNode }
      for _ in 0..<100_000 { y = y * 1.0 }
      y.sum().backward()
      #expect(x.grad?.item() == 1)
    }
    #expect(first() == nil)
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
    #expect(
      try Autograd.gradcheck({ Cube.apply($0[0]) }, inputs: [Tensor.randn(3, dtype: .float64, requiresGrad: true)]))
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

  /// Recording creation sites lists the process's mappings and reads each file mapping's
  /// header; a file unmapped by another thread in between must not crash the process (a
  /// checkpoint closed while anomaly detection is on, or a parallel test reading fixtures).
  @Test func anomalyDetectionSurvivesFilesUnmappedMeanwhile() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("anomaly-\(getpid()).bin").path
    try Data(repeating: 0x7F, count: 1 << 16).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let fd = open(path, O_RDONLY)
    try #require(fd >= 0)
    defer { close(fd) }
    let stop = Atomic<Bool>(false)
    let churn = Thread {
      while !stop.load(ordering: .relaxed) {
        guard let pointer = mmap(nil, 1 << 16, PROT_READ, MAP_PRIVATE, fd, 0), pointer != MAP_FAILED else { continue }
        munmap(pointer, 1 << 16)
      }
    }
    churn.start()
    defer { stop.store(true, ordering: .relaxed) }
    let x = Tensor([1.0], requiresGrad: true)
    var named = 0
    for _ in 0..<4 {
      try withDetectAnomaly {
        var y = NaNGradient.apply(x * 2)
        for _ in 0..<64 { y = y * 1 }
        do {
          try y.sum().backwardThrowing()
        } catch let error as AutogradError where "\(error)".contains("GraphLifetimeTests.swift:") {
          named += 1
        }
      }
    }
    #expect(named == 4)
  }
}
