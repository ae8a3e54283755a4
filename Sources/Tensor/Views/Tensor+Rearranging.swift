// Ops that rearrange elements: repeat, flip, roll, rotate, diagonals, stacking, splitting.
// Each is composed from views, `cat` and index selection, so its gradient and its CUDA path
// come from those (no kernel or formula of its own).

extension Tensor {
  /// The tensor repeated `sizes[i]` times along each dim; `sizes` may be longer than the
  /// rank, adding leading dims (PyTorch: `x.repeat(2, 3)`; copies).
  public func `repeat`(_ sizes: Int...) -> Tensor { `repeat`(sizes) }

  /// `repeat` with the sizes as an array.
  public func `repeat`(_ sizes: [Int]) -> Tensor {
    usageCheck(
      sizes.count >= dim,
      "Number of dimensions of repeat dims (\(sizes.count)) can not be smaller than number of dimensions of tensor (\(dim))"
    )
    for s in sizes { usageCheck(s >= 0, "Trying to create tensor with negative dimension \(s): \(shapeString(sizes))") }
    let padded = [Int](repeating: 1, count: sizes.count - dim) + shape
    // [1, s0, 1, s1, ...] expanded to [r0, s0, r1, s1, ...], then merged pairwise.
    let interleaved = padded.flatMap { [1, $0] }
    let expanded = zip(sizes, padded).flatMap { [$0.0, $0.1] }
    return reshape(interleaved).expand(expanded).reshape(zip(sizes, padded).map { $0.0 * $0.1 })
  }

  /// The tensor tiled `dims[i]` times along each dim; a shorter `dims` is padded with 1s at
  /// the front (PyTorch: `torch.tile`).
  public func tile(_ dims: Int...) -> Tensor { tile(dims) }

  /// `tile` with the counts as an array.
  public func tile(_ dims: [Int]) -> Tensor {
    `repeat`([Int](repeating: 1, count: Swift.max(dim - dims.count, 0)) + dims)
  }

  /// Each element repeated `repeats` times along `dim`, or in the flattened tensor when `dim`
  /// is `nil` (PyTorch: `torch.repeat_interleave(x, repeats, dim)`).
  public func repeatInterleave(_ repeats: Int, dim d: Int? = nil) -> Tensor {
    usageCheck(repeats >= 0, "repeat_interleave: repeats can not be negative, got \(repeats)")
    guard let d else { return reshape(-1).repeatInterleave(repeats, dim: 0) }
    let axis = normalizedDim(d)
    let picks = Tensor.arange(shape[axis], device: device).view(-1, 1).expand(shape[axis], repeats).reshape(-1)
    return indexSelect(dim: axis, index: picks)
  }

  /// Element `i` along `dim` repeated `repeats[i]` times (`repeats` is 1-d with one count per
  /// element, or one count for all) (PyTorch: `torch.repeat_interleave(x, repeats_tensor, dim)`).
  public func repeatInterleave(_ repeats: Tensor, dim d: Int? = nil) -> Tensor {
    guard let d else { return reshape(-1).repeatInterleave(repeats, dim: 0) }
    let axis = normalizedDim(d)
    usageCheck(repeats.dim <= 1, "repeat_interleave: repeats must be 0-dim or 1-dim tensor, got \(repeats.dim)-D")
    if repeats.numel == 1 { return repeatInterleave(Int(repeats.reshape(-1)[0].item()), dim: axis) }
    usageCheck(
      repeats.numel == shape[axis],
      "repeat_interleave: repeats must have the same size as input along dim \(axis), but got repeats.size(0) = \(repeats.numel) and input.size(\(axis)) = \(shape[axis])"
    )
    return indexSelect(dim: axis, index: Tensor.repeatInterleave(repeats))
  }

