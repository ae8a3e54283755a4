// PyTorch's in-place suffix `_` (`add_`, `uniform_`) is part of the API's names.
// swift-format-ignore-file: AlwaysUseLowerCamelCase
// Indexing ops composed from gather/scatter, index_put and host searches: index_add,
// index_copy, index_fill, scatter_reduce, take_along_dim, put_, masked_scatter, argwhere,
// searchsorted, bucketize, bincount, histc.

extension Tensor {
  /// `index` (1-d, along `dim`) spread over a tensor of `shape`, for scatter: each slice
  /// `j` along `dim` goes to position `index[j]`.
  private func spreadIndex(_ index: Tensor, dim axis: Int, over shape: [Int], op: String) -> Tensor {
    usageCheck(index.dim <= 1, "\(op)(): Index is supposed to be a vector")
    usageCheck(index.dtype == .int64 || index.dtype == .int32, "\(op)(): Expected dtype int32/int64 for index")
    var viewShape = [Int](repeating: 1, count: shape.count)
    viewShape[axis] = -1
    return index.reshape(-1).view(viewShape).expand(shape)
  }

  /// Adds `alpha * source`'s slices along `dim` into the slices `index` names; repeated
  /// indices add up (PyTorch: `x.index_add_(dim, index, source, alpha=)`).
  @discardableResult
  public func indexAdd_(dim d: Int, index: Tensor, source: Tensor, alpha: Double = 1) -> Tensor {
    let axis = normalizedDim(d)
    let values = alpha == 1 ? source.atleast1d() : source.atleast1d() * alpha
    atleast1d().scatterAdd_(
      dim: axis, index: spreadIndex(index, dim: axis, over: values.shape, op: "index_add"), src: values)
    return self
  }

