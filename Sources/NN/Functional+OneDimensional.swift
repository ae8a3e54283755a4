import Autograd

extension Functional {
  /// How a convolution pads its input (PyTorch's `padding=` of an int, a tuple, `'same'` or `'valid'`).
  public enum ConvPadding: Sendable {
    /// This many zeros on each side of the two spatial dims (of the one, for 1-d).
    case explicit(Int, Int)
    /// Enough zeros for the output to keep the input's size (stride 1 only); an odd total puts
    /// the extra zero on the right, as PyTorch does.
    case same
    /// No padding.
    case valid
  }

  /// `conv2d` with a padding mode (PyTorch: `F.conv2d(..., padding='same')`).
  public static func conv2d(
    _ x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1), padding: ConvPadding,
    dilation: (Int, Int) = (1, 1),
    groups: Int = 1
  ) -> Tensor {
    switch padding {
    case .explicit(let rows, let cols):
      return conv2d(
        x, weight: weight, bias: bias, stride: stride, padding: (rows, cols), dilation: dilation, groups: groups)
    case .valid:
      return conv2d(x, weight: weight, bias: bias, stride: stride, padding: (0, 0), dilation: dilation, groups: groups)
    case .same:
      usageCheck(stride == (1, 1), "padding='same' is not supported for strided convolutions")
      let total = (dilation.0 * (weight.shape[2] - 1), dilation.1 * (weight.shape[3] - 1))
      let padded = pad(x, [total.1 / 2, total.1 - total.1 / 2, total.0 / 2, total.0 - total.0 / 2])
      return conv2d(
        padded, weight: weight, bias: bias, stride: stride, padding: (0, 0), dilation: dilation, groups: groups)
    }
  }

  /// Runs a 2-D op on a 1-d signal `[N, C, L]` (or unbatched `[C, L]`) as an image of height 1.
  private static func asImage(_ x: Tensor, op: String, _ body: (Tensor) -> Tensor) -> Tensor {
    usageCheck(
      x.dim == 2 || x.dim == 3,
      "Expected 2D (unbatched) or 3D (batched) input to \(op), but got input of size: \(x.shape)")
    return body(x.unsqueeze(-2)).squeeze(dim: -2)
  }

  /// 1-d convolution of `[N, C, L]` (or `[C, L]`) input with weight `[out, C / groups, k]`
  /// (PyTorch: `F.conv1d`).
  public static func conv1d(
    _ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: ConvPadding = .explicit(0, 0),
    dilation: Int = 1, groups: Int = 1
  ) -> Tensor {
    usageCheck(
      weight.dim == 3, "conv1d: expected a 3-D weight [out_channels, in_channels / groups, kernel], got \(weight.shape)"
    )
    let imagePadding: ConvPadding =
      switch padding {
      case .explicit(let amount, _): .explicit(0, amount)
      case .same, .valid: padding
      }
    return asImage(x, op: "conv1d") { image in
      conv2d(
        image, weight: weight.unsqueeze(2), bias: bias, stride: (1, stride), padding: imagePadding,
        dilation: (1, dilation), groups: groups)
    }
  }

  /// Max over sliding windows of a 1-d signal (PyTorch: `F.max_pool1d`).
  public static func maxPool1d(
    _ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1, ceilMode: Bool = false
  ) -> Tensor {
    asImage(x, op: "max_pool1d") { image in
      maxPool2d(
        image, kernel: (1, kernel), stride: (1, stride ?? kernel), padding: (0, padding), dilation: (1, dilation),
        ceilMode: ceilMode)
    }
  }

  /// Mean over sliding windows of a 1-d signal (PyTorch: `F.avg_pool1d`).
  public static func avgPool1d(
    _ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false, countIncludePad: Bool = true
  ) -> Tensor {
    asImage(x, op: "avg_pool1d") { image in
      avgPool2d(
        image, kernel: (1, kernel), stride: (1, stride ?? kernel), padding: (0, padding), ceilMode: ceilMode,
        countIncludePad: countIncludePad)
    }
  }
}

/// 1-d convolution over `[N, C, L]` input (PyTorch: `nn.Conv1d`), initialised as PyTorch does.
public final class Conv1d: Module {
  /// `[outChannels, inChannels / groups, k]`.
  public var weight: Tensor
  /// `[outChannels]`, or `nil`.
  public var bias: Tensor?
  let stride: Int
  let padding: Functional.ConvPadding
  let dilation: Int
  let groups: Int

  /// A convolution of `kernelSize` taps; `padding` may be `.same` or `.valid`.
  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1,
    padding: Functional.ConvPadding = .explicit(0, 0),
    dilation: Int = 1, groups: Int = 1, bias: Bool = true
  ) {
    let image = Conv2d(inChannels, outChannels, kernelSize: (1, kernelSize), groups: groups, bias: bias)
    weight = image.weight.detach().squeeze(dim: 2).requiresGrad_()
    self.bias = image.bias
    self.stride = stride
    self.padding = padding
    self.dilation = dilation
    self.groups = groups
  }

  /// Applies the convolution.
  public override func forward(_ x: Tensor) -> Tensor {
    Functional.conv1d(
      x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
  }
}

/// PyTorch: `nn.MaxPool1d`.
public final class MaxPool1d: FunctionModule {
  /// Pools `kernelSize` taps every `stride` (default: the kernel size).
  public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1, ceilMode: Bool = false) {
    super.init {
      Functional.maxPool1d(
        $0, kernel: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }
  }
}

/// PyTorch: `nn.AvgPool1d`.
public final class AvgPool1d: FunctionModule {
  /// Averages `kernelSize` taps every `stride` (default: the kernel size).
  public init(
    kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false, countIncludePad: Bool = true
  ) {
    super.init {
      Functional.avgPool1d(
        $0, kernel: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad)
    }
  }
}
