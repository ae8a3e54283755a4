import Autograd

/// The feed-forward activation of the transformer layers.
public enum TransformerActivation: Sendable {
  /// `max(0, x)` (PyTorch's default).
  case relu
  /// The exact (erf) GELU.
  case gelu

  func callAsFunction(_ x: Tensor) -> Tensor { self == .relu ? x.relu() : x.gelu() }
}

/// The settings a transformer layer is made with (kept, so the stacks can make copies).
struct TransformerLayerSettings {
  let dModel: Int
  let nhead: Int
  let dimFeedforward: Int
  let dropout: Double
  let activation: TransformerActivation
  let layerNormEps: Double
  let batchFirst: Bool
  let normFirst: Bool
  let bias: Bool

  func attention() -> MultiheadAttention {
    MultiheadAttention(dModel, nhead, dropout: dropout, bias: bias, batchFirst: batchFirst)
  }
  func norm() -> LayerNorm { LayerNorm([dModel], eps: layerNormEps) }
}

extension Module {
  /// `copy` (a module of the same structure) with this module's parameters and mode.
  func withState<M: Module>(copiedInto copy: M) -> M {
    try! copy.loadStateDict(stateDict().mapValues { $0.clone() })
    copy.train(training)
    return copy
  }
}

/// Self-attention then a feed-forward block, each with a residual connection, dropout and a
/// layer norm (after, or before with `normFirst`) (PyTorch: `nn.TransformerEncoderLayer`, with
/// its parameter names: `self_attn`, `linear1`, `linear2`, `norm1`, `norm2`). Call it as
/// `layer(x)` or `layer(x, srcMask:, srcKeyPaddingMask:, isCausal:)`.
public final class TransformerEncoderLayer: Module {
  /// The self-attention.
  public var selfAttn: MultiheadAttention
  /// The feed-forward block's first layer.
  public var linear1: Linear
  /// Dropout inside the feed-forward block.
  public var dropout: Dropout
  /// The feed-forward block's second layer.
  public var linear2: Linear
  /// The norm around the attention block.
  public var norm1: LayerNorm
  /// The norm around the feed-forward block.
  public var norm2: LayerNorm
  /// Dropout on the attention block's output.
  public var dropout1: Dropout
  /// Dropout on the feed-forward block's output.
  public var dropout2: Dropout
  let settings: TransformerLayerSettings

  /// A layer of width `dModel` with `nhead` heads.
  public convenience init(
    _ dModel: Int, _ nhead: Int, dimFeedforward: Int = 2048, dropout: Double = 0.1,
    activation: TransformerActivation = .relu,
    layerNormEps: Double = 1e-5, batchFirst: Bool = false, normFirst: Bool = false, bias: Bool = true
  ) {
    self.init(
      TransformerLayerSettings(
        dModel: dModel, nhead: nhead, dimFeedforward: dimFeedforward, dropout: dropout, activation: activation,
        layerNormEps: layerNormEps,
        batchFirst: batchFirst, normFirst: normFirst, bias: bias))
  }

  init(_ settings: TransformerLayerSettings) {
    self.settings = settings
    selfAttn = settings.attention()
    linear1 = Linear(settings.dModel, settings.dimFeedforward, bias: settings.bias)
    dropout = Dropout(settings.dropout)
    linear2 = Linear(settings.dimFeedforward, settings.dModel, bias: settings.bias)
    norm1 = settings.norm()
    norm2 = settings.norm()
    dropout1 = Dropout(settings.dropout)
    dropout2 = Dropout(settings.dropout)
  }

  /// A layer with the same settings and a copy of this one's parameters (what PyTorch's
  /// `TransformerEncoder` makes with `copy.deepcopy`).
  public func copied() -> TransformerEncoderLayer { withState(copiedInto: TransformerEncoderLayer(settings)) }

  /// Applies the layer without masks.
  public override func forward(_ x: Tensor) -> Tensor { self(x, srcMask: nil) }

  /// Applies the layer; `srcMask` and `srcKeyPaddingMask` are `MultiheadAttention`'s
  /// `attnMask` and `keyPaddingMask`.
  public func callAsFunction(
    _ src: Tensor, srcMask: Tensor? = nil, srcKeyPaddingMask: Tensor? = nil, isCausal: Bool = false
  ) -> Tensor {
    func attention(_ x: Tensor) -> Tensor {
      dropout1(
        selfAttn(x, x, x, keyPaddingMask: srcKeyPaddingMask, needWeights: false, attnMask: srcMask, isCausal: isCausal)
          .output)
    }
    func feedForward(_ x: Tensor) -> Tensor { dropout2(linear2(dropout(settings.activation(linear1(x))))) }
    if settings.normFirst {
      let x = src + attention(norm1(src))
      return x + feedForward(norm2(x))
    }
    let x = norm1(src + attention(src))
    return norm2(x + feedForward(x))
  }
}

