import Foundation

/// Builds the graph: the Tensor layer reports each op here, and ops whose inputs require
/// grad get a node with the op's backward formula.
final class AutogradRecorder: OpRecorder, @unchecked Sendable {
  static let shared = AutogradRecorder()

  /// Installs the recorder (once); called when a tensor first requires grad.
  static func install() { Tensor.installRecorder(shared) }

  func descriptionSuffixes(for tensor: Tensor) -> [String] {
    if let fn = tensor.gradFn { return ["grad_fn=<\(fn.name)>"] }
    return tensor.requiresGrad ? ["requires_grad=True"] : []
  }

  func record(_ op: RecordedOp, inputs: [Tensor], output: Tensor) {
    if case .view(let kind, _) = op, let input = inputs.first {
      guard Autograd.gradEnabled else { return }
      trackView(output, of: input, kind: kind)
    }
    // Cheap checks first: most ops in a program have no input that requires grad.
    guard output.dtype.isFloatingPoint, inputs.contains(where: \.requiresGrad), Autograd.gradEnabled else { return }
    let node = Formulas.node(for: op, inputs: inputs, output: output)
    output.setHistory(node)
  }

  /// Remembers a view's base and the steps from it, so in-place writes through the view
  /// can update the base's history.
  private func trackView(_ view: Tensor, of input: Tensor, kind: ViewKind) {
    let inputMeta = input.meta
    let meta = view.ensureMeta()
    meta.base = inputMeta?.base ?? input
    meta.viewChain = (inputMeta?.base != nil ? inputMeta!.viewChain : []) + [ViewStep(kind: kind, shape: view.shape)]
  }

  func requiresGradient(_ tensor: Tensor) -> Bool { Autograd.gradEnabled && tensor.requiresGrad }

  func isLeafRequiringGrad(_ tensor: Tensor) -> Bool {
    tensor.requiresGrad && tensor.isLeaf && tensor.meta?.base == nil
  }

  func shouldRebaseInPlace(target: Tensor, inputs: [Tensor], op: String) -> Bool {
    guard Autograd.gradEnabled else { return false }
    if target.isLeaf && target.requiresGrad {
      usageFailure("\(op): a leaf Variable that requires grad is being used in an in-place operation.")
    }
    if let base = target.meta?.base, base.isLeaf, base.requiresGrad {
      usageFailure(
        "\(op): a view of a leaf Variable that requires grad is being used in an in-place operation.")
    }
    return target.requiresGrad || inputs.contains(where: \.requiresGrad)
  }

  func rebaseInPlace(target: Tensor, result: Tensor, dataWritten: Bool) {
    let meta = target.ensureMeta()
    guard dataWritten, let base = meta.base else {
      // In-place view ops (`t_()`), or writes to a tensor that is not a view: the result's
      // history becomes the target's.
      target.setHistory(result.gradFn)
      if !dataWritten, let resultMeta = result.meta {
        meta.base = resultMeta.base
        meta.viewChain = resultMeta.viewChain
      }
      return
    }
    // A write through a view: the base's history becomes "the old base with this region
    // replaced" (PyTorch's CopySlices), and the view's history a view of that.
    let copySlices = ViewFormulas.copySlices(base: base, chain: meta.viewChain, result: result)
    base.setHistory(copySlices)
    target.setHistory(ViewFormulas.chainNode(from: base, chain: meta.viewChain))
  }

  func withoutRecording<T>(_ body: () -> T) -> T {
    Autograd.$gradEnabled.withValue(false) { body() }
  }
}
