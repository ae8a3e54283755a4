import Autograd

extension Functional {
  /// How `pad` fills the new border.
  public enum PadMode: Sendable {
    /// With a constant value (negative padding crops).
    case constant
    /// With the mirror image, not repeating the edge (`[1, 2, 3]` padded by 2: `3 2 1 2 3 2 1`).
    case reflect
    /// With the edge value repeated.
    case replicate
    /// With the other end, as if the tensor wrapped around.
    case circular
  }

  /// Pads the last dims: `padding` holds (before, after) pairs starting from the last dim, as
  /// PyTorch's `F.pad(x, (left, right, top, bottom, ...), mode, value)`.
  public static func pad(_ x: Tensor, _ padding: [Int], mode: PadMode = .constant, value: Double = 0) -> Tensor {
    usageCheck(padding.count % 2 == 0, "Padding length must be divisible by 2, got \(padding.count)")
    usageCheck(
      padding.count / 2 <= x.dim,
      "Padding length should be less than or equal to two times the input dimension but got padding length \(padding.count) and input of dimension \(x.dim)"
    )
    var result = x
    for pair in 0..<(padding.count / 2) {
      let axis = x.dim - 1 - pair
      let (before, after) = (padding[2 * pair], padding[2 * pair + 1])
      if before == 0 && after == 0 { continue }
      result = padOne(result, axis: axis, before: before, after: after, mode: mode, value: value)
    }
    return result === x ? x.clone() : result
  }

  /// Negative amounts crop first; then the tensor goes into a filled one.
  private static func padConstant(_ x: Tensor, axis: Int, before: Int, after: Int, value: Double) -> Tensor {
    let n = x.shape[axis]
    let kept = x.narrow(
      dim: axis, start: Swift.max(-before, 0), length: Swift.max(n - Swift.max(-before, 0) - Swift.max(-after, 0), 0))
    var shape = kept.shape
    shape[axis] += Swift.max(before, 0) + Swift.max(after, 0)
    let out = Tensor.full(shape, value, dtype: x.dtype, device: x.device)
    out.narrow(dim: axis, start: Swift.max(before, 0), length: kept.shape[axis]).copy_(kept)
    return out
  }

  private static func padOne(_ x: Tensor, axis: Int, before: Int, after: Int, mode: PadMode, value: Double) -> Tensor {
    let n = x.shape[axis]
    if mode == .constant { return padConstant(x, axis: axis, before: before, after: after, value: value) }
    usageCheck(
      before >= 0 && after >= 0,
      "\(mode) padding: negative padding is only supported in constant mode, got (\(before), \(after))")
    let left: Tensor
    let right: Tensor
    switch mode {
    case .reflect:
      usageCheck(
        before < n && after < n,
        "Argument #4: Padding size should be less than the corresponding input dimension, but got: padding (\(before), \(after)) at dimension \(axis) of input \(x.shape)"
      )
      left = x.narrow(dim: axis, start: 1, length: before).flip(axis)
      right = x.narrow(dim: axis, start: n - 1 - after, length: after).flip(axis)
    case .replicate:
      usageCheck(n > 0, "replicate padding: the dimension \(axis) to pad is empty")
      var shape = x.shape
      shape[axis] = before
      left = x.narrow(dim: axis, start: 0, length: 1).expand(shape)
      shape[axis] = after
      right = x.narrow(dim: axis, start: n - 1, length: 1).expand(shape)
    case .circular:
      usageCheck(
        before <= n && after <= n,
        "Padding value causes wrapping around more than once: padding (\(before), \(after)) at dimension \(axis) of size \(n)"
      )
      left = x.narrow(dim: axis, start: n - before, length: before)
      right = x.narrow(dim: axis, start: 0, length: after)
    case .constant:
      return padConstant(x, axis: axis, before: before, after: after, value: value)
    }
    return Tensor.cat([left, x, right], dim: axis)
  }
}

extension Functional {
  /// Normalization over groups of channels of `[N, C, ...]` input, then a per-channel
  /// scale and shift (PyTorch: `F.group_norm`).
  public static func groupNorm(
    _ x: Tensor, numGroups: Int, weight: Tensor? = nil, bias: Tensor? = nil, eps: Double = 1e-5
  ) -> Tensor {
    if let cast = Autocast.run(
      .float32OnDevices, [x, weight, bias],
      { c in groupNorm(c[0]!, numGroups: numGroups, weight: c[1], bias: c[2], eps: eps) })
    {
      return cast
    }
    usageCheck(x.dim >= 2, "group_norm: expected an input of shape [N, C, ...], got \(x.shape)")
    let channels = x.shape[1]
    usageCheck(
      numGroups > 0 && channels % numGroups == 0,
      "Expected number of channels in input to be divisible by num_groups, but got input of shape \(x.shape) and num_groups=\(numGroups)"
    )
    let grouped = x.reshape(x.shape[0], numGroups, -1)
    let mean = grouped.mean(dim: [2], keepdim: true)
    let variance = grouped.var(dim: [2], correction: 0, keepdim: true)
    var y = ((grouped - mean) * (variance + eps).rsqrt()).reshape(x.shape)
    var perChannel = [Int](repeating: 1, count: x.dim)
    perChannel[1] = channels
    if let weight { y = y * weight.view(perChannel) }
    if let bias { y = y + bias.view(perChannel) }
    return y
  }

