/// An n-dimensional array with PyTorch's semantics: strided views over shared storage,
/// broadcasting arithmetic, in-place `_` ops and, with `import Autograd`, gradients.
///
/// A `Tensor` is an object: views alias their base, and in-place ops change what every
/// holder sees.
///
/// ```swift
/// let x = Tensor.rand(5, 3)
/// let y = x.view(15)      // shares x's storage
/// y.mul_(2)               // x sees the change
/// ```
public final class Tensor {
  // Hot fields are `@exclusivity(unchecked)`: every op reads them, and the runtime's dynamic
  // exclusivity check on each read cost a tenth of a small op's time. Writes are rare
  // (in-place views, `Module.to`) and never overlap a read of the same tensor.
  /// The memory this tensor reads and writes (shared with its views).
  @exclusivity(unchecked) package var storage: Storage
  /// Shape, strides and offset into `storage`.
  @exclusivity(unchecked) package var layout: Layout
  /// The element type (changed in place only by `Module.to(dtype:)`, which converts
  /// parameters while keeping the tensor objects the optimizer holds).
  @exclusivity(unchecked) public package(set) var dtype: DType
  /// The slot autograd keeps its per-tensor state in (PyTorch's `AutogradMeta`); the Tensor
  /// layer only carries it.
  @exclusivity(unchecked) package var autogradMeta: AnyObject?
  /// A second slot for autograd: the node of an op's result whose only autograd state is
  /// that node (which saves allocating the full state per recorded op).
  @exclusivity(unchecked) package var autogradNode: AnyObject?

  /// Whether autograd has attached anything to this tensor.
  @inline(__always) package var hasAutogradState: Bool { autogradMeta != nil || autogradNode != nil }

  /// Makes a tensor over existing storage; checks that the layout stays inside it.
  package init(storage: Storage, layout: Layout, dtype: DType) {
    let span = layout.storageSpan
    usageCheck(
      layout.numel == 0 || (span.lower >= 0 && span.upper * dtype.itemSize <= storage.byteCount),
      "setStorage: sizes \(shapeString(layout.shape)), strides \(shapeString(layout.strides)), storage offset \(layout.offset), and itemsize \(dtype.itemSize) requiring a storage size of \(span.upper * dtype.itemSize) are out of bounds for storage of size \(storage.byteCount)"
    )
    self.storage = storage
    self.layout = layout
    self.dtype = dtype
  }

  /// Allocates an uninitialised contiguous tensor.
  package convenience init(uninitializedShape shape: [Int], dtype: DType, device: Device) {
    for s in shape {
      usageCheck(s >= 0, "Trying to create tensor with negative dimension \(s): \(shapeString(shape))")
    }
    usageCheck(
      Layout.byteCount(ofContiguous: shape, itemSize: dtype.itemSize) != nil,
      "\(shape.contains(0) ? "Stride" : "Storage size") calculation overflowed with sizes=\(shapeString(shape))")
    self.init(uninitializedLayout: Layout(contiguous: shape), dtype: dtype, device: device)
  }

  /// An uninitialized tensor shaped like `other`, contiguous or, when `other` is laid out
  /// channels-last, channels-last (as PyTorch's elementwise results); it shares `other`'s
  /// layout (its shape and stride arrays) when that is exactly row-major, saving an
  /// allocation per op.
  package convenience init(uninitializedLike other: Tensor, dtype: DType) {
    let layout =
      if other.layout.isExactlyRowMajor { other.layout } else if other.suggestedMemoryFormat == .channelsLast {
        Layout(channelsLast: other.shape)
      } else { Layout(contiguous: other.shape) }
    self.init(uninitializedLayout: layout, dtype: dtype, device: other.device)
  }

  /// Fresh storage on `device` for a dense `layout` (offset 0; row-major or channels-last).
  package convenience init(uninitializedLayout layout: Layout, dtype: DType, device: Device) {
    let storage = Storage(byteCount: layout.numel * dtype.itemSize, allocator: Tensor.backend(for: device).allocator)
    self.init(storage: storage, layout: layout, dtype: dtype)
  }

  /// A new tensor object over the same storage with another layout (a view).
  package func aliased(as layout: Layout) -> Tensor {
    Tensor(storage: storage, layout: layout, dtype: dtype)
  }

  /// The tensor's shape (PyTorch: `x.shape`).
  public var shape: [Int] { layout.shape }
  /// The tensor's shape (PyTorch: `x.size()`).
  public func size() -> [Int] { layout.shape }
  /// The size of one dimension; negative dims count from the end (PyTorch: `x.size(d)`).
  public func size(_ dim: Int) -> Int { layout.shape[normalizedDim(dim)] }
  /// The number of dimensions (PyTorch: `x.dim()`).
  public var dim: Int { layout.rank }
  /// The number of elements (PyTorch: `x.numel()`).
  public var numel: Int { layout.numel }
  /// The device the tensor's memory lives on.
  public var device: Device { storage.device }
  /// Whether the tensor lives on a CUDA device (PyTorch: `x.is_cuda`).
  public var isCUDA: Bool { device.isCUDA }
  /// The strides in elements (PyTorch: `x.stride()`).
  public func stride() -> [Int] { layout.strides }
  /// The stride of one dimension (PyTorch: `x.stride(d)`).
  public func stride(_ dim: Int) -> Int { layout.strides[normalizedDim(dim)] }
  /// The offset of the first element in the storage (PyTorch: `x.storage_offset()`).
  public var storageOffset: Int { layout.offset }
  /// Whether the tensor is row-major without gaps (PyTorch: `x.is_contiguous()`).
  public var isContiguous: Bool { layout.isContiguous }
  /// The storage's version counter: how many in-place writes it has seen (PyTorch: `x._version`).
  public var version: Int { storage.version }

  /// Wraps a negative dim and checks the range, with PyTorch's message.
  package func normalizedDim(_ d: Int, rank: Int? = nil) -> Int {
    Tensor.wrapDim(d, rank: rank ?? dim)
  }

  /// Wraps a negative dim for a tensor of `rank` dimensions (a 0-d tensor accepts -1 and 0).
  package static func wrapDim(_ d: Int, rank: Int) -> Int {
    let r = Swift.max(rank, 1)
    usageCheck(
      d >= -r && d < r,
      "Dimension out of range (expected to be in range of [\(-r), \(r - 1)], but got \(d))")
    return d < 0 ? d + r : d
  }

  /// The backend of the tensor's device.
  package var backend: any Backend { Tensor.backend(for: device) }

  /// Marks an in-place write: bumps the version counter that autograd checks.
  package func markWritten() { storage.bumpVersion() }
}

extension Tensor: @unchecked Sendable {}

extension Tensor {
  /// The number of threads CPU kernels split work over (PyTorch: `torch.get_num_threads()`).
  public static var numThreads: Int { StridedLoop.threadCount }

  /// Sets the number of threads CPU kernels use (PyTorch: `torch.set_num_threads`).
  public static func setNumThreads(_ count: Int) {
    usageCheck(count >= 1, "set_num_threads expects a positive integer, got \(count)")
    StridedLoop.threadCount = count
  }
}
