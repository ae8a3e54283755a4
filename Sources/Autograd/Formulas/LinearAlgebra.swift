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

  /// Fused attention: the backward kernel recomputes the probabilities blockwise from the
  /// saved log-sum-exp (PyTorch's node: `ScaledDotProductFlashAttentionForCpuBackward0`). The
  /// kernel's gradients are not themselves differentiable (PyTorch's flash backward has no
  /// double backward either), so with `createGraph: true` they come from the composed
  /// attention instead (matmuls and a softmax), whose gradients are.
  static func attention(_ problem: AttentionProblem, inputs: [Tensor], output: Tensor) -> Function {
    let savedOutput = SavedTensor(output: output)
    let saved = inputs.map { SavedTensor($0) }
    let needed = inputs.map(\.requiresGrad)
    return Function(name: "ScaledDotProductFlashAttentionForCpuBackward0", inputs: inputs, savesValues: true, savedOutput: savedOutput) { g in
      _ = try savedOutput.unpack()  // stops if the output was changed in place
      let values = try saved.map { try $0.unpack() }
      guard Autograd.isGradEnabled else {
        return withNoGrad { Tensor.attentionGradients(problem, gradOut: g.detach(), inputs: inputs) }
      }
      return try Formulas.composedGradients(of: values, needed: needed, upstream: g) { v in
        Tensor.composedAttention(v[0], v[1], v[2], mask: problem.mask, causal: problem.causal, scale: problem.scale)
      }
    }
  }

  /// Fused convolution (PyTorch's node: `ConvolutionBackward0`): the backend's kernels give
  /// the input and weight gradients, the bias gradient is the upstream sum. With
  /// `createGraph: true` the gradients come from the composed convolution instead, so that
  /// they are differentiable again (double backward, as PyTorch's).
  static func convolution2d(_ problem: Convolution2dProblem, inputs: [Tensor]) -> Function {
    let saved = inputs.map { SavedTensor($0) }
    let needed = inputs.map(\.requiresGrad)
    return Function(name: "ConvolutionBackward0", inputs: inputs, savesValues: true) { g in
      let values = try saved.map { try $0.unpack() }
      guard Autograd.isGradEnabled else {
        return withNoGrad { Tensor.convolution2dGradients(problem, gradOut: g.detach(), needed: needed) }
      }
      return try Formulas.composedGradients(of: values, needed: needed, upstream: g) { v in
        problem.composed(v[0], v[1], v.count > 2 ? v[2] : nil)
      }
    }
  }
}
