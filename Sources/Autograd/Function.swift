import Foundation

#if os(Linux)
  // The memory-reader SPI lets the image map be read through `process_vm_readv`, which
  // fails cleanly where a direct read of a just-unmapped file mapping would crash.
  @_spi(MemoryReaders) @_spi(Internal) import Runtime
#else
  import Runtime
#endif

/// A node of the backward graph (PyTorch: `torch.autograd.graph.Node`, the object behind
/// `grad_fn`): it maps the gradient of its output to gradients of its inputs.
public final class Function: CustomStringConvertible {
  /// PyTorch's name for the node: `MulBackward0`, `AccumulateGrad`, ...
  public let name: String
  /// Where each input's gradient goes: the input's own node and which of its outputs
  /// (PyTorch: `next_functions`); `nil` for inputs that do not require grad.
  public var nextFunctions: [(function: Function?, inputNr: Int)] { edges.map { ($0.function, $0.inputNr) } }

  /// For `AccumulateGrad`: the leaf it accumulates into (PyTorch: `.variable`); `nil` once
  /// the leaf itself is gone (its gradient could no longer be read).
  public var variable: Tensor? { leaf }
  /// Not owned: the leaf owns this node (through its metadata) and clears this on its end.
  private unowned(unsafe) var leaf: Tensor?
  /// Whether this is a leaf's `AccumulateGrad` node.
  let isAccumulator: Bool

  struct Edge {
    var function: Function?
    var inputNr: Int
    /// Shape and dtype of the input, for summing broadcast gradients back and converting.
    var shape: [Int]
    var dtype: DType
  }

  @exclusivity(unchecked) private(set) var edges: [Edge]
  @exclusivity(unchecked) private var backward: ((Tensor) throws -> [Tensor?])?
  /// Whether `backward` reads saved values (such nodes cannot run after being released).
  let savesValues: Bool
  /// Hooks that see (and may replace) the incoming gradient, by id.
  @exclusivity(unchecked) var preHooks: [(id: Int, hook: (Tensor) -> Tensor?)] = []
  /// A non-leaf output whose `.grad` is kept (`retainGrad()`).
  var retainedOutput: Tensor? {
    get { retained?.tensor }
    set { retained = newValue.map(WeakTensor.init) }
  }
  /// Held in a box made only by `retainGrad()`: a weak field in every node cost a runtime
  /// call to set up and another to tear down, per op.
  private var retained: WeakTensor?
  /// The call stack that created the node, when anomaly detection was on; symbolicated
  /// only when an anomaly is reported, since that reads the binaries' debug information.
  private var creationTrace: Backtrace?

  /// The Swift location that created the node, when anomaly detection was on.
  var creationSite: String? { creationTrace.flatMap(Function.callerLocation) }

  /// A node for an op on `inputs`. `savedOutput` is what its formula saved of the op's own
  /// output (`SavedTensor(output:)`; an op with several outputs records one packed output):
  /// it is bound to this node, so that it unpacks linked to it and the gradient stays
  /// differentiable.
  init(
    name: String, inputs: [Tensor], savesValues: Bool, savedOutput: SavedTensor? = nil,
    backward: @escaping (Tensor) throws -> [Tensor?]
  ) {
    self.name = name
    self.leaf = nil
    self.isAccumulator = false
    self.savesValues = savesValues
    self.backward = backward
    self.edges = inputs.map { Function.edge(to: $0) }
    savedOutput?.bind(to: self)
    if Autograd.anomalyDetection { creationTrace = try? Backtrace.capture(images: Function.loadedImages()) }
  }

  /// An `AccumulateGrad` node for a leaf.
  init(accumulatingInto leaf: Tensor) {
    name = "AccumulateGrad"
    self.leaf = leaf
    isAccumulator = true
    savesValues = false
    backward = nil
    edges = []
  }

  /// The edge for an input: its node, its leaf accumulator, or none.
  static func edge(to input: Tensor) -> Edge {
    Edge(function: input.gradientNode, inputNr: 0, shape: input.shape, dtype: input.dtype)
  }

  var isReleased: Bool { backward == nil && !isAccumulator }

  /// Called as the leaf of an `AccumulateGrad` node ends.
  func leafEnded() { leaf = nil }

  /// Computes the input gradients for `grad`.
  func apply(_ grad: Tensor) throws -> [Tensor?] {
    guard let backward else {
      throw AutogradError.backwardTwice
    }
    return try backward(grad)
  }

