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

  /// The tensor on `device` (a copy unless it is already there); stops when the device's
  /// backend is unavailable. The throwing, public form is `to(_: Device)` in CUDABackend.
  package func movedTo(_ target: Device) -> Tensor {
    if target == device { return self }
    let out = Tensor(uninitializedShape: shape, dtype: dtype, device: target)
    Tensor.copyAcrossDevices(from: self.contiguous(), to: out)
    return out
  }

  /// Copies between devices; device backends install the implementation.
  nonisolated(unsafe) package static var crossDeviceCopy: ((Tensor, Tensor) -> Void)?

  package static func copyAcrossDevices(from src: Tensor, to dst: Tensor) {
    guard let copy = crossDeviceCopy else {
      usageFailure("copy from \(src.device) to \(dst.device): no backend for the device is loaded")
    }
    copy(src, dst)
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
