/// `y = x Wᵀ + b` (PyTorch: `nn.Linear`), initialised as PyTorch does: weight and bias
/// uniform in ±1/√inFeatures (Kaiming-uniform with a = √5).
public final class Linear: Module {
  /// `[outFeatures, inFeatures]`.
  public var weight: Tensor
  /// `[outFeatures]`, or `nil` without bias.
  public var bias: Tensor?

  /// A layer from `inFeatures` to `outFeatures`.
  public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
    (weight, self.bias) = defaultParameters(
      weightShape: [outFeatures, inFeatures], biasCount: bias ? outFeatures : nil)
  }

  /// Applies the layer.
  public override func forward(_ x: Tensor) -> Tensor { Functional.linear(x, weight: weight, bias: bias) }
}

/// 2-D convolution over NCHW input (PyTorch: `nn.Conv2d`), initialised as PyTorch does.
public final class Conv2d: Module {
  /// `[outChannels, inChannels / groups, kh, kw]`.
  public var weight: Tensor
  /// `[outChannels]`, or `nil`.
  public var bias: Tensor?
  /// Step between windows.
  public let stride: (Int, Int)
  /// Zero padding on each side.
  public let padding: (Int, Int)
  /// Spacing between kernel taps.
  public let dilation: (Int, Int)
  /// Channel groups.
  public let groups: Int
  /// How the input is padded: `padding` on each side, or PyTorch's `'same'` / `'valid'`.
  public let paddingMode: Functional.ConvPadding

  /// A convolution with a square kernel and symmetric settings.
  public convenience init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
    groups: Int = 1, bias: Bool = true
  ) {
    self.init(
      inChannels, outChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
      padding: (padding, padding),
      dilation: (dilation, dilation), groups: groups, bias: bias)
  }

  /// A convolution with per-axis settings.
  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
    padding: (Int, Int) = (0, 0),
    dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true
  ) {
    checkGroups("Conv2d", inChannels, outChannels, groups)
    (weight, self.bias) = defaultParameters(
      weightShape: [outChannels, inChannels / groups, kernelSize.0, kernelSize.1], biasCount: bias ? outChannels : nil)
    self.stride = stride
    self.padding = padding
    self.dilation = dilation
    self.groups = groups
    paddingMode = .explicit(padding.0, padding.1)
  }

  /// A square-kernel convolution padded as `padding` says: `.same` keeps the size (stride 1),
  /// `.valid` pads nothing (PyTorch: `nn.Conv2d(..., padding='same')`).
  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Functional.ConvPadding,
    dilation: Int = 1,
    groups: Int = 1, bias: Bool = true
  ) {
    let base = Conv2d(
      inChannels, outChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
      dilation: (dilation, dilation),
      groups: groups, bias: bias)
    weight = base.weight
    self.bias = base.bias
    self.stride = base.stride
    self.padding = (0, 0)
    self.dilation = base.dilation
    self.groups = groups
    paddingMode = padding
  }

  /// Applies the convolution.
  public override func forward(_ x: Tensor) -> Tensor {
    Functional.conv2d(
      x, weight: weight, bias: bias, stride: stride, padding: paddingMode, dilation: dilation, groups: groups)
  }
}

/// Average pooling to a fixed output size (PyTorch: `nn.AdaptiveAvgPool2d`).
public final class AdaptiveAvgPool2d: Module {
  let outputSize: (Int, Int)
  /// Pools to `outputSize` × `outputSize`.
  public init(_ outputSize: Int) { self.outputSize = (outputSize, outputSize) }
  /// Pools to `outputSize`.
  public init(_ outputSize: (Int, Int)) { self.outputSize = outputSize }
  /// Applies the pooling.
  public override func forward(_ x: Tensor) -> Tensor { Functional.adaptiveAvgPool2d(x, outputSize: outputSize) }
}

/// Batch normalization with running statistics (PyTorch: `nn.BatchNorm1d` / `nn.BatchNorm2d`).
open class BatchNorm: Module {
  /// Per-channel scale (`nil` without affine).
  public var weight: Tensor?
  /// Per-channel shift.
  public var bias: Tensor?
  /// Running mean (a buffer).
  public var runningMean: Tensor
  /// Running variance (a buffer).
  public var runningVar: Tensor
  /// Batches seen in training (a buffer).
  public var numBatchesTracked: Tensor
  /// Weight of each new batch in the running statistics.
  public let momentum: Double
  /// Added to the variance for stability.
  public let eps: Double
  let expectedRanks: Set<Int>

  init(_ features: Int, eps: Double, momentum: Double, affine: Bool, ranks: Set<Int>) {
    weight = affine ? Tensor.ones(features).requiresGrad_() : nil
    bias = affine ? Tensor.zeros(features).requiresGrad_() : nil
    runningMean = Tensor.zeros(features)
    runningVar = Tensor.ones(features)
    numBatchesTracked = Tensor(0)
    self.eps = eps
    self.momentum = momentum
    expectedRanks = ranks
    super.init()
    registerBuffer("runningMean")
    registerBuffer("runningVar")
    registerBuffer("numBatchesTracked")
  }

  /// Normalizes with batch statistics in training, running ones in evaluation.
  public override func forward(_ x: Tensor) -> Tensor {
    usageCheck(
      expectedRanks.contains(x.dim),
      "\(type(of: self)): expected \(expectedRanks.sorted())-D input (got \(x.dim)-D input)")
    if training { withNoGrad { numBatchesTracked.add_(1) } }
    return Functional.batchNorm(
      x, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias, training: training,
      momentum: momentum, eps: eps)
  }
}

