import Autograd
import Foundation

/// Attention over several heads with learned projections (PyTorch: `nn.MultiheadAttention`),
/// with PyTorch's parameter names and initialisation: `in_proj_weight` `[3E, E]` (Xavier
/// uniform) and `in_proj_bias` (zeros) when key and value have the embedding size, else
/// `q_proj_weight`, `k_proj_weight` and `v_proj_weight`; and `out_proj` (a `Linear` whose bias
/// starts at zero). Inputs are `[L, N, E]` (`[N, L, E]` with `batchFirst`) or unbatched
/// `[L, E]`. Call it as `mha(q, k, v, keyPaddingMask:, needWeights:, attnMask:,
/// averageAttnWeights:, isCausal:)`, which returns `(output, weights)`; `mha(x)` is
/// self-attention without weights.
public final class MultiheadAttention: Module {
  /// `[3 * embedDim, embedDim]`: the query, key and value projections stacked (nil when key
  /// or value have another size).
  public var inProjWeight: Tensor?
  /// The query projection `[embedDim, embedDim]`, when key or value have another size.
  public var qProjWeight: Tensor?
  /// The key projection `[embedDim, kdim]`, when key or value have another size.
  public var kProjWeight: Tensor?
  /// The value projection `[embedDim, vdim]`, when key or value have another size.
  public var vProjWeight: Tensor?
  /// `[3 * embedDim]`, or nil without bias.
  public var inProjBias: Tensor?
  /// The output projection.
  public var outProj: Linear
  /// The model width.
  public let embedDim: Int
  /// How many heads split the width.
  public let numHeads: Int
  /// Dropout on the attention weights, in training.
  public let dropout: Double
  /// Whether inputs are `[N, L, E]` rather than `[L, N, E]`.
  public let batchFirst: Bool
  let headDim: Int

  /// Attention of `embedDim` channels split over `numHeads` heads.
  public init(
    _ embedDim: Int, _ numHeads: Int, dropout: Double = 0, bias: Bool = true, kdim: Int? = nil, vdim: Int? = nil,
    batchFirst: Bool = false
  ) {
    usageCheck(
      embedDim > 0 && numHeads > 0,
      "embed_dim and num_heads must be greater than 0, got embed_dim=\(embedDim) and num_heads=\(numHeads) instead")
    usageCheck(embedDim % numHeads == 0, "embed_dim must be divisible by num_heads")
    self.embedDim = embedDim
    self.numHeads = numHeads
    self.dropout = dropout
    self.batchFirst = batchFirst
    headDim = embedDim / numHeads
    let (kdim, vdim) = (kdim ?? embedDim, vdim ?? embedDim)
    // PyTorch's registration order draws out_proj's weight first (Linear's init), then
    // _reset_parameters: Xavier-uniform projections, zero biases.
    outProj = Linear(embedDim, embedDim, bias: bias)
    if kdim == embedDim && vdim == embedDim {
      inProjWeight = Self.xavierUniform([3 * embedDim, embedDim])
    } else {
      qProjWeight = Self.xavierUniform([embedDim, embedDim])
      kProjWeight = Self.xavierUniform([embedDim, kdim])
      vProjWeight = Self.xavierUniform([embedDim, vdim])
    }
    inProjBias = bias ? Tensor.zeros(3 * embedDim).requiresGrad_() : nil
    if let b = outProj.bias { withNoGrad { _ = b.zero_() } }
  }

  /// Uniform in ±sqrt(6 / (fanIn + fanOut)) (PyTorch: `xavier_uniform_`).
  static func xavierUniform(_ shape: [Int]) -> Tensor {
    let bound = (6 / Double(shape[0] + shape[1])).squareRoot()
    return Tensor.empty(shape).uniform_(from: -bound, to: bound).requiresGrad_()
  }

  /// Self-attention of `x` (query, key and value all `x`), without weights.
  public override func forward(_ x: Tensor) -> Tensor { self(x, x, x, needWeights: false).output }

