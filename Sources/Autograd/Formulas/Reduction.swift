/// Backward formulas of reductions.
enum ReductionFormulas {
  /// Re-inserts reduced dims (as size 1) into a gradient when the op dropped them.
  static func keepingDims(_ g: Tensor, dims: [Int], keepdim: Bool) -> Tensor {
    keepdim ? g : dims.sorted().reduce(g) { $0.unsqueeze($1) }
  }

  static func reduce(_ op: ReduceOp, dims: [Int], keepdim: Bool, input: Tensor, output: Tensor) -> Function {
    let shape = input.shape
    let allDims = dims.count == input.dim && !keepdim
    switch op {
    case .sum:
      return Function(name: allDims ? "SumBackward0" : "SumBackward1", inputs: [input], savesValues: false) { g in
        [keepingDims(g, dims: dims, keepdim: keepdim).expand(shape)]
      }
    case .prod:
      let x = SavedTensor(input)
      let y = SavedTensor(output: output)
      return Function(
        name: allDims ? "ProdBackward0" : "ProdBackward1", inputs: [input], savesValues: true, savedOutput: y
      ) { g in
        let v = try x.unpack()
        // An empty input has an empty gradient (the product of nothing is 1, a constant).
        if v.numel == 0 { return [Tensor.zeros(like: v)] }
        let product = keepingDims(try y.unpack(), dims: dims, keepdim: keepdim)
        let grad = keepingDims(g, dims: dims, keepdim: keepdim)
        // The product of the other elements; where x is zero, recompute it directly. The
        // division's denominator is masked there too: a 0/0 in the branch `where` drops would
        // still meet its zero gradient in a second derivative and make NaN.
        let isZero = v .== 0
        let others = Tensor.where(isZero, productOfOthers(v, dims: dims), product / Tensor.where(isZero, 1.0, v))
        return [grad * others]
      }
    case .amax, .amin:
      let x = SavedTensor(input)
      let y = SavedTensor(output: output)
      let name =
        allDims ? (op == .amax ? "MaxBackward1" : "MinBackward1") : (op == .amax ? "AmaxBackward0" : "AminBackward0")
      return Function(name: name, inputs: [input], savesValues: true, savedOutput: y) { g in
        // The gradient is shared evenly among tied extremes.
        let winners = ((try x.unpack()) .== keepingDims(try y.unpack(), dims: dims, keepdim: keepdim)).to(g.dtype)
        return [winners * keepingDims(g, dims: dims, keepdim: keepdim) / winners.sum(dim: dims, keepdim: true)]
      }
    case .all, .any:
      return Function(name: "NotDifferentiable", inputs: [input], savesValues: false) { _ in [nil] }
    }
  }

  /// For each element, the product of the others in its reduction group (used where the
  /// element is zero, so division cannot).
  private static func productOfOthers(_ x: Tensor, dims: [Int]) -> Tensor {
    let count = dims.reduce(1) { $0 * x.shape[$1] }
    let kept = (0..<x.dim).filter { !dims.contains($0) }
    // Move reduced dims last, flatten them, and for each position multiply prefix and suffix products.
    let moved = x.permute(kept + dims).reshape(kept.map { x.shape[$0] } + [count])
    let ones = Tensor.ones(Array(moved.shape.dropLast()) + [1], dtype: x.dtype, device: x.device)
    let prefix = Tensor.cat([ones, moved.narrow(dim: -1, start: 0, length: count - 1)], dim: -1).cumprod(dim: -1)
    let reversed = moved.indexSelect(dim: -1, index: Tensor.arange(count - 1, -1, step: -1, device: x.device))
    let suffixReversed = Tensor.cat([ones, reversed.narrow(dim: -1, start: 0, length: count - 1)], dim: -1).cumprod(
      dim: -1)
    let suffix = suffixReversed.indexSelect(dim: -1, index: Tensor.arange(count - 1, -1, step: -1, device: x.device))
    let result = (prefix * suffix).reshape(kept.map { x.shape[$0] } + dims.map { x.shape[$0] })
    var inverse = [Int](repeating: 0, count: x.dim)
    for (i, d) in (kept + dims).enumerated() { inverse[d] = i }
    return result.permute(inverse)
  }

