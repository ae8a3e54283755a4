// PyTorch's in-place suffix `_` (`add_`, `uniform_`) is part of the API's names.
// swift-format-ignore-file: AlwaysUseLowerCamelCase
/// One entry of a subscript: an integer, a slice, `...`, a new axis or an index tensor
/// (PyTorch's `x[1, 1:3, ..., None, idx]`).
public struct TensorIndex {
  enum Kind {
    case integer(Int)
    case slice(start: Int?, end: Int?, step: Int)
    case ellipsis
    case newAxis
    case tensor(Tensor)
  }
  let kind: Kind
}

/// Anything usable inside `x[...]`: `Int`, ranges, `TensorIndex` values and tensors.
public protocol TensorIndexConvertible {
  /// The subscript entry this value stands for.
  var tensorIndex: TensorIndex { get }
}

extension TensorIndexConvertible where Self == TensorIndex {
  /// Every element of a dimension (PyTorch: `:`).
  public static var all: TensorIndex { TensorIndex(kind: .slice(start: nil, end: nil, step: 1)) }
  /// Every `step`-th element (PyTorch: `::step`).
  public static func stride(by step: Int) -> TensorIndex { TensorIndex(kind: .slice(start: nil, end: nil, step: step)) }
  /// A Python slice `start:end:step`; `nil` leaves an end open.
  public static func slice(_ start: Int?, _ end: Int?, _ step: Int? = nil) -> TensorIndex {
    TensorIndex(kind: .slice(start: start, end: end, step: step ?? 1))
  }
  /// All remaining dimensions (PyTorch: `...`).
  public static var ellipsis: TensorIndex { TensorIndex(kind: .ellipsis) }
  /// A new size-1 dimension (PyTorch: `None`).
  public static var newAxis: TensorIndex { TensorIndex(kind: .newAxis) }
}

extension TensorIndex: TensorIndexConvertible {
  /// The entry itself.
  public var tensorIndex: TensorIndex { self }
}
extension Int: TensorIndexConvertible {
  /// An integer index: selects and removes the dimension.
  public var tensorIndex: TensorIndex { TensorIndex(kind: .integer(self)) }
}
extension Range: TensorIndexConvertible where Bound == Int {
  /// `a..<b` as the slice `a:b`.
  public var tensorIndex: TensorIndex { TensorIndex(kind: .slice(start: lowerBound, end: upperBound, step: 1)) }
}
extension ClosedRange: TensorIndexConvertible where Bound == Int {
  /// `a...b` as the slice `a:b+1`.
  public var tensorIndex: TensorIndex {
    TensorIndex(kind: .slice(start: lowerBound, end: upperBound == -1 ? nil : upperBound + 1, step: 1))
  }
}
extension PartialRangeFrom: TensorIndexConvertible where Bound == Int {
  /// `a...` as the slice `a:`.
  public var tensorIndex: TensorIndex { TensorIndex(kind: .slice(start: lowerBound, end: nil, step: 1)) }
}
extension PartialRangeUpTo: TensorIndexConvertible where Bound == Int {
  /// `..<b` as the slice `:b`.
  public var tensorIndex: TensorIndex { TensorIndex(kind: .slice(start: nil, end: upperBound, step: 1)) }
}
extension PartialRangeThrough: TensorIndexConvertible where Bound == Int {
  /// `...b` as the slice `:b+1`.
  public var tensorIndex: TensorIndex {
    TensorIndex(kind: .slice(start: nil, end: upperBound == -1 ? nil : upperBound + 1, step: 1))
  }
}
extension Tensor: TensorIndexConvertible {
  /// An index tensor: bool masks and int64 indices (advanced indexing; copies).
  public var tensorIndex: TensorIndex { TensorIndex(kind: .tensor(self)) }
}

extension Tensor {
  /// Indexes like PyTorch: integers, slices, `.ellipsis` and `.newAxis` give views; bool
  /// and integer tensors give copies. Assignment writes in place, broadcasting the value.
  public subscript(_ indices: any TensorIndexConvertible...) -> Tensor {
    get { index(indices.map(\.tensorIndex)) }
    set { indexPut(indices.map(\.tensorIndex), newValue) }
  }