  /// `[0, 0, 1, 2, 2, 2]` for repeats `[2, 1, 3]`: each position repeated its count
  /// (PyTorch: `torch.repeat_interleave(repeats)`).
  public static func repeatInterleave(_ repeats: Tensor) -> Tensor {
    usageCheck(repeats.dim == 1, "repeat_interleave only accept 1D vector as repeat, got \(repeats.dim)-D")
    usageCheck(
      repeats.dtype.isIntegral && repeats.dtype != .bool,
      "repeats has to be Long or Int tensor, got \(repeats.dtype.scalarTypeName)")
    let counts = repeats.toArray(Int.self)
    usageCheck(counts.allSatisfy { $0 >= 0 }, "repeats can not be negative")
    let picks = counts.enumerated().flatMap { [Int](repeating: $0.offset, count: $0.element) }
    return Tensor(picks, shape: [picks.count], device: repeats.device)
  }

  /// The elements in reverse order along each of `dims` (PyTorch: `torch.flip`; copies).
  public func flip(_ dims: Int...) -> Tensor { flip(dims: dims) }

  /// `flip` with the dims as an array.
  public func flip(dims: [Int]) -> Tensor {
    let axes = dims.map { normalizedDim($0) }
    usageCheck(
      Set(axes).count == axes.count,
      "flip: dims has duplicates, original flip dims size=\(dims.count), but unique flip dims size=\(Set(axes).count)")
    var result = self
    for axis in axes where shape[axis] > 1 {
      result = result.indexSelect(dim: axis, index: Tensor.arange(shape[axis] - 1, -1, step: -1, device: device))
    }
    return axes.allSatisfy({ shape[$0] <= 1 }) ? clone() : result
  }

  /// Flips the columns, dim 1 (PyTorch: `torch.fliplr`).
  public func fliplr() -> Tensor {
    usageCheck(dim >= 2, "fliplr: Input must be >= 2-d.")
    return flip(dims: [1])
  }

  /// Flips the rows, dim 0 (PyTorch: `torch.flipud`).
  public func flipud() -> Tensor {
    usageCheck(dim >= 1, "flipud: Input must be >= 1-d.")
    return flip(dims: [0])
  }

  /// Shifts elements along `dims` by `shifts`, wrapping around; with no dims, the flattened
  /// tensor is rolled and reshaped (PyTorch: `torch.roll`).
  public func roll(shifts: [Int], dims: [Int] = []) -> Tensor {
    if dims.isEmpty {
      usageCheck(shifts.count == 1, "roll: shifts must have one entry when no dims are given, got \(shifts.count)")
      return reshape(-1).roll(shifts: shifts, dims: [0]).view(shape)
    }
    usageCheck(
      shifts.count == dims.count, "shifts and dimensions must align. shifts: \(shifts.count), dims:\(dims.count)")
    var result = self
    for (shift, d) in zip(shifts, dims) {
      let axis = normalizedDim(d)
      let n = shape[axis]
      guard n > 0 else { continue }
      let s = ((shift % n) + n) % n
      if s == 0 { continue }
      result = Tensor.cat(
        [result.narrow(dim: axis, start: n - s, length: s), result.narrow(dim: axis, start: 0, length: n - s)],
        dim: axis)
    }
    return result === self ? clone() : result
  }

  /// `roll` by one shift along one dim.
  public func roll(_ shift: Int, dim d: Int) -> Tensor { roll(shifts: [shift], dims: [d]) }

  /// Rotates by 90 degrees `k` times in the plane of `dims`, from the first towards the
  /// second (PyTorch: `torch.rot90`).
  public func rot90(_ k: Int = 1, dims: (Int, Int) = (0, 1)) -> Tensor {
    usageCheck(dim >= 2, "expected total dims >= 2, but got total dims = \(dim)")
    let (a, b) = (normalizedDim(dims.0), normalizedDim(dims.1))
    usageCheck(a != b, "expected rotation dims to be different, but got dim0 = \(a) and dim1 = \(b)")
    switch ((k % 4) + 4) % 4 {
    case 1: return flip(dims: [b]).transpose(a, b)
    case 2: return flip(dims: [a, b])
    case 3: return flip(dims: [a]).transpose(a, b)
    default: return clone()
    }
  }