/// Self-attention, attention to the encoder's output (`memory`), then a feed-forward block,
/// each with a residual connection, dropout and a layer norm (PyTorch:
/// `nn.TransformerDecoderLayer`, with its parameter names).
public final class TransformerDecoderLayer: Module {
  /// The self-attention.
  public var selfAttn: MultiheadAttention
  /// The attention to the memory.
  public var multiheadAttn: MultiheadAttention
  /// The feed-forward block's first layer.
  public var linear1: Linear
  /// Dropout inside the feed-forward block.
  public var dropout: Dropout
  /// The feed-forward block's second layer.
  public var linear2: Linear
  /// The norm around the self-attention block.
  public var norm1: LayerNorm
  /// The norm around the memory attention block.
  public var norm2: LayerNorm
  /// The norm around the feed-forward block.
  public var norm3: LayerNorm
  /// Dropout on the self-attention block's output.
  public var dropout1: Dropout
  /// Dropout on the memory attention block's output.
  public var dropout2: Dropout
  /// Dropout on the feed-forward block's output.
  public var dropout3: Dropout
  let settings: TransformerLayerSettings

  /// A layer of width `dModel` with `nhead` heads.
  public convenience init(
    _ dModel: Int, _ nhead: Int, dimFeedforward: Int = 2048, dropout: Double = 0.1,
    activation: TransformerActivation = .relu,
    layerNormEps: Double = 1e-5, batchFirst: Bool = false, normFirst: Bool = false, bias: Bool = true
  ) {
    self.init(
      TransformerLayerSettings(
        dModel: dModel, nhead: nhead, dimFeedforward: dimFeedforward, dropout: dropout, activation: activation,
        layerNormEps: layerNormEps,
        batchFirst: batchFirst, normFirst: normFirst, bias: bias))
  }

  init(_ settings: TransformerLayerSettings) {
    self.settings = settings
    selfAttn = settings.attention()
    multiheadAttn = settings.attention()
    linear1 = Linear(settings.dModel, settings.dimFeedforward, bias: settings.bias)
    dropout = Dropout(settings.dropout)
    linear2 = Linear(settings.dimFeedforward, settings.dModel, bias: settings.bias)
    norm1 = settings.norm()
    norm2 = settings.norm()
    norm3 = settings.norm()
    dropout1 = Dropout(settings.dropout)
    dropout2 = Dropout(settings.dropout)
    dropout3 = Dropout(settings.dropout)
  }

  /// A layer with the same settings and a copy of this one's parameters.
  public func copied() -> TransformerDecoderLayer { withState(copiedInto: TransformerDecoderLayer(settings)) }

  /// Applies the layer to `tgt` attending to `memory`.
  public func callAsFunction(
    _ tgt: Tensor, _ memory: Tensor, tgtMask: Tensor? = nil, memoryMask: Tensor? = nil,
    tgtKeyPaddingMask: Tensor? = nil,
    memoryKeyPaddingMask: Tensor? = nil, tgtIsCausal: Bool = false, memoryIsCausal: Bool = false
  ) -> Tensor {
    func selfAttention(_ x: Tensor) -> Tensor {
      dropout1(
        selfAttn(
          x, x, x, keyPaddingMask: tgtKeyPaddingMask, needWeights: false, attnMask: tgtMask, isCausal: tgtIsCausal
        ).output)
    }
    func memoryAttention(_ x: Tensor) -> Tensor {
      dropout2(
        multiheadAttn(
          x, memory, memory, keyPaddingMask: memoryKeyPaddingMask, needWeights: false, attnMask: memoryMask,
          isCausal: memoryIsCausal
        )
        .output)
    }
    func feedForward(_ x: Tensor) -> Tensor { dropout3(linear2(dropout(settings.activation(linear1(x))))) }
    if settings.normFirst {
      var x = tgt + selfAttention(norm1(tgt))
      x = x + memoryAttention(norm2(x))
      return x + feedForward(norm3(x))
    }
    var x = norm1(tgt + selfAttention(tgt))
    x = norm2(x + memoryAttention(x))
    return norm3(x + feedForward(x))
  }
}

/// `numLayers` copies of an encoder layer (same initial parameters, as PyTorch's deep
/// copies) and an optional final norm (PyTorch: `nn.TransformerEncoder`; children `layers.0`,
/// `layers.1`, ..., `norm`).
public final class TransformerEncoder: Module {
  /// The layers, in order.
  public var layers: [TransformerEncoderLayer]
  /// The norm applied after the last layer.
  public var norm: LayerNorm?

  /// A stack of `numLayers` copies of `encoderLayer`.
  public init(_ encoderLayer: TransformerEncoderLayer, numLayers: Int, norm: LayerNorm? = nil) {
    layers = (0..<numLayers).map { _ in encoderLayer.copied() }
    self.norm = norm
  }

  /// Applies the layers without masks.
  public override func forward(_ x: Tensor) -> Tensor { self(x, mask: nil) }

  /// Applies every layer with the same masks, then the norm.
  public func callAsFunction(
    _ src: Tensor, mask: Tensor? = nil, srcKeyPaddingMask: Tensor? = nil, isCausal: Bool = false
  ) -> Tensor {
    var x = src
    for layer in layers { x = layer(x, srcMask: mask, srcKeyPaddingMask: srcKeyPaddingMask, isCausal: isCausal) }
    return norm.map { $0(x) } ?? x
  }
}

