extension Tensor {
  /// Normalised, de-duplicated reduction dims (`nil` or empty means all).
  package func reductionDims(_ dims: [Int]?, op: String) -> [Int] {
    guard let dims, !dims.isEmpty else { return Array(0..<dim) }
    var seen = Set<Int>()
    return dims.map { d in
      let n = normalizedDim(d)
      usageCheck(seen.insert(n).inserted, "\(op): dim \(n) appears multiple times in the list of dims")
      return n
    }.filter { $0 < dim }
  }

  /// The keepdim shape of a reduction over `dims`.
  private func keptShape(_ dims: [Int]) -> [Int] {
    var s = shape
    for d in dims { s[d] = 1 }
    return s
  }

  /// Removes the reduced (size-1) dims when `keepdim` is false, without recording a view:
  /// the reduction is recorded as a whole.
  private func dropping(_ dims: [Int], keepdim: Bool, from result: Tensor) -> Tensor {
    if keepdim { return result }
    var l = result.layout
    for d in dims.sorted(by: >) {
      l.shape.remove(at: d)
      l.strides.remove(at: d)
    }
    return result.aliased(as: l)
  }

  /// Runs a reduction primitive over `dims` in `computeType`.
  package func reduction(_ op: ReduceOp, dims: [Int]?, keepdim: Bool, computeType: DType, name: String) -> Tensor {
    let axes = reductionDims(dims, op: name)
    if op == .amax || op == .amin {
      for d in axes {
        usageCheck(
          shape[d] > 0,
          "\(name)(): Expected reduction dim \(d) to have non-zero size. (input shape \(shapeString(shape))); pass a non-empty tensor"
        )
      }
    }
    let input = to(computeType)
    let out = Tensor(uninitializedShape: keptShape(axes), dtype: computeType, device: device)
    backend.reduce(op, input, dims: axes, into: out)
    let result = dropping(axes, keepdim: keepdim, from: out)
    return recorded(.reduce(op, dims: axes, keepdim: keepdim), [self], result)
  }

  private var accumulationType: DType { dtype.isFloatingPoint ? dtype : .int64 }

  /// The sum of all elements; integers and bools sum to int64 (PyTorch: `x.sum()`).
  public func sum(dtype: DType? = nil) -> Tensor { sum(dim: [Int](), dtype: dtype) }
  /// The sum over one dim.
  public func sum(dim d: Int, keepdim: Bool = false, dtype: DType? = nil) -> Tensor {
    sum(dim: [d], keepdim: keepdim, dtype: dtype)
  }
  /// The sum over several dims (all when empty).
  public func sum(dim dims: [Int], keepdim: Bool = false, dtype: DType? = nil) -> Tensor {
    if dtype == nil, let cast = Tensor.autocast(.float32OnDevices, self, { $0.sum(dim: dims, keepdim: keepdim) }) {
      return cast
    }
    return reduction(.sum, dims: dims, keepdim: keepdim, computeType: dtype ?? accumulationType, name: "sum")
  }

  /// The product of all elements (PyTorch: `x.prod()`).
  public func prod(dtype: DType? = nil) -> Tensor { prod(dim: [Int](), dtype: dtype) }
  /// The product over one dim.
  public func prod(dim d: Int, keepdim: Bool = false, dtype: DType? = nil) -> Tensor {
    prod(dim: [d], keepdim: keepdim, dtype: dtype)
  }
  /// The product over several dims.
  public func prod(dim dims: [Int], keepdim: Bool = false, dtype: DType? = nil) -> Tensor {
    if dtype == nil, let cast = Tensor.autocast(.float32, self, { $0.prod(dim: dims, keepdim: keepdim) }) {
      return cast
    }
    return reduction(.prod, dims: dims, keepdim: keepdim, computeType: dtype ?? accumulationType, name: "prod")
  }

  /// The mean of all elements; floating types only (PyTorch: `x.mean()`).
  public func mean(dtype: DType? = nil) -> Tensor { mean(dim: [Int](), dtype: dtype) }
  /// The mean over one dim.
  public func mean(dim d: Int, keepdim: Bool = false, dtype: DType? = nil) -> Tensor {
    mean(dim: [d], keepdim: keepdim, dtype: dtype)
  }
  /// The mean over several dims.
  public func mean(dim dims: [Int], keepdim: Bool = false, dtype: DType? = nil) -> Tensor {
    let t = dtype ?? self.dtype
    usageCheck(
      t.isFloatingPoint,
      "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: \(t.scalarTypeName)"
    )
    let axes = reductionDims(dims, op: "mean")
    let count = axes.reduce(1) { $0 * shape[$1] }
    let result = Tensor.unrecorded { sum(dim: axes, keepdim: keepdim, dtype: t).div(count) }
    return recorded(.mean(dims: axes, keepdim: keepdim), [self], result)
  }