  /// Moves dims `source` to positions `destination`, keeping the others in order
  /// (PyTorch: `torch.movedim`; a view).
  public func movedim(_ source: [Int], _ destination: [Int]) -> Tensor {
    usageCheck(
      source.count == destination.count,
      "movedim: Invalid source or destination dims: source (\(shapeString(source)) dims) should contain the same number of dims as destination (\(shapeString(destination)) dims)"
    )
    let from = source.map { normalizedDim($0) }
    let to = destination.map { normalizedDim($0) }
    usageCheck(Set(from).count == from.count, "movedim: repeated dim in `source` (\(shapeString(source)))")
    usageCheck(Set(to).count == to.count, "movedim: repeated dim in `destination` (\(shapeString(destination)))")
    var order = [Int](repeating: -1, count: dim)
    for (f, t) in zip(from, to) { order[t] = f }
    var rest = (0..<dim).filter { !from.contains($0) }.makeIterator()
    for i in 0..<dim where order[i] < 0 { order[i] = rest.next()! }
    return permute(order)
  }

  /// `movedim` of one dim.
  public func movedim(_ source: Int, _ destination: Int) -> Tensor { movedim([source], [destination]) }

  /// Swaps two dims (PyTorch: `torch.swapaxes`, `transpose`; a view).
  public func swapaxes(_ axis0: Int, _ axis1: Int) -> Tensor { transpose(axis0, axis1) }

  /// This tensor with at least two dims: 0-d as `[1, 1]`, 1-d `[n]` as `[1, n]`
  /// (PyTorch: `torch.atleast_2d`; a view).
  public func atleast2d() -> Tensor {
    switch dim {
    case 0: view(1, 1)
    case 1: unsqueeze(0)
    default: self
    }
  }

  /// This tensor with at least three dims: 0-d as `[1, 1, 1]`, `[n]` as `[1, n, 1]`,
  /// `[m, n]` as `[m, n, 1]` (PyTorch: `torch.atleast_3d`; a view).
  public func atleast3d() -> Tensor {
    switch dim {
    case 0: view(1, 1, 1)
    case 1: unsqueeze(0).unsqueeze(2)
    case 2: unsqueeze(2)
    default: self
    }
  }