/// `numLayers` copies of a decoder layer and an optional final norm (PyTorch:
/// `nn.TransformerDecoder`).
public final class TransformerDecoder: Module {
  /// The layers, in order.
  public var layers: [TransformerDecoderLayer]
  /// The norm applied after the last layer.
  public var norm: LayerNorm?

  /// A stack of `numLayers` copies of `decoderLayer`.
  public init(_ decoderLayer: TransformerDecoderLayer, numLayers: Int, norm: LayerNorm? = nil) {
    layers = (0..<numLayers).map { _ in decoderLayer.copied() }
    self.norm = norm
  }

  /// Applies every layer to `tgt` attending to `memory`, then the norm.
  public func callAsFunction(
    _ tgt: Tensor, _ memory: Tensor, tgtMask: Tensor? = nil, memoryMask: Tensor? = nil,
    tgtKeyPaddingMask: Tensor? = nil,
    memoryKeyPaddingMask: Tensor? = nil, tgtIsCausal: Bool = false, memoryIsCausal: Bool = false
  ) -> Tensor {
    var x = tgt
    for layer in layers {
      x = layer(
        x, memory, tgtMask: tgtMask, memoryMask: memoryMask, tgtKeyPaddingMask: tgtKeyPaddingMask,
        memoryKeyPaddingMask: memoryKeyPaddingMask,
        tgtIsCausal: tgtIsCausal, memoryIsCausal: memoryIsCausal)
    }
    return norm.map { $0(x) } ?? x
  }
}

/// An encoder-decoder transformer (PyTorch: `nn.Transformer`): `numEncoderLayers` encoder
/// layers and `numDecoderLayers` decoder layers, each stack with a final norm, every matrix
/// parameter re-drawn Xavier-uniform as PyTorch's `_reset_parameters` does.
public final class Transformer: Module {
  /// The encoder stack.
  public var encoder: TransformerEncoder
  /// The decoder stack.
  public var decoder: TransformerDecoder

  /// The model of PyTorch's defaults (`dModel` 512, 8 heads, 6 + 6 layers).
  public init(
    dModel: Int = 512, nhead: Int = 8, numEncoderLayers: Int = 6, numDecoderLayers: Int = 6, dimFeedforward: Int = 2048,
    dropout: Double = 0.1, activation: TransformerActivation = .relu, layerNormEps: Double = 1e-5,
    batchFirst: Bool = false,
    normFirst: Bool = false, bias: Bool = true
  ) {
    let encoderLayer = TransformerEncoderLayer(
      dModel, nhead, dimFeedforward: dimFeedforward, dropout: dropout, activation: activation,
      layerNormEps: layerNormEps,
      batchFirst: batchFirst, normFirst: normFirst, bias: bias)
    encoder = TransformerEncoder(
      encoderLayer, numLayers: numEncoderLayers, norm: LayerNorm([dModel], eps: layerNormEps))
    let decoderLayer = TransformerDecoderLayer(
      dModel, nhead, dimFeedforward: dimFeedforward, dropout: dropout, activation: activation,
      layerNormEps: layerNormEps,
      batchFirst: batchFirst, normFirst: normFirst, bias: bias)
    decoder = TransformerDecoder(
      decoderLayer, numLayers: numDecoderLayers, norm: LayerNorm([dModel], eps: layerNormEps))
    super.init()
    for p in parameters() where p.dim > 1 {
      withNoGrad { _ = p.copy_(MultiheadAttention.xavierUniform(p.shape).detach()) }
    }
  }

  /// Encodes `src` and decodes `tgt` attending to it.
  public func callAsFunction(
    _ src: Tensor, _ tgt: Tensor, srcMask: Tensor? = nil, tgtMask: Tensor? = nil, memoryMask: Tensor? = nil,
    srcKeyPaddingMask: Tensor? = nil,
    tgtKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil, srcIsCausal: Bool = false,
    tgtIsCausal: Bool = false,
    memoryIsCausal: Bool = false
  ) -> Tensor {
    let memory = encoder(src, mask: srcMask, srcKeyPaddingMask: srcKeyPaddingMask, isCausal: srcIsCausal)
    return decoder(
      tgt, memory, tgtMask: tgtMask, memoryMask: memoryMask, tgtKeyPaddingMask: tgtKeyPaddingMask,
      memoryKeyPaddingMask: memoryKeyPaddingMask,
      tgtIsCausal: tgtIsCausal, memoryIsCausal: memoryIsCausal)
  }

  /// A causal mask for `size` positions: 0 on and below the diagonal, -inf above (PyTorch:
  /// `nn.Transformer.generate_square_subsequent_mask`).
  public static func generateSquareSubsequentMask(_ size: Int, dtype: DType = .float32, device: Device = .cpu) -> Tensor
  {
    let above = Tensor.ones([size, size], dtype: .bool, device: device).triu(diagonal: 1)
    return Tensor.where(above, -Double.infinity, 0.0).to(dtype)
  }
}