  /// `indexAdd_` on a copy (PyTorch: `torch.index_add`).
  public func indexAdd(dim d: Int, index: Tensor, source: Tensor, alpha: Double = 1, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "index_add") {
      clone().indexAdd_(dim: d, index: index, source: source, alpha: alpha)
    }
  }

  /// Copies `source`'s slices along `dim` into the slices `index` names
  /// (PyTorch: `x.index_copy_(dim, index, source)`).
  @discardableResult
  public func indexCopy_(dim d: Int, index: Tensor, source: Tensor) -> Tensor {
    let axis = normalizedDim(d)
    let values = source.atleast1d()
    atleast1d().scatter_(
      dim: axis, index: spreadIndex(index, dim: axis, over: values.shape, op: "index_copy"), src: values)
    return self
  }

  /// `indexCopy_` on a copy (PyTorch: `torch.index_copy`).
  public func indexCopy(dim d: Int, index: Tensor, source: Tensor, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "index_copy") {
      clone().indexCopy_(dim: d, index: index, source: source)
    }
  }

  /// Fills the slices along `dim` that `index` names with `value`
  /// (PyTorch: `x.index_fill_(dim, index, value)`).
  @discardableResult
  public func indexFill_(dim d: Int, index: Tensor, value: Scalar) -> Tensor {
    let target = atleast1d()
    let axis = target.normalizedDim(d)
    var shape = target.shape
    shape[axis] = index.numel
    let fill = Tensor.full(shape, value, dtype: dtype, device: device)
    target.scatter_(dim: axis, index: spreadIndex(index, dim: axis, over: shape, op: "index_fill"), src: fill)
    return self
  }

  /// `indexFill_` on a copy (PyTorch: `torch.index_fill`).
  public func indexFill(dim d: Int, index: Tensor, value: Scalar) -> Tensor {
    clone().indexFill_(dim: d, index: index, value: value)
  }

  /// How `scatterReduce` combines the values sent to one position.
  public enum ScatterReduction: Sendable { case sum, prod, mean, amax, amin }

  /// Combines `src` values sent along `dim` to `index`'s positions with `reduce`, including
  /// the tensor's own value unless `includeSelf` is false; positions no value reaches keep
  /// theirs (PyTorch: `torch.scatter_reduce(dim, index, src, reduce, include_self=)`).
  public func scatterReduce(
    dim d: Int, index: Tensor, src: Tensor, reduce: ScatterReduction, includeSelf: Bool = true, out: Tensor? = nil
  ) -> Tensor {
    Tensor.writing(into: out, op: "scatter_reduce") {
      let axis = normalizedDim(d)
      let values = src.narrowed(toShapeOf: index).to(dtype)
      let hits = Tensor.zeros(like: self, dtype: .int64).scatterAdd(
        dim: axis, index: index, src: Tensor.ones(like: index, dtype: .int64))
      let reached = hits .> 0
      // The host-computed reductions get gradient terms only when autograd may need them.
      let needsGradient = hasAutogradState || values.hasAutogradState
      switch reduce {
      case .sum, .mean:
        let base = includeSelf ? self : Tensor.where(reached, 0.0, self)
        let total = base.scatterAdd(dim: axis, index: index, src: values)
        guard reduce == .mean else { return total }
        let count = (hits + (includeSelf ? 1 : 0)).clamp(min: 1)
        let mean = dtype.isFloatingPoint ? total / count.to(dtype) : total.floorDivide(count)
        return Tensor.where(reached, mean, self)
      case .prod:
        // Values on the host (a product through logs would lose signs and zeros). Gradients as
        // PyTorch's: the product of the others, computed with zeros masked to 1.
        let result = scatterCombine(dim: axis, index: index, src: values, includeSelf: includeSelf) { $0 * $1 }
        guard needsGradient else { return result }
        let maskedSelf = Tensor.where(self .== 0, 1.0, self)
        let maskedSelfResult = maskedSelf.scatterCombine(dim: axis, index: index, src: values, includeSelf: includeSelf)
        { $0 * $1 }
        let srcZero = values .== 0
        let zerosAt = Tensor.zeros(like: self).scatterAdd(dim: axis, index: index, src: srcZero.to(dtype)).gather(
          dim: axis, index: index)
        let singleZero = srcZero.logicalAnd(zerosAt .== 1)
        let maskedSrcResult = scatterCombine(
          dim: axis, index: index, src: Tensor.where(singleZero, 1.0, values), includeSelf: includeSelf
        ) { $0 * $1 }
        let selfZero = self .== 0
        // The weights read the result and the operands as the backward gets them (linked to
        // the graph for second derivatives); the products with a zero masked out are constants.
        return withGradients(result, dim: axis, index: index, src: values, reached: includeSelf ? nil : reached) {
          x, v, y in
          let srcWeight = Tensor.where(
            singleZero, maskedSrcResult.gather(dim: axis, index: index),
            y.gather(dim: axis, index: index) / Tensor.where(srcZero, 1.0, v))
          return (srcWeight, Tensor.where(selfZero, maskedSelfResult, y / Tensor.where(selfZero, 1.0, x)))
        }
      case .amax, .amin:
        let largest = reduce == .amax
        let result = scatterCombine(dim: axis, index: index, src: values, includeSelf: includeSelf) { a, b in
          a.isNaN || b.isNaN ? .nan : (largest ? Swift.max(a, b) : Swift.min(a, b))
        }
        guard needsGradient else { return result }
        // The gradient is shared evenly among the inputs equal to the result (PyTorch counts
        // `self` among them even when excluded, then zeroes its share).
        let srcWins = (values .== result.gather(dim: axis, index: index)).to(dtype)
        let selfWins = (self .== result).to(dtype)
        let ties = selfWins.scatterAdd(dim: axis, index: index, src: srcWins)
        let (srcWeight, selfWeight) = (srcWins / ties.gather(dim: axis, index: index), selfWins / ties)
        return withGradients(result, dim: axis, index: index, src: values, reached: includeSelf ? nil : reached) {
          _, _, _ in
          (srcWeight, selfWeight)
        }
      }
    }
  }

  /// `result` (computed without gradient) recorded with its linear map: a change of `src`
  /// moves it by `srcWeight` times that change, scattered; a change of `self` by `selfWeight`
  /// times it (the weights from `weights(self, src, result)`). With `reached` (when `self`
  /// was excluded), `self` moves nothing where values went.
  private func withGradients(
    _ result: Tensor, dim axis: Int, index: Tensor, src: Tensor, reached: Tensor?,
    weights: @escaping (_ self: Tensor, _ src: Tensor, _ result: Tensor) -> (src: Tensor, target: Tensor)
  ) -> Tensor {
    Tensor.linearized([result], of: [self, src], name: "ScatterReduceBackward0") { inputs, outputs, t in
      let weight = weights(inputs[0], inputs[1], outputs[0])
      var change = Tensor.zeros(like: outputs[0])
      if let dSrc = t[1] { change = change.scatterAdd(dim: axis, index: index, src: weight.src * dSrc) }
      if let dSelf = t[0] {
        change = change + (reached.map { Tensor.where($0, 0.0, weight.target) } ?? weight.target) * dSelf
      }
      return [change]
    }[0]
  }

  /// `src` cut to `index`'s shape (scatter reads only that corner).
  private func narrowed(toShapeOf index: Tensor) -> Tensor {
    var result = self
    for k in 0..<index.dim where result.shape[k] != index.shape[k] {
      result = result.narrow(dim: k, start: 0, length: index.shape[k])
    }
    return result
  }

  /// Scatter with a combining function, computed in double on the host (prod, amax, amin);
  /// `withGradients` gives the result its gradient.
  private func scatterCombine(
    dim axis: Int, index: Tensor, src: Tensor, includeSelf: Bool, _ combine: (Double, Double) -> Double
  ) -> Tensor {
    let target = contiguous().movedTo(.cpu).to(.float64)
    var out = target.toArray(Double.self)
    var seen = [Bool](repeating: false, count: out.count)
    let idx = index.movedTo(.cpu).long().contiguous()
    let indices = idx.toArray(Int.self)
    let values = src.contiguous().movedTo(.cpu).to(.float64).toArray(Double.self)
    let strides = Layout.contiguousStrides(shape)
    let indexStrides = Layout.contiguousStrides(index.shape)
    for (flat, position) in indices.enumerated() {
      usageCheck(
        position >= 0 && position < shape[axis],
        "scatter_reduce(): index \(position) is out of bounds for dimension \(axis) with size \(shape[axis])")
      var offset = 0
      for k in 0..<dim {
        let coordinate = k == axis ? position : (flat / indexStrides[k]) % index.shape[k]
        offset += coordinate * strides[k]
      }
      out[offset] = !includeSelf && !seen[offset] ? values[flat] : combine(out[offset], values[flat])
      seen[offset] = true
    }
    return Tensor(out, shape: shape).to(dtype).movedTo(device)
  }

  /// How `scatter(dim:index:src:reduce:)` combines written values with the existing ones.
  public enum ScatterMode: Sendable {
    /// Adds them (PyTorch: `reduce='add'`).
    case add
    /// Multiplies by them (PyTorch: `reduce='multiply'`).
    case multiply
  }

  /// `scatter` that adds or multiplies instead of writing (PyTorch: `x.scatter(dim, index,
  /// src, reduce='add'|'multiply')`).
  public func scatter(dim d: Int, index: Tensor, src: Tensor, reduce: ScatterMode) -> Tensor {
    scatterReduce(dim: d, index: index, src: src, reduce: reduce == .add ? .sum : .prod)
  }

  /// Values picked along `dim` at `indices`, which broadcasts against the tensor in the other
  /// dims; with no `dim`, from the flattened tensor (PyTorch: `torch.take_along_dim`).
  public func takeAlongDim(_ indices: Tensor, dim d: Int? = nil, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "take_along_dim") {
      guard let d else { return reshape(-1).gather(dim: 0, index: indices.reshape(-1)) }
      let axis = normalizedDim(d)
      usageCheck(
        indices.dim == dim,
        "take_along_dim(): input and indices should have the same number of dimensions, but got \(dim) dimensions for input, and \(indices.dim) dimensions for indices"
      )
      var selfShape = shape
      var indexShape = indices.shape
      selfShape[axis] = 1
      indexShape[axis] = 1
      let common = Tensor.broadcastShape([selfShape, indexShape], op: "take_along_dim")
      var sourceShape = common
      sourceShape[axis] = shape[axis]
      var pickShape = common
      pickShape[axis] = indices.shape[axis]
      return expand(sourceShape).gather(dim: axis, index: indices.expand(pickShape))
    }
  }

  /// Writes `source` at positions given as indices into the flattened tensor (negative
  /// ones count from the end), or adds with `accumulate` (PyTorch: `x.put_(index, source)`).
  @discardableResult
  public func put_(index: Tensor, source: Tensor, accumulate: Bool = false) -> Tensor {
    usageCheck(
      index.numel == source.numel,
      "put_(): Expected source and index to have the same number of elements, but got source.numel() = \(source.numel), index.numel() = \(index.numel)"
    )
    let flat = index.reshape(-1).long()
    let wrapped = Tensor.where(flat .< 0, flat + numel, flat)
    // The flat positions as one index tensor per dim.
    var coordinates: [Tensor] = []
    var remaining = wrapped
    for size in shape.reversed() {
      coordinates.insert(remaining.remainder(size), at: 0)
      remaining = remaining.floorDivide(size)
    }
    return indexPut_(coordinates, source.reshape(-1), accumulate: accumulate)
  }

  /// Copies `source`'s elements, in order, into the positions where `mask` is true
  /// (PyTorch: `x.masked_scatter_(mask, source)`).
  @discardableResult
  public func maskedScatter_(_ mask: Tensor, _ source: Tensor) -> Tensor {
    usageCheck(
      mask.dtype == .bool,
      "masked_scatter_ only supports boolean masks, but got mask with dtype \(mask.dtype.scalarTypeName)")
    let full = mask.expand(shape)
    let count = Int(full.sum().item())
    usageCheck(
      source.numel >= count, "masked_scatter: expected source to have at least \(count) elements, got \(source.numel)")
    indexPut_(full.nonzero().unbind(dim: 1), source.reshape(-1)[..<count])
    return self
  }

  /// `maskedScatter_` on a copy (PyTorch: `torch.masked_scatter`).
  public func maskedScatter(_ mask: Tensor, _ source: Tensor) -> Tensor { clone().maskedScatter_(mask, source) }

  /// The coordinates of the nonzero elements, one 1-d tensor per dim
  /// (PyTorch: `torch.nonzero(x, as_tuple=True)`).
  public func nonzero(asTuple: Bool) -> [Tensor] {
    let coordinates = atleast1d().nonzero()
    return asTuple ? coordinates.unbind(dim: 1) : [coordinates]
  }

  /// The coordinates of the nonzero elements, `[n, dim]` (PyTorch: `torch.argwhere`).
  public func argwhere() -> Tensor { nonzero() }
}