  /// The largest element; NaN wins (PyTorch: `x.amax()`).
  public func amax() -> Tensor { amax(dim: [Int]()) }
  /// The largest element over one dim.
  public func amax(dim d: Int, keepdim: Bool = false) -> Tensor { amax(dim: [d], keepdim: keepdim) }
  /// The largest element over several dims.
  public func amax(dim dims: [Int], keepdim: Bool = false) -> Tensor {
    reduction(.amax, dims: dims, keepdim: keepdim, computeType: dtype, name: "amax")
  }

  /// The smallest element; NaN wins (PyTorch: `x.amin()`).
  public func amin() -> Tensor { amin(dim: [Int]()) }
  /// The smallest element over one dim.
  public func amin(dim d: Int, keepdim: Bool = false) -> Tensor { amin(dim: [d], keepdim: keepdim) }
  /// The smallest element over several dims.
  public func amin(dim dims: [Int], keepdim: Bool = false) -> Tensor {
    reduction(.amin, dims: dims, keepdim: keepdim, computeType: dtype, name: "amin")
  }

  /// Whether every element is nonzero (PyTorch: `x.all()`).
  public func all() -> Tensor { all(dim: [Int]()) }
  /// `all` over one dim.
  public func all(dim d: Int, keepdim: Bool = false) -> Tensor { all(dim: [d], keepdim: keepdim) }
  /// `all` over several dims.
  public func all(dim dims: [Int], keepdim: Bool = false) -> Tensor {
    to(.bool).reduction(.all, dims: dims, keepdim: keepdim, computeType: .bool, name: "all")
  }

  /// Whether any element is nonzero (PyTorch: `x.any()`).
  public func any() -> Tensor { any(dim: [Int]()) }
  /// `any` over one dim.
  public func any(dim d: Int, keepdim: Bool = false) -> Tensor { any(dim: [d], keepdim: keepdim) }
  /// `any` over several dims.
  public func any(dim dims: [Int], keepdim: Bool = false) -> Tensor {
    to(.bool).reduction(.any, dims: dims, keepdim: keepdim, computeType: .bool, name: "any")
  }

  /// The largest element (PyTorch: `x.max()`).
  public func max() -> Tensor {
    usageCheck(
      numel > 0,
      "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument."
    )
    return amax()
  }
  /// The smallest element (PyTorch: `x.min()`).
  public func min() -> Tensor {
    usageCheck(
      numel > 0,
      "min(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument."
    )
    return amin()
  }

  /// The largest values along `dim` and their first positions (PyTorch: `x.max(dim)`).
  public func max(dim d: Int, keepdim: Bool = false) -> (values: Tensor, indices: Tensor) {
    argReduction(.max, dim: d, keepdim: keepdim, name: "max")
  }
  /// The smallest values along `dim` and their first positions (PyTorch: `x.min(dim)`).
  public func min(dim d: Int, keepdim: Bool = false) -> (values: Tensor, indices: Tensor) {
    argReduction(.min, dim: d, keepdim: keepdim, name: "min")
  }

  private func argReduction(_ op: ArgReduceOp, dim d: Int, keepdim: Bool, name: String) -> (
    values: Tensor, indices: Tensor
  ) {
    let source = dim == 0 ? view(1) : self
    let axis = source.normalizedDim(d)
    usageCheck(
      source.shape[axis] > 0,
      "\(name)(): Expected reduction dim \(axis) to have non-zero size. (input shape \(shapeString(shape)))")
    let kept = source.keptShape([axis])
    let values = Tensor(uninitializedShape: kept, dtype: dtype, device: device)
    let indices = Tensor(uninitializedShape: kept, dtype: .int64, device: device)
    backend.argReduce(op, source, dim: axis, values: values, indices: indices)
    let keep = keepdim || dim == 0
    var v = source.dropping([axis], keepdim: keep, from: values)
    var i = source.dropping([axis], keepdim: keep, from: indices)
    if dim == 0 {
      v = v.aliased(as: Layout(shape: [], strides: [], offset: 0))
      i = i.aliased(as: Layout(shape: [], strides: [], offset: 0))
    }
    v = recorded(.argReduce(op, dim: axis, keepdim: keep, indices: i), [self], v)
    return (v, i)
  }