  static func argReduce(_ op: ArgReduceOp, dim: Int, keepdim: Bool, indices: Tensor, input: Tensor) -> Function {
    let shape = input.shape
    let positions = keepdim ? indices : indices.unsqueeze(dim)
    return Function(name: op == .max ? "MaxBackward0" : "MinBackward0", inputs: [input], savesValues: false) { g in
      let grad = keepdim ? g : g.unsqueeze(dim)
      let result = Tensor.zeros(shape, dtype: g.dtype, device: g.device)
      if shape.isEmpty { return [g.reshape([])] }
      return [result.scatter(dim: dim, index: positions, src: grad)]
    }
  }

  /// `sum(g) - cumsum(g) + g` along `dim`: the reversed cumulative sum.
  /// Sums from each position to the end of `dim`, by flipping (as PyTorch does): the total
  /// minus the prefix sum lost the small terms next to large ones (a 0.3% error in
  /// logcumsumexp's gradient).
  private static func reverseCumsum(_ g: Tensor, dim: Int) -> Tensor {
    g.flip(dim).cumsum(dim: dim).flip(dim)
  }

  static func scan(_ op: ScanOp, dim: Int, input: Tensor, output: Tensor) -> Function {
    switch op {
    case .cumsum:
      return Function(name: "CumsumBackward0", inputs: [input], savesValues: false) { g in
        [input.dim == 0 ? g : reverseCumsum(g, dim: dim)]
      }
    case .cumprod:
      let x = SavedTensor(input)
      let y = SavedTensor(output: output)
      return Function(name: "CumprodBackward0", inputs: [input], savesValues: true, savedOutput: y) { g in
        let v = try x.unpack()
        if !(v .== 0).any().item(Bool.self) {
          return [reverseCumsum(g * (try y.unpack()), dim: dim) / v]
        }
        return [cumprodBackwardWithZeros(g, v, dim: dim)]
      }
    }
  }

  /// `d cumprod / dx` without dividing by `x`: for each position k,
  /// `prod(x[..<k]) * sum over j >= k of g[j] * prod(x[k+1...j])`.
  private static func cumprodBackwardWithZeros(_ g: Tensor, _ x: Tensor, dim: Int) -> Tensor {
    let n = x.shape[dim]
    var pieces: [Tensor] = []
    for k in 0..<n {
      var shape = x.shape
      shape[dim] = 1
      let left =
        k == 0
        ? Tensor.ones(shape, dtype: x.dtype, device: x.device)
        : x.narrow(dim: dim, start: 0, length: k).prod(dim: dim, keepdim: true)
      let ones = Tensor.ones(shape, dtype: x.dtype, device: x.device)
      let after = x.narrow(dim: dim, start: k + 1, length: n - k - 1)
      let right = Tensor.cat([ones, after.cumprod(dim: dim)], dim: dim)
      let tail = g.narrow(dim: dim, start: k, length: n - k)
      pieces.append(left * (tail * right).sum(dim: dim, keepdim: true))
    }
    return Tensor.cat(pieces, dim: dim)
  }

  static func mean(dims: [Int], keepdim: Bool, input: Tensor) -> Function {
    let shape = input.shape
    let count = dims.reduce(1) { $0 * shape[$1] }
    let allDims = dims.count == input.dim && !keepdim
    return Function(name: allDims ? "MeanBackward0" : "MeanBackward1", inputs: [input], savesValues: false) { g in
      [keepingDims(g, dims: dims, keepdim: keepdim).expand(shape) / count]
    }
  }

  static func softmax(dim: Int, log: Bool, input: Tensor, output: Tensor) -> Function {
    let y = SavedTensor(output: output)
    return Function(
      name: log ? "LogSoftmaxBackward0" : "SoftmaxBackward0", inputs: [input], savesValues: true, savedOutput: y
    ) { g in
      let out = try y.unpack()
      if log { return [g - out.exp() * g.sum(dim: dim, keepdim: true)] }
      return [out * (g - (g * out).sum(dim: dim, keepdim: true))]
    }
  }
}
