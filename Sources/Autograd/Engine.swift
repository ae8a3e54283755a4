/// Runs backward passes: walks the graph from the roots in dependency order without
/// recursion (graphs 100,000 ops deep are fine), sums gradients that meet at a node,
/// accumulates into leaves, and frees saved values unless asked to keep them.
enum Engine {
  struct Root {
    var node: Function
    var grad: Tensor
  }

  /// Runs the pass. With `capture`, the gradients reaching those nodes are returned
  /// instead of being accumulated into leaves (`Autograd.grad`).
  /// Callbacks queued during a pass (`Autograd.queueCallback`), run when it ends.
  final class Callbacks: @unchecked Sendable {
    var pending: [() throws -> Void] = []
  }
  @TaskLocal static var callbacks: Callbacks?

  static func run(roots: [Root], retainGraph: Bool, createGraph: Bool, capture: [Function]? = nil) throws
    -> [ObjectIdentifier: Tensor]
  {
    let queued = Callbacks()
    let captured = try $callbacks.withValue(queued) {
      try walk(roots: roots, retainGraph: retainGraph, createGraph: createGraph, capture: capture)
    }
    // In order, and callbacks may queue more (PyTorch's final callbacks).
    while !queued.pending.isEmpty {
      let callback = queued.pending.removeFirst()
      try callback()
    }
    return captured
  }

  private static func walk(roots: [Root], retainGraph: Bool, createGraph: Bool, capture: [Function]?) throws
    -> [ObjectIdentifier: Tensor]
  {
    let captureIDs = Set((capture ?? []).map(ObjectIdentifier.init))
    // `Autograd.grad` runs only the nodes that lead to what it captures (PyTorch's
    // exec_info): the rest would be wasted work, and a backward formula that differentiates
    // through its own saved output (`LinearizedFormulas`) would otherwise run itself again.
    let needed = capture == nil ? nil : nodesLeading(to: captureIDs, from: roots.map(\.node))
    func isNeeded(_ node: Function) -> Bool { needed?.contains(ObjectIdentifier(node)) ?? true }
    // Count how many edges lead into each node.
    var dependencies: [ObjectIdentifier: Int] = [:]
    var seen = Set<ObjectIdentifier>()
    var stack = roots.map(\.node).filter(isNeeded)
    for root in stack { seen.insert(ObjectIdentifier(root)) }
    while let node = stack.popLast() {
      for edge in node.edges {
        guard let next = edge.function, isNeeded(next) else { continue }
        let id = ObjectIdentifier(next)
        dependencies[id, default: 0] += 1
        if seen.insert(id).inserted { stack.append(next) }
      }
    }
    var captured: [ObjectIdentifier: Tensor] = [:]
    var buffers: [ObjectIdentifier: Tensor] = [:]
    var ready: [Function] = []
    for root in roots where isNeeded(root.node) {
      let id = ObjectIdentifier(root.node)
      if let existing = buffers[id] {
        buffers[id] = existing + root.grad
      } else {
        buffers[id] = root.grad
        if dependencies[id, default: 0] == 0 { ready.append(root.node) }
      }
    }
    try Autograd.$gradEnabled.withValue(createGraph) {
      while let node = ready.popLast() {
        let id = ObjectIdentifier(node)
        guard var grad = buffers.removeValue(forKey: id) else { continue }
        for (_, hook) in node.preHooks { if let replaced = hook(grad) { grad = replaced } }
        if captureIDs.contains(id) {
          captured[id] = grad
          // Nothing below a captured node is wanted unless it leads to another one.
          if !node.edges.contains(where: { $0.function.map(isNeeded) ?? false }) { continue }
        }
        if let retained = node.retainedOutput {
          retained.grad =
            retained.grad.map { createGraph ? $0 + grad : $0.add_(grad) }
            ?? (createGraph ? grad : grad.detach().clone())
        }
        if node.isAccumulator {
          if let leaf = node.variable {
            try accumulate(
              grad, into: leaf, node: node, capturing: capture != nil, createGraph: createGraph, captured: &captured)
          }
          continue
        }
        if node.isReleased && node.savesValues { throw AutogradError.backwardTwice }
        let grads = try node.apply(grad)
        if !retainGraph { node.release() }
        for (edge, g) in zip(node.edges, grads) {
          guard let next = edge.function, isNeeded(next) else { continue }
          let nextID = ObjectIdentifier(next)
          if var g {
            if Autograd.anomalyDetection, g.isnan().any().item(Bool.self) {
              throw AutogradError.anomaly(node: node.name, site: node.creationSite)
            }
            g = try conform(g, to: edge, node: node)
            if var existing = buffers.removeValue(forKey: nextID) {
              buffers[nextID] = sum(&existing, g, createGraph: createGraph)
            } else {
              buffers[nextID] = g
            }
          }
          dependencies[nextID, default: 1] -= 1
          if dependencies[nextID] == 0 { ready.append(next) }
        }
      }
    }
    return captured
  }