  /// Attends from `query` to `key`/`value`. `keyPaddingMask` `[N, S]` marks keys to ignore
  /// (true, or -inf added); `attnMask` `[L, S]` or `[N * numHeads, L, S]` marks pairs to
  /// ignore (true) or is added. With `needWeights` the attention weights come back
  /// (`[N, L, S]`, averaged over heads unless `averageAttnWeights` is false); without, the
  /// fused `scaledDotProductAttention` runs. `isCausal` is PyTorch's hint that `attnMask` is
  /// the causal mask (it needs the mask, as in PyTorch).
  public func callAsFunction(
    _ query: Tensor, _ key: Tensor, _ value: Tensor, keyPaddingMask: Tensor? = nil, needWeights: Bool = true,
    attnMask: Tensor? = nil,
    averageAttnWeights: Bool = true, isCausal: Bool = false
  ) -> (output: Tensor, weights: Tensor?) {
    usageCheck(
      !isCausal || attnMask != nil,
      "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method `generate_square_subsequent_mask` to create this mask."
    )
    let batched = query.dim == 3
    usageCheck(
      query.dim == 3 || query.dim == 2,
      "query should be unbatched 2D or batched 3D tensor but received \(query.dim)-D query tensor")
    // Work in [N, L, E].
    func batchMajor(_ t: Tensor) -> Tensor { !batched ? t.unsqueeze(0) : (batchFirst ? t : t.transpose(0, 1)) }
    let (q0, k0, v0) = (batchMajor(query), batchMajor(key), batchMajor(value))
    let (n, l, s) = (q0.shape[0], q0.shape[1], k0.shape[1])
    usageCheck(q0.shape[2] == embedDim, "was expecting embedding dimension of \(embedDim), but got \(q0.shape[2])")
    usageCheck(k0.shape[1] == v0.shape[1], "key shape \(key.shape) does not match value shape \(value.shape)")
    // Input projections.
    let biases = inProjBias.map { $0.chunk(3, dim: 0) }
    let weights = inProjWeight.map { $0.chunk(3, dim: 0) } ?? [qProjWeight!, kProjWeight!, vProjWeight!]
    let q = Functional.linear(q0, weight: weights[0], bias: biases?[0])
    let k = Functional.linear(k0, weight: weights[1], bias: biases?[1])
    let v = Functional.linear(v0, weight: weights[2], bias: biases?[2])
    // The masks, merged into one additive [N, H or 1, L or 1, S] mask.
    func additive(_ mask: Tensor, _ name: String) -> Tensor {
      usageCheck(
        mask.dtype == .bool || mask.dtype.isFloatingPoint, "only bool and floating types of \(name) are supported")
      return mask.dtype == .bool ? Tensor.where(mask, -Double.infinity, 0.0).to(q.dtype) : mask.to(q.dtype)
    }
    var mask: Tensor?
    if let attnMask {
      let m = additive(attnMask, "attn_mask")
      switch m.dim {
      case 2:
        usageCheck(m.shape == [l, s], "The shape of the 2D attn_mask is \(m.shape), but should be \([l, s]).")
        mask = m.view(1, 1, l, s)
      case 3:
        usageCheck(
          m.shape == [n * numHeads, l, s],
          "The shape of the 3D attn_mask is \(m.shape), but should be \([n * numHeads, l, s]).")
        mask = m.view(n, numHeads, l, s)
      default:
        usageFailure("attn_mask's dimension \(m.dim) is not supported")
      }
    }
    if let keyPaddingMask {
      let m = additive(batched ? keyPaddingMask : keyPaddingMask.unsqueeze(0), "key_padding_mask")
      usageCheck(m.shape == [n, s], "expecting key_padding_mask shape of \([n, s]), but got \(keyPaddingMask.shape)")
      let padding = m.view(n, 1, 1, s)
      mask = mask.map { $0 + padding } ?? padding
    }
    // [N, L, E] -> [N, H, L, hd].
    func heads(_ t: Tensor, _ length: Int) -> Tensor { t.view(n, length, numHeads, headDim).transpose(1, 2) }
    let (qh, kh, vh) = (heads(q, l), heads(k, s), heads(v, s))
    let p = training ? dropout : 0
    var output: Tensor
    var attentionWeights: Tensor?
    if needWeights {
      var scores = (qh * (1 / Double(headDim).squareRoot())).matmul(kh.mT)
      if let mask { scores = scores + mask }
      var probabilities = scores.softmax(dim: -1)
      if p > 0 { probabilities = Functional.dropout(probabilities, p: p, training: true) }
      output = probabilities.matmul(vh)
      attentionWeights = averageAttnWeights ? probabilities.mean(dim: [1]) : probabilities
      if !batched { attentionWeights = attentionWeights!.squeeze(dim: 0) }
    } else {
      output = Functional.scaledDotProductAttention(qh, kh, vh, attnMask: mask, dropoutP: p)
    }
    output = outProj(output.transpose(1, 2).reshape(n, l, embedDim))
    output = !batched ? output.squeeze(dim: 0) : (batchFirst ? output : output.transpose(0, 1))
    return (output, attentionWeights)
  }
}