  /// The view that the basic entries select, and the index tensors with the view's dims
  /// they apply to.
  private func applyBasicIndexing(_ indices: [TensorIndex]) -> (view: Tensor, advanced: [(dim: Int, index: Tensor)]) {
    var consumed = 0
    for i in indices {
      switch i.kind {
      case .integer, .slice: consumed += 1
      // A 0-d mask adds a dim and consumes it: it consumes none of the tensor's.
      case .tensor(let t): consumed += t.dtype == .bool ? t.dim : 1
      case .ellipsis, .newAxis: break
      }
    }
    usageCheck(consumed <= dim, "too many indices for tensor of dimension \(dim)")
    usageCheck(
      indices.filter { if case .ellipsis = $0.kind { true } else { false } }.count <= 1,
      "an index can only have a single ellipsis ('...')")
    var d = 0
    var advanced: [(dim: Int, index: Tensor)] = []
    var result = self
    for i in indices {
      switch i.kind {
      case .integer(let k):
        let size = result.shape[d]
        usageCheck(k >= -size && k < size, "index \(k) is out of bounds for dimension \(d) with size \(size)")
        result = result.select(dim: d, index: k)
      case .slice(let start, let end, let step):
        usageCheck(step > 0, "step must be greater than zero")
        let size = result.shape[d]
        func clampIndex(_ v: Int?, _ fallback: Int) -> Int {
          guard var v else { return fallback }
          if v < 0 { v += size }
          return Swift.min(Swift.max(v, 0), size)
        }
        let s = clampIndex(start, 0)
        let e = Swift.max(clampIndex(end, size), s)
        let length = (e - s + step - 1) / step
        if s != 0 || length != size || step != 1 {
          result = result.sliced(dim: d, start: s, step: step, length: length)
        }
        d += 1
      case .ellipsis:
        d += dim - consumed
      case .newAxis:
        result = result.unsqueeze(d)
        d += 1
      case .tensor(let t):
        if t.dtype == .bool {
          if t.dim == 0 { result = result.unsqueeze(d) }
          let mask = t.dim == 0 ? t.view(1) : t
          for k in 0..<mask.dim {
            usageCheck(
              mask.shape[k] == result.shape[d + k],
              "The shape of the mask \(shapeString(mask.shape)) at index \(k) does not match the shape of the indexed tensor \(shapeString(Array(result.shape[d...]))) at index \(k)"
            )
          }
          let coords = mask.nonzero()
          for k in 0..<mask.dim { advanced.append((d + k, coords.select(dim: 1, index: k))) }
          d += mask.dim
        } else {
          usageCheck(
            t.dtype.isIntegral,
            "tensors used as indices must be long, int, byte or bool tensors (got \(t.dtype.scalarTypeName))")
          advanced.append((d, t))
          d += 1
        }
      }
    }
    return (result, advanced)
  }

  private func index(_ indices: [TensorIndex]) -> Tensor {
    let (view, advanced) = applyBasicIndexing(indices)
    if advanced.isEmpty { return view === self ? makeView(layout, .alias, name: "AliasBackward0") : view }
    let source = view.contiguous()
    let (offsets, _) = source.advancedOffsets(advanced)
    return source.take(offsets: offsets)
  }

  /// The elements at int64 `offsets` (counted through this tensor's strides from its first
  /// element), shaped like `offsets`: the primitive behind advanced indexing and `gather`.
  package func take(offsets: Tensor) -> Tensor {
    let out = Tensor(uninitializedShape: offsets.shape, dtype: dtype, device: device)
    backend.take(self, offsets: offsets, into: out)
    return recorded(.take(offsets: offsets), [self], out)
  }

  private func indexPut(_ indices: [TensorIndex], _ value: Tensor, accumulate: Bool = false) {
    let (view, advanced) = applyBasicIndexing(indices)
    if advanced.isEmpty {
      if accumulate { view.add_(value) } else { view.copy_(value) }
      return
    }
    let (offsets, _) = view.advancedOffsets(advanced)
    view.put_(offsets: offsets, values: value, accumulate: accumulate)
  }

