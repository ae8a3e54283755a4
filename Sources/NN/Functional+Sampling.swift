import Autograd

extension Functional {
  /// The transposed 1-d convolution of `[N, Cin, L]` (or `[Cin, L]`) input with weight
  /// `[Cin, Cout / groups, k]` (PyTorch: `F.conv_transpose1d`).
  public static func convTranspose1d(
    _ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0, groups: Int = 1, dilation: Int = 1
  ) -> Tensor {
    usageCheck(weight.dim == 3, "conv_transpose1d: expected a 3-D weight [in_channels, out_channels / groups, kernel], got \(weight.shape)")
    usageCheck(x.dim == 2 || x.dim == 3, "Expected 2D (unbatched) or 3D (batched) input to conv_transpose1d, but got input of size: \(x.shape)")
    let image = x.unsqueeze(-2)
    let y = convTranspose2d(
      image, weight: weight.unsqueeze(2), bias: bias, stride: (1, stride), padding: (0, padding), outputPadding: (0, outputPadding),
      groups: groups, dilation: (1, dilation))
    return y.squeeze(dim: -2)
  }

  /// The sampling grid `[N, H, W, 2]` of the affine maps `theta` `[N, 2, 3]` over an output of
  /// `size` `[N, C, H, W]`, in normalized coordinates (-1 and 1 the corner pixels' centers with
  /// `alignCorners`, else their outer edges) (PyTorch: `F.affine_grid`).
  public static func affineGrid(_ theta: Tensor, size: [Int], alignCorners: Bool = false) -> Tensor {
    usageCheck(size.count == 4, "affine_grid: only 2-D (4-D size [N, C, H, W]) grids are supported, got size \(size)")
    usageCheck(theta.dim == 3 && theta.shape[1] == 2 && theta.shape[2] == 3 && theta.shape[0] == size[0], "Expected a batch of 2D affine matrices of shape Nx2x3 for size \(size). Got \(theta.shape).")
    let (n, h, w) = (size[0], size[2], size[3])
    func axis(_ count: Int) -> Tensor {
      let steps = Tensor.linspace(-1, 1, count: count, dtype: theta.dtype, device: theta.device)
      return alignCorners || count == 0 ? steps : steps * (Double(count - 1) / Double(count))
    }
    let xs = axis(w).view(1, w, 1).expand(h, w, 1)
    let ys = axis(h).view(h, 1, 1).expand(h, w, 1)
    let base = Tensor.cat([xs, ys, Tensor.ones([h, w, 1], dtype: theta.dtype, device: theta.device)], dim: 2)  // [H, W, 3]
    return base.reshape(1, h * w, 3).expand(n, h * w, 3).bmm(theta.mT).view(n, h, w, 2)
  }

  /// How `gridSample` reads between pixels.
  public enum SampleMode: Sendable { case bilinear, nearest }
  /// What `gridSample` reads outside the input.
  public enum SamplePadding: Sendable { case zeros, border }

  /// Samples `input` `[N, C, H, W]` at the normalized `grid` `[N, Ho, Wo, 2]` positions (x, y),
  /// giving `[N, C, Ho, Wo]`; differentiable in both (PyTorch: `F.grid_sample` for 4-D input).
  public static func gridSample(
    _ input: Tensor, grid: Tensor, mode: SampleMode = .bilinear, paddingMode: SamplePadding = .zeros, alignCorners: Bool = false
  ) -> Tensor {
    usageCheck(input.dim == 4, "grid_sample: only 4-D input [N, C, H, W] is supported, got \(input.shape)")
    usageCheck(
      grid.dim == 4 && grid.shape[3] == 2 && grid.shape[0] == input.shape[0],
      "grid_sampler(): expected grid to have size 2 in last dimension and the input's batch size, but got grid with sizes \(grid.shape)")
    let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
    let (ho, wo) = (grid.shape[1], grid.shape[2])
    func unnormalize(_ g: Tensor, _ size: Int) -> Tensor {
      let pixel = alignCorners ? (g + 1) * (Double(size - 1) / 2) : ((g + 1) * Double(size) - 1) / 2
      return paddingMode == .border ? pixel.clamp(min: .double(0), max: .double(Double(size - 1))) : pixel
    }
    let x = unnormalize(grid[.ellipsis, 0], w)
    let y = unnormalize(grid[.ellipsis, 1], h)
    let flat = input.reshape(n, c, h * w)
    // The value at integer pixel (px, py), 0 outside the image.
    func read(_ px: Tensor, _ py: Tensor) -> Tensor {
      let inside = (px .>= 0).logicalAnd(px .<= Double(w - 1)).logicalAnd(py .>= 0).logicalAnd(py .<= Double(h - 1))
      let index = (py.clamp(min: .double(0), max: .double(Double(h - 1))) * Double(w) + px.clamp(min: .double(0), max: .double(Double(w - 1)))).long()
      let picked = flat.gather(dim: 2, index: index.reshape(n, 1, ho * wo).expand(n, c, ho * wo)).view(n, c, ho, wo)
      return picked * inside.unsqueeze(1).to(input.dtype)
    }
    switch mode {
    case .nearest:
      return read(x.detach().round(), y.detach().round())
    case .bilinear:
      let (x0, y0) = (x.detach().floor(), y.detach().floor())
      let (wx, wy) = ((x - x0).unsqueeze(1), (y - y0).unsqueeze(1))
      let top = read(x0, y0) * (1 - wx) + read(x0 + 1, y0) * wx
      let bottom = read(x0, y0 + 1) * (1 - wx) + read(x0 + 1, y0 + 1) * wx
      return top * (1 - wy) + bottom * wy
    }
  }
}

/// Transposed 1-d convolution (PyTorch: `nn.ConvTranspose1d`), initialised as PyTorch does.
public final class ConvTranspose1d: Module {
  /// `[inChannels, outChannels / groups, k]`.
  public var weight: Tensor
  /// `[outChannels]`, or `nil`.
  public var bias: Tensor?
  let stride: Int
  let padding: Int
  let outputPadding: Int
  let groups: Int
  let dilation: Int

  /// A transposed convolution of `kernelSize` taps.
  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0,
    groups: Int = 1, bias: Bool = true, dilation: Int = 1
  ) {
    checkGroups("ConvTranspose1d", inChannels, outChannels, groups)
    (weight, self.bias) = defaultParameters(weightShape: [inChannels, outChannels / groups, kernelSize], biasCount: bias ? outChannels : nil)
    self.stride = stride
    self.padding = padding
    self.outputPadding = outputPadding
    self.groups = groups
    self.dilation = dilation
  }

  /// Applies the transposed convolution.
  public override func forward(_ x: Tensor) -> Tensor {
    Functional.convTranspose1d(
      x, weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding, groups: groups, dilation: dilation)
  }
}
