import Autograd

extension Functional {
  /// The output size of a pooling window along one dim, and the extra right padding that
  /// `ceilMode` needs (the last window must start inside the input or its left padding).
  static func poolExtent(size n: Int, kernel k: Int, stride s: Int, padding p: Int, dilation d: Int, ceilMode: Bool)
    -> (out: Int, extra: Int)
  {
    let span = d * (k - 1) + 1
    let room = n + 2 * p - span
    // PyTorch's rounding: toward -inf (an input smaller than the window gives 0 outputs).
    let numerator = room + (ceilMode ? s - 1 : 0)
    var out = (numerator >= 0 ? numerator / s : -((-numerator + s - 1) / s)) + 1
    if ceilMode && (out - 1) * s >= n + p { out -= 1 }
    return (out, Swift.max(0, (out - 1) * s + span - (n + 2 * p)))
  }

  /// Checks a pooling's arguments against `x` `[N, C, *spatial]` and gives, per spatial dim,
  /// the output size and the extra right padding `ceilMode` needs.
  static func poolExtents(
    _ x: Tensor, kernel: [Int], stride: [Int], padding: [Int], dilation: [Int], ceilMode: Bool, op: String
  ) -> [(out: Int, extra: Int)] {
    let dims = kernel.count
    usageCheck(
      stride.count == dims && padding.count == dims && dilation.count == dims,
      "\(op): kernel_size, stride, padding and dilation take \(dims) values each")
    usageCheck(kernel.allSatisfy { $0 > 0 }, "\(op): kernel size should be greater than zero, but got \(kernel)")
    usageCheck(stride.allSatisfy { $0 > 0 }, "\(op): stride should be greater than zero, but got \(stride)")
    usageCheck(dilation.allSatisfy { $0 > 0 }, "\(op): dilation should be greater than zero, but got \(dilation)")
    if dims == 2 {
      usageCheck(
        padding[0] <= kernel[0] / 2 && padding[1] <= kernel[1] / 2,
        "\(op): pad should be smaller than or equal to half of kernel size, but got padW = \(padding[1]), padH = \(padding[0]), kW = \(kernel[1]), kH = \(kernel[0])"
      )
    } else {
      for d in 0..<dims {
        usageCheck(
          padding[d] <= (dilation[d] * (kernel[d] - 1) + 1) / 2,
          "\(op): pad should be at most half of effective kernel size, but got pad=\(padding[d]), kernel_size=\(kernel[d]) and dilation=\(dilation[d])"
        )
      }
    }
    let spatial = Array(x.shape.suffix(dims))
    let extents = (0..<dims).map { d in
      poolExtent(
        size: spatial[d], kernel: kernel[d], stride: stride[d], padding: padding[d], dilation: dilation[d],
        ceilMode: ceilMode)
    }
    usageCheck(
      extents.allSatisfy { $0.out > 0 },
      "\(op): Given input size: (\(([x.shape[1]] + spatial).map(String.init).joined(separator: "x"))). Calculated output size: (\(([x.shape[1]] + extents.map(\.out)).map(String.init).joined(separator: "x"))). Output size is too small"
    )
    return extents
  }

  /// The windows of `[N, C, *spatial]` padded by `padding` (filled with `value`) and, on the
  /// far side, by what `ceilMode` needs (filled with `ceilValue`), as a view
  /// `[N, C, *out, *kernel]`; any number of spatial dims.
  private static func poolWindows(
    _ x: Tensor, kernel: [Int], stride: [Int], padding: [Int], dilation: [Int], ceilMode: Bool, value: Double,
    ceilValue: Double, op: String
  ) -> Tensor {
    let extents = poolExtents(
      x, kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode, op: op)
    var padded = pad(x, padding.reversed().flatMap { [$0, $0] }, value: value)
    if extents.contains(where: { $0.extra > 0 }) {
      padded = pad(padded, extents.reversed().flatMap { [0, $0.extra] }, value: ceilValue)
    }
    return slidingWindows(padded, kernel: kernel, stride: stride, dilation: dilation, op: op)
  }

