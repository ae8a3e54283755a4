// Reductions and comparisons composed from the primitives: NaN-aware sums, counts, running
// extremes, closeness, cross products and distances.

extension Tensor {
  /// How many elements are not zero, over `dims` (all when nil) (PyTorch: `torch.count_nonzero`).
  public func countNonzero(dim dims: [Int]? = nil) -> Tensor {
    (self .!= 0).sum(dim: dims ?? Array(0..<dim), dtype: .int64)
  }

  /// `countNonzero` over one dim.
  public func countNonzero(dim d: Int) -> Tensor { countNonzero(dim: [d]) }

  /// The sum treating NaN as zero (PyTorch: `torch.nansum`).
  public func nansum(dim dims: [Int]? = nil, keepdim: Bool = false, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "nansum") {
      let cleaned = dtype.isFloatingPoint ? Tensor.where(isnan(), 0.0, self) : self
      return cleaned.sum(dim: dims ?? Array(0..<dim), keepdim: keepdim)
    }
  }

  /// The mean of the non-NaN elements (PyTorch: `torch.nanmean`).
  public func nanmean(dim dims: [Int]? = nil, keepdim: Bool = false, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "nanmean") {
      usageCheck(
        dtype.isFloatingPoint, "nanmean(): expected input to have floating point dtype but got \(dtype.scalarTypeName)")
      let axes = dims ?? Array(0..<dim)
      return nansum(dim: axes, keepdim: keepdim) / isnan().logicalNot().sum(dim: axes, keepdim: keepdim, dtype: dtype)
    }
  }

  /// The smallest and largest elements, over `dim` or all (PyTorch: `torch.aminmax`).
  public func aminmax(dim d: Int? = nil, keepdim: Bool = false, out: (min: Tensor, max: Tensor)? = nil) -> (
    min: Tensor, max: Tensor
  ) {
    Tensor.writing(into: out.map { ($0.0, $0.1) }, op: "aminmax") {
      let axes = d.map { [$0] } ?? Array(0..<dim)
      return (amin(dim: axes, keepdim: keepdim), amax(dim: axes, keepdim: keepdim))
    }
  }

  /// The running maximum along `dim` and where it was found (the last of equal maxima; NaN,
  /// once seen, stays) (PyTorch: `torch.cummax`).
  public func cummax(dim d: Int, out: (values: Tensor, indices: Tensor)? = nil) -> (values: Tensor, indices: Tensor) {
    Tensor.writing(into: out.map { ($0.0, $0.1) }, op: "cummax") { runningExtreme(dim: d, largest: true) }
  }

  /// The running minimum along `dim` and where it was found (PyTorch: `torch.cummin`).
  public func cummin(dim d: Int, out: (values: Tensor, indices: Tensor)? = nil) -> (values: Tensor, indices: Tensor) {
    Tensor.writing(into: out.map { ($0.0, $0.1) }, op: "cummin") { runningExtreme(dim: d, largest: false) }
  }

  /// The winners' positions are found on the host; values come through `gather`, which
  /// carries the gradient.
  private func runningExtreme(dim d: Int, largest: Bool) -> (values: Tensor, indices: Tensor) {
    let source = atleast1d()
    let axis = source.normalizedDim(d)
    let rows = source.movedim(axis, -1).contiguous().movedTo(.cpu).to(.float64)
    let width = rows.shape.last ?? 1
    let keys = rows.toArray(Double.self)
    var winners = [Int64](repeating: 0, count: keys.count)
    for row in 0..<(width == 0 ? 0 : keys.count / width) {
      var best = 0
      for k in 0..<width {
        let (candidate, current) = (keys[row * width + k], keys[row * width + best])
        let wins = largest ? candidate >= current : candidate <= current
        if !current.isNaN && (candidate.isNaN || wins) { best = k }
        winners[row * width + k] = Int64(best)
      }
    }
    let indices = Tensor(winners, shape: rows.shape).movedTo(device).movedim(-1, axis)
    let values = source.gather(dim: axis, index: indices)
    return dim == 0 ? (values.view([Int]()), indices.view([Int]())) : (values, indices)
  }

  /// Whether each element is within `atol + rtol * |other|` of `other` (equal infinities
  /// are close; NaN only to NaN with `equalNaN`) (PyTorch: `torch.isclose`).
  public func isclose(_ other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8, equalNaN: Bool = false) -> Tensor {
    usageCheck(dtype == other.dtype, "isclose: \(dtype.scalarTypeName) did not match \(other.dtype.scalarTypeName)")
    var close = self .== other
    guard dtype.isFloatingPoint else { return close }
    if equalNaN { close = close.logicalOr(isnan().logicalAnd(other.isnan())) }
    let error = (self - other).abs()
    return close.logicalOr(error.isfinite().logicalAnd(error .<= (other * rtol).abs() + atol))
  }

  /// Whether every element is `isclose` to `other` (PyTorch: `torch.allclose`).
  public func allclose(_ other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8, equalNaN: Bool = false) -> Bool {
    isclose(other, rtol: rtol, atol: atol, equalNaN: equalNaN).all().item(Bool.self)
  }

  /// The cross product of 3-vectors along `dim` (PyTorch: `torch.linalg.cross`).
  public func cross(_ other: Tensor, dim d: Int = -1, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "cross") {
      usageCheck(self.dim == other.dim, "linalg.cross: inputs must have the same number of dimensions.")
      let shape = Tensor.broadcastShape([self.shape, other.shape], op: "linalg.cross")
      let axis = Tensor.wrapDim(d, rank: shape.count)
      usageCheck(
        shape[axis] == 3,
        "linalg.cross: inputs dimension \(d) must have length 3. Got \(self.shape.count > axis ? self.shape[axis] : 0) and \(other.shape.count > axis ? other.shape[axis] : 0)"
      )
      let (a, b) = (expand(shape), other.expand(shape))
      // (a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0): each component from the next two.
      return a.roll(-1, dim: axis) * b.roll(-2, dim: axis) - a.roll(-2, dim: axis) * b.roll(-1, dim: axis)
    }
  }
}

