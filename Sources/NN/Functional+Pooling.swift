import Autograd

extension Functional {
  /// The output size of a pooling window along one dim, and the extra right padding that
  /// `ceilMode` needs (the last window must start inside the input or its left padding).
  static func poolExtent(size n: Int, kernel k: Int, stride s: Int, padding p: Int, dilation d: Int, ceilMode: Bool) -> (out: Int, extra: Int) {
    let span = d * (k - 1) + 1
    let room = n + 2 * p - span
    var out = (ceilMode ? (room + s - 1) / s : room / s) + 1
    if ceilMode && (out - 1) * s >= n + p { out -= 1 }
    return (out, Swift.max(0, (out - 1) * s + span - (n + 2 * p)))
  }

  /// The windows of `x` padded by `padding` (filled with `value`) and, on the right, by what
  /// `ceilMode` needs (filled with `ceilValue`), as a view `[N, C, Ho, Wo, kh, kw]`.
  private static func poolWindows(
    _ x: Tensor, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), ceilMode: Bool,
    value: Double, ceilValue: Double, op: String
  ) -> Tensor {
    usageCheck(
      padding.0 <= kernel.0 / 2 && padding.1 <= kernel.1 / 2,
      "\(op): pad should be smaller than or equal to half of kernel size, but got padW = \(padding.1), padH = \(padding.0), kW = \(kernel.1), kH = \(kernel.0)")
    let rows = poolExtent(size: x.shape[2], kernel: kernel.0, stride: stride.0, padding: padding.0, dilation: dilation.0, ceilMode: ceilMode)
    let cols = poolExtent(size: x.shape[3], kernel: kernel.1, stride: stride.1, padding: padding.1, dilation: dilation.1, ceilMode: ceilMode)
    usageCheck(rows.out > 0 && cols.out > 0, "\(op): Given input size \(x.shape), the calculated output size is too small (\(rows.out)x\(cols.out))")
    var padded = pad(x, [padding.1, padding.1, padding.0, padding.0], value: value)
    if rows.extra > 0 || cols.extra > 0 { padded = pad(padded, [0, cols.extra, 0, rows.extra], value: ceilValue) }
    return windows(padded, kernel: kernel, stride: stride, dilation: dilation)
  }

  /// Max over sliding windows; padding counts as -inf (PyTorch: `F.max_pool2d` with
  /// `dilation` and `ceil_mode`).
  public static func maxPool2d(
    _ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
    ceilMode: Bool = false
  ) -> Tensor {
    maxPool2dWithIndices(x, kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode).values
  }

  /// `maxPool2d` and where each maximum came from, as an index into the flattened H x W of
  /// its channel (PyTorch: `F.max_pool2d(..., return_indices=True)`).
  public static func maxPool2dWithIndices(
    _ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
    ceilMode: Bool = false
  ) -> (values: Tensor, indices: Tensor) {
    let stride = stride ?? kernel
    let message = "max_pool2d: non-empty 3D or 4D (batch mode) tensor expected for input, got \(x.shape)"
    var indices: Tensor?
    let values = acceptingUnbatched(x, message) { x in
      let win = poolWindows(
        x, kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode,
        value: -.infinity, ceilValue: -.infinity, op: "max_pool2d")
      let flat = win.reshape(Array(win.shape.prefix(4)) + [kernel.0 * kernel.1])
      let (best, slot) = flat.max(dim: -1)
      // The winner's row and column in the unpadded input.
      let (ho, wo) = (best.shape[2], best.shape[3])
      let row = slot.floorDivide(kernel.1) * dilation.0 + (Tensor.arange(ho, device: x.device) * stride.0 - padding.0).view(ho, 1)
      let col = slot.remainder(kernel.1) * dilation.1 + (Tensor.arange(wo, device: x.device) * stride.1 - padding.1).view(1, wo)
      indices = row * x.shape[3] + col
      return best
    }
    return (values, x.dim == 3 ? indices!.squeeze(dim: 0) : indices!)
  }

  /// Mean over sliding windows (PyTorch: `F.avg_pool2d`): padding counts toward the divisor
  /// unless `countIncludePad` is false, the extension `ceilMode` adds never does, and
  /// `divisorOverride` replaces the divisor.
  public static func avgPool2d(
    _ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0), ceilMode: Bool = false,
    countIncludePad: Bool = true, divisorOverride: Int? = nil
  ) -> Tensor {
    let stride = stride ?? kernel
    return acceptingUnbatched(x, "avg_pool2d: non-empty 3D or 4D (batch mode) tensor expected for input, got \(x.shape)") { x in
      let window = { (t: Tensor, value: Double) in
        poolWindows(t, kernel: kernel, stride: stride, padding: padding, dilation: (1, 1), ceilMode: ceilMode, value: value, ceilValue: 0, op: "avg_pool2d")
      }
      let sums = window(x, 0).sum(dim: [4, 5])
      if let divisorOverride {
        usageCheck(divisorOverride != 0, "avg_pool2d: divisor must be not zero")
        return sums / Double(divisorOverride)
      }
      // How many cells of each window count: a ones image, its padding 1 or 0.
      let ones = Tensor.ones([1, 1, x.shape[2], x.shape[3]], dtype: x.dtype, device: x.device)
      let counts = window(ones, countIncludePad ? 1 : 0).sum(dim: [4, 5])
      return sums / counts
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
    kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false, countIncludePad: Bool = true, divisorOverride: Int? = nil
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
