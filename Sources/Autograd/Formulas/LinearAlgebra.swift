/// Backward formulas of matrix products.
enum LinearAlgebraFormulas {
  /// Whether the last two dims are laid out column-major (a transposed matrix).
  static func isTransposed(_ t: Tensor) -> Bool {
    t.dim >= 2 && t.stride(-2) == 1 && t.stride(-1) != 1 && t.shape[t.dim - 1] > 1
  }

  static func matmul(_ lhs: Tensor, _ rhs: Tensor) -> Function {
    let a = SavedTensor(lhs)
    let b = SavedTensor(rhs)
    // Each product costs as much as the forward pass: skip the one nobody needs.
    let (needA, needB) = (lhs.requiresGrad, rhs.requiresGrad)
    // Produce each gradient in its input's layout (as PyTorch's mm backward does): for a
    // transposed input, compute the transposed product and return its transpose view, so
    // the gradient of `x @ w.t()` reaches `w` contiguous, with no copy.
    let (aTransposed, bTransposed) = (isTransposed(lhs), isTransposed(rhs))
    return Function(name: lhs.dim == 2 ? "MmBackward0" : "BmmBackward0", inputs: [lhs, rhs], savesValues: true) { g in
      var ga: Tensor?
      var gb: Tensor?
      if needA {
        let bv = try b.unpack()
        ga = aTransposed ? bv.matmul(g.mT).mT : g.matmul(bv.mT)
      }
      if needB {
        let av = try a.unpack()
        gb = bTransposed ? g.mT.matmul(av).mT : av.mT.matmul(g)
      }
      return [ga, gb]
    }
  }
}