  /// The position of the largest element, of the flattened tensor when `dim` is nil
  /// (PyTorch: `x.argmax()`).
  public func argmax(dim d: Int? = nil, keepdim: Bool = false) -> Tensor {
    guard let d else { return reshape(-1).max(dim: 0).indices }
    return self.max(dim: d, keepdim: keepdim).indices
  }
  /// The position of the smallest element (PyTorch: `x.argmin()`).
  public func argmin(dim d: Int? = nil, keepdim: Bool = false) -> Tensor {
    guard let d else { return reshape(-1).min(dim: 0).indices }
    return self.min(dim: d, keepdim: keepdim).indices
  }

  /// The variance with Bessel's `correction` (1 by default) (PyTorch: `torch.var`).
  public func `var`(dim dims: [Int]? = nil, correction: Double = 1, keepdim: Bool = false) -> Tensor {
    usageCheck(
      dtype.isFloatingPoint,
      "var(): std and var only support floating point and complex dtypes; got \(dtype.scalarTypeName)")
    let axes = reductionDims(dims, op: "var")
    let count = axes.reduce(1) { $0 * shape[$1] }
    let centered = self - mean(dim: axes, keepdim: true)
    // A fractional correction is allowed, as in PyTorch.
    return (centered * centered).sum(dim: axes, keepdim: keepdim).div(Swift.max(0, Double(count) - correction))
  }
  /// The variance over one dim.
  public func `var`(dim d: Int, correction: Double = 1, keepdim: Bool = false) -> Tensor {
    self.var(dim: [d], correction: correction, keepdim: keepdim)
  }

  /// The standard deviation (PyTorch: `torch.std`).
  public func std(dim dims: [Int]? = nil, correction: Double = 1, keepdim: Bool = false) -> Tensor {
    self.var(dim: dims, correction: correction, keepdim: keepdim).sqrt()
  }
  /// The standard deviation over one dim.
  public func std(dim d: Int, correction: Double = 1, keepdim: Bool = false) -> Tensor {
    std(dim: [d], correction: correction, keepdim: keepdim)
  }

  /// The vector p-norm over `dim` (all elements when nil); `p` may be `.infinity`
  /// (PyTorch: `torch.norm` / `torch.linalg.vector_norm`).
  public func norm(p: Double = 2, dim dims: [Int]? = nil, keepdim: Bool = false) -> Tensor {
    usageCheck(
      dtype.isFloatingPoint,
      "linalg.vector_norm: Expected a floating point or complex tensor as input. Got \(dtype.scalarTypeName)")
    let axes = reductionDims(dims, op: "norm")
    let a = abs()
    switch p {
    case .infinity: return a.amax(dim: axes, keepdim: keepdim)
    case -.infinity: return a.amin(dim: axes, keepdim: keepdim)
    case 0:
      // A count: no gradient flows, but the result stays in the graph with zero gradients
      // (as PyTorch's), through a `where` that selects none of `a`.
      let count = a.ne(0).sum(dim: axes, keepdim: keepdim, dtype: dtype)
      guard a.hasAutogradState else { return count }
      return count + Tensor.where(Tensor.zeros(like: a, dtype: .bool), a, 0.0).sum(dim: axes, keepdim: keepdim)
    case 1: return a.sum(dim: axes, keepdim: keepdim)
    case 2:
      // At a zero norm the gradient is 0, as PyTorch's (sqrt's would be 0 / 0).
      let squares = (self * self).sum(dim: axes, keepdim: keepdim)
      guard hasAutogradState else { return squares.sqrt() }
      let isZero = squares .== 0
      return Tensor.where(isZero, 0.0, Tensor.where(isZero, 1.0, squares).sqrt())
    default: return a.pow(p).sum(dim: axes, keepdim: keepdim).pow(1 / p)
    }
  }
  /// The p-norm over one dim.
  public func norm(p: Double = 2, dim d: Int, keepdim: Bool = false) -> Tensor {
    norm(p: p, dim: [d], keepdim: keepdim)
  }

  /// `log(sum(exp(x)))` computed stably (PyTorch: `torch.logsumexp`).
  public func logsumexp(dim dims: [Int], keepdim: Bool = false) -> Tensor {
    if let cast = Tensor.autocast(.float32OnDevices, self, { $0.logsumexp(dim: dims, keepdim: keepdim) }) {
      return cast
    }
    let x = to(dtype.floatingResult)
    let axes = reductionDims(dims, op: "logsumexp")
    if x.numel == 0 { return x.exp().sum(dim: axes, keepdim: keepdim).log() }
    // Shift by the max (infinite maxima shift by 0 so that inf - inf never happens).
    let maxima = x.amax(dim: axes, keepdim: true).detach()
    let shift = Tensor.where(maxima.abs() .== Double.infinity, 0.0, maxima)
    let summed = (x - shift).exp().sum(dim: axes, keepdim: true).log() + shift
    return keepdim ? summed : summed.squeezing(axes)
  }
  /// `logsumexp` over one dim.
  public func logsumexp(dim d: Int, keepdim: Bool = false) -> Tensor { logsumexp(dim: [d], keepdim: keepdim) }

