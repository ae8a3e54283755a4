/// A tensor a backward formula needs, saved with the version of its storage so that an
/// in-place write before backward is caught (PyTorch: `SavedVariable`).
///
/// Non-leaves are kept as detached data plus a weak link to their node: a node that saved
/// its own output must not own it (an ARC cycle).
final class SavedTensor {
  private let data: Tensor
  private let leaf: Tensor?
  private weak var node: Function?
  private let hadNode: Bool
  private let nodeName: String?
  private let version: Int

  init(_ tensor: Tensor) {
    version = tensor.version
    if tensor.requiresGrad && tensor.isLeaf {
      leaf = tensor
      data = tensor
      hadNode = false
      nodeName = nil
    } else {
      leaf = nil
      data = tensor.detach()
      node = tensor.gradFn
      hadNode = node != nil
      nodeName = node?.name
    }
  }

  /// The saved tensor, linked back into the graph (for higher-order gradients); throws if
  /// its storage was written in place since it was saved.
  func unpack() throws -> Tensor {
    guard data.version == version else {
      let which = nodeName.map { ", which is output 0 of \($0)," } ?? ""
      throw AutogradError.savedTensorModified(
        description: "[\(data.dtype.scalarTypeName) \(data.shape)]\(which)", version: data.version, expected: version)
    }
    if let leaf { return leaf }
    guard hadNode, let node else { return data }
    let linked = data.detach()
    linked.setHistory(node)
    return linked
  }
}
