import Autograd

extension Functional {
  /// Sliding `kernel` patches of `[N, C, H, W]` (or unbatched) input as columns
  /// `[N, C * kh * kw, L]` (PyTorch: `F.unfold`, im2col).
  public static func unfold(
    _ x: Tensor, kernelSize: (Int, Int), dilation: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
    stride: (Int, Int) = (1, 1)
  ) -> Tensor {
    usageCheck(x.dim == 3 || x.dim == 4, "Input Error: Only 3D or 4D input Tensors are supported (got \(x.dim)D)")
    let batched = x.dim == 4 ? x : x.unsqueeze(0)
    let columns = Im2Col.apply(pad2d(batched, padding), kernel: kernelSize, stride: stride, dilation: dilation)
    return x.dim == 4 ? columns : columns.squeeze(dim: 0)
  }

  /// The adjoint of `unfold`: columns `[N, C * kh * kw, L]` summed back into an image of
  /// `outputSize`, overlapping patches adding up (PyTorch: `F.fold`, col2im).
  public static func fold(
    _ columns: Tensor, outputSize: (Int, Int), kernelSize: (Int, Int), dilation: (Int, Int) = (1, 1),
    padding: (Int, Int) = (0, 0),
    stride: (Int, Int) = (1, 1)
  ) -> Tensor {
    usageCheck(
      columns.dim == 2 || columns.dim == 3,
      "Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported (got \(columns.dim)D)")
    let cols = columns.dim == 3 ? columns : columns.unsqueeze(0)
    let (kh, kw) = kernelSize
    usageCheck(
      cols.shape[1] % (kh * kw) == 0,
      "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)=\(cols.shape[1]) and kernel_size=\(kernelSize)"
    )
    let (n, channels) = (cols.shape[0], cols.shape[1] / (kh * kw))
    let (ph, pw) = (outputSize.0 + 2 * padding.0, outputSize.1 + 2 * padding.1)
    let blocksH = (ph - dilation.0 * (kh - 1) - 1) / stride.0 + 1
    let blocksW = (pw - dilation.1 * (kw - 1) - 1) / stride.1 + 1
    usageCheck(
      blocksH > 0 && blocksW > 0 && blocksH * blocksW == cols.shape[2],
      "Given output_size=\(outputSize), kernel_size=\(kernelSize), dilation=\(dilation), padding=\(padding), stride=\(stride), expected size of input's dimension 2 to match the calculated number of sliding blocks \(Swift.max(blocksH, 0)) * \(Swift.max(blocksW, 0)) = \(Swift.max(blocksH, 0) * Swift.max(blocksW, 0)), but got input.size(2)=\(cols.shape[2])."
    )
    // The padded image's row and column of each (tap, block), as a flat offset.
    let device = cols.device
    let tapRow = (Tensor.arange(kh, device: device) * dilation.0).view(kh, 1, 1, 1)
    let tapCol = (Tensor.arange(kw, device: device) * dilation.1).view(1, kw, 1, 1)
    let blockRow = (Tensor.arange(blocksH, device: device) * stride.0).view(1, 1, blocksH, 1)
    let blockCol = (Tensor.arange(blocksW, device: device) * stride.1).view(1, 1, 1, blocksW)
    let position = ((tapRow + blockRow) * pw + tapCol + blockCol).reshape(1, 1, kh * kw, blocksH * blocksW)
    let image = Tensor.zeros([n, channels, ph * pw], dtype: cols.dtype, device: device)
    let index = position.expand(n, channels, kh * kw, blocksH * blocksW).reshape(n, channels, -1)
    let summed = image.scatterAdd(dim: 2, index: index, src: cols.reshape(n, channels, -1))
      .view(n, channels, ph, pw)[
        .all, .all, padding.0..<(padding.0 + outputSize.0), padding.1..<(padding.1 + outputSize.1)]
    return columns.dim == 3 ? summed : summed.squeeze(dim: 0)
  }

  /// Local response normalization across channels: each value divided by
  /// `(k + alpha * mean of squares over `size` neighbouring channels)^beta`
  /// (PyTorch: `F.local_response_norm`).
  public static func localResponseNorm(_ x: Tensor, size: Int, alpha: Double = 1e-4, beta: Double = 0.75, k: Double = 1)
    -> Tensor
  {
    usageCheck(x.dim >= 3, "Expected 3D or higher dimensionality input (got \(x.dim) dimensions)")
    let (n, c) = (x.shape[0], x.shape[1])
    let squares = (x * x).reshape(n, 1, c, -1)
    let padded = pad(squares, [0, 0, size / 2, (size - 1) / 2])
    let mean = avgPool2d(padded, kernel: (size, 1), stride: (1, 1)).reshape(x.shape)
    return x / (mean * alpha + k).pow(beta)
  }
}

/// PyTorch: `nn.Unfold(kernel_size, dilation, padding, stride)`.
public final class Unfold: FunctionModule {
  /// Patches of `kernelSize`.
  public init(kernelSize: Int, dilation: Int = 1, padding: Int = 0, stride: Int = 1) {
    super.init {
      Functional.unfold(
        $0, kernelSize: (kernelSize, kernelSize), dilation: (dilation, dilation), padding: (padding, padding),
        stride: (stride, stride))
    }
  }
}

/// PyTorch: `nn.LocalResponseNorm(size, alpha, beta, k)`.
public final class LocalResponseNorm: FunctionModule {
  /// Normalization over `size` neighbouring channels.
  public init(size: Int, alpha: Double = 1e-4, beta: Double = 0.75, k: Double = 1) {
    super.init { Functional.localResponseNorm($0, size: size, alpha: alpha, beta: beta, k: k) }
  }
}
