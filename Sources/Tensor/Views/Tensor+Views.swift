// PyTorch's in-place suffix `_` (`add_`, `uniform_`) is part of the API's names.
// swift-format-ignore-file: AlwaysUseLowerCamelCase
extension Tensor {
  /// A view with `layout` over this tensor's storage, reported to the recorder as `kind`
  /// with PyTorch's node `name`.
  package func makeView(_ layout: Layout, _ kind: ViewKind, name: String) -> Tensor {
    recorded(.view(kind, name: name), [self], aliased(as: layout))
  }

  /// An uninitialised tensor with `other`'s strides (over a fresh storage just large enough).
  package static func emptyStrided(like other: Tensor) -> Tensor {
    emptyStrided(layout: other.layout, dtype: other.dtype, device: other.device)
  }

  /// An uninitialised tensor with `layout`'s shape and strides.
  package static func emptyStrided(layout: Layout, dtype: DType, device: Device) -> Tensor {
    let span = layout.storageSpan
    let storage = Storage(
      byteCount: (span.upper - span.lower) * dtype.itemSize, allocator: backend(for: device).allocator)
    return Tensor(
      storage: storage,
      layout: Layout(shape: layout.shape, strides: layout.strides, offset: layout.offset - span.lower),
      dtype: dtype)
  }

  /// Resolves one `-1` in `shape` against `count` elements (PyTorch's `infer_size`).
  static func inferShape(_ shape: [Int], count: Int) -> [Int] {
    var result = shape
    var inferred: Int?
    for (i, s) in shape.enumerated() {
      if s == -1 {
        usageCheck(inferred == nil, "only one dimension can be inferred")
        inferred = i
      } else {
        usageCheck(s >= 0, "invalid shape dimension \(s)")
      }
    }
    let product = Layout.numel(of: shape.filter { $0 != -1 })
    if let inferred {
      usageCheck(
        product != 0 && count % product == 0,
        "shape '\(shapeString(shape))' is invalid for input of size \(count)")
      result[inferred] = count / product
    } else {
      usageCheck(product == count, "shape '\(shapeString(shape))' is invalid for input of size \(count)")
    }
    return result
  }

  /// A view with a new shape; one size may be -1. Stops when the strides cannot express
  /// it (PyTorch: `x.view(...)`; use `reshape` then).
  public func view(_ shape: Int...) -> Tensor { view(shape) }

  /// A view with a new shape (array form).
  public func view(_ shape: [Int]) -> Tensor {
    let newShape = Tensor.inferShape(shape, count: numel)
    guard let strides = layout.viewStrides(for: newShape) else {
      usageFailure(
        "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead. (view \(shapeString(self.shape)) with strides \(shapeString(layout.strides)) as \(shapeString(newShape)))"
      )
    }
    return makeView(Layout(shape: newShape, strides: strides, offset: layout.offset), .reshape, name: "ViewBackward0")
  }

  /// A view with a new shape when the strides allow, else a copy (PyTorch: `x.reshape`).
  public func reshape(_ shape: Int...) -> Tensor { reshape(shape) }

  /// Reshape (array form).
  public func reshape(_ shape: [Int]) -> Tensor {
    let newShape = Tensor.inferShape(shape, count: numel)
    if layout.viewStrides(for: newShape) != nil { return view(newShape) }
    return clone().view(newShape)
  }