  /// Concatenates horizontally: along dim 1, or dim 0 for 1-d tensors (PyTorch: `torch.hstack`).
  public static func hstack(_ tensors: [Tensor], out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "hstack") {
      let parts = tensors.map { $0.atleast1d() }
      return cat(parts, dim: parts.first?.dim == 1 ? 0 : 1)
    }
  }

  /// Concatenates vertically, along dim 0 after `atleast2d` (PyTorch: `torch.vstack`).
  public static func vstack(_ tensors: [Tensor], out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "vstack") { cat(tensors.map { $0.atleast2d() }, dim: 0) }
  }

  /// Concatenates in depth, along dim 2 after `atleast3d` (PyTorch: `torch.dstack`).
  public static func dstack(_ tensors: [Tensor], out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "dstack") { cat(tensors.map { $0.atleast3d() }, dim: 2) }
  }

  /// `sections` nearly equal views along `dim`, the first `size % sections` one longer
  /// (PyTorch: `torch.tensor_split(x, sections, dim)`).
  public func tensorSplit(sections: Int, dim d: Int = 0) -> [Tensor] {
    usageCheck(sections > 0, "number of sections must be larger than 0, got \(sections)")
    let size = shape[normalizedDim(d)]
    let (base, extra) = (size / sections, size % sections)
    return tensorSplit(indices: (1..<sections).map { $0 * base + Swift.min($0, extra) }, dim: d)
  }

  /// Views along `dim` between the split points `indices` (clamped to the dim, as Python
  /// slices are) (PyTorch: `torch.tensor_split(x, indices, dim)`).
  public func tensorSplit(indices: [Int], dim d: Int = 0) -> [Tensor] {
    let axis = normalizedDim(d)
    let size = shape[axis]
    let bounds = [0] + indices.map { Swift.min(Swift.max($0 < 0 ? $0 + size : $0, 0), size) } + [size]
    return zip(bounds, bounds.dropFirst()).map { start, end in
      narrow(dim: axis, start: start, length: Swift.max(end - start, 0))
    }
  }

  /// The sum of the main diagonal of a matrix (PyTorch: `torch.trace`).
  public func trace() -> Tensor {
    usageCheck(dim == 2, "trace: expected a matrix, but got tensor with dim \(dim)")
    return diagonal().sum()
  }

  /// A 1-d tensor's values on diagonal `diagonal` of a new square matrix, or a matrix's
  /// diagonal as a new 1-d tensor (PyTorch: `torch.diag`).
  public func diag(_ diagonal: Int = 0, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "diag") {
      usageCheck(dim == 1 || dim == 2, "diag(): Supports 1D or 2D tensors. Got \(dim)D")
      return dim == 1 ? diagEmbed(offset: diagonal) : self.diagonal(offset: diagonal).clone()
    }
  }

  /// The last dim's values on diagonal `offset` of new `dim1`/`dim2` planes, zeros elsewhere
  /// (PyTorch: `torch.diag_embed`).
  public func diagEmbed(offset: Int = 0, dim1: Int = -2, dim2: Int = -1) -> Tensor {
    let rank = dim + 1
    let a = Tensor.wrapDim(dim1, rank: rank)
    let b = Tensor.wrapDim(dim2, rank: rank)
    usageCheck(a != b, "diagonal dimensions cannot be identical \(dim1), \(dim2)")
    let n = (shape.last ?? 1) + Swift.abs(offset)
    var outShape = Array(shape.dropLast())
    for axis in [a, b].sorted() { outShape.insert(n, at: axis) }
    let result = Tensor.zeros(outShape, dtype: dtype, device: device)
    result.diagonal(offset: offset, dim1: a, dim2: b).copy_(self)
    return result
  }

  /// The flattened tensor on diagonal `offset` of a new matrix (PyTorch: `torch.diagflat`).
  public func diagflat(offset: Int = 0) -> Tensor { reshape(-1).diagEmbed(offset: offset) }

  /// Views of sliding windows of `size` elements, `step` apart, along `dimension`, as a new
  /// last dim (PyTorch: `x.unfold(dimension, size, step)`; overlapping windows share memory).
  public func unfold(dimension d: Int, size: Int, step: Int) -> Tensor {
    let axis = normalizedDim(d)
    let length = dim == 0 ? 1 : shape[axis]
    usageCheck(size <= length, "maximum size for tensor at dimension \(axis) is \(length) but size is \(size)")
    usageCheck(step > 0, "step is \(step) but must be > 0")
    if dim == 0 { return view(1) }
    var newShape = shape
    var newStrides = layout.strides
    newShape[axis] = (length - size) / step + 1
    newStrides[axis] = layout.strides[axis] * step
    return asStrided(size: newShape + [size], stride: newStrides + [layout.strides[axis]], storageOffset: storageOffset)
  }

  /// How `meshgrid` lays out its outputs: `.ij` (matrix indexing, PyTorch's default) or
  /// `.xy` (Cartesian: the first two dims swapped, as NumPy's default).
  public enum MeshgridIndexing: Sendable { case ij, xy }

  /// Coordinate grids from 1-d tensors: output `i` holds `tensors[i]`'s values along dim `i`
  /// of the grid, expanded over the others (PyTorch: `torch.meshgrid(..., indexing=)`; views).
  public static func meshgrid(_ tensors: [Tensor], indexing: MeshgridIndexing = .ij) -> [Tensor] {
    for t in tensors {
      usageCheck(t.dim <= 1, "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: \(t.dim)D")
    }
    let swapped = indexing == .xy && tensors.count >= 2
    var ordered = tensors.map { $0.reshape(-1) }
    if swapped { ordered.swapAt(0, 1) }
    let shape = ordered.map(\.numel)
    var grids = ordered.enumerated().map { i, t in
      var viewShape = [Int](repeating: 1, count: shape.count)
      viewShape[i] = -1
      return t.view(viewShape).expand(shape)
    }
    if swapped { grids.swapAt(0, 1) }
    return grids
  }
}