/// Batch normalization over `[N, C]` or `[N, C, L]` (PyTorch: `nn.BatchNorm1d`).
public final class BatchNorm1d: BatchNorm {
  /// Normalizes `features` channels.
  public init(_ features: Int, eps: Double = 1e-5, momentum: Double = 0.1, affine: Bool = true) {
    super.init(features, eps: eps, momentum: momentum, affine: affine, ranks: [2, 3])
  }
}

/// Batch normalization over `[N, C, H, W]` (PyTorch: `nn.BatchNorm2d`).
public final class BatchNorm2d: BatchNorm {
  /// Normalizes `features` channels.
  public init(_ features: Int, eps: Double = 1e-5, momentum: Double = 0.1, affine: Bool = true) {
    super.init(features, eps: eps, momentum: momentum, affine: affine, ranks: [4])
  }
}

/// Normalization over the trailing dims (PyTorch: `nn.LayerNorm`).
public final class LayerNorm: Module {
  /// Per-element scale.
  public var weight: Tensor?
  /// Per-element shift.
  public var bias: Tensor?
  let normalizedShape: [Int]
  let eps: Double
  /// Normalizes over trailing dims of `normalizedShape`.
  public init(_ normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true) {
    self.normalizedShape = normalizedShape
    self.eps = eps
    weight = elementwiseAffine ? Tensor.ones(normalizedShape).requiresGrad_() : nil
    bias = elementwiseAffine ? Tensor.zeros(normalizedShape).requiresGrad_() : nil
  }
  /// Normalizes over the last dim of size `features`.
  public convenience init(_ features: Int, eps: Double = 1e-5) { self.init([features], eps: eps) }
  /// Applies the normalization.
  public override func forward(_ x: Tensor) -> Tensor {
    Functional.layerNorm(x, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
  }
}

/// A lookup table of vectors (PyTorch: `nn.Embedding`; weights standard normal, the row at
/// `paddingIdx` zero and without gradient).
public final class Embedding: Module {
  /// `[numEmbeddings, embeddingDim]`.
  public var weight: Tensor
  /// The row that stays out of training (negative counts from the end), if any.
  public let paddingIdx: Int?

  /// A table of `numEmbeddings` vectors of size `embeddingDim`.
  public init(_ numEmbeddings: Int, _ embeddingDim: Int, paddingIdx: Int? = nil) {
    if let paddingIdx {
      usageCheck(
        paddingIdx < numEmbeddings && paddingIdx >= -numEmbeddings, "Padding_idx must be within num_embeddings")
    }
    self.paddingIdx = paddingIdx.map { $0 < 0 ? $0 + numEmbeddings : $0 }
    weight = Tensor.randn(numEmbeddings, embeddingDim)
    if let row = self.paddingIdx { _ = weight[row].zero_() }
    weight.requiresGrad_()
  }
  /// The rows at the integer `indices`.
  public override func forward(_ indices: Tensor) -> Tensor {
    Functional.embedding(indices, weight: weight, paddingIdx: paddingIdx)
  }
}

/// Random zeroing in training (PyTorch: `nn.Dropout`).
public final class Dropout: Module {
  /// The probability of zeroing an element.
  public let p: Double
  /// Zeroes with probability `p`.
  public init(_ p: Double = 0.5) { self.p = p }
  /// Applies dropout in training mode; the identity in evaluation.
  public override func forward(_ x: Tensor) -> Tensor { Functional.dropout(x, p: p, training: training) }
}

/// `max(x, 0)` (PyTorch: `nn.ReLU`).
public final class ReLU: Module {
  /// Creates the activation.
  public override init() {}
  /// Applies it.
  public override func forward(_ x: Tensor) -> Tensor { x.relu() }
}

/// GELU, exact (erf) or with the tanh approximation (PyTorch: `nn.GELU(approximate=)`).
public final class GELU: Module {
  /// How GELU is computed.
  public enum Approximation: Sendable {
    /// `x * Φ(x)` with the erf.
    case none
    /// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x³)))`.
    case tanh
  }

  let approximate: Approximation
  /// Creates the activation.
  public init(approximate: Approximation = .none) { self.approximate = approximate }
  /// Applies it.
  public override func forward(_ x: Tensor) -> Tensor { Functional.gelu(x, approximate: approximate) }
}

/// Hyperbolic tangent (PyTorch: `nn.Tanh`).
public final class Tanh: Module {
  /// Creates the activation.
  public override init() {}
  /// Applies it.
  public override func forward(_ x: Tensor) -> Tensor { x.tanh() }
}

/// Logistic sigmoid (PyTorch: `nn.Sigmoid`).
public final class Sigmoid: Module {
  /// Creates the activation.
  public override init() {}
  /// Applies it.
  public override func forward(_ x: Tensor) -> Tensor { x.sigmoid() }
}

/// Softmax along `dim` (PyTorch: `nn.Softmax`).
public final class Softmax: Module {
  let dim: Int
  /// Softmax along `dim`.
  public init(dim: Int) { self.dim = dim }
  /// Applies it.
  public override func forward(_ x: Tensor) -> Tensor { x.softmax(dim: dim) }
}

/// Flattens dims `startDim...endDim` (PyTorch: `nn.Flatten`, from dim 1 by default).
public final class Flatten: Module {
  let startDim: Int
  let endDim: Int
  /// Flattens `startDim...endDim`.
  public init(startDim: Int = 1, endDim: Int = -1) {
    self.startDim = startDim
    self.endDim = endDim
  }
  /// Applies it.
  public override func forward(_ x: Tensor) -> Tensor { x.flatten(startDim: startDim, endDim: endDim) }
}
