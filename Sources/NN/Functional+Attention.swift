import Autograd
import Foundation

extension Functional {
  /// `softmax(Q Kᵀ * scale + mask) V` over the last two dims of `query` `[*, L, E]`, `key`
  /// `[*, S, E]` and `value` `[*, S, Ev]`, giving `[*, L, Ev]` (PyTorch:
  /// `F.scaled_dot_product_attention`). `attnMask` broadcasts to `[*, L, S]`: a boolean mask
  /// says which keys each query may attend to, a float mask is added to the scores.
  /// `isCausal` lets query `i` attend to keys `0...i` (no mask may be given with it). `scale`
  /// defaults to `1 / sqrt(E)`. `dropoutP` drops attention weights (always, as PyTorch's
  /// functional form; pass 0 in evaluation). Queries whose keys are all masked give zeros.
  ///
  /// On the CPU (float32 and float64) and CUDA this is one fused op with its own backward,
  /// computed blockwise with an online softmax, so memory does not grow with `L x S` per
  /// head; with dropout, a float mask that requires grad, or types a backend's kernel lacks it
  /// is composed from matmuls and a softmax (so is its double backward).
  public static func scaledDotProductAttention(
    _ query: Tensor, _ key: Tensor, _ value: Tensor, attnMask: Tensor? = nil, dropoutP: Double = 0,
    isCausal: Bool = false,
    scale: Double? = nil
  ) -> Tensor {
    // A float mask is cast with the operands; a bool mask passes as it is.
    if let cast = Autocast.run(
      .lowerPrecision, [query, key, value, attnMask],
      { c in
        scaledDotProductAttention(
          c[0]!, c[1]!, c[2]!, attnMask: c[3], dropoutP: dropoutP, isCausal: isCausal, scale: scale)
      })
    {
      return cast
    }
    let op = "scaled_dot_product_attention"
    usageCheck(
      query.dim >= 2 && key.dim >= 2 && value.dim >= 2,
      "\(op): Expected query, key, and value to all be at least 2 dimensional, but got query.dim: \(query.dim) key.dim: \(key.dim) and value.dim: \(value.dim) instead."
    )
    usageCheck(
      query.dtype == key.dtype && key.dtype == value.dtype,
      "\(op): Expected query, key, and value to have the same dtype, but got query.dtype: \(query.dtype.scalarTypeName) key.dtype: \(key.dtype.scalarTypeName) and value.dtype: \(value.dtype.scalarTypeName) instead."
    )
    usageCheck(
      query.dtype.isFloatingPoint,
      "\(op): Expected floating point query, key and value, got \(query.dtype.scalarTypeName)")
    usageCheck(
      query.shape[query.dim - 1] == key.shape[key.dim - 1],
      "\(op): query and key must have the same embedding size (last dim), got query \(query.shape) and key \(key.shape)"
    )
    usageCheck(
      key.shape[key.dim - 2] == value.shape[value.dim - 2],
      "\(op): key and value must have the same sequence length (dim -2), got key \(key.shape) and value \(value.shape)")
    usageCheck(
      dropoutP >= 0 && dropoutP <= 1, "\(op): dropout probability has to be between 0 and 1, but got \(dropoutP)")
    usageCheck(
      !(isCausal && attnMask != nil),
      "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    let scale = scale ?? 1 / Double(query.shape[query.dim - 1]).squareRoot()
    var additive: Tensor?
    if let attnMask {
      usageCheck(
        attnMask.dtype == .bool || attnMask.dtype == query.dtype,
        "\(op): Expected attn_mask dtype to be bool or float or to match query dtype, but got attn_mask.dtype: \(attnMask.dtype.scalarTypeName) and query.dtype: \(query.dtype.scalarTypeName) instead."
      )
      additive = attnMask.dtype == .bool ? Tensor.where(attnMask, 0.0, -Double.infinity).to(query.dtype) : attnMask
    }
    if dropoutP > 0 {
      return Tensor.composedAttention(query, key, value, mask: additive, causal: isCausal, scale: scale) { weights in
        dropout(weights, p: dropoutP, training: true)
      }
    }
    let maskNeedsGradient = Autograd.isGradEnabled && (additive?.requiresGrad ?? false)
    guard !maskNeedsGradient,
      let problem = Tensor.fusedAttention(query, key, value, mask: additive, causal: isCausal, scale: scale)
    else { return Tensor.composedAttention(query, key, value, mask: additive, causal: isCausal, scale: scale) }
    // One node, as PyTorch's flash attention on the CPU: the backward kernel recomputes the
    // probabilities blockwise from the saved log-sum-exp.
    let composed: ([Tensor]) -> Tensor = { v in
      Tensor.composedAttention(v[0], v[1], v[2], mask: problem.mask, causal: isCausal, scale: scale)
    }
    return Autograd.record(
      problem.out, from: [query, key, value], name: "ScaledDotProductFlashAttentionForCpuBackward0", composed: composed
    ) { g in
      withNoGrad { Tensor.attentionGradients(problem, gradOut: g.detach()) }
    }
  }
}
