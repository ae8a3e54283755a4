import Autograd

extension Functional {
  /// The sampling grid of the affine maps `theta` over an output of `size`, in normalized
  /// coordinates (-1 and 1 the corner pixels' centers with `alignCorners`, else their outer
  /// edges) (PyTorch: `F.affine_grid`): `theta` `[N, 2, 3]` and `size` `[N, C, H, W]` give
  /// `[N, H, W, 2]`; `theta` `[N, 3, 4]` and `size` `[N, C, D, H, W]` give `[N, D, H, W, 3]`.
  public static func affineGrid(_ theta: Tensor, size: [Int], alignCorners: Bool = false) -> Tensor {
    usageCheck(
      size.count == 4 || size.count == 5,
      "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. Got size \(size).")
    let dims = size.count - 2
    usageCheck(
      theta.dim == 3 && theta.shape[1] == dims && theta.shape[2] == dims + 1 && theta.shape[0] == size[0],
      "Expected a batch of \(dims)D affine matrices of shape Nx\(dims)x\(dims + 1) for size \(size). Got \(theta.shape)."
    )
    let n = size[0]
    let spatial = Array(size.suffix(dims))
    let count = spatial.reduce(1, *)
    // One column per coordinate (x varies along the last dim, then y, then z), then ones.
    var columns: [Tensor] = []
    for k in 0..<dims {
      let axisIndex = dims - 1 - k
      let length = spatial[axisIndex]
      var steps = Tensor.linspace(-1, 1, count: length, dtype: theta.dtype, device: theta.device)
      if !alignCorners && length > 0 { steps = steps * (Double(length - 1) / Double(length)) }
      var shape = [Int](repeating: 1, count: dims)
      shape[axisIndex] = length
      columns.append(steps.view(shape).expand(spatial).unsqueeze(-1))
    }
    columns.append(Tensor.ones(spatial + [1], dtype: theta.dtype, device: theta.device))
    let base = Tensor.cat(columns, dim: -1)
    return base.reshape(1, count, dims + 1).expand(n, count, dims + 1).bmm(theta.mT).view([n] + spatial + [dims])
  }

  /// How `gridSample` reads between pixels.
  public enum SampleMode: Sendable {
    /// The (bi- or tri-)linear blend of the neighbouring pixels.
    case bilinear
    /// The nearest pixel (halves round to even).
    case nearest
    /// Cubic convolution over 4 x 4 pixels (A = -0.75, as PyTorch); 4-D input only.
    case bicubic
  }

  /// What `gridSample` reads outside the input.
  public enum SamplePadding: Sendable {
    /// Zeros.
    case zeros
    /// The nearest edge pixel.
    case border
    /// The input mirrored at its edges (about the corner pixels' centers with
    /// `alignCorners`, else about their outer edges).
    case reflection
  }

  /// Samples `input` `[N, C, H, W]` at the normalized `grid` `[N, Ho, Wo, 2]` positions (x, y),
  /// giving `[N, C, Ho, Wo]`, or `[N, C, D, H, W]` at `[N, Do, Ho, Wo, 3]` (x, y, z), giving
  /// `[N, C, Do, Ho, Wo]`; differentiable in both (PyTorch: `F.grid_sample`).
  public static func gridSample(
    _ input: Tensor, grid: Tensor, mode: SampleMode = .bilinear, paddingMode: SamplePadding = .zeros,
    alignCorners: Bool = false
  ) -> Tensor {
    usageCheck(
      input.dim == 4 || input.dim == 5,
      "grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but got input with sizes \(input.shape) and grid with sizes \(grid.shape)"
    )
    let dims = input.dim - 2
    usageCheck(
      grid.dim == input.dim && grid.shape[grid.dim - 1] == dims && grid.shape[0] == input.shape[0],
      "grid_sampler(): expected grid to have size \(dims) in last dimension and the input's batch size \(input.shape[0]), but got grid with sizes \(grid.shape)"
    )
    usageCheck(mode != .bicubic || dims == 2, "grid_sampler(): bicubic interpolation only supports 4D input")
    let sampler = GridSampler(input: input, grid: grid, paddingMode: paddingMode, alignCorners: alignCorners)
    // Pixel coordinates, x first; the bicubic taps apply the padding themselves.
    let coordinates = (0..<dims).map { k in sampler.pixel(grid[.ellipsis, k], axis: k, padded: mode != .bicubic) }
    switch mode {
    case .nearest:
      return sampler.read(coordinates.map { $0.detach().round() })
    case .bilinear:
      let floors = coordinates.map { $0.detach().floor() }
      let weights = zip(coordinates, floors).map { ($0 - $1).unsqueeze(1) }
      var result: Tensor?
      for corner in 0..<(1 << dims) {
        var weight: Tensor?
        var points: [Tensor] = []
        for k in 0..<dims {
          let upper = corner >> k & 1 == 1
          points.append(upper ? floors[k] + 1 : floors[k])
          let w = upper ? weights[k] : 1 - weights[k]
          weight = weight.map { $0 * w } ?? w
        }
        let term = sampler.read(points) * weight!
        result = result.map { $0 + term } ?? term
      }
      return result!
    case .bicubic:
      let floors = coordinates.map { $0.detach().floor() }
      let (tx, ty) = ((coordinates[0] - floors[0]).unsqueeze(1), (coordinates[1] - floors[1]).unsqueeze(1))
      let rows = (0..<4).map { i in
        let y = sampler.padded(floors[1] + Double(i - 1), axis: 1)
        return cubicBlend(
          (0..<4).map { j in sampler.read([sampler.padded(floors[0] + Double(j - 1), axis: 0), y]) }, tx)
      }
      return cubicBlend(rows, ty)
    }
  }