extension Tensor {
  /// For each of `values`, the position in `sortedSequence`'s last dim where it would be
  /// inserted to keep the order: before equal elements, or after them with `right`
  /// (PyTorch: `torch.searchsorted`). A 1-d sequence serves every value; otherwise the
  /// leading dims pair up.
  public static func searchsorted(
    _ sortedSequence: Tensor, _ values: Tensor, right: Bool = false, outInt32: Bool = false, out: Tensor? = nil
  ) -> Tensor {
    Tensor.writing(into: out, op: "searchsorted") {
      let oneSequence = sortedSequence.dim == 1
      usageCheck(
        oneSequence || Array(sortedSequence.shape.dropLast()) == Array(values.shape.dropLast()),
        "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries tensor and input value tensor must match, but we got boundaries tensor \(shapeString(sortedSequence.shape)) and input value tensor \(shapeString(values.shape))"
      )
      let sequence = sortedSequence.movedTo(.cpu).to(.float64).contiguous().toArray(Double.self)
      let keys = values.movedTo(.cpu).to(.float64).contiguous().toArray(Double.self)
      let width = sortedSequence.shape.last ?? 0
      let perRow = values.dim == 0 ? 1 : values.shape.last!
      let positions = keys.enumerated().map { i, key -> Int64 in
        let base = oneSequence ? 0 : (i / Swift.max(perRow, 1)) * width
        var (low, high) = (0, width)
        while low < high {
          let mid = (low + high) / 2
          let element = sequence[base + mid]
          // PyTorch's comparisons, NaN included (a NaN value goes past every element).
          let goesAfter = right ? !(element > key) : !(element >= key)
          if goesAfter { low = mid + 1 } else { high = mid }
        }
        return Int64(low)
      }
      return Tensor(positions, shape: values.shape).to(outInt32 ? .int32 : .int64).movedTo(values.device)
    }
  }