extension Tensor {
  /// The cosine of the angle between `x1` and `x2` along `dim`, each normalised with its norm
  /// clamped to at least `eps` (PyTorch: `F.cosine_similarity`).
  public static func cosineSimilarity(_ x1: Tensor, _ x2: Tensor, dim d: Int = 1, eps: Double = 1e-8) -> Tensor {
    let n1 = x1.norm(p: 2, dim: [d], keepdim: true).clamp(min: .double(eps))
    let n2 = x2.norm(p: 2, dim: [d], keepdim: true).clamp(min: .double(eps))
    return ((x1 / n1) * (x2 / n2)).sum(dim: d)
  }

  /// The `p`-norm of `x1 - x2 + eps` along the last dim (PyTorch: `F.pairwise_distance`).
  public static func pairwiseDistance(
    _ x1: Tensor, _ x2: Tensor, p: Double = 2, eps: Double = 1e-6, keepdim: Bool = false
  ) -> Tensor {
    (x1 - x2 + eps).norm(p: p, dim: [-1], keepdim: keepdim)
  }
}

extension Tensor {
  /// `log(cumsum(exp(x)))` along `dim`, computed in double precision after shifting by each
  /// row's maximum (exact unless a row spans more than ~700 in value, where the smaller
  /// prefix sums underflow) (PyTorch: `torch.logcumsumexp`).
  public func logcumsumexp(dim d: Int, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "logcumsumexp") {
      usageCheck(dtype.isFloatingPoint, "logcumsumexp: expected a floating point tensor, got \(dtype.scalarTypeName)")
      let source = atleast1d()
      let axis = source.normalizedDim(d)
      let v = source.to(.float64)
      guard v.numel > 0 else { return clone() }
      let peak = v.amax(dim: [axis], keepdim: true).detach()
      let shift = Tensor.where(peak.isinf(), 0.0, peak)
      let result = ((v - shift).exp().cumsum(dim: axis).log() + shift).to(dtype)
      return dim == 0 ? result.view([Int]()) : result
    }
  }

  /// The most frequent value along `dim` (the smallest of equally frequent ones; NaN never
  /// equals NaN) and the position of its last occurrence (PyTorch: `torch.mode`).
  public func mode(dim d: Int = -1, keepdim: Bool = false, out: (values: Tensor, indices: Tensor)? = nil) -> (
    values: Tensor, indices: Tensor
  ) {
    Tensor.writing(into: out.map { ($0.0, $0.1) }, op: "mode") {
      let source = atleast1d()
      let axis = source.normalizedDim(d)
      let rows = source.movedim(axis, -1).contiguous().movedTo(.cpu).to(.float64)
      let width = rows.shape.last ?? 0
      usageCheck(width > 0, "mode(): Expected reduction dim \(axis) to have non-zero size.")
      let keys = rows.toArray(Double.self)
      var winners: [Int64] = []
      for row in 0..<(keys.count / width) {
        let values = Array(keys[(row * width)..<((row + 1) * width)])
        let order = values.indices.sorted {
          values[$0] < values[$1] || (values[$1].isNaN && !values[$0].isNaN) || (values[$0] == values[$1] && $0 < $1)
        }
        var best = (count: 0, last: 0)
        var start = 0
        while start < order.count {
          var end = start + 1
          while end < order.count && values[order[end]] == values[order[start]] { end += 1 }
          // Sorted ascending: only a strictly larger count displaces the smaller value.
          if end - start > best.count { best = (end - start, order[start..<end].max()!) }
          start = end
        }
        winners.append(Int64(best.last))
      }
      var keptShape = Array(rows.shape.dropLast())
      keptShape.append(1)
      let indices = Tensor(winners, shape: keptShape).movedTo(device).movedim(-1, axis)
      var values = source.gather(dim: axis, index: indices)
      var picked = indices
      if !keepdim || dim == 0 {
        values = values.squeeze(dim: axis)
        picked = picked.squeeze(dim: axis)
      }
      return (values, picked)
    }
  }

  /// The `p`-norm distance between each row of `x1` `[..., P, M]` and each row of `x2`
  /// `[..., R, M]`, as `[..., P, R]` (PyTorch: `torch.cdist`; the gradient at a zero distance is 0).
  public static func cdist(_ x1: Tensor, _ x2: Tensor, p: Double = 2) -> Tensor {
    usageCheck(x1.dim >= 2 && x2.dim >= 2, "cdist only supports at least 2D tensors, X1 got: \(x1.dim)D")
    usageCheck(
      x1.shape.last == x2.shape.last,
      "X1 and X2 must have the same number of columns. X1: \(x1.shape.last!) X2: \(x2.shape.last!)")
    return (x1.unsqueeze(-2) - x2.unsqueeze(-3)).norm(p: p, dim: [-1])
  }
}