  /// Frees the saved values (after a backward without `retainGraph`).
  func release() {
    if savesValues { backward = nil }
  }

  /// `<MulBackward0>`, as PyTorch prints a node.
  public var description: String { "<\(name)>" }

  deinit {
    // Release long chains iteratively: a recursive release of a graph 100,000 nodes deep
    // would overflow the stack. Nodes this one alone holds are detached from their inputs
    // here; a chain goes through `next` without allocating, branches through `pending`.
    var pending: [Function] = []
    var next: Function?
    Function.detachInputs(of: &edges, next: &next, pending: &pending)
    while let node = next ?? pending.popLast() {
      next = nil
      Function.detachInputs(of: &node.edges, next: &next, pending: &pending)
    }
  }

  /// Clears `edges`, handing the nodes that nothing else holds to `next` (the first) and
  /// `pending` (the rest), so that releasing them later does not recurse.
  private static func detachInputs(of edges: inout [Edge], next: inout Function?, pending: inout [Function]) {
    for i in edges.indices {
      guard var input = edges[i].function else { continue }
      edges[i].function = nil
      if isKnownUniquelyReferenced(&input) {
        if next == nil { next = input } else { pending.append(input) }
      }
    }
  }

  /// The first frame of `backtrace` outside the library, as `file:line`.
  private static func callerLocation(in backtrace: Backtrace) -> String? {
    guard let trace = backtrace.symbolicated() else { return nil }
    for frame in trace.frames {
      guard let location = frame.symbol?.sourceLocation, location.line > 0 else { continue }
      let path = location.path
      // Debug builds record absolute paths, release builds relative ones.
      if path.contains("Sources/Tensor/") || path.contains("Sources/Autograd/") { continue }
      return "\(path):\(location.line)"
    }
    return nil
  }

  /// The images loaded in this process, for symbolicating a creation site.
  ///
  /// `Backtrace.capture()` maps the images by reading the first bytes of every file mapping
  /// in place; when another thread unmaps a file between the listing and the read (a
  /// memory-mapped checkpoint being closed), that read crashes the process. On Linux the
  /// map is read through `process_vm_readv` instead, which returns an error for a mapping
  /// that has gone and leaves it out.
  private static func loadedImages() -> ImageMap {
    #if os(Linux)
      ImageMap.capture(using: LocalMemoryReader())
    #else
      ImageMap.capture()
    #endif
  }
}

/// What went wrong in a backward pass; `backward()` stops with this message, and the
/// throwing entry points (`Autograd.grad`, `backward(throwing:)`) throw it.
public enum AutogradError: Error, CustomStringConvertible, Sendable {
  case backwardTwice
  case savedTensorModified(description: String, version: Int, expected: Int)
  case notScalar(shape: [Int])
  case doesNotRequireGrad
  case unusedInput(index: Int)
  case anomaly(node: String, site: String?)
  case gradientShape(node: String, expected: [Int], got: [Int])

  /// PyTorch's message for the error.
  public var description: String {
    switch self {
    case .backwardTwice:
      "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retainGraph: true if you need to backward through the graph a second time or if you need to access saved tensors after calling backward."
    case .savedTensorModified(let description, let version, let expected):
      "one of the variables needed for gradient computation has been modified by an inplace operation: \(description) is at version \(version); expected version \(expected) instead. Hint: enable anomaly detection (withDetectAnomaly) to find the operation that failed to compute its gradient."
    case .notScalar(let shape):
      "grad can be implicitly created only for scalar outputs (the output has shape \(shape)); pass backward(gradient:) a tensor of that shape"
    case .doesNotRequireGrad:
      "element 0 of tensors does not require grad and does not have a grad_fn"
    case .unusedInput(let index):
      "One of the differentiated Tensors (input \(index)) appears to not have been used in the graph. Set allowUnused: true if this is the desired behavior."
    case .anomaly(let node, let site):
      "Function '\(node)' returned nan values in its output. The forward op was created at \(site ?? "an unknown location (build in debug mode for file and line)")."
    case .gradientShape(let node, let expected, let got):
      "Function \(node) returned an invalid gradient: got shape \(got) but expected shape compatible with \(expected)"
    }
  }
}

/// A weak reference to a tensor, boxed.
final class WeakTensor {
  weak var tensor: Tensor?
  init(_ tensor: Tensor) { self.tensor = tensor }
}
