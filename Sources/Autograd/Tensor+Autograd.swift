import Foundation

extension Tensor {
  /// Computes the gradient of this tensor with respect to the graph's leaves and adds it
  /// to their `.grad` (PyTorch: `y.backward(gradient, retain_graph=, create_graph=)`).
  /// `gradient` may be omitted for a one-element output. Stops with PyTorch's message on
  /// misuse; `backwardThrowing` throws instead.
  public func backward(gradient: Tensor? = nil, retainGraph: Bool? = nil, createGraph: Bool = false) {
    do {
      try backwardThrowing(gradient: gradient, retainGraph: retainGraph, createGraph: createGraph)
    } catch {
      usageFailure("\(error)")
    }
  }

  /// `backward` that throws `AutogradError` (a second backward through freed values, a
  /// saved tensor modified in place, NaN under anomaly detection, ...).
  public func backwardThrowing(gradient: Tensor? = nil, retainGraph: Bool? = nil, createGraph: Bool = false) throws {
    guard requiresGrad, let node = gradientNode else { throw AutogradError.doesNotRequireGrad }
    let seed = try Autograd.seedGradient(for: self, gradient)
    _ = try Engine.run(
      roots: [Engine.Root(node: node, grad: seed)], retainGraph: retainGraph ?? createGraph, createGraph: createGraph)
  }

  /// A handle that removes a registered hook.
  public struct HookHandle {
    let removal: () -> Void
    /// A handle whose `remove()` runs `removal` (for hooks registered elsewhere, such as a
    /// module's forward hooks).
    public init(removal: @escaping () -> Void) { self.removal = removal }
    /// Unregisters the hook (PyTorch: `handle.remove()`).
    public func remove() { removal() }
  }

  /// Registers `hook` to see this tensor's gradient when it is computed; returning a tensor
  /// replaces the gradient (PyTorch: `x.register_hook(fn)`).
  ///
  /// The tensor owns its hooks, so a hook must not capture the tensor itself strongly: that
  /// is a reference cycle, and under reference counting (unlike Python's collector) neither
  /// would ever be freed. To use the tensor in its own hook, register the two-argument form,
  /// `x.registerHook { x, grad in ... }`, which hands the hook its tensor without the hook
  /// owning it (or capture it `[weak x]`).
  @discardableResult
  public func registerHook(_ hook: @escaping (Tensor) -> Tensor?) -> HookHandle {
    usageCheck(requiresGrad, "cannot register a hook on a tensor that doesn't require gradient")
    let id = Autograd.nextHookID.add()
    if let node = gradFn {
      node.preHooks.append((id, hook))
      return HookHandle { [weak node] in node?.preHooks.removeAll { $0.id == id } }
    }
    let meta = ensureMeta()
    meta.leafHooks.append((id, hook))
    return HookHandle { [weak meta] in meta?.leafHooks.removeAll { $0.id == id } }
  }

  /// Registers a hook that receives this tensor and its gradient; returning a tensor replaces
  /// the gradient. The hook holds the tensor weakly, so a hook that uses its own tensor
  /// makes no reference cycle and the tensor is freed as usual; it runs while the tensor
  /// exists (PyTorch: `x.register_hook(fn)` where `fn` refers to `x`).
  @discardableResult
  public func registerHook(_ hook: @escaping (_ tensor: Tensor, _ grad: Tensor) -> Tensor?) -> HookHandle {
    registerHook { [weak self] grad in self.flatMap { hook($0, grad) } }
  }
}

extension Tensor {
  /// Registers `hook` to run after this leaf's gradient has been accumulated into `grad`
  /// during a backward pass (PyTorch: `register_post_accumulate_grad_hook`); it gets the
  /// leaf, whose `grad` is then complete for this pass. `DistributedDataParallel` starts a
  /// bucket's all-reduce from these.
  @discardableResult
  public func registerPostAccumulateGradHook(_ hook: @escaping (Tensor) -> Void) -> HookHandle {
    usageCheck(
      isLeaf && requiresGrad,
      "post accumulate grad hooks cannot be registered on non-leaf tensors or tensors that don't require grad")
    let id = Autograd.nextHookID.add()
    let meta = ensureMeta()
    meta.postAccumulateHooks.append((id, hook))
    return HookHandle { [weak meta] in meta?.postAccumulateHooks.removeAll { $0.id == id } }
  }
}

extension Autograd {
  /// Queues `callback` to run when the backward pass now running ends, after every
  /// gradient has been accumulated (PyTorch: `Variable._execution_engine.queue_callback`);
  /// stops when no pass is running.
  public static func queueCallback(_ callback: @escaping () throws -> Void) {
    guard let queue = Engine.callbacks else {
      usageFailure("queue_callback can only be called during the backward pass")
    }
    queue.pending.append(callback)
  }

  /// Whether a backward pass is running on this thread or task (hooks run inside one).
  public static var isInBackward: Bool { Engine.callbacks != nil }

  static let nextHookID = HookCounter()

  /// Hands out hook ids.
  final class HookCounter: @unchecked Sendable {
    private var next = 0
    private let lock = NSLock()
    func add() -> Int {
      lock.withLock {
        next += 1
        return next
      }
    }
  }

  static func seedGradient(for output: Tensor, _ gradient: Tensor?) throws -> Tensor {
    if let gradient {
      usageCheck(
        gradient.shape == output.shape,
        "Mismatch in shape: grad_output[0] has a shape of \(gradient.shape) and output[0] has a shape of \(output.shape)."
      )
      return gradient
    }
    guard output.numel == 1 else { throw AutogradError.notScalar(shape: output.shape) }
    return Tensor.ones(like: output)
  }

  /// The gradients of `outputs` with respect to `inputs`, without touching `.grad`
  /// (PyTorch: `torch.autograd.grad`). An input the outputs do not depend on gives `nil`
  /// with `allowUnused`, else an error.
  public static func grad(
    of outputs: [Tensor], wrt inputs: [Tensor], gradOutputs: [Tensor?]? = nil, retainGraph: Bool? = nil,
    createGraph: Bool = false, allowUnused: Bool = false
  ) throws -> [Tensor?] {
    var roots: [Engine.Root] = []
    for (i, output) in outputs.enumerated() {
      guard output.requiresGrad, let node = output.gradientNode else { throw AutogradError.doesNotRequireGrad }
      let seed = try seedGradient(for: output, gradOutputs?[i] ?? nil)
      roots.append(Engine.Root(node: node, grad: seed))
    }
    let targets: [Function?] = inputs.map { $0.requiresGrad ? $0.gradientNode : nil }
    let captured = try Engine.run(
      roots: roots, retainGraph: retainGraph ?? createGraph, createGraph: createGraph,
      capture: targets.compactMap { $0 })
    return try targets.enumerated().map { i, node in
      guard let node, let grad = captured[ObjectIdentifier(node)] else {
        if allowUnused { return nil }
        throw AutogradError.unusedInput(index: i)
      }
      return grad
    }
  }
}
