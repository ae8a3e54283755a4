/// One layer normalization as the backends see it: `input` contiguous, viewed as `[rows,
/// width]` (width the product of the normalized dims); `weight` and `bias` contiguous with
/// `width` elements, or nil; `mean` and `rstd` `[rows]` float32 tensors that receive each row's
/// mean and `1 / sqrt(biased variance + eps)`; `out` contiguous like `input`.
package struct LayerNormProblem {
  package let input: Tensor
  package let weight: Tensor?
  package let bias: Tensor?
  package let mean: Tensor
  package let rstd: Tensor
  package let eps: Double
  package let out: Tensor

  /// The number of normalized rows and the elements in each.
  package var extents: (rows: Int, width: Int) {
    let width = input.shape.suffix(from: mean.dim).reduce(1, *)
    return (width == 0 ? 0 : input.numel / width, width)
  }
}

extension Tensor {
  /// Layer normalization over the trailing `normalizedDims` dims by the backend's fused kernel
  /// (float32, every operand on one device), without recording: `(output, mean, rstd)`, the
  /// statistics shaped like the leading dims. Nil when the backend has no kernel for these
  /// operands. The NN layer records the node.
  package static func fusedLayerNorm(
    _ x: Tensor, normalizedDims: Int, weight: Tensor?, bias: Tensor?, eps: Double
  ) -> (out: Tensor, mean: Tensor, rstd: Tensor)? {
    let operands = [x, weight, bias].compactMap { $0 }
    guard operands.allSatisfy({ $0.dtype == .float32 && $0.device == x.device }), x.numel > 0 else { return nil }
    let leading = Array(x.shape.dropLast(normalizedDims))
    let problem = LayerNormProblem(
      input: x.contiguous(), weight: weight?.contiguous(), bias: bias?.contiguous(),
      mean: Tensor(uninitializedShape: leading, dtype: .float32, device: x.device),
      rstd: Tensor(uninitializedShape: leading, dtype: .float32, device: x.device), eps: eps,
      out: Tensor(uninitializedShape: x.shape, dtype: x.dtype, device: x.device))
    guard x.backend.fusedLayerNorm(problem) else { return nil }
    for t in [problem.out, problem.mean, problem.rstd] { t.markWritten() }
    return (problem.out, problem.mean, problem.rstd)
  }

  /// The gradients of a fused layer normalization (its `mean` and `rstd`) with respect to
  /// input, weight and bias, nil where `needed` says no.
  package static func fusedLayerNormGradients(
    _ x: Tensor, weight: Tensor?, mean: Tensor, rstd: Tensor, gradOut: Tensor,
    needed: (input: Bool, weight: Bool, bias: Bool)
  ) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
    let parameterShape = weight?.shape ?? Array(x.shape.suffix(from: mean.dim))
    let gradInput = needed.input ? Tensor(uninitializedShape: x.shape, dtype: x.dtype, device: x.device) : nil
    let gradWeight =
      needed.weight ? Tensor(uninitializedShape: parameterShape, dtype: x.dtype, device: x.device) : nil
    let gradBias = needed.bias ? Tensor(uninitializedShape: parameterShape, dtype: x.dtype, device: x.device) : nil
    let problem = LayerNormProblem(
      input: x.contiguous(), weight: weight?.contiguous(), bias: nil, mean: mean, rstd: rstd, eps: 0,
      out: gradOut.contiguous())
    usageCheck(
      x.backend.fusedLayerNormBackward(problem, gradInput: gradInput, gradWeight: gradWeight, gradBias: gradBias),
      "layer_norm: the backward kernel could not run on \(x.device)")
    for t in [gradInput, gradWeight, gradBias] { t?.markWritten() }
    return (gradInput, gradWeight, gradBias)
  }
}