  /// Max over windows of any number of spatial dims, with where each maximum came from as an
  /// index into the flattened spatial dims of its channel.
  static func maxPoolWithIndices(
    _ x: Tensor, kernel: [Int], stride: [Int], padding: [Int], dilation: [Int], ceilMode: Bool, op: String
  ) -> (values: Tensor, indices: Tensor) {
    let dims = kernel.count
    let win = poolWindows(
      x, kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode, value: -.infinity,
      ceilValue: -.infinity, op: op)
    let flat = win.reshape(Array(win.shape.prefix(2 + dims)) + [kernel.reduce(1, *)])
    let (best, slot) = flat.max(dim: -1)
    // The winner's position along each spatial dim of the unpadded input, flattened.
    let outShape = Array(best.shape.suffix(dims))
    let spatial = Array(x.shape.suffix(dims))
    var index = Tensor.zeros(like: slot)
    var remaining = slot
    for d in (0..<dims).reversed() {
      let tap = remaining.remainder(kernel[d])
      remaining = remaining.floorDivide(kernel[d])
      var start = [Int](repeating: 1, count: dims)
      start[d] = outShape[d]
      let position =
        tap * dilation[d] + (Tensor.arange(outShape[d], device: x.device) * stride[d] - padding[d]).view(start)
      index = index + position * spatial[(d + 1)...].reduce(1, *)
    }
    return (best, index)
  }

  /// Mean over windows of any number of spatial dims: padding counts toward the divisor
  /// unless `countIncludePad` is false, the extension `ceilMode` adds never does, and
  /// `divisorOverride` replaces the divisor.
  static func avgPool(
    _ x: Tensor, kernel: [Int], stride: [Int], padding: [Int], ceilMode: Bool, countIncludePad: Bool,
    divisorOverride: Int?, op: String
  ) -> Tensor {
    let dims = kernel.count
    let window = { (t: Tensor, value: Double) in
      poolWindows(
        t, kernel: kernel, stride: stride, padding: padding, dilation: [Int](repeating: 1, count: dims),
        ceilMode: ceilMode, value: value,
        ceilValue: 0, op: op)
    }
    let windowDims = Array((2 + dims)..<(2 + 2 * dims))
    let sums = window(x, 0).sum(dim: windowDims)
    if let divisorOverride {
      usageCheck(divisorOverride != 0, "\(op): divisor must be not zero")
      return sums / Double(divisorOverride)
    }
    // How many cells of each window count: a ones image, its padding 1 or 0.
    let ones = Tensor.ones([1, 1] + Array(x.shape.suffix(dims)), dtype: x.dtype, device: x.device)
    let counts = window(ones, countIncludePad ? 1 : 0).sum(dim: windowDims)
    return sums / counts
  }

