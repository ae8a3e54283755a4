extension Tensor {
  /// A copy converted to `dtype`, or `self` when it already has that type
  /// (PyTorch: `x.to(dtype)`).
  public func to(_ dtype: DType) -> Tensor {
    if dtype == self.dtype { return self }
    let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
    backend.copy(self, into: out)
    return recorded(.conversion, [self], out)
  }

  /// float32 (PyTorch: `x.float()`).
  public func float() -> Tensor { to(.float32) }
  /// float64 (PyTorch: `x.double()`).
  public func double() -> Tensor { to(.float64) }
  /// float16 (PyTorch: `x.half()`).
  public func half() -> Tensor { to(.float16) }
  /// bfloat16 (PyTorch: `x.bfloat16()`).
  public func bfloat16() -> Tensor { to(.bfloat16) }
  /// int64 (PyTorch: `x.long()`).
  public func long() -> Tensor { to(.int64) }
  /// int32 (PyTorch: `x.int()`).
  public func int() -> Tensor { to(.int32) }
  /// bool (PyTorch: `x.bool()`).
  public func bool() -> Tensor { to(.bool) }

  /// A contiguous copy with the same dtype and device (PyTorch: `x.clone()`).
  public func clone() -> Tensor {
    let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
    backend.copy(self, into: out)
    return recorded(.clone, [self], out)
  }

  /// `self` when already contiguous, else a contiguous copy (PyTorch: `x.contiguous()`).
  public func contiguous() -> Tensor { isContiguous ? self : clone() }

  /// The tensor on `target` (`self` when it is already there), recorded for autograd as
  /// `ToCopyBackward0`, whose gradient moves back to this device; stops when the device cannot
  /// be used. The throwing, public form is `to(_: Device)`.
  package func movedTo(_ target: Device) -> Tensor {
    do { return try moved(to: target) } catch { usageFailure("\(error)") }
  }

  /// `movedTo`, throwing when the device cannot be used or has no memory for the copy. A
  /// dense channels-last tensor arrives channels-last, anything else contiguous (PyTorch's
  /// `memory_format=torch.preserve_format`). `nonBlocking` lets a device with streams return
  /// before the copy finishes (see `Backend.transfer`).
  package func moved(to target: Device, nonBlocking: Bool = false) throws -> Tensor {
    if target == device { return self }
    let targetBackend = try BackendRegistry.backend(for: target)
    let channelsLast = !isContiguous && isContiguous(memoryFormat: .channelsLast)
    let source = channelsLast ? self : Tensor.unrecorded { contiguous() }
    let out = try Tensor.allocated(
      channelsLast ? Layout(channelsLast: shape) : Layout(contiguous: shape), dtype: dtype,
      allocator: targetBackend.allocator)
    try Tensor.transfer(from: source, to: out, nonBlocking: nonBlocking)
    return recorded(.deviceCopy(from: device), self, out)
  }

  /// Whether this tensor is in pinned host memory (PyTorch: `x.is_pinned()`).
  public var isPinned: Bool { storage.isPinned }

  /// A copy of this host tensor in page-locked memory that `device` copies from directly
  /// (`self` when it is pinned already); throws when the device has no pinned memory. The
  /// public form is `pinMemory(device:)`.
  package func pinned(for device: Device) throws -> Tensor {
    usageCheck(self.device == .cpu, "cannot pin a tensor on \(self.device): only dense CPU tensors can be pinned")
    if storage.isPinned { return self }
    guard let allocator = try BackendRegistry.backend(for: device).pinnedHostAllocator else {
      throw DeviceError.runtime(
        "\(device) has no pinned host memory: pin memory for an accelerator (cuda or test), not for the CPU")
    }
    let source = Tensor.unrecorded { contiguous() }
    let out = try Tensor.allocated(Layout(contiguous: shape), dtype: dtype, allocator: allocator)
    try Tensor.transfer(from: source, to: out)
    return recorded(.clone, self, out)
  }

  /// Fresh storage from `allocator` for a dense `layout`, or `DeviceError.outOfMemory`.
  private static func allocated(_ layout: Layout, dtype: DType, allocator: any StorageAllocator) throws -> Tensor {
    Tensor(
      storage: try Storage(throwingByteCount: layout.numel * dtype.itemSize, allocator: allocator), layout: layout,
      dtype: dtype)
  }

  /// Copies dense `src` into `dst` (same shape, dtype and strides) across devices, through the
  /// `transfer` of the backend that is not the host's; between devices of two kinds the data
  /// is staged in host memory.
  package static func transfer(from src: Tensor, to dst: Tensor, nonBlocking: Bool = false) throws {
    guard src.numel > 0 else { return }
    switch (src.device, dst.device) {
    case (.cpu, let device), (let device, .cpu):
      try BackendRegistry.backend(for: device).transfer(src, into: dst, nonBlocking: nonBlocking)
    case (let from, let to) where from.type == to.type:
      try BackendRegistry.backend(for: to).transfer(src, into: dst, nonBlocking: nonBlocking)
    default:
      let staged = try allocated(
        Layout(shape: dst.shape, strides: dst.layout.strides), dtype: dst.dtype, allocator: CPUBackend.hostAllocator)
      try transfer(from: src, to: staged)
      try transfer(from: staged, to: dst)
    }
  }

  /// The single value of a one-element tensor, as a `Double` (PyTorch: `x.item()`).
  public func item() -> Double {
    usageCheck(numel == 1, "a Tensor with \(numel) elements cannot be converted to Scalar")
    return toArray(Double.self)[0]
  }

  /// The single value of a one-element tensor, as `T`.
  public func item<T: TensorElement>(_: T.Type) -> T {
    usageCheck(numel == 1, "a Tensor with \(numel) elements cannot be converted to Scalar")
    return toArray(T.self)[0]
  }

  /// The elements in row-major order, converted to `T` (PyTorch: `x.flatten().tolist()`).
  public func toArray<T: TensorElement>(_: T.Type) -> [T] {
    let host = movedTo(.cpu).to(T.dtype).contiguous()
    let count = host.numel
    return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
      if count > 0 {
        UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(
          from: host.storage.data + host.storageOffset * T.dtype.itemSize, byteCount: count * T.dtype.itemSize)
      }
      initialized = count
    }
  }
}

extension Array where Element: TensorElement {
  /// The tensor's elements in row-major order (PyTorch: `x.flatten().tolist()`).
  public init(_ tensor: Tensor) { self = tensor.toArray(Element.self) }
}