  /// A node's gradient buffer (taken out of the table, so that the table's reference does not
  /// count) plus one more contribution `g`. Without a graph to record, the
  /// sum goes into the buffer in place when nothing else can see it (the engine holds the only
  /// reference to the tensor and to its storage, and it is dense, of `g`'s shape and dtype), as
  /// PyTorch's input buffers do: a GPT step sums the residual stream's gradients at every
  /// block, and a fresh tensor per sum cost an allocation and a pass over new memory each.
  private static func sum(_ existing: inout Tensor, _ g: Tensor, createGraph: Bool) -> Tensor {
    if !createGraph && existing.dtype == g.dtype && existing.shape == g.shape && existing.device == g.device
      && existing.isContiguous && isKnownUniquelyReferenced(&existing)
      && isKnownUniquelyReferenced(&existing.storage)
    {
      return existing.add_(g)
    }
    return existing + g
  }

  /// The nodes from which one of `targets` can be reached (targets included), found by one
  /// depth-first pass in post-order without recursion (graphs are deep).
  private static func nodesLeading(to targets: Set<ObjectIdentifier>, from roots: [Function]) -> Set<ObjectIdentifier> {
    var leading = Set<ObjectIdentifier>()
    var visited = Set<ObjectIdentifier>()
    var stack: [(node: Function, nextEdge: Int)] = []
    for root in roots where visited.insert(ObjectIdentifier(root)).inserted {
      stack.append((root, 0))
      while let (node, index) = stack.last {
        if index < node.edges.count {
          stack[stack.count - 1].nextEdge += 1
          if let next = node.edges[index].function, visited.insert(ObjectIdentifier(next)).inserted {
            stack.append((next, 0))
          }
          continue
        }
        stack.removeLast()
        let id = ObjectIdentifier(node)
        if targets.contains(id)
          || node.edges.contains(where: { $0.function.map { leading.contains(ObjectIdentifier($0)) } ?? false })
        {
          leading.insert(id)
        }
      }
    }
    return leading
  }

  /// Sums a gradient back over broadcast dims and converts it to the input's dtype: the
  /// one place broadcasting is undone.
  private static func conform(_ g: Tensor, to edge: Function.Edge, node: Function) throws -> Tensor {
    var result = g
    if result.shape != edge.shape {
      let summable =
        result.dim >= edge.shape.count
        && zip(result.shape.suffix(edge.shape.count), edge.shape).allSatisfy { $0 == $1 || $1 == 1 }
      guard summable else { throw AutogradError.gradientShape(node: node.name, expected: edge.shape, got: g.shape) }
      result = result.sumTo(edge.shape)
    }
    if result.dtype != edge.dtype { result = result.to(edge.dtype) }
    return result
  }

  private static func accumulate(
    _ incoming: Tensor, into leaf: Tensor, node: Function, capturing: Bool, createGraph: Bool,
    captured: inout [ObjectIdentifier: Tensor]
  ) throws {
    var grad = incoming
    for (_, hook) in leaf.meta?.leafHooks ?? [] { if let replaced = hook(grad) { grad = replaced } }
    if capturing {
      let id = ObjectIdentifier(node)
      if captured[id] != nil { captured[id] = grad }
      return
    }
    if let existing = leaf.grad {
      leaf.grad = createGraph ? existing + grad : withNoGrad { existing.add_(grad) }
    } else {
      // A fresh tensor: the incoming gradient may be shared with other leaves.
      leaf.grad = createGraph ? grad : grad.detach().clone()
    }
    for (_, hook) in leaf.meta?.postAccumulateHooks ?? [] { hook(leaf) }
  }
}