  /// PyTorch's cubic convolution of four samples at offset `t` from the second (A = -0.75).
  private static func cubicBlend(_ values: [Tensor], _ t: Tensor) -> Tensor {
    let a = -0.75
    func near(_ x: Tensor) -> Tensor { ((x * (a + 2) - (a + 3)) * x * x) + 1 }
    func far(_ x: Tensor) -> Tensor { ((x * a - 5 * a) * x + 8 * a) * x - 4 * a }
    let s = 1 - t
    return values[0] * far(t + 1) + values[1] * near(t) + values[2] * near(s) + values[3] * far(s + 1)
  }
}

/// The pieces of `gridSample`: coordinates in pixels, padding, and reads.
private struct GridSampler {
  let input: Tensor
  let flat: Tensor
  /// Input sizes per coordinate: x (width) first.
  let sizes: [Int]
  let outSpatial: [Int]
  let paddingMode: Functional.SamplePadding
  let alignCorners: Bool

  init(input: Tensor, grid: Tensor, paddingMode: Functional.SamplePadding, alignCorners: Bool) {
    let dims = input.dim - 2
    self.input = input
    flat = input.reshape(input.shape[0], input.shape[1], -1)
    sizes = Array(input.shape.suffix(dims).reversed())
    outSpatial = Array(grid.shape[1..<(grid.dim - 1)])
    self.paddingMode = paddingMode
    self.alignCorners = alignCorners
  }

  /// A normalized coordinate along `axis` (0 = x) in pixels, with the padding applied if `padded`.
  func pixel(_ g: Tensor, axis: Int, padded: Bool) -> Tensor {
    let size = Double(sizes[axis])
    let pixel = alignCorners ? (g + 1) * ((size - 1) / 2) : ((g + 1) * size - 1) / 2
    return padded ? self.padded(pixel, axis: axis) : pixel
  }

  /// Where padding sends a pixel coordinate: clipped to the input (border), mirrored then
  /// clipped (reflection), or left outside (zeros, read as 0).
  func padded(_ coordinate: Tensor, axis: Int) -> Tensor {
    let size = Double(sizes[axis])
    switch paddingMode {
    case .zeros:
      return coordinate
    case .border:
      return coordinate.clamp(min: .double(0), max: .double(size - 1))
    case .reflection:
      // Mirror about [low, high]: the centers of the edge pixels, or their outer edges.
      let (low, high) = alignCorners ? (0.0, size - 1) : (-0.5, size - 0.5)
      let span = high - low
      guard span > 0 else { return coordinate * 0 }
      let distance = (coordinate - low).abs()
      let flips = (distance / span).floor().detach()
      let extra = distance - flips * span
      let even = flips.remainder(2) .== 0
      let mirrored = Tensor.where(even, extra + low, span - extra + low)
      return mirrored.clamp(min: .double(0), max: .double(size - 1))
    }
  }

  /// The input at integer pixel coordinates (x first), 0 outside it: `[N, C, *outSpatial]`.
  func read(_ points: [Tensor]) -> Tensor {
    let (n, c) = (input.shape[0], input.shape[1])
    var inside: Tensor?
    var index: Tensor?
    for k in (0..<points.count).reversed() {
      let limit = Double(sizes[k] - 1)
      let within = (points[k] .>= 0).logicalAnd(points[k] .<= limit)
      inside = inside.map { $0.logicalAnd(within) } ?? within
      let clamped = points[k].clamp(min: .double(0), max: .double(limit)).long()
      index = index.map { $0 * sizes[k] + clamped } ?? clamped
    }
    let count = outSpatial.reduce(1, *)
    let picked = flat.gather(dim: 2, index: index!.reshape(n, 1, count).expand(n, c, count)).view([n, c] + outSpatial)
    return picked * inside!.unsqueeze(1).to(input.dtype)
  }
}