  /// Merges dims `startDim...endDim` into one (PyTorch: `torch.flatten`).
  public func flatten(startDim: Int = 0, endDim: Int = -1) -> Tensor {
    if dim == 0 { return reshape(1) }
    let s = normalizedDim(startDim)
    let e = normalizedDim(endDim)
    usageCheck(s <= e, "flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e { return self }
    let merged = Layout.numel(of: Array(shape[s...e]))
    return reshape(Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
  }

  /// Splits dim `dim` into `sizes` (one may be -1) (PyTorch: `x.unflatten`).
  public func unflatten(dim d: Int, sizes: [Int]) -> Tensor {
    let axis = normalizedDim(d)
    let inner = Tensor.inferShape(sizes, count: shape[axis])
    return view(Array(shape[..<axis]) + inner + Array(shape[(axis + 1)...]))
  }

  /// Swaps two dimensions (PyTorch: `x.transpose(a, b)`).
  public func transpose(_ dim0: Int, _ dim1: Int) -> Tensor {
    makeView(transposedLayout(dim0, dim1), .permute(transposedOrder(dim0, dim1)), name: "TransposeBackward0")
  }

  private func transposedOrder(_ dim0: Int, _ dim1: Int) -> [Int] {
    var order = Array(0..<dim)
    if dim > 0 { order.swapAt(normalizedDim(dim0), normalizedDim(dim1)) }
    return order
  }

  private func transposedLayout(_ dim0: Int, _ dim1: Int) -> Layout {
    let a = normalizedDim(dim0)
    let b = normalizedDim(dim1)
    var l = layout
    if dim == 0 { return l }
    l.shape.swapAt(a, b)
    l.strides.swapAt(a, b)
    return l
  }

  /// The transpose of a matrix; vectors and scalars are returned as they are (PyTorch: `x.t()`).
  public func t() -> Tensor {
    usageCheck(dim <= 2, "t() expects a tensor with <= 2 dimensions, but self is \(dim)D")
    return makeView(dim < 2 ? layout : transposedLayout(0, 1), dim < 2 ? .alias : .permute([1, 0]), name: "TBackward0")
  }

  /// The last two dimensions swapped (PyTorch: `x.mT`).
  public var mT: Tensor {
    usageCheck(dim >= 2, "tensor.mT is only supported on matrices or batches of matrices. Got \(dim)-D tensor.")
    return transpose(-2, -1)
  }

  /// Reorders the dimensions (PyTorch: `x.permute(...)`).
  public func permute(_ dims: Int...) -> Tensor { permute(dims) }

  /// Reorders the dimensions (array form).
  public func permute(_ dims: [Int]) -> Tensor {
    usageCheck(
      dims.count == dim,
      "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = \(dim) is not equal to len(dims) = \(dims.count)"
    )
    let order = dims.map { normalizedDim($0) }
    usageCheck(Set(order).count == order.count, "permute(): duplicate dims are not allowed.")
    return makeView(
      Layout(shape: order.map { shape[$0] }, strides: order.map { layout.strides[$0] }, offset: layout.offset),
      .permute(order), name: "PermuteBackward0")
  }

  /// Broadcasts to a larger shape without copying; -1 keeps a size (PyTorch: `x.expand`).
  public func expand(_ sizes: Int...) -> Tensor { expand(sizes) }

  /// Expand (array form).
  public func expand(_ sizes: [Int]) -> Tensor {
    usageCheck(
      sizes.count >= dim,
      "expand: the number of sizes provided (\(sizes.count)) must be greater or equal to the number of dimensions in the tensor (\(dim))"
    )
    let lead = sizes.count - dim
    var target = sizes
    for i in 0..<sizes.count where sizes[i] == -1 {
      usageCheck(i >= lead, "expand: -1 is not allowed in a leading, non-existing dimension (\(i))")
      target[i] = shape[i - lead]
    }
    usageCheck(
      target.allSatisfy { $0 >= 0 },
      "expand: sizes \(shapeString(sizes)) for a tensor of shape \(shapeString(shape)) may hold -1 (keep the size) but no other negative size"
    )
    guard let l = layout.expanded(to: target) else {
      let d = (lead..<target.count).first { shape[$0 - lead] != 1 && shape[$0 - lead] != target[$0] }!
      usageFailure(
        "The expanded size of the tensor (\(target[d])) must match the existing size (\(shape[d - lead])) at non-singleton dimension \(d).  Target sizes: \(shapeString(sizes)).  Tensor sizes: \(shapeString(shape))"
      )
    }
    return makeView(l, .expand, name: "ExpandBackward0")
  }

  /// Expands to `other`'s shape (PyTorch: `x.expand_as(y)`).
  public func expand(as other: Tensor) -> Tensor { expand(other.shape) }

  /// Broadcasts to `shape` (PyTorch: `torch.broadcast_to`).
  public func broadcast(to shape: [Int]) -> Tensor { expand(shape) }

  /// Removes every size-1 dimension (PyTorch: `x.squeeze()`).
  public func squeeze() -> Tensor { makeView(squeezedLayout(), .reshape, name: "SqueezeBackward0") }

  private func squeezedLayout() -> Layout {
    let keep = (0..<dim).filter { shape[$0] != 1 }
    return Layout(shape: keep.map { shape[$0] }, strides: keep.map { layout.strides[$0] }, offset: layout.offset)
  }

  /// Removes each of `dims` whose size is 1 (PyTorch: `x.squeeze((0, 2))`).
  public func squeeze(dims: [Int]) -> Tensor {
    let axes = Set(dims.map { normalizedDim($0) })
    return axes.sorted(by: >).reduce(self) { $0.squeeze(dim: $1) }
  }

  /// Removes `dim` if its size is 1 (PyTorch: `x.squeeze(d)`).
  public func squeeze(dim d: Int) -> Tensor { makeView(squeezedLayout(d), .reshape, name: "SqueezeBackward1") }

  private func squeezedLayout(_ d: Int) -> Layout {
    if dim == 0 { return layout }
    let axis = normalizedDim(d)
    var l = layout
    if shape[axis] == 1 {
      l.shape.remove(at: axis)
      l.strides.remove(at: axis)
    }
    return l
  }

  /// This tensor with at least one dimension: a 0-d tensor as a view of shape `[1]`, others
  /// unchanged (PyTorch: `torch.atleast_1d`).
  public func atleast1d() -> Tensor { dim == 0 ? view(1) : self }

  /// Inserts a size-1 dimension at `d` (PyTorch: `x.unsqueeze(d)`).
  public func unsqueeze(_ d: Int) -> Tensor { makeView(unsqueezedLayout(d), .reshape, name: "UnsqueezeBackward0") }

  private func unsqueezedLayout(_ d: Int) -> Layout {
    let axis = Tensor.wrapDim(d, rank: dim + 1)
    var l = layout
    let stride = axis < dim ? layout.strides[axis] * shape[axis] : 1
    l.shape.insert(1, at: axis)
    l.strides.insert(stride, at: axis)
    return l
  }

  /// `length` elements of `dim` from `start` (PyTorch: `x.narrow`).
  public func narrow(dim d: Int, start: Int, length: Int) -> Tensor {
    usageCheck(dim > 0, "narrow() cannot be applied to a 0-dim tensor.")
    let axis = normalizedDim(d)
    let size = shape[axis]
    let begin = start < 0 ? start + size : start
    usageCheck(
      begin >= 0 && begin <= size && length >= 0 && begin + length <= size,
      "start (\(start)) + length (\(length)) exceeds dimension size (\(size)) of dim \(axis) in shape \(shapeString(shape))"
    )
    return sliced(dim: axis, start: begin, step: 1, length: length)
  }

  /// Every `step`-th element of `dim` from `start`, `length` of them (a view; PyTorch's
  /// `slice`, behind `x[a:b:c]` and `narrow`).
  package func sliced(dim axis: Int, start: Int, step: Int, length: Int) -> Tensor {
    var l = layout
    l.shape[axis] = length
    l.offset += start * layout.strides[axis]
    l.strides[axis] *= step
    return makeView(l, .slice(dim: axis, start: start, step: step, length: length), name: "SliceBackward0")
  }

  /// The slice at `index` of `dim`, which is removed (PyTorch: `x.select(d, i)`).
  public func select(dim d: Int, index: Int) -> Tensor {
    usageCheck(dim > 0, "select() cannot be applied to a 0-dim tensor.")
    let axis = normalizedDim(d)
    let size = shape[axis]
    usageCheck(
      index >= -size && index < size,
      "select(): index \(index) out of range for tensor of size \(shapeString(shape)) at dimension \(axis)")
    let i = index < 0 ? index + size : index
    var l = layout
    l.offset += i * layout.strides[axis]
    l.shape.remove(at: axis)
    l.strides.remove(at: axis)
    return makeView(l, .select(dim: axis, index: i), name: "SelectBackward0")
  }

  /// Every slice along `dim` (PyTorch: `x.unbind(d)`).
  public func unbind(dim d: Int = 0) -> [Tensor] {
    let axis = normalizedDim(d)
    return (0..<shape[axis]).map { select(dim: axis, index: $0) }
  }

  /// `chunks` nearly equal pieces along `dim` (the last may be smaller) (PyTorch: `x.chunk`).
  public func chunk(_ chunks: Int, dim d: Int = 0) -> [Tensor] {
    usageCheck(chunks > 0, "chunk expects `chunks` to be greater than 0, got: \(chunks)")
    let size = shape[normalizedDim(d)]
    return split(Swift.max((size + chunks - 1) / chunks, 1), dim: d)
  }

  /// Pieces of `size` along `dim`, the last one possibly shorter (PyTorch: `x.split(n)`).
  public func split(_ size: Int, dim d: Int = 0) -> [Tensor] {
    usageCheck(
      size > 0 || shape[normalizedDim(d)] == 0, "split expects split_size be non-negative, but got split_size=\(size)")
    let total = shape[normalizedDim(d)]
    if total == 0 { return [self.narrow(dim: d, start: 0, length: 0)] }
    return Swift.stride(from: 0, to: total, by: size).map {
      narrow(dim: d, start: $0, length: Swift.min(size, total - $0))
    }
  }

  /// Pieces with the given sizes along `dim` (PyTorch: `x.split([2, 3])`).
  public func split(sizes: [Int], dim d: Int = 0) -> [Tensor] {
    let total = shape[normalizedDim(d)]
    usageCheck(
      sizes.reduce(0, +) == total,
      "split_with_sizes expects split_sizes to sum exactly to \(total) (input tensor's size at dimension \(d)), but got split_sizes=\(shapeString(sizes))"
    )
    var start = 0
    return sizes.map { s in
      defer { start += s }
      return narrow(dim: d, start: start, length: s)
    }
  }

  /// The diagonal of the `dim1`/`dim2` planes, offset above (positive) or below
  /// (PyTorch: `torch.diagonal`).
  public func diagonal(offset: Int = 0, dim1: Int = 0, dim2: Int = 1) -> Tensor {
    let a = normalizedDim(dim1)
    let b = normalizedDim(dim2)
    usageCheck(a != b, "diagonal dimensions cannot be identical \(dim1), \(dim2)")
    var l = layout
    var length: Int
    if offset >= 0 {
      length = Swift.max(Swift.min(shape[a], shape[b] - offset), 0)
      if length > 0 { l.offset += offset * layout.strides[b] }
    } else {
      length = Swift.max(Swift.min(shape[a] + offset, shape[b]), 0)
      if length > 0 { l.offset -= offset * layout.strides[a] }
    }
    let diagStride = layout.strides[a] + layout.strides[b]
    for axis in [a, b].sorted(by: >) {
      l.shape.remove(at: axis)
      l.strides.remove(at: axis)
    }
    l.shape.append(length)
    l.strides.append(diagStride)
    return makeView(l, .diagonal(offset: offset, dim1: a, dim2: b), name: "DiagonalBackward0")
  }

  /// A view with explicit sizes, strides and offset (PyTorch: `torch.as_strided`).
  public func asStrided(size: [Int], stride: [Int], storageOffset: Int? = nil) -> Tensor {
    usageCheck(size.count == stride.count, "mismatch in length of strides and shape")
    for s in stride {
      usageCheck(
        s >= 0, "as_strided: Negative strides are not supported at the moment, got strides: \(shapeString(stride))")
    }
    let l = Layout(shape: size, strides: stride, offset: storageOffset ?? layout.offset)
    let span = l.storageSpan
    usageCheck(
      l.numel == 0 || span.upper * dtype.itemSize <= storage.byteCount,
      "as_strided: setStorage: sizes \(shapeString(size)), strides \(shapeString(stride)), storage offset \(l.offset) requiring a storage size of \(span.upper * dtype.itemSize) are out of bounds for storage of size \(storage.byteCount)"
    )
    return makeView(l, .asStrided(l), name: "AsStridedBackward0")
  }

  /// A new tensor sharing storage, outside any autograd graph (PyTorch: `x.detach()`).
  public func detach() -> Tensor { aliased(as: layout) }

  /// Transposes a matrix in place (PyTorch: `x.t_()`).
  @discardableResult
  public func t_() -> Tensor {
    usageCheck(dim <= 2, "t_() expects a tensor with <= 2 dimensions, but self is \(dim)D")
    inPlaceView(op: "t_") { t() }
    return self
  }

  /// Swaps two dimensions in place (PyTorch: `x.transpose_(a, b)`).
  @discardableResult
  public func transpose_(_ dim0: Int, _ dim1: Int) -> Tensor {
    inPlaceView(op: "transpose_") { transpose(dim0, dim1) }
    return self
  }

  /// Removes all size-1 dimensions in place (PyTorch: `x.squeeze_()`).
  @discardableResult
  public func squeeze_() -> Tensor {
    inPlaceView(op: "squeeze_") { squeeze() }
    return self
  }

  /// Removes `dim` in place if its size is 1 (PyTorch: `x.squeeze_(d)`).
  @discardableResult
  public func squeeze_(dim d: Int) -> Tensor {
    inPlaceView(op: "squeeze_") { squeeze(dim: d) }
    return self
  }

  /// Inserts a size-1 dimension in place (PyTorch: `x.unsqueeze_(d)`).
  @discardableResult
  public func unsqueeze_(_ d: Int) -> Tensor {
    inPlaceView(op: "unsqueeze_") { unsqueeze(d) }
    return self
  }

  /// Joins tensors along an existing dimension (PyTorch: `torch.cat`).
  public static func cat(_ tensors: [Tensor], dim d: Int = 0) -> Tensor {
    usageCheck(!tensors.isEmpty, "torch.cat(): expected a non-empty list of Tensors")
    for (i, t) in tensors.enumerated() {
      usageCheck(t.dim > 0, "zero-dimensional tensor (at position \(i)) cannot be concatenated")
    }
    // PyTorch skips 1-d empty tensors in cat (legacy behaviour).
    let parts = tensors.filter { !($0.dim == 1 && $0.numel == 0) }
    guard let first = parts.first else { return tensors[0].clone() }
    let axis = first.normalizedDim(d)
    let device = commonDevice(parts, op: "cat")
    let dtype = resultType(parts.map { .tensor($0) })
    for (i, t) in parts.enumerated() {
      usageCheck(t.dim == first.dim, "Tensors must have same number of dimensions: got \(first.dim) and \(t.dim)")
      for k in 0..<first.dim where k != axis {
        usageCheck(
          t.shape[k] == first.shape[k],
          "Sizes of tensors must match except in dimension \(axis). Expected size \(first.shape[k]) but got size \(t.shape[k]) for tensor number \(i) in the list."
        )
      }
    }
    var shape = first.shape
    shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
    let result = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
    var start = 0
    for t in parts {
      var l = result.layout
      l.shape[axis] = t.shape[axis]
      l.offset += start * result.layout.strides[axis]
      result.backend.copy(t, into: result.aliased(as: l))
      start += t.shape[axis]
    }
    return result.recorded(.cat(dim: axis), parts, result)
  }

  /// Joins tensors along a new dimension (PyTorch: `torch.stack`).
  public static func stack(_ tensors: [Tensor], dim d: Int = 0) -> Tensor {
    usageCheck(!tensors.isEmpty, "stack expects a non-empty TensorList")
    for (i, t) in tensors.enumerated() {
      usageCheck(
        t.shape == tensors[0].shape,
        "stack expects each tensor to be equal size, but got \(shapeString(tensors[0].shape)) at entry 0 and \(shapeString(t.shape)) at entry \(i)"
      )
    }
    let axis = wrapDim(d, rank: tensors[0].dim + 1)
    return cat(tensors.map { $0.unsqueeze(axis) }, dim: axis)
  }
}
