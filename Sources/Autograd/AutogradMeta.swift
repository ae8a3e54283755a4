// PyTorch's in-place suffix `_` (`add_`, `uniform_`) is part of the API's names.
// swift-format-ignore-file: AlwaysUseLowerCamelCase
/// Autograd's per-tensor state, kept in the Tensor layer's `autogradMeta` slot
/// (PyTorch: `AutogradMeta`).
final class AutogradMeta {
  // Fields every recorded op reads are `@exclusivity(unchecked)` (as Tensor's): the dynamic
  // check on each read was a measurable share of a small op.
  /// Set on leaves by the user; non-leaves require grad because they have a `gradFn`.
  @exclusivity(unchecked) var requiresGrad = false
  @exclusivity(unchecked) var grad: Tensor?
  @exclusivity(unchecked) var gradFn: Function?
  /// The leaf's accumulator, created on first use and kept for the leaf's life. The node
  /// refers back to the leaf without owning it (no cycle, no weak reference whose side
  /// table would slow every retain of the node); the leaf's end tells the node here.
  @exclusivity(unchecked) var accumulator: Function?
  /// Hooks on a leaf's gradient, run before it is accumulated.
  @exclusivity(unchecked) var leafHooks: [(id: Int, hook: (Tensor) -> Tensor?)] = []
  /// Hooks run after a gradient has been accumulated into a leaf's `grad`.
  @exclusivity(unchecked) var postAccumulateHooks: [(id: Int, hook: (Tensor) -> Void)] = []
  @exclusivity(unchecked) var retainsGrad = false
  /// For views: the tensor whose storage they look at, the view steps from it, and the
  /// storage version at which `gradFn` was last derived from the base's history.
  @exclusivity(unchecked) var base: Tensor?
  @exclusivity(unchecked) var viewChain: [ViewStep] = []
  @exclusivity(unchecked) var viewVersion = 0

  deinit { accumulator?.leafEnded() }
}

/// One step of a view chain: the kind of view and the shape it produced.
struct ViewStep {
  var kind: ViewKind
  var shape: [Int]
}

extension Tensor {
  // Autograd's state lives in `autogradMeta`, or, for an op's result whose only state is
  // its node, in `autogradNode` alone: one allocation fewer per recorded op. Reading `meta`
  // moves the second form into the first when more state is needed.

  /// The node, when it is all the state this tensor has.
  private var nodeOnly: Function? { autogradNode.map { unsafeDowncast($0, to: Function.self) } }

  var meta: AutogradMeta? {
    if let slot = autogradMeta { return unsafeDowncast(slot, to: AutogradMeta.self) }
    guard let node = nodeOnly else { return nil }
    let full = AutogradMeta()
    full.gradFn = node
    full.viewVersion = storage.version
    autogradNode = nil
    autogradMeta = full
    return full
  }

  func ensureMeta() -> AutogradMeta {
    if let meta { return meta }
    let meta = AutogradMeta()
    autogradMeta = meta
    return meta
  }

  /// Whether gradients flow to this tensor: a leaf the user marked, or the result of a
  /// recorded op on such tensors (PyTorch: `x.requires_grad`).
  public var requiresGrad: Bool {
    get {
      if autogradNode != nil { return true }
      guard let meta else { return false }
      return meta.requiresGrad || currentGradFn != nil
    }
    set {
      usageCheck(
        isLeaf,
        "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
      )
      if newValue {
        usageCheck(
          dtype.isFloatingPoint,
          "only Tensors of floating point and complex dtype can require gradients (got \(dtype.scalarTypeName))")
        AutogradRecorder.install()
      }
      ensureMeta().requiresGrad = newValue
    }
  }

  /// Marks the tensor as requiring grad and returns it (PyTorch: `x.requires_grad_()`).
  @discardableResult
  public func requiresGrad_(_ requiresGrad: Bool = true) -> Tensor {
    self.requiresGrad = requiresGrad
    return self
  }

  /// The accumulated gradient of a leaf, or of a non-leaf that called `retainGrad()`
  /// (PyTorch: `x.grad`). Settable, e.g. to `nil` to reset it.
  public var grad: Tensor? {
    get { autogradNode == nil ? meta?.grad : nil }
    set {
      if let newValue {
        usageCheck(
          newValue.shape == shape,
          "assigned grad has data of a different size: \(newValue.shape) vs the tensor's \(shape)")
      }
      ensureMeta().grad = newValue
    }
  }

  /// The node that created this tensor, `nil` for leaves (PyTorch: `x.grad_fn`).
  public var gradFn: Function? { currentGradFn }

  /// Whether the tensor was created by the user rather than by a recorded op
  /// (PyTorch: `x.is_leaf`).
  public var isLeaf: Bool { currentGradFn == nil }

  /// The node, refreshed for views whose base was modified in place since the node was
  /// made (PyTorch regenerates a view's `grad_fn` the same way).
  var currentGradFn: Function? {
    if let node = nodeOnly { return node }
    guard let meta else { return nil }
    if let base = meta.base, meta.viewVersion != storage.version, base.requiresGrad {
      meta.gradFn = ViewFormulas.chainNode(from: base, chain: meta.viewChain)
      meta.viewVersion = storage.version
    }
    return meta.gradFn
  }

  /// Where gradients for this tensor go: its node, or its leaf accumulator (`nil` when it
  /// does not require grad).
  var gradientNode: Function? {
    if let node = nodeOnly { return node }
    guard let slot = autogradMeta else { return nil }
    let meta = unsafeDowncast(slot, to: AutogradMeta.self)
    // Views may need their node refreshed first; other tensors read it directly.
    if let fn = meta.base == nil ? meta.gradFn : currentGradFn { return fn }
    guard meta.requiresGrad else { return nil }
    if let existing = meta.accumulator { return existing }
    let made = Function(accumulatingInto: self)
    meta.accumulator = made
    return made
  }

  /// Keeps `.grad` for a non-leaf after backward (PyTorch: `x.retain_grad()`).
  public func retainGrad() {
    usageCheck(requiresGrad, "can't retain_grad on Tensor that has requires_grad=False")
    guard let fn = currentGradFn else { return }
    ensureMeta().retainsGrad = true
    fn.retainedOutput = self
  }

  /// Whether `.grad` is kept for this non-leaf (PyTorch: `x.retains_grad`).
  public var retainsGrad: Bool { meta?.retainsGrad ?? false }

  /// Cuts the tensor out of the graph in place (PyTorch: `x.detach_()`).
  @discardableResult
  public func detach_() -> Tensor {
    usageCheck(
      meta?.base == nil || !(meta?.base?.requiresGrad ?? false), "Can't detach views in-place. Use detach() instead.")
    if let meta {
      meta.gradFn = nil
      meta.requiresGrad = false
      meta.base = nil
    }
    return self
  }

  /// Makes `fn` this tensor's history.
  func setHistory(_ fn: Function?) {
    if autogradMeta == nil {
      autogradNode = fn  // the node alone (or nothing)
      return
    }
    let meta = ensureMeta()
    meta.gradFn = fn
    meta.viewVersion = storage.version
  }
}