  /// Max over sliding windows; padding counts as -inf (PyTorch: `F.max_pool2d` with
  /// `dilation` and `ceil_mode`).
  public static func maxPool2d(
    _ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
    dilation: (Int, Int) = (1, 1),
    ceilMode: Bool = false
  ) -> Tensor {
    maxPool2dWithIndices(x, kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
      .values
  }

  /// `maxPool2d` and where each maximum came from, as an index into the flattened H x W of
  /// its channel (PyTorch: `F.max_pool2d(..., return_indices=True)`).
  public static func maxPool2dWithIndices(
    _ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
    dilation: (Int, Int) = (1, 1),
    ceilMode: Bool = false
  ) -> (values: Tensor, indices: Tensor) {
    let stride = stride ?? kernel
    let message = "max_pool2d: non-empty 3D or 4D (batch mode) tensor expected for input, got \(x.shape)"
    var indices: Tensor?
    let values = acceptingUnbatched(x, message) { x in
      let (k, s, p, d) = (
        [kernel.0, kernel.1], [stride.0, stride.1], [padding.0, padding.1], [dilation.0, dilation.1]
      )
      let extents = poolExtents(x, kernel: k, stride: s, padding: p, dilation: d, ceilMode: ceilMode, op: "max_pool2d")
      let result =
        fusedPool2d(
          x, kind: .max, kernel: kernel, stride: stride, padding: padding, dilation: dilation,
          outputSize: (extents[0].out, extents[1].out),
          name: "MaxPool2DWithIndicesBackward0", composed: nil)
        ?? maxPoolWithIndices(x, kernel: k, stride: s, padding: p, dilation: d, ceilMode: ceilMode, op: "max_pool2d")
      indices = result.indices
      return result.values
    }
    return (values, x.dim == 3 ? indices!.squeeze(dim: 0) : indices!)
  }

  /// Mean over adaptive windows to an exact output size (PyTorch: `F.adaptive_avg_pool2d`).
  public static func adaptiveAvgPool2d(_ x: Tensor, outputSize: (Int, Int)) -> Tensor {
    acceptingUnbatched(x, "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got \(x.shape)") { x in
      batchedAdaptiveAvgPool2d(x, outputSize: outputSize)
    }
  }

  private static func batchedAdaptiveAvgPool2d(_ x: Tensor, outputSize: (Int, Int)) -> Tensor {
    usageCheck(
      outputSize.0 >= 0 && outputSize.1 >= 0,
      "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received {\(outputSize.0), \(outputSize.1)}"
    )
    if outputSize == (1, 1) { return x.mean(dim: [2, 3], keepdim: true) }
    if let fused = fusedPool2d(
      x, kind: .adaptiveAverage, kernel: (1, 1), stride: (1, 1), padding: (0, 0), dilation: (1, 1),
      outputSize: outputSize,
      name: "AdaptiveAvgPool2DBackward0", composed: { composedAdaptiveAvgPool2d($0, outputSize: outputSize) })
    {
      return fused.values
    }
    return composedAdaptiveAvgPool2d(x, outputSize: outputSize)
  }

  /// Adaptive average pooling from differentiable ops: whole-kernel average pooling where the
  /// windows tile the input, else a mean per window.
  private static func composedAdaptiveAvgPool2d(_ x: Tensor, outputSize: (Int, Int)) -> Tensor {
    let (h, w) = (x.shape[2], x.shape[3])
    if h % outputSize.0 == 0 && w % outputSize.1 == 0 {
      return avgPool(
        x, kernel: [h / outputSize.0, w / outputSize.1], stride: [h / outputSize.0, w / outputSize.1], padding: [0, 0],
        ceilMode: false,
        countIncludePad: true, divisorOverride: nil, op: "adaptive_avg_pool2d")
    }
    var rows: [Tensor] = []
    for i in 0..<outputSize.0 {
      let (h0, h1) = (i * h / outputSize.0, ((i + 1) * h + outputSize.0 - 1) / outputSize.0)
      var cells: [Tensor] = []
      for j in 0..<outputSize.1 {
        let (w0, w1) = (j * w / outputSize.1, ((j + 1) * w + outputSize.1 - 1) / outputSize.1)
        cells.append(x[.all, .all, h0..<h1, w0..<w1].mean(dim: [2, 3]))
      }
      rows.append(Tensor.stack(cells, dim: 2))
    }
    return Tensor.stack(rows, dim: 2)
  }

  /// A 2-D pooling by the backend's fused kernel, recorded as one node named `name` whose
  /// backward runs the backend's gradient kernel; nil when the backend has no kernel for `x`.
  /// Its composed form (for `createGraph: true`): max pooling gathers the input at the saved
  /// indices (so its gradient scatters there), the averages are `composed`.
  static func fusedPool2d(
    _ x: Tensor, kind: Pool2dProblem.Kind, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
    dilation: (Int, Int),
    outputSize: (Int, Int), name: String, composed: ((Tensor) -> Tensor)?
  ) -> (values: Tensor, indices: Tensor?)? {
    guard
      let result = Tensor.fusedPool2d(
        x.detach(), kind: kind, kernel: kernel, stride: stride, padding: padding, dilation: dilation,
        outputSize: outputSize)
    else { return nil }
    let indices = result.indices
    let differentiable: ([Tensor]) -> Tensor = { v in
      guard let indices else { return composed!(v[0]) }
      let (n, c) = (v[0].shape[0], v[0].shape[1])
      return v[0].reshape([n, c, -1]).gather(dim: 2, index: indices.reshape([n, c, -1])).view(indices.shape)
    }
    let values = Autograd.record(result.out, from: [x], name: name, composed: differentiable) { gradient in
      [
        Tensor.fusedPool2dGradient(
          x.detach(), kind: kind, kernel: kernel, stride: stride, padding: padding, dilation: dilation,
          outputSize: outputSize,
          indices: indices, gradOut: gradient)
      ]
    }
    return (values, indices)
  }

  /// Mean over sliding windows (PyTorch: `F.avg_pool2d`): padding counts toward the divisor
  /// unless `countIncludePad` is false, the extension `ceilMode` adds never does, and
  /// `divisorOverride` replaces the divisor.
  public static func avgPool2d(
    _ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0), ceilMode: Bool = false,
    countIncludePad: Bool = true, divisorOverride: Int? = nil
  ) -> Tensor {
    let stride = stride ?? kernel
    return acceptingUnbatched(
      x, "avg_pool2d: non-empty 3D or 4D (batch mode) tensor expected for input, got \(x.shape)"
    ) { x in
      let composed = { (x: Tensor) in
        avgPool(
          x, kernel: [kernel.0, kernel.1], stride: [stride.0, stride.1], padding: [padding.0, padding.1],
          ceilMode: ceilMode,
          countIncludePad: countIncludePad, divisorOverride: divisorOverride, op: "avg_pool2d")
      }
      let extents = poolExtents(
        x, kernel: [kernel.0, kernel.1], stride: [stride.0, stride.1], padding: [padding.0, padding.1],
        dilation: [1, 1], ceilMode: ceilMode,
        op: "avg_pool2d")
      usageCheck(divisorOverride != 0, "avg_pool2d: divisor must be not zero")
      return fusedPool2d(
        x, kind: .average(countIncludePad: countIncludePad, divisorOverride: divisorOverride), kernel: kernel,
        stride: stride,
        padding: padding, dilation: (1, 1), outputSize: (extents[0].out, extents[1].out), name: "AvgPool2DBackward0",
        composed: composed)?
        .values ?? composed(x)
    }
  }
}