  /// The bucket of each element among sorted `boundaries` (PyTorch: `torch.bucketize`).
  public func bucketize(_ boundaries: Tensor, right: Bool = false, outInt32: Bool = false, out: Tensor? = nil) -> Tensor
  {
    Tensor.writing(into: out, op: "bucketize") {
      usageCheck(boundaries.dim == 1, "boundaries tensor must be 1 dimension, but got dim(\(boundaries.dim))")
      return Tensor.searchsorted(boundaries, self, right: right, outInt32: outInt32)
    }
  }

  /// How often each non-negative integer occurs (or the sum of `weights` at its
  /// occurrences), at least `minlength` bins (PyTorch: `torch.bincount`).
  public func bincount(weights: Tensor? = nil, minlength: Int = 0) -> Tensor {
    usageCheck(dim == 1, "bincount only supports 1-d non-negative integral inputs.")
    usageCheck(dtype.isIntegral && dtype != .bool, "bincount only supports 1-d non-negative integral inputs.")
    let values = toArray(Int.self)
    usageCheck(values.allSatisfy { $0 >= 0 }, "bincount only supports 1-d non-negative integral inputs.")
    if let weights { usageCheck(weights.shape == shape, "weights should be 1-d and have the same length as input") }
    let bins = Swift.max(minlength, (values.max() ?? -1) + 1)
    let w = weights?.movedTo(.cpu).to(.float64).toArray(Double.self)
    var counts = [Double](repeating: 0, count: bins)
    for (i, v) in values.enumerated() { counts[v] += w?[i] ?? 1 }
    let resultType: DType =
      weights.map { $0.dtype.isFloatingPoint ? ($0.dtype == .float32 ? .float32 : .float64) : .float64 } ?? .int64
    return Tensor(counts, shape: [bins]).to(resultType).movedTo(device)
  }

  /// A histogram of `bins` equal bins over [`min`, `max`] (the data's range when both are 0);
  /// elements outside are ignored (PyTorch: `torch.histc`).
  public func histc(bins: Int = 100, min low: Double = 0, max high: Double = 0, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "histc") {
      usageCheck(bins > 0, "torch.histc(): bins must be > 0, but got \(bins) for bins")
      usageCheck(
        dtype.isFloatingPoint, "torch.histc(): \"histogram_cpu\" not implemented for '\(dtype.scalarTypeName)'")
      let data = movedTo(.cpu).to(.float64).contiguous().toArray(Double.self)
      var (lower, upper) = (low, high)
      if lower == 0 && upper == 0, let smallest = data.min(), let largest = data.max() {
        (lower, upper) = (smallest, largest)
      }
      if lower == upper { (lower, upper) = (lower - 1, upper + 1) }
      usageCheck(lower < upper, "torch.histc(): max must be larger than min")
      var counts = [Double](repeating: 0, count: bins)
      for v in data where v >= lower && v <= upper {
        counts[Swift.min(Int((v - lower) / (upper - lower) * Double(bins)), bins - 1)] += 1
      }
      return Tensor(counts, shape: [bins]).to(dtype).movedTo(device)
    }
  }
}
