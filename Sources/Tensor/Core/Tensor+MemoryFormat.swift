/// How a 4-D tensor's elements are ordered in memory (PyTorch: `torch.memory_format`).
public enum MemoryFormat: Sendable {
  /// Row-major over `[N, C, H, W]` (PyTorch: `torch.contiguous_format`).
  case contiguousFormat
  /// Channels innermost: row-major over `[N, H, W, C]` while the shape stays `[N, C, H, W]`
  /// (PyTorch: `torch.channels_last`).
  case channelsLast
}

extension Tensor {
  /// Whether the elements lie in `memoryFormat`'s order with no gaps (PyTorch:
  /// `x.is_contiguous(memory_format=...)`). As PyTorch, dims of size 1 may have any stride,
  /// so a tensor can be contiguous in both formats; channels-last needs 4 dims.
  public func isContiguous(memoryFormat: MemoryFormat) -> Bool {
    switch memoryFormat {
    case .contiguousFormat: return isContiguous
    case .channelsLast:
      guard dim == 4 else { return false }
      var expected = 1
      for d in [1, 3, 2, 0] where shape[d] != 1 {
        if stride(d) != expected { return false }
        expected *= shape[d]
      }
      return true
    }
  }

  /// `self` when already contiguous in `memoryFormat`, else a copy laid out in it, with the
  /// same shape (PyTorch: `x.contiguous(memory_format=...)`). Channels-last needs a 4-D tensor.
  public func contiguous(memoryFormat: MemoryFormat) -> Tensor {
    switch memoryFormat {
    case .contiguousFormat: return contiguous()
    case .channelsLast:
      usageCheck(
        dim == 4,
        "contiguous(memoryFormat: .channelsLast): required rank 4 tensor to use channels_last format, got shape \(shape)"
      )
      if isContiguous(memoryFormat: .channelsLast) { return self }
      return permute(0, 2, 3, 1).clone().permute(0, 3, 1, 2)
    }
  }

  /// The format ops give their results for this input (PyTorch: `suggest_memory_format`):
  /// channels-last when the tensor is laid out so and not also plainly contiguous.
  package var suggestedMemoryFormat: MemoryFormat {
    !isContiguous && isContiguous(memoryFormat: .channelsLast) ? .channelsLast : .contiguousFormat
  }

  /// The layout an elementwise op gives its result of `shape` (PyTorch's TensorIterator
  /// follows its operands' strides): the format of the first operand of the full shape that
  /// is laid out in exactly one of the two formats; contiguous when none is.
  package static func resultMemoryFormat(_ operands: [Tensor], shape: [Int]) -> MemoryFormat {
    guard shape.count == 4 else { return .contiguousFormat }
    for operand in operands where operand.shape == shape {
      let (plain, last) = (operand.isContiguous, operand.isContiguous(memoryFormat: .channelsLast))
      if plain != last { return last ? .channelsLast : .contiguousFormat }
    }
    return .contiguousFormat
  }

  /// An uninitialized tensor of `shape` laid out in `memoryFormat` (channels-last applies to
  /// 4-D shapes `[N, C, H, W]`; others are contiguous), for kernels that write every element.
  package static func uninitialized(_ shape: [Int], dtype: DType, device: Device, memoryFormat: MemoryFormat) -> Tensor
  {
    switch memoryFormat {
    case .channelsLast where shape.count == 4:
      usageCheck(
        Layout.byteCount(ofContiguous: shape, itemSize: dtype.itemSize) != nil,
        "Storage size calculation overflowed with sizes=\(shapeString(shape))")
      return Tensor(uninitializedLayout: Layout(channelsLast: shape), dtype: dtype, device: device)
    default: return Tensor(uninitializedShape: shape, dtype: dtype, device: device)
    }
  }
}

extension Layout {
  /// The dense channels-last layout of a 4-D shape `[N, C, H, W]`: strides `[H W C, 1, W C, C]`.
  package init(channelsLast shape: [Int]) {
    let (c, h, w) = (shape[1], shape[2], shape[3])
    self.init(shape: shape, strides: [h * w * c, 1, w * c, c])
  }
}
