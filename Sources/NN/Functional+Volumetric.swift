import Autograd

extension Functional {
  /// The sliding windows of `[N, C, *spatial]` as a view `[N, C, *out, *kernel]`.
  static func slidingWindows(_ x: Tensor, kernel: [Int], stride: [Int], dilation: [Int], op: String) -> Tensor {
    let dims = kernel.count
    let spatial = Array(x.shape.suffix(dims))
    let out = (0..<dims).map { (d: Int) -> Int in
      let span = dilation[d] * (kernel[d] - 1) + 1
      return (spatial[d] - span) / stride[d] + 1
    }
    usageCheck(
      out.allSatisfy { $0 > 0 }, "\(op): Given input size \(x.shape), the calculated output size \(out) is too small")
    let s = x.stride()
    let spatialStrides = Array(s.suffix(dims))
    return x.asStrided(
      size: Array(x.shape.prefix(2)) + out + kernel,
      stride: [s[0], s[1]] + (0..<dims).map { (d: Int) -> Int in spatialStrides[d] * stride[d] }
        + (0..<dims).map { (d: Int) -> Int in spatialStrides[d] * dilation[d] },
      storageOffset: x.storageOffset)
  }

  /// Runs a 3-D op on `[N, C, D, H, W]` input, or on unbatched `[C, D, H, W]` as a batch of one.
  static func acceptingUnbatched3d(_ x: Tensor, op: String, _ body: (Tensor) -> Tensor) -> Tensor {
    usageCheck(
      x.dim == 4 || x.dim == 5,
      "Expected 4D (unbatched) or 5D (batched) input to \(op), but got input of size: \(x.shape)")
    return x.dim == 4 ? body(x.unsqueeze(0)).squeeze(dim: 0) : body(x)
  }

  /// 3-D convolution of `[N, C, D, H, W]` input with weight `[out, C / groups, kd, kh, kw]`
  /// (PyTorch: `F.conv3d`), as windows and a matrix product per group.
  public static func conv3d(
    _ x: Tensor, weight: Tensor, bias: Tensor?, stride: [Int] = [1, 1, 1], padding: [Int] = [0, 0, 0],
    dilation: [Int] = [1, 1, 1],
    groups: Int = 1
  ) -> Tensor {
    if let cast = Autocast.run(
      .lowerPrecision, [x, weight, bias],
      { c in
        conv3d(c[0]!, weight: c[1]!, bias: c[2], stride: stride, padding: padding, dilation: dilation, groups: groups)
      })
    {
      return cast
    }
    usageCheck(
      weight.dim == 5,
      "conv3d: expected a 5-D weight [out_channels, in_channels / groups, kd, kh, kw], got \(weight.shape)")
    usageCheck(
      stride.count == 3 && padding.count == 3 && dilation.count == 3,
      "conv3d: stride, padding and dilation take three values each")
    return acceptingUnbatched3d(x, op: "conv3d") { x in
      let (n, channels) = (x.shape[0], x.shape[1])
      let (outChannels, groupChannels) = (weight.shape[0], weight.shape[1])
      usageCheck(
        channels == groupChannels * groups,
        "Given groups=\(groups), weight of size \(weight.shape), expected input\(x.shape) to have \(groupChannels * groups) channels, but got \(channels) channels instead"
      )
      let kernel = Array(weight.shape.suffix(3))
      let padded = pad(x, [padding[2], padding[2], padding[1], padding[1], padding[0], padding[0]])
      let win = slidingWindows(padded, kernel: kernel, stride: stride, dilation: dilation, op: "conv3d")
      let outShape = Array(win.shape[2..<5])
      let taps = kernel.reduce(1, *)
      // [N, C, Do, Ho, Wo, kd, kh, kw] -> [N, groups, C/g * taps, L]
      let columns = win.permute(0, 1, 5, 6, 7, 2, 3, 4).reshape(n, groups, groupChannels * taps, -1)
      let kernels = weight.reshape(groups, outChannels / groups, groupChannels * taps).unsqueeze(0)
      var y = kernels.matmul(columns).reshape([n, outChannels] + outShape)
      if let bias { y = y + bias.view(1, outChannels, 1, 1, 1) }
      return y
    }
  }

