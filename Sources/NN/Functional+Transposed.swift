import Autograd

extension Functional {
  /// The transposed convolution (the gradient of a convolution with respect to its input)
  /// of batched `[N, Cin, *spatial]` input with weight `[Cin, Cout / groups, *kernel]`, in any
  /// number of spatial dims: the input spread `stride` apart with zeros, padded by
  /// `dilation * (k - 1) - padding` (plus `outputPadding` on the far side; negative amounts
  /// crop), then convolved (`convolve(input, kernel)`, stride 1, no padding) with the
  /// flipped, channel-swapped kernel.
  private static func transposedConvolution(
    _ x: Tensor, weight: Tensor, stride: [Int], padding: [Int], outputPadding: [Int], groups: Int, dilation: [Int],
    op: String,
    convolve: (Tensor, Tensor) -> Tensor
  ) -> Tensor {
    let dims = stride.count
    usageCheck(
      padding.count == dims && outputPadding.count == dims && dilation.count == dims,
      "\(op): stride, padding, output_padding and dilation take \(dims) values each")
    usageCheck(
      (0..<dims).allSatisfy { outputPadding[$0] < Swift.max(stride[$0], dilation[$0]) },
      "\(op): output padding must be smaller than either stride or dilation, but got output_padding=\(outputPadding), stride=\(stride), dilation=\(dilation)"
    )
    let inChannels = x.shape[1]
    usageCheck(
      inChannels == weight.shape[0] && inChannels % groups == 0,
      "Given transposed=1, weight of size \(weight.shape), expected input\(x.shape) to have \(weight.shape[0]) channels, but got \(inChannels) channels instead"
    )
    let kernelSize = Array(weight.shape.suffix(dims))
    // The input spread out: stride - 1 zeros between neighbours, one spatial dim at a time.
    var spread = x
    for d in 0..<dims where stride[d] > 1 {
      let axis = 2 + d
      let length = spread.shape[axis]
      var zerosShape = spread.unsqueeze(axis + 1).shape
      zerosShape[axis + 1] = stride[d] - 1
      let interleaved = Tensor.cat(
        [spread.unsqueeze(axis + 1), Tensor.zeros(zerosShape, dtype: x.dtype, device: x.device)], dim: axis + 1)
      var merged = spread.shape
      merged[axis] = length * stride[d]
      spread = interleaved.reshape(merged).narrow(dim: axis, start: 0, length: (length - 1) * stride[d] + 1)
    }
    // F.pad's order: (before, after) pairs from the last dim.
    let amounts = (0..<dims).reversed().flatMap { d -> [Int] in
      let edge = dilation[d] * (kernelSize[d] - 1) - padding[d]
      return [edge, edge + outputPadding[d]]
    }
    let padded = pad(spread, amounts)
    // [Cin, Cout/g, *k] -> [Cout, Cin/g, *k], flipped in space.
    let outPerGroup = weight.shape[1]
    let kernel = weight.reshape([groups, inChannels / groups, outPerGroup] + kernelSize).transpose(1, 2)
      .reshape([groups * outPerGroup, inChannels / groups] + kernelSize).flip(dims: Array(2..<(2 + dims)))
    return convolve(padded, kernel)
  }

  /// The transposed 1-d convolution of `[N, Cin, L]` (or `[Cin, L]`) input with weight
  /// `[Cin, Cout / groups, k]` (PyTorch: `F.conv_transpose1d`).
  public static func convTranspose1d(
    _ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0,
    groups: Int = 1, dilation: Int = 1
  ) -> Tensor {
    usageCheck(
      weight.dim == 3,
      "conv_transpose1d: expected a 3-D weight [in_channels, out_channels / groups, kernel], got \(weight.shape)")
    usageCheck(
      x.dim == 2 || x.dim == 3,
      "Expected 2D (unbatched) or 3D (batched) input to conv_transpose1d, but got input of size: \(x.shape)")
    let image = x.unsqueeze(-2)
    let y = convTranspose2d(
      image, weight: weight.unsqueeze(2), bias: bias, stride: (1, stride), padding: (0, padding),
      outputPadding: (0, outputPadding),
      groups: groups, dilation: (1, dilation))
    return y.squeeze(dim: -2)
  }

  /// The transposed 2-D convolution of `[N, Cin, H, W]` (or unbatched) input with weight
  /// `[Cin, Cout / groups, kh, kw]` (PyTorch: `F.conv_transpose2d`).
  public static func convTranspose2d(
    _ x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
    outputPadding: (Int, Int) = (0, 0), groups: Int = 1, dilation: (Int, Int) = (1, 1)
  ) -> Tensor {
    if let cast = Autocast.run(
      .lowerPrecision, [x, weight, bias],
      { c in
        convTranspose2d(
          c[0]!, weight: c[1]!, bias: c[2], stride: stride, padding: padding, outputPadding: outputPadding,
          groups: groups, dilation: dilation)
      })
    {
      return cast
    }
    usageCheck(
      weight.dim == 4,
      "conv_transpose2d: expected a 4-D weight [in_channels, out_channels / groups, kh, kw], got \(weight.shape)")
    return acceptingUnbatched(
      x, "Expected 3D (unbatched) or 4D (batched) input to conv_transpose2d, but got input of size: \(x.shape)"
    ) { x in
      transposedConvolution(
        x, weight: weight, stride: [stride.0, stride.1], padding: [padding.0, padding.1],
        outputPadding: [outputPadding.0, outputPadding.1],
        groups: groups, dilation: [dilation.0, dilation.1], op: "conv_transpose2d"
      ) { input, kernel in
        conv2d(input, weight: kernel, bias: bias, stride: (1, 1), padding: (0, 0), dilation: dilation, groups: groups)
      }
    }
  }

