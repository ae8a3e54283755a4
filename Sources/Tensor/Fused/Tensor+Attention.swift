/// One attention call, as the backends see it: `query` `[*batch, L, E]`, `key` `[*batch, S,
/// E]`, `value` `[*batch, S, Ev]` over one broadcast batch shape (batch strides may be 0),
/// each with unit stride along its last dim; an optional additive `mask` broadcast to
/// `[*batch, L, S]`; `causal` masks keys after their query (top-left aligned, as PyTorch);
/// `out` `[*batch, L, Ev]` and `logsumexp` `[*batch, L]` (float64 for float64 operands, else
/// float32) are contiguous results.
package struct AttentionProblem {
  package let query: Tensor
  package let key: Tensor
  package let value: Tensor
  package let mask: Tensor?
  package let causal: Bool
  package let scale: Double
  package let out: Tensor
  package let logsumexp: Tensor

  /// The batch shape shared by every operand.
  package var batch: [Int] { Array(out.shape.dropLast(2)) }
  /// How many (batch, head) slices there are.
  package var slices: Int { batch.reduce(1, *) }

  /// The storage offset of slice `n` (row-major over `batch`) of `t`.
  package func sliceOffsets(_ t: Tensor) -> [Int] {
    let batch = self.batch
    let strides = Array(t.stride().prefix(batch.count))
    return (0..<slices).map { n in
      var rest = n
      var offset = t.storageOffset
      for d in stride(from: batch.count - 1, through: 0, by: -1) {
        offset += (rest % batch[d]) * strides[d]
        rest /= batch[d]
      }
      return offset
    }
  }
}

extension Tensor {
  /// `softmax(scale Q Kᵀ + mask) V` by the backend's fused kernel, computed blockwise with an
  /// online softmax (memory O(block²) per thread, not O(L S)) and not recorded: the NN layer
  /// records it, with its backward (which recomputes the probabilities from the saved
  /// log-sum-exp), as one node. Nil when the backend has no kernel for the operands (the
  /// caller then composes). `mask` is additive (0 or -inf for a boolean one, which the caller
  /// converts); queries whose keys are all masked give zeros, as PyTorch's safe softmax.
  package static func fusedAttention(
    _ query: Tensor, _ key: Tensor, _ value: Tensor, mask: Tensor?, causal: Bool, scale: Double
  )
    -> AttentionProblem?
  {
    // Backends decline the types their kernels lack (the CPU's: float32 and float64).
    guard query.dtype.isFloatingPoint else { return nil }
    return unrecorded {
      let batch = broadcastShape(
        [Array(query.shape.dropLast(2)), Array(key.shape.dropLast(2)), Array(value.shape.dropLast(2))],
        op: "scaled_dot_product_attention")
      let (l, s, ev) = (query.shape[query.dim - 2], key.shape[key.dim - 2], value.shape[value.dim - 1])
      func prepared(_ t: Tensor, _ rows: Int, _ cols: Int) -> Tensor {
        let unitRows = t.dim == 0 || t.stride(t.dim - 1) == 1 || t.shape[t.dim - 1] <= 1 ? t : t.contiguous()
        return unitRows.expand(batch + [rows, cols])
      }
      let problem = AttentionProblem(
        query: prepared(query, l, query.shape[query.dim - 1]), key: prepared(key, s, key.shape[key.dim - 1]),
        value: prepared(value, s, ev),
        mask: mask.map { $0.to(query.dtype).expand(batch + [l, s]) }, causal: causal, scale: scale,
        out: Tensor(uninitializedShape: batch + [l, ev], dtype: query.dtype, device: query.device),
        logsumexp: Tensor(
          uninitializedShape: batch + [l], dtype: query.dtype == .float64 ? .float64 : .float32, device: query.device))
      guard query.backend.fusedAttention(problem) else { return nil }
      problem.out.markWritten()
      return problem
    }
  }

  /// Attention from matmuls and a safe softmax (the path of backends without the fused
  /// kernel, other dtypes, masks that need their own gradient, and dropout, which
  /// `transformWeights` applies to the attention weights).
  package static func composedAttention(
    _ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor?, causal: Bool, scale: Double,
    transformWeights: ((Tensor) -> Tensor)? = nil
  ) -> Tensor {
    var scores = q.matmul(k.mT) * scale
    if let mask { scores = scores + mask }
    if causal {
      let (l, s) = (q.shape[q.dim - 2], k.shape[k.dim - 2])
      let allowed = Tensor.ones([l, s], dtype: .bool, device: q.device).tril()
      scores = Tensor.where(allowed, scores, -Double.infinity)
    }
    // Safe softmax: rows with every score -inf give zeros instead of NaN.
    let rowMax = scores.amax(dim: [-1], keepdim: true).detach()
    let shifted = Tensor.where(rowMax.isinf(), Tensor.zeros(like: scores), scores - rowMax)
    let weights = Tensor.where(scores.isneginf(), Tensor.zeros(like: scores), shifted.exp())
    let total = weights.sum(dim: [-1], keepdim: true)
    let probabilities = weights / Tensor.where(total .== 0, Tensor.ones(like: total), total)
    return (transformWeights?(probabilities) ?? probabilities).matmul(v)
  }

  /// The gradients of a fused attention call with respect to query, key and value, in the
  /// broadcast shape (the engine sums them back to each input's shape).
  package static func attentionGradients(_ problem: AttentionProblem, gradOut: Tensor) -> [Tensor] {
    let (q, k, v) = (problem.query, problem.key, problem.value)
    let gradQuery = Tensor(uninitializedShape: q.shape, dtype: q.dtype, device: q.device)
    let gradKey = Tensor(uninitializedShape: k.shape, dtype: k.dtype, device: k.device)
    let gradValue = Tensor(uninitializedShape: v.shape, dtype: v.dtype, device: v.device)
    let upstream = gradOut.stride(gradOut.dim - 1) == 1 ? gradOut.expand(problem.out.shape) : gradOut.contiguous()
    usageCheck(
      q.backend.fusedAttentionBackward(
        problem, gradOut: upstream, gradQuery: gradQuery, gradKey: gradKey, gradValue: gradValue),
      "scaled_dot_product_attention: the backward kernel could not run on \(q.device) (out of memory for its scratch blocks)"
    )
    for g in [gradQuery, gradKey, gradValue] { g.markWritten() }
    return [gradQuery, gradKey, gradValue]
  }
}