  /// Writes `values` at the positions that index tensors select, one per leading dim (as
  /// `x[i, j] = v`), adding instead of writing with `accumulate`, where repeated positions
  /// add up (PyTorch: `x.index_put_(indices, values, accumulate)`).
  @discardableResult
  public func indexPut_(_ indices: [Tensor], _ values: Tensor, accumulate: Bool = false) -> Tensor {
    indexPut(indices.map { TensorIndex(kind: .tensor($0)) }, values, accumulate: accumulate)
    return self
  }

  /// Writes `values` (broadcast to `offsets`' shape) at element offsets of this tensor's
  /// strides, or adds them with `accumulate` (the primitive behind `x[idx] = v`,
  /// `index_put_` and `scatter_`).
  package func put_(offsets: Tensor, values: Tensor, accumulate: Bool) {
    checkWritable(inputs: [values], op: "index_put_")
    let v = values.to(dtype).movedTo(device).broadcastView(
      to: Tensor.broadcastShape([offsets.shape, values.shape], op: "index_put_"))
    usageCheck(
      v.shape == offsets.shape,
      "shape mismatch: value tensor of shape \(shapeString(values.shape)) cannot be broadcast to indexing result of shape \(shapeString(offsets.shape))"
    )
    inPlace(inputs: [values], op: "index_put_") {
      backend.put(self, offsets: offsets, values: v, accumulate: accumulate)
    } outOfPlace: {
      let result = Tensor.emptyStrided(like: self)
      backend.copy(self, into: result)
      backend.put(result, offsets: offsets, values: v, accumulate: accumulate)
      return recorded(.put(offsets: offsets, accumulate: accumulate), [self, values], result)
    }
  }

  /// Element offsets (through this tensor's strides) for advanced indexing with index
  /// tensors at `advanced` dims, shaped as PyTorch's result: the broadcast index shape
  /// replaces the indexed dims where they are adjacent, else goes first.
  private func advancedOffsets(_ advanced: [(dim: Int, index: Tensor)]) -> (Tensor, [Int]) {
    let indexShape = Tensor.broadcastShape(advanced.map(\.index.shape), op: "index")
    let indexedDims = advanced.map(\.dim)
    let adjacent = zip(indexedDims, indexedDims.dropFirst()).allSatisfy { $1 == $0 + 1 }
    let rest = (0..<dim).filter { !indexedDims.contains($0) }
    let insertAt = adjacent ? rest.filter { $0 < indexedDims[0] }.count : 0
    let resultRank = rest.count + indexShape.count
    // Position of each remaining dim in the result.
    var restPosition: [Int: Int] = [:]
    for (i, d) in rest.enumerated() { restPosition[d] = i < insertAt ? i : i + indexShape.count }
    func placed(_ t: Tensor, at position: Int, span: Int) -> Tensor {
      var s = [Int](repeating: 1, count: resultRank)
      for k in 0..<span { s[position + k] = t.shape[k] }
      return t.reshape(s)
    }
    var offsets = Tensor.zeros([Int](repeating: 1, count: resultRank), dtype: .int64, device: device)
    for (d, index) in advanced {
      let size = shape[d]
      let i = index.to(.int64).movedTo(device).broadcastView(to: indexShape)
      if i.numel > 0 {
        let (lo, hi) = i.integerRange()
        usageCheck(lo >= -Int64(size), "index \(lo) is out of bounds for dimension \(d) with size \(size)")
        usageCheck(hi < Int64(size), "index \(hi) is out of bounds for dimension \(d) with size \(size)")
      }
      let wrapped = Tensor.where(i .< 0, i + size, i)
      offsets = offsets + placed(wrapped * layout.strides[d], at: insertAt, span: indexShape.count)
    }
    for d in rest {
      let steps = Tensor.arange(shape[d], device: device) * layout.strides[d]
      offsets = offsets + placed(steps, at: restPosition[d]!, span: 1)
    }
    var target = [Int](repeating: 0, count: resultRank)
    for (i, d) in rest.enumerated() {
      target[restPosition[d]!] = shape[d]
      _ = i
    }
    for k in 0..<indexShape.count { target[insertAt + k] = indexShape[k] }
    return (offsets.expand(target).contiguous(), target)
  }

