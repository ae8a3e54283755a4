/// A tensor a backward formula needs, saved with the version of its storage so that an
/// in-place write before backward is caught (PyTorch: `SavedVariable`).
///
/// Three kinds, as PyTorch's:
/// - a leaf that requires grad is kept as itself (unpacking gives the leaf back);
/// - another non-leaf is kept as detached data plus its node (held weakly: the saving node's
///   edges already hold an input's node);
/// - the output of the node that saves it (`init(output:)`) is kept as detached data and
///   re-attached, when unpacked, to the node that owns it (`bind(to:)`, done by the node as it
///   is made). The node must not own its output (an ARC cycle), and the output has no node
///   yet when the formula saves it. Without this link a formula that reads its output
///   (`exp`, `tanh`, `softmax`, ...) would return a gradient cut from the graph, and
///   `createGraph: true` would silently lose every higher-order term through it.
final class SavedTensor {
  private let data: Tensor
  private let leaf: Tensor?
  private weak var node: Function?
  private let hadNode: Bool
  /// For a saved output: the node whose output it is. The node owns the closure that owns
  /// this object, so it outlives it (no weak reference, no side table per node).
  private unowned(unsafe) var owner: Function?
  private let isOutput: Bool
  private let version: Int

  /// Saves an input of the op (or any tensor other than the op's own output).
  init(_ tensor: Tensor) {
    version = tensor.version
    isOutput = false
    if tensor.requiresGrad && tensor.isLeaf {
      leaf = tensor
      data = tensor
      hadNode = false
    } else {
      leaf = nil
      data = tensor.detach()
      node = tensor.gradFn
      hadNode = node != nil
    }
  }

  /// Saves the output of the node being made; the node binds itself (`Function`'s
  /// `savedOutput:`), and unpacking without that binding stops as an internal error.
  init(output: Tensor) {
    version = output.version
    isOutput = true
    leaf = nil
    data = output.detach()
    hadNode = false
  }

  /// Makes `node` the node this saved output belongs to.
  func bind(to node: Function) {
    guard isOutput else { usageFailure("internal error: only a saved output is bound to its node") }
    owner = node
  }

  /// The saved tensor, linked back into the graph (for higher-order gradients); throws if
  /// its storage was written in place since it was saved.
  func unpack() throws -> Tensor {
    guard data.version == version else {
      let name = isOutput ? owner?.name : (hadNode ? node?.name : nil)
      let which = name.map { ", which is output 0 of \($0)," } ?? ""
      throw AutogradError.savedTensorModified(
        description: "[\(data.dtype.scalarTypeName) \(data.shape)]\(which)", version: data.version, expected: version)
    }
    if let leaf { return leaf }
    if isOutput {
      guard let owner else { usageFailure("internal error: a saved output was unpacked before its node bound it") }
      return linked(to: owner)
    }
    guard hadNode, let node else { return data }
    return linked(to: node)
  }

  /// The data as a new tensor whose history is `node` (a fresh tensor per unpack, so a
  /// formula's own in-place work cannot reach the saved one).
  private func linked(to node: Function) -> Tensor {
    // Outside a graph-building backward nobody differentiates the result: skip the link.
    guard Autograd.isGradEnabled else { return data }
    let linked = data.detach()
    linked.setHistory(node)
    return linked
  }
}