  /// The transposed 3-D convolution of `[N, Cin, D, H, W]` (or unbatched) input with weight
  /// `[Cin, Cout / groups, kd, kh, kw]` (PyTorch: `F.conv_transpose3d`).
  public static func convTranspose3d(
    _ x: Tensor, weight: Tensor, bias: Tensor?, stride: [Int] = [1, 1, 1], padding: [Int] = [0, 0, 0],
    outputPadding: [Int] = [0, 0, 0], groups: Int = 1, dilation: [Int] = [1, 1, 1]
  ) -> Tensor {
    if let cast = Autocast.run(
      .lowerPrecision, [x, weight, bias],
      { c in
        convTranspose3d(
          c[0]!, weight: c[1]!, bias: c[2], stride: stride, padding: padding, outputPadding: outputPadding,
          groups: groups, dilation: dilation)
      })
    {
      return cast
    }
    usageCheck(
      weight.dim == 5,
      "conv_transpose3d: expected a 5-D weight [in_channels, out_channels / groups, kd, kh, kw], got \(weight.shape)")
    usageCheck(stride.count == 3, "conv_transpose3d: stride takes three values, got \(stride)")
    return acceptingUnbatched3d(x, op: "conv_transpose3d") { x in
      transposedConvolution(
        x, weight: weight, stride: stride, padding: padding, outputPadding: outputPadding, groups: groups,
        dilation: dilation,
        op: "conv_transpose3d"
      ) { input, kernel in
        conv3d(input, weight: kernel, bias: bias, dilation: dilation, groups: groups)
      }
    }
  }
}

/// Transposed 1-d convolution (PyTorch: `nn.ConvTranspose1d`), initialised as PyTorch does;
/// `weight` is `[inChannels, outChannels / groups, k]`.
public final class ConvTranspose1d: ConvolutionLayer {
  /// A transposed convolution of `kernelSize` taps.
  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0,
    groups: Int = 1, bias: Bool = true, dilation: Int = 1
  ) {
    super.init(
      "ConvTranspose1d", inChannels: inChannels, outChannels: outChannels,
      weightShape: [inChannels, outChannels / groups, kernelSize],
      bias: bias, stride: stride, padding: padding, outputPadding: outputPadding, groups: groups, dilation: dilation)
  }

  /// Applies the transposed convolution.
  public override func forward(_ x: Tensor) -> Tensor {
    Functional.convTranspose1d(
      x, weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding, groups: groups,
      dilation: dilation)
  }
}

/// Transposed 2-D convolution (PyTorch: `nn.ConvTranspose2d`), initialised as PyTorch does;
/// `weight` is `[inChannels, outChannels / groups, k, k]`.
public final class ConvTranspose2d: ConvolutionLayer {
  /// A transposed convolution with a square kernel and symmetric settings.
  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0,
    groups: Int = 1, bias: Bool = true, dilation: Int = 1
  ) {
    super.init(
      "ConvTranspose2d", inChannels: inChannels, outChannels: outChannels,
      weightShape: [inChannels, outChannels / groups, kernelSize, kernelSize], bias: bias, stride: stride,
      padding: padding,
      outputPadding: outputPadding, groups: groups, dilation: dilation)
  }

  /// Applies the transposed convolution.
  public override func forward(_ x: Tensor) -> Tensor {
    Functional.convTranspose2d(
      x, weight: weight, bias: bias, stride: (stride, stride), padding: (padding, padding),
      outputPadding: (outputPadding, outputPadding),
      groups: groups, dilation: (dilation, dilation))
  }
}

/// Transposed 3-D convolution (PyTorch: `nn.ConvTranspose3d`), initialised as PyTorch does;
/// `weight` is `[inChannels, outChannels / groups, k, k, k]`.
public final class ConvTranspose3d: ConvolutionLayer {
  /// A transposed convolution with a cubic kernel and symmetric settings.
  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0,
    groups: Int = 1, bias: Bool = true, dilation: Int = 1
  ) {
    super.init(
      "ConvTranspose3d", inChannels: inChannels, outChannels: outChannels,
      weightShape: [inChannels, outChannels / groups, kernelSize, kernelSize, kernelSize], bias: bias, stride: stride,
      padding: padding,
      outputPadding: outputPadding, groups: groups, dilation: dilation)
  }

  /// Applies the transposed convolution.
  public override func forward(_ x: Tensor) -> Tensor {
    Functional.convTranspose3d(
      x, weight: weight, bias: bias, stride: each(stride, 3), padding: each(padding, 3),
      outputPadding: each(outputPadding, 3),
      groups: groups, dilation: each(dilation, 3))
  }
}