  /// Max over 3-D windows; padding counts as -inf (PyTorch: `F.max_pool3d` with `dilation`
  /// and `ceil_mode`).
  public static func maxPool3d(
    _ x: Tensor, kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0, 0, 0], dilation: [Int] = [1, 1, 1],
    ceilMode: Bool = false
  ) -> Tensor {
    maxPool3dWithIndices(x, kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
      .values
  }

  /// `maxPool3d` and where each maximum came from, as an index into the flattened D x H x W
  /// of its channel (PyTorch: `F.max_pool3d(..., return_indices=True)`).
  public static func maxPool3dWithIndices(
    _ x: Tensor, kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0, 0, 0], dilation: [Int] = [1, 1, 1],
    ceilMode: Bool = false
  ) -> (values: Tensor, indices: Tensor) {
    var indices: Tensor?
    let values = acceptingUnbatched3d(x, op: "max_pool3d") { x in
      let result = maxPoolWithIndices(
        x, kernel: kernel, stride: stride ?? kernel, padding: padding, dilation: dilation, ceilMode: ceilMode,
        op: "max_pool3d")
      indices = result.indices
      return result.values
    }
    return (values, x.dim == 4 ? indices!.squeeze(dim: 0) : indices!)
  }

  /// Mean over 3-D windows (PyTorch: `F.avg_pool3d`): padding counts toward the divisor
  /// unless `countIncludePad` is false, the extension `ceilMode` adds never does, and
  /// `divisorOverride` replaces the divisor.
  public static func avgPool3d(
    _ x: Tensor, kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0, 0, 0], ceilMode: Bool = false,
    countIncludePad: Bool = true,
    divisorOverride: Int? = nil
  ) -> Tensor {
    acceptingUnbatched3d(x, op: "avg_pool3d") { x in
      avgPool(
        x, kernel: kernel, stride: stride ?? kernel, padding: padding, ceilMode: ceilMode,
        countIncludePad: countIncludePad,
        divisorOverride: divisorOverride, op: "avg_pool3d")
    }
  }
}

/// 3-D convolution (PyTorch: `nn.Conv3d`), initialised as PyTorch does; `weight` is
/// `[outChannels, inChannels / groups, k, k, k]`.
public final class Conv3d: ConvolutionLayer {
  /// A convolution with a cubic kernel and symmetric settings.
  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
    groups: Int = 1, bias: Bool = true
  ) {
    super.init(
      "Conv3d", inChannels: inChannels, outChannels: outChannels,
      weightShape: [outChannels, inChannels / groups, kernelSize, kernelSize, kernelSize], bias: bias, stride: stride,
      padding: padding,
      groups: groups, dilation: dilation)
  }

  /// Applies the convolution.
  public override func forward(_ x: Tensor) -> Tensor {
    Functional.conv3d(
      x, weight: weight, bias: bias, stride: each(stride, 3), padding: each(padding, 3), dilation: each(dilation, 3),
      groups: groups)
  }
}

/// PyTorch: `nn.MaxPool3d`; `returnIndices` is `Functional.maxPool3dWithIndices`.
public final class MaxPool3d: FunctionModule {
  /// Pools cubic windows of `kernelSize` every `stride` (default: the kernel size).
  public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1, ceilMode: Bool = false) {
    super.init {
      Functional.maxPool3d(
        $0, kernel: [kernelSize, kernelSize, kernelSize], stride: stride.map { [$0, $0, $0] },
        padding: [padding, padding, padding],
        dilation: [dilation, dilation, dilation], ceilMode: ceilMode)
    }
  }
}

/// PyTorch: `nn.AvgPool3d`.
public final class AvgPool3d: FunctionModule {
  /// Averages cubic windows of `kernelSize` every `stride` (default: the kernel size).
  public init(
    kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false, countIncludePad: Bool = true,
    divisorOverride: Int? = nil
  ) {
    super.init {
      Functional.avgPool3d(
        $0, kernel: [kernelSize, kernelSize, kernelSize], stride: stride.map { [$0, $0, $0] },
        padding: [padding, padding, padding],
        ceilMode: ceilMode, countIncludePad: countIncludePad, divisorOverride: divisorOverride)
    }
  }
}
