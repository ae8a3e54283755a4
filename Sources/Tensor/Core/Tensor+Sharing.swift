import Foundation

/// What to do with shared memory when the last tensor over it goes away.
public enum Deallocator: Sendable {
  /// Nothing: the caller keeps ownership.
  case none
  /// `free()` it (memory from `malloc`).
  case free
  /// Call this closure with the start of the buffer.
  case custom(@Sendable (UnsafeMutableRawPointer) -> Void)
}

extension Tensor {
  /// A tensor over memory the caller owns, without copying: later writes to the buffer are
  /// seen by the tensor and the other way round (PyTorch: `torch.from_numpy`).
  public convenience init<T: TensorElement>(
    sharing buffer: UnsafeMutableBufferPointer<T>, shape: [Int], deallocator: Deallocator = .none
  ) {
    let count = Layout.numel(of: shape)
    usageCheck(
      count == buffer.count,
      "Tensor(sharing:shape:): shape \(shapeString(shape)) holds \(count) elements but the buffer has \(buffer.count)")
    let release: (@Sendable (UnsafeMutableRawPointer, Int) -> Void)? =
      switch deallocator {
      case .none: nil
      case .free: { pointer, _ in Foundation.free(pointer) }
      case .custom(let f): { pointer, _ in f(pointer) }
      }
    // An empty buffer may have no address: the storage then points at one shared, never
    // freed placeholder, and the caller's deallocator has nothing to free.
    let storage =
      if let base = buffer.baseAddress {
        Storage(
          wrapping: UnsafeMutableRawPointer(base), byteCount: buffer.count * MemoryLayout<T>.stride, device: .cpu,
          release: release)
      } else {
        Storage(wrapping: Storage.emptyPlaceholder, byteCount: 0, device: .cpu, release: nil)
      }
    self.init(storage: storage, layout: Layout(contiguous: shape), dtype: T.dtype)
  }

  private func checkBufferAccess<T: TensorElement>(_: T.Type, op: String) {
    usageCheck(device == .cpu, "\(op): the tensor is on \(device); call cpu() first")
    usageCheck(
      isContiguous,
      "\(op): the tensor is not contiguous (shape \(shapeString(shape)), strides \(shapeString(stride()))); call contiguous() first"
    )
    usageCheck(
      T.dtype == dtype,
      "\(op): the tensor holds \(dtype) elements, which \(T.self) (\(T.dtype)) cannot view; use to(.\(T.dtype.name)) or the matching type"
    )
  }

  /// Reads the elements in place, without copying (PyTorch: `x.numpy()` for reading).
  public func withUnsafeBufferPointer<T: TensorElement, R>(
    as type: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R
  ) rethrows -> R {
    checkBufferAccess(type, op: "withUnsafeBufferPointer")
    let start = (storage.data + storageOffset * dtype.itemSize).assumingMemoryBound(to: T.self)
    return try body(UnsafeBufferPointer(start: start, count: numel))
  }

  /// Reads and writes the elements in place; writes are seen by the tensor and its views
  /// (PyTorch: `b = a.numpy()` then writing `b`). Counts as an in-place write.
  public func withUnsafeMutableBufferPointer<T: TensorElement, R>(
    as type: T.Type, _ body: (UnsafeMutableBufferPointer<T>) throws -> R
  ) rethrows -> R {
    checkBufferAccess(type, op: "withUnsafeMutableBufferPointer")
    checkWritable(inputs: [], op: "withUnsafeMutableBufferPointer")
    let start = (storage.data + storageOffset * dtype.itemSize).assumingMemoryBound(to: T.self)
    defer { markWritten() }
    return try body(UnsafeMutableBufferPointer(start: start, count: numel))
  }
}