/// Max pooling (PyTorch: `nn.MaxPool2d`); `returnIndices` is `Functional.maxPool2dWithIndices`.
public final class MaxPool2d: Module {
  let kernel: (Int, Int)
  let stride: (Int, Int)
  let padding: (Int, Int)
  let dilation: (Int, Int)
  let ceilMode: Bool

  /// Pools `kernelSize` windows every `stride` (default: the kernel size).
  public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1, ceilMode: Bool = false) {
    kernel = (kernelSize, kernelSize)
    self.stride = (stride ?? kernelSize, stride ?? kernelSize)
    self.padding = (padding, padding)
    self.dilation = (dilation, dilation)
    self.ceilMode = ceilMode
  }

  /// Applies the pooling.
  public override func forward(_ x: Tensor) -> Tensor {
    Functional.maxPool2d(x, kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
  }
}

/// Average pooling (PyTorch: `nn.AvgPool2d`).
public final class AvgPool2d: Module {
  let kernel: (Int, Int)
  let stride: (Int, Int)
  let padding: (Int, Int)
  let ceilMode: Bool
  let countIncludePad: Bool
  let divisorOverride: Int?

  /// Pools `kernelSize` windows every `stride` (default: the kernel size).
  public init(
    kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false, countIncludePad: Bool = true,
    divisorOverride: Int? = nil
  ) {
    kernel = (kernelSize, kernelSize)
    self.stride = (stride ?? kernelSize, stride ?? kernelSize)
    self.padding = (padding, padding)
    self.ceilMode = ceilMode
    self.countIncludePad = countIncludePad
    self.divisorOverride = divisorOverride
  }

  /// Applies the pooling.
  public override func forward(_ x: Tensor) -> Tensor {
    Functional.avgPool2d(
      x, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad,
      divisorOverride: divisorOverride)
  }
}