  /// The smallest and largest value of a non-empty integer tensor, in one pass on the CPU
  /// (index validation needs both; two reductions would read it twice).
  package func integerRange() -> (min: Int64, max: Int64) {
    usageCheck(numel > 0 && !dtype.isFloatingPoint, "integerRange: expected a non-empty integer tensor")
    guard device == .cpu, dtype == .int64 else {
      return (amin().item(Int64.self), amax().item(Int64.self))
    }
    let p = storage.data.assumingMemoryBound(to: Int64.self)
    var lo = Int64.max
    var hi = Int64.min
    StridedLoop(shape: shape, layouts: [layout]).forEachRow(parallel: false) { offs, n, st in
      for k in 0..<n {
        let v = p[offs[0] + k * st[0]]
        lo = Swift.min(lo, v)
        hi = Swift.max(hi, v)
      }
    }
    return (lo, hi)
  }

  /// The coordinates of nonzero elements, `[n, dim]` int64 (PyTorch: `torch.nonzero`).
  public func nonzero(out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "nonzero") { backend.nonzero(to(.bool)) }
  }

  /// Elements along `dim` picked by a 1-d int index (PyTorch: `torch.index_select`).
  public func indexSelect(dim d: Int, index: Tensor) -> Tensor {
    usageCheck(index.dim <= 1, "index_select(): Index is supposed to be a vector, got \(index.dim)-D")
    if dim == 0 {
      // A 0-d tensor is picked whole by its one index (PyTorch returns it 0-d).
      usageCheck(index.numel == 1, "index_select(): Index to scalar can have only 1 value, got \(index.numel) value(s)")
      return view(1).indexSelect(dim: normalizedDim(d), index: index.reshape(1)).view([Int]())
    }
    let axis = normalizedDim(d)
    var entries = [TensorIndex](repeating: .all, count: axis)
    entries.append(TensorIndex(kind: .tensor(index.dim == 0 ? index.view(1) : index)))
    return self.index(entries)
  }

  /// Offsets into `self` (contiguous strides of `target`) of `index` positions along `dim`.
  private func scatterOffsets(dim axis: Int, index: Tensor, strides: [Int], op: String) -> Tensor {
    usageCheck(index.dtype == .int64 || index.dtype == .int32, "\(op)(): Expected dtype int32/int64 for index")
    usageCheck(
      index.device == device,
      "\(op)(): Expected all tensors to be on the same device, but found at least two devices, \(device) and \(index.device)! (the index; move it with `index.to(\(device))`)"
    )
    // An empty index picks nothing, whatever its rank (PyTorch skips the shape checks).
    if index.numel == 0 { return Tensor.zeros(index.shape, dtype: .int64, device: device) }
    usageCheck(
      index.dim == dim,
      "\(op)(): Index tensor must have the same number of dimensions as input tensor (\(index.dim) vs \(dim))")
    let index = index.long()
    for d in 0..<dim where d != axis {
      usageCheck(
        index.shape[d] <= shape[d],
        "Size does not match at dimension \(d) expected index \(shapeString(index.shape)) to be no larger than self \(shapeString(shape)) apart from dimension \(axis)"
      )
    }
    if index.numel > 0 {
      let (lo, hi) = index.integerRange()
      usageCheck(
        lo >= 0 && hi < Int64(shape[axis]),
        "\(op)(): index \(lo < 0 ? lo : hi) is out of bounds for dimension \(axis) with size \(shape[axis])")
    }
    var offsets = index * strides[axis]
    for d in 0..<dim where d != axis {
      var s = [Int](repeating: 1, count: dim)
      s[d] = index.shape[d]
      offsets = offsets + (Tensor.arange(index.shape[d], device: device) * strides[d]).view(s)
    }
    return offsets.contiguous()
  }

  /// Values picked along `dim` at `index` (PyTorch: `torch.gather`).
  public func gather(dim d: Int, index: Tensor) -> Tensor {
    if (dim == 0 || index.dim == 0) && dim <= 1 && index.dim <= 1 {
      // 0-d tensors act as 1-d tensors of one element; the result has the index's shape.
      return atleast1d().gather(dim: d, index: index.atleast1d()).reshape(index.shape)
    }
    let axis = normalizedDim(d)
    let source = contiguous()
    return source.take(offsets: scatterOffsets(dim: axis, index: index, strides: source.stride(), op: "gather"))
  }

  /// A copy with `src` values written along `dim` at `index` (PyTorch: `torch.scatter`).
  public func scatter(dim d: Int, index: Tensor, src: Tensor) -> Tensor {
    clone().scatter_(dim: d, index: index, src: src)
  }

  /// A copy with `value` written along `dim` at `index`.
  public func scatter(dim d: Int, index: Tensor, value: Scalar) -> Tensor {
    clone().scatter_(dim: d, index: index, src: Tensor.full(index.shape, value, dtype: dtype, device: device))
  }

  /// Writes `src` values along `dim` at `index` in place (PyTorch: `x.scatter_`).
  @discardableResult
  public func scatter_(dim d: Int, index: Tensor, src: Tensor) -> Tensor {
    scatterInPlace(dim: d, index: index, src: src, accumulate: false)
  }

  /// Adds `src` values along `dim` at `index` in place (PyTorch: `x.scatter_add_`).
  @discardableResult
  public func scatterAdd_(dim d: Int, index: Tensor, src: Tensor) -> Tensor {
    scatterInPlace(dim: d, index: index, src: src, accumulate: true)
  }

  /// A copy with `src` values added along `dim` at `index` (PyTorch: `torch.scatter_add`).
  public func scatterAdd(dim d: Int, index: Tensor, src: Tensor) -> Tensor {
    clone().scatterAdd_(dim: d, index: index, src: src)
  }

  private func scatterInPlace(dim d: Int, index: Tensor, src: Tensor, accumulate: Bool) -> Tensor {
    if index.numel == 0 { return self }
    if (dim == 0 || index.dim == 0 || src.dim == 0) && dim <= 1 && index.dim <= 1 && src.dim <= 1 {
      // 0-d tensors act as 1-d tensors of one element (the write goes through the view).
      _ = atleast1d().scatterInPlace(dim: d, index: index.atleast1d(), src: src.atleast1d(), accumulate: accumulate)
      return self
    }
    let axis = normalizedDim(d)
    for k in 0..<index.dim {
      usageCheck(
        index.shape[k] <= src.shape[k],
        "scatter(): Expected index \(shapeString(index.shape)) to be no larger than src \(shapeString(src.shape)) at dimension \(k)"
      )
    }
    let offsets = scatterOffsets(dim: axis, index: index, strides: stride(), op: "scatter")
    var values = src
    for k in 0..<index.dim where values.shape[k] != index.shape[k] {
      values = values.narrow(dim: k, start: 0, length: index.shape[k])
    }
    put_(offsets: offsets, values: values, accumulate: accumulate)
    return self
  }

  /// A copy with `value` where `mask` is true (PyTorch: `torch.masked_fill`).
  public func maskedFill(_ mask: Tensor, _ value: Scalar) -> Tensor {
    usageCheck(
      mask.dtype == .bool,
      "masked_fill_ only supports boolean masks, but got mask with dtype \(mask.dtype.name)")
    return Tensor.where(mask, Tensor.full([], value, dtype: dtype, device: device), self)
  }

  /// A copy with a 0-d tensor's value where `mask` is true; the value's gradient is the sum
  /// of the gradient where it was written (PyTorch: `torch.masked_fill(mask, value_tensor)`).
  public func maskedFill(_ mask: Tensor, _ value: Tensor) -> Tensor {
    usageCheck(
      mask.dtype == .bool, "masked_fill_ only supports boolean masks, but got mask with dtype \(mask.dtype.name)")
    usageCheck(
      value.dim == 0,
      "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with \(value.dim) dimension(s).")
    return Tensor.where(mask, value.to(dtype), self)
  }

  /// Writes `value` where `mask` is true, in place (PyTorch: `x.masked_fill_`).
  @discardableResult
  public func maskedFill_(_ mask: Tensor, _ value: Scalar) -> Tensor {
    copy_(maskedFill(mask, value))
  }

  /// The elements where `mask` is true, as a 1-d copy (PyTorch: `torch.masked_select`).
  public func maskedSelect(_ mask: Tensor) -> Tensor {
    let shape = Tensor.broadcastShape([self.shape, mask.shape], op: "masked_select")
    return expand(shape)[mask.expand(shape)]
  }
}
