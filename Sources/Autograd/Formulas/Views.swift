/// Backward formulas for views, and the nodes for writes through views.
enum ViewFormulas {
  /// Applies one recorded view step to `t` (used to map gradients through the same view).
  static func apply(_ step: ViewStep, to t: Tensor) -> Tensor {
    switch step.kind {
    case .reshape: return t.reshape(step.shape)
    case .permute(let order): return t.permute(order)
    case .expand: return t.expand(step.shape)
    case .slice(let dim, let start, let stride, let length):
      return t.sliced(dim: dim, start: start, step: stride, length: length)
    case .select(let dim, let index): return t.select(dim: dim, index: index)
    case .diagonal(let offset, let dim1, let dim2): return t.diagonal(offset: offset, dim1: dim1, dim2: dim2)
    case .asStrided(let layout):
      return t.asStrided(size: layout.shape, stride: layout.strides, storageOffset: layout.offset)
    case .alias: return t
    }
  }

  /// For each element of the view that `chain` makes of a tensor of `baseShape`, the index
  /// of the base element it shows (int64, shaped like the view).
  static func offsets(of chain: [ViewStep], baseShape: [Int], device: Device) -> Tensor {
    let count = baseShape.reduce(1, *)
    var t = Tensor.arange(count, device: device).view(baseShape)
    for step in chain { t = apply(step, to: t) }
    return t.contiguous()
  }

  /// A zero tensor of `shape` with `grad` added at `offsets` (repeated offsets accumulate,
  /// as an expanded view's gradient must).
  static func embed(_ grad: Tensor, at offsets: Tensor, shape: [Int]) -> Tensor {
    let result = Tensor.zeros(shape, dtype: grad.dtype, device: grad.device)
    result.put_(offsets: offsets, values: grad, accumulate: true)
    return result
  }

  /// The node of a view of `base` reached through `chain`, fed by `base`'s history.
  static func chainNode(from base: Tensor, chain: [ViewStep]) -> Function {
    let baseShape = base.shape
    let name =
      switch chain.last?.kind {
      case .select: "SelectBackward0"
      case .slice: "SliceBackward0"
      default: "AsStridedBackward0"
      }
    return Function(name: name, inputs: [base], savesValues: false) { g in
      [embed(g, at: offsets(of: chain, baseShape: baseShape, device: g.device), shape: baseShape)]
    }
  }

  /// The new history of `base` after the region `chain` selects was overwritten with
  /// `result` (PyTorch: `CopySlices`): gradient outside the region flows to the old base,
  /// inside it to `result`.
  static func copySlices(base: Tensor, chain: [ViewStep], result: Tensor) -> Function {
    let baseShape = base.shape
    return Function(name: "CopySlices", inputs: [base, result], savesValues: false) { g in
      let index = offsets(of: chain, baseShape: baseShape, device: g.device)
      let flat = g.contiguous()
      let outside = flat.clone()
      outside.put_(offsets: index, values: Tensor.zeros([], dtype: g.dtype, device: g.device), accumulate: false)
      return [outside, flat.take(offsets: index)]
    }
  }

  /// The node for a recorded view op.
  static func node(_ kind: ViewKind, name: String, input: Tensor, output: Tensor) -> Function {
    let inputShape = input.shape
    let inputLayout = input.layout
    return Function(name: name, inputs: [input], savesValues: false) { g in
      switch kind {
      case .reshape: return [g.reshape(inputShape)]
      case .permute(let order):
        var inverse = [Int](repeating: 0, count: order.count)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return [g.permute(inverse)]
      case .expand: return [g.sumTo(inputShape)]
      case .alias: return [g]
      case .slice, .select, .diagonal:
        // These views never show an element twice: the gradient is zeros with `g` copied
        // into the same view of them (a strided copy, no index tensor).
        let result = Tensor.zeros(inputShape, dtype: g.dtype, device: g.device)
        apply(ViewStep(kind: kind, shape: g.shape), to: result).copy_(g)
        return [result]
      case .asStrided(let layout):
        return [asStridedBackward(g, viewLayout: layout, inputLayout: inputLayout)]
      }
    }
  }

  /// PyTorch's storage-level rule for `as_strided`: add the gradient into a buffer over the
  /// storage the view reads, then read the input's elements out of it.
  private static func asStridedBackward(_ g: Tensor, viewLayout: Layout, inputLayout: Layout) -> Tensor {
    let lower = min(viewLayout.storageSpan.lower, inputLayout.storageSpan.lower)
    let upper = max(viewLayout.storageSpan.upper, inputLayout.storageSpan.upper)
    func storageOffsets(_ l: Layout) -> Tensor {
      var shifted = l
      shifted.offset -= lower
      let buffer = Tensor.arange(upper - lower, device: g.device)
      return buffer.asStrided(size: shifted.shape, stride: shifted.strides, storageOffset: shifted.offset).contiguous()
    }
    let buffer = embed(g, at: storageOffsets(viewLayout), shape: [upper - lower])
    return buffer.take(offsets: storageOffsets(inputLayout))
  }
}

extension Tensor {
  /// Sums a gradient down to `shape`, undoing broadcasting: leading dims, and dims where
  /// `shape` has 1 (PyTorch: `sum_to`).
  func sumTo(_ target: [Int]) -> Tensor {
    if shape == target { return self }
    let lead = dim - target.count
    usageCheck(lead >= 0, "sumTo: cannot sum shape \(shape) to larger shape \(target)")
    var dims = Array(0..<lead)
    for (i, size) in target.enumerated() where size == 1 && shape[lead + i] != 1 { dims.append(lead + i) }
    var result = dims.isEmpty ? self : sum(dim: dims, keepdim: true)
    if lead > 0 { result = result.reshape(target) }
    return result
  }
}