  /// Removes the given size-1 dims (as recorded views).
  private func squeezing(_ dims: [Int]) -> Tensor {
    dims.sorted(by: >).reduce(self) { $0.squeeze(dim: $1) }
  }

  /// `softmax` computed in `dtype` (the input is converted first, as PyTorch's `dtype=`).
  public func softmax(dim d: Int, dtype target: DType) -> Tensor { to(target).softmax(dim: d) }

  /// `logSoftmax` computed in `dtype` (PyTorch: `torch.log_softmax(x, dim, dtype=)`).
  public func logSoftmax(dim d: Int, dtype target: DType) -> Tensor { to(target).logSoftmax(dim: d) }

  /// `exp(x) / sum(exp(x))` along `dim`, computed stably (PyTorch: `torch.softmax`).
  public func softmax(dim d: Int) -> Tensor {
    if let cast = Tensor.autocast(.float32OnDevices, self, { $0.softmax(dim: d) }) { return cast }
    usageCheck(
      dtype.isFloatingPoint,
      "softmax: \"softmax_lastdim_kernel_impl\" not implemented for '\(dtype.scalarTypeName)'; convert to float first")
    let axis = normalizedDim(d)
    // An empty input is its own result, still recorded as softmax (PyTorch's node, and a
    // gradient that is differentiable again).
    if numel == 0 { return recorded(.softmax(dim: axis, log: false), [self], Tensor.unrecorded { clone() }) }
    let result =
      fusedSoftmax(axis, log: false)
      ?? Tensor.unrecorded {
        let e = (self - amax(dim: axis, keepdim: true)).exp()
        return e / e.sum(dim: axis, keepdim: true)
      }
    return recorded(.softmax(dim: axis, log: false), [self], result)
  }

  /// `log(softmax(x))` computed stably (PyTorch: `torch.log_softmax`).
  public func logSoftmax(dim d: Int) -> Tensor {
    if let cast = Tensor.autocast(.float32OnDevices, self, { $0.logSoftmax(dim: d) }) { return cast }
    usageCheck(
      dtype.isFloatingPoint,
      "log_softmax: \"log_softmax_lastdim_kernel_impl\" not implemented for '\(dtype.scalarTypeName)'; convert to float first"
    )
    let axis = normalizedDim(d)
    if numel == 0 { return recorded(.softmax(dim: axis, log: true), [self], Tensor.unrecorded { clone() }) }
    let result = fusedSoftmax(axis, log: true) ?? Tensor.unrecorded { self - logsumexp(dim: axis, keepdim: true) }
    return recorded(.softmax(dim: axis, log: true), [self], result)
  }

  /// The backend's fused (log-)softmax over the last dim, when it has one for this tensor.
  private func fusedSoftmax(_ axis: Int, log: Bool) -> Tensor? {
    guard axis == dim - 1 else { return nil }
    let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
    return backend.fusedSoftmax(self, log: log, into: out) ? out : nil
  }

  /// Running sums along `dim`; integers and bools sum in int64 (PyTorch: `torch.cumsum`).
  public func cumsum(dim d: Int, dtype: DType? = nil, out: Tensor? = nil) -> Tensor {
    if dtype == nil && out == nil, let cast = Tensor.autocast(.float32OnDevices, self, { $0.cumsum(dim: d) }) {
      return cast
    }
    return Tensor.writing(into: out, op: "cumsum") { scanOp(.cumsum, dim: d, dtype: dtype) }
  }
  /// Running products along `dim` (PyTorch: `torch.cumprod`).
  public func cumprod(dim d: Int, dtype: DType? = nil) -> Tensor { scanOp(.cumprod, dim: d, dtype: dtype) }

  private func scanOp(_ op: ScanOp, dim d: Int, dtype: DType?) -> Tensor {
    let axis = normalizedDim(d)
    let input = to(dtype ?? accumulationType)
    if self.dim == 0 { return input.clone() }
    let out = Tensor(uninitializedShape: shape, dtype: input.dtype, device: device)
    backend.scan(op, input, dim: axis, into: out)
    return recorded(.scan(op, dim: axis), [self], out)
  }
}