  /// Normalization of each channel of each sample over its other dims, with batch
  /// statistics, then an optional per-channel scale and shift (PyTorch: `F.instance_norm`
  /// without running statistics).
  public static func instanceNorm(_ x: Tensor, weight: Tensor? = nil, bias: Tensor? = nil, eps: Double = 1e-5) -> Tensor
  {
    usageCheck(
      x.dim >= 3, "instance_norm: expected an input of shape [N, C, ...] with at least one spatial dim, got \(x.shape)")
    return groupNorm(x, numGroups: x.shape[1], weight: weight, bias: bias, eps: eps)
  }

  /// Moves `factor²` channels into a `factor` times larger image: `[N, C r², H, W]` to
  /// `[N, C, H r, W r]` (PyTorch: `F.pixel_shuffle`).
  public static func pixelShuffle(_ x: Tensor, upscaleFactor r: Int) -> Tensor {
    usageCheck(
      x.dim >= 3, "pixel_shuffle expects input to have at least 3 dimensions, but got input with \(x.dim) dimension(s)")
    let (c, h, w) = (x.shape[x.dim - 3], x.shape[x.dim - 2], x.shape[x.dim - 1])
    usageCheck(
      c % (r * r) == 0,
      "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, but input.size(-3)=\(c) is not divisible by \(r * r)"
    )
    let batch = Array(x.shape.dropLast(3))
    let k = batch.count
    return x.reshape(batch + [c / (r * r), r, r, h, w])
      .permute(Array(0..<k) + [k, k + 3, k + 1, k + 4, k + 2])
      .reshape(batch + [c / (r * r), h * r, w * r])
  }

  /// The inverse of `pixelShuffle`: `[N, C, H r, W r]` to `[N, C r², H, W]`
  /// (PyTorch: `F.pixel_unshuffle`).
  public static func pixelUnshuffle(_ x: Tensor, downscaleFactor r: Int) -> Tensor {
    usageCheck(
      x.dim >= 3,
      "pixel_unshuffle expects input to have at least 3 dimensions, but got input with \(x.dim) dimension(s)")
    let (c, h, w) = (x.shape[x.dim - 3], x.shape[x.dim - 2], x.shape[x.dim - 1])
    usageCheck(
      h % r == 0 && w % r == 0,
      "pixel_unshuffle expects height and width to be divisible by downscale_factor, got \(h) x \(w) and \(r)")
    let batch = Array(x.shape.dropLast(3))
    let k = batch.count
    return x.reshape(batch + [c, h / r, r, w / r, r])
      .permute(Array(0..<k) + [k, k + 2, k + 4, k + 1, k + 3])
      .reshape(batch + [c * r * r, h / r, w / r])
  }
}

/// Group normalization with learnable per-channel affine parameters (PyTorch: `nn.GroupNorm`).
public final class GroupNorm: Module {
  /// Per-channel scale (`nil` without affine).
  public var weight: Tensor?
  /// Per-channel shift.
  public var bias: Tensor?
  let numGroups: Int
  let eps: Double

  /// `numChannels` channels in `numGroups` groups.
  public init(numGroups: Int, numChannels: Int, eps: Double = 1e-5, affine: Bool = true) {
    self.numGroups = numGroups
    self.eps = eps
    weight = affine ? Tensor.ones(numChannels).requiresGrad_() : nil
    bias = affine ? Tensor.zeros(numChannels).requiresGrad_() : nil
  }

  /// Normalizes `x`.
  public override func forward(_ x: Tensor) -> Tensor {
    Functional.groupNorm(x, numGroups: numGroups, weight: weight, bias: bias, eps: eps)
  }
}

/// Instance normalization of `[N, C, L]` or `[N, C, H, W]` input, without running statistics
/// (PyTorch: `nn.InstanceNorm1d` / `nn.InstanceNorm2d` with `track_running_stats=False`).
public final class InstanceNorm: Module {
  /// Per-channel scale (`nil` without affine, the default).
  public var weight: Tensor?
  /// Per-channel shift.
  public var bias: Tensor?
  let eps: Double

  /// Normalizes `numFeatures` channels.
  public init(_ numFeatures: Int, eps: Double = 1e-5, affine: Bool = false) {
    self.eps = eps
    weight = affine ? Tensor.ones(numFeatures).requiresGrad_() : nil
    bias = affine ? Tensor.zeros(numFeatures).requiresGrad_() : nil
  }

  /// Normalizes `x`.
  public override func forward(_ x: Tensor) -> Tensor {
    Functional.instanceNorm(x, weight: weight, bias: bias, eps: eps)
  }
}

/// PyTorch: `nn.PixelShuffle(upscale_factor)`.
public final class PixelShuffle: FunctionModule {
  /// Shuffles channels into an image `upscaleFactor` times larger.
  public init(_ upscaleFactor: Int) { super.init { Functional.pixelShuffle($0, upscaleFactor: upscaleFactor) } }
}

/// PyTorch: `nn.PixelUnshuffle(downscale_factor)`.
public final class PixelUnshuffle: FunctionModule {
  /// Shuffles an image into `downscaleFactor²` times the channels.
  public init(_ downscaleFactor: Int) { super.init { Functional.pixelUnshuffle($0, downscaleFactor: downscaleFactor) } }
}
