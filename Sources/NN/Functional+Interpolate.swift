import Foundation

extension Functional {
  /// How `interpolate` computes an output sample from the input's.
  public enum InterpolationMode: Sendable {
    /// The input sample at `floor(dst * scale)` (PyTorch's `'nearest'`).
    case nearest
    /// The input sample at `floor((dst + 0.5) * scale)` (PyTorch's `'nearest-exact'`).
    case nearestExact
    /// Linear along the one spatial dim of 3-D input.
    case linear
    /// Linear along both spatial dims of 4-D input.
    case bilinear
    /// Cubic convolution (A = -0.75; -0.5 with antialiasing) over 4-D input.
    case bicubic
    /// Linear along the three spatial dims of 5-D input.
    case trilinear
    /// The mean over each output sample's region (adaptive average pooling).
    case area

    var name: String {
      switch self {
      case .nearest: "nearest"
      case .nearestExact: "nearest-exact"
      case .linear: "linear"
      case .bilinear: "bilinear"
      case .bicubic: "bicubic"
      case .trilinear: "trilinear"
      case .area: "area"
      }
    }

    var interpolates: Bool { [.linear, .bilinear, .bicubic, .trilinear].contains(self) }
  }

  /// Resizes the spatial dims of `[N, C, *spatial]` input (PyTorch: `F.interpolate`): to
  /// `size`, or by `scaleFactor` (output `floor(in * scale)`; one value stands for every
  /// dim). `alignCorners` maps the corner samples onto each other (linear modes only);
  /// `antialias` low-pass filters when shrinking (bilinear and bicubic, as PyTorch's
  /// `antialias=True` and torchvision's `Resize`). With `recomputeScaleFactor`, the scale
  /// used for the coordinates is recomputed from the sizes.
  ///
  /// Each spatial dim is resampled in turn by a matrix of PyTorch's weights, so the gradient
  /// is the transposed resampling (nearest modes gather, and scatter back).
  public static func interpolate(
    _ x: Tensor, size: [Int]? = nil, scaleFactor: [Double]? = nil, mode: InterpolationMode = .nearest,
    alignCorners: Bool? = nil,
    recomputeScaleFactor: Bool? = nil, antialias: Bool = false
  ) -> Tensor {
    let dims = x.dim - 2
    usageCheck(
      dims >= 1 && dims <= 3,
      "interpolate: expected 3-D, 4-D or 5-D input ([N, C, *spatial]), got \(x.dim)-D input of shape \(x.shape)")
    let needed = ["linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3][mode.name]
    usageCheck(
      needed == nil || needed == dims, "Got \(x.dim)D input, but \(mode.name) mode needs \((needed ?? 0) + 2)D input")
    usageCheck((size == nil) != (scaleFactor == nil), "only one of size or scale_factor should be defined")
    usageCheck(
      alignCorners == nil || mode.interpolates,
      "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear")
    usageCheck(
      !antialias || mode == .bilinear || mode == .bicubic,
      "Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor as input")
    let inSizes = Array(x.shape.dropFirst(2))
    let outSizes: [Int]
    var scales: [Double?] = Array(repeating: nil, count: dims)
    if let size {
      usageCheck(
        size.count == 1 || size.count == dims,
        "Input and output must have the same number of spatial dimensions, but got input with spatial dimensions of \(inSizes) and output size of \(size)"
      )
      outSizes = size.count == 1 ? Array(repeating: size[0], count: dims) : size
    } else {
      let factors = scaleFactor!.count == 1 ? Array(repeating: scaleFactor![0], count: dims) : scaleFactor!
      usageCheck(
        factors.count == dims,
        "Input and scale_factor must have the same number of spatial dimensions, but got input with spatial dimensions of \(inSizes) and scale_factor of shape \(scaleFactor!)"
      )
      outSizes = zip(inSizes, factors).map { Int((Double($0) * $1).rounded(.down)) }
      if recomputeScaleFactor != true { scales = factors.map { Optional(1 / $0) } }
    }
    usageCheck(
      outSizes.allSatisfy { $0 > 0 }, "interpolate: the output size \(outSizes) must be positive (input \(inSizes))")
    var y = x
    // A dim whose size and scale stay (scale 1) maps every sample onto itself in every mode.
    for axis in 0..<dims where inSizes[axis] != outSizes[axis] || (scales[axis] ?? 1) != 1 {
      let dim = 2 + axis
      let inSize = inSizes[axis]
      let outSize = outSizes[axis]
      if mode == .nearest || mode == .nearestExact {
        let indices = (0..<outSize).map {
          nearestSource($0, inSize: inSize, outSize: outSize, scale: scales[axis], exact: mode == .nearestExact)
        }
        y = y.indexSelect(dim: dim, index: Tensor(indices.map(Int64.init), shape: [outSize]).movedTo(x.device))
      } else {
        let map = resamplingMap(
          inSize: inSize, outSize: outSize, scale: scales[axis], mode: mode, alignCorners: alignCorners ?? false,
          antialias: antialias)
        y = resample(y, along: dim, by: map)
      }
    }
    return y.contiguous()
  }

  /// PyTorch's scale for the source coordinate: `in / out`, the given `1 / scale_factor`,
  /// or with `alignCorners` `(in - 1) / (out - 1)`.
  private static func coordinateScale(inSize: Int, outSize: Int, scale: Double?, alignCorners: Bool) -> Double {
    if alignCorners { return outSize > 1 ? Double(inSize - 1) / Double(outSize - 1) : 0 }
    return scale ?? Double(inSize) / Double(outSize)
  }

  /// The nearest modes' source index, computed in float32 as PyTorch's CPU kernel does.
  private static func nearestSource(_ dst: Int, inSize: Int, outSize: Int, scale: Double?, exact: Bool) -> Int {
    if !exact && outSize == inSize { return dst }
    if !exact && outSize == 2 * inSize { return dst >> 1 }
    let s = Float(scale ?? Double(inSize) / Double(outSize))
    let source = exact ? ((Float(dst) + 0.5) * s).rounded(.down) : (Float(dst) * s).rounded(.down)
    return min(Int(source), inSize - 1)
  }

  /// `map` applied along `dim`: on the CPU (float32, float64) visiting only the taps, with
  /// the transposed map as its gradient (so gradients of any order); elsewhere as a product
  /// with the dense `[in, out]` matrix.
  static func resample(_ x: Tensor, along dim: Int, by map: AxisResampling) -> Tensor {
    guard x.device == .cpu, x.dtype == .float32 || x.dtype == .float64 else {
      var dense = [Double](repeating: 0, count: map.inputSize * map.rows.count)
      for (o, row) in map.rows.enumerated() {
        for tap in row { dense[tap.index * map.rows.count + o] += tap.weight }
      }
      let matrix = Tensor(dense, shape: [map.inputSize, map.rows.count], dtype: .float64).to(x.dtype).movedTo(x.device)
      return x.transpose(dim, -1).matmul(matrix).transpose(dim, -1)
    }
    let output = withNoGrad { x.detach().resampled(along: dim, by: map) }
    return Autograd.record(output, from: [x], name: "UpsampleBackward0") { grad in
      [resample(grad, along: dim, by: map.transposed)]
    }
  }

  /// The taps and weights of each output sample along one axis, as PyTorch computes them.
  private static func resamplingMap(
    inSize: Int, outSize: Int, scale: Double?, mode: InterpolationMode, alignCorners: Bool, antialias: Bool
  ) -> AxisResampling {
    var rows = [[AxisResampling.Tap]](repeating: [], count: outSize)
    func add(_ source: Int, _ o: Int, _ weight: Double) {
      let index = min(max(source, 0), inSize - 1)
      if let k = rows[o].firstIndex(where: { $0.index == index }) {
        rows[o][k].weight += weight
      } else {
        rows[o].append(AxisResampling.Tap(index: index, weight: weight))
      }
    }
    let s = coordinateScale(inSize: inSize, outSize: outSize, scale: scale, alignCorners: alignCorners)
    switch mode {
    case .area:
      // Adaptive average pooling: output o averages input [floor(o in / out), ceil((o + 1) in / out)).
      for o in 0..<outSize {
        let start = o * inSize / outSize
        let end = ((o + 1) * inSize + outSize - 1) / outSize
        for i in start..<end { add(i, o, 1 / Double(end - start)) }
      }
    case _ where antialias && s > 1:
      // PyTorch's separable antialiasing: a triangle (bilinear) or Keys cubic with a = -0.5
      // (bicubic) filter, stretched by the scale, its weights normalised per output sample.
      let support = (mode == .bicubic ? 2.0 : 1.0) * s
      for o in 0..<outSize {
        let center = s * (Double(o) + 0.5)
        let low = max(Int(center - support + 0.5), 0)
        let high = min(Int(center + support + 0.5), inSize)
        let taps = (low..<high).map { j -> Double in
          let x = abs((Double(j) - center + 0.5) / s)
          if mode == .bilinear { return max(0, 1 - x) }
          let a = -0.5
          if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
          if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
          return 0
        }
        let total = taps.reduce(0, +)
        for (j, tap) in zip(low..<high, taps) { add(j, o, total != 0 ? tap / total : 0) }
      }
    case .bicubic:
      for o in 0..<outSize {
        let source = alignCorners ? s * Double(o) : s * (Double(o) + 0.5) - 0.5
        let base = source.rounded(.down)
        let t = source - base
        for (k, c) in cubicCoefficients(t).enumerated() { add(Int(base) - 1 + k, o, c) }
      }
    default:
      for o in 0..<outSize {
        let source = alignCorners ? s * Double(o) : max(s * (Double(o) + 0.5) - 0.5, 0)
        let i0 = Int(source)
        let lambda = source - Double(i0)
        add(i0, o, 1 - lambda)
        add(i0 + (i0 < inSize - 1 ? 1 : 0), o, lambda)
      }
    }
    return AxisResampling(inputSize: inSize, rows: rows)
  }

  /// PyTorch's cubic convolution weights (A = -0.75) of the four samples around offset `t`.
  static func cubicCoefficients(_ t: Double) -> [Double] {
    let a = -0.75
    func near(_ x: Double) -> Double { ((a + 2) * x - (a + 3)) * x * x + 1 }
    func far(_ x: Double) -> Double { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]
  }
}
