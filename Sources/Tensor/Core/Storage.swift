/// One allocation on one device, shared by a tensor and all its views.
///
/// It carries the version counter that in-place ops bump and autograd checks (PyTorch keeps
/// it on the storage for the same reason: every view of the memory must see the same count).
public final class Storage: @unchecked Sendable {
  /// The start of the memory (a device address for device storage).
  @exclusivity(unchecked) public private(set) var data: UnsafeMutableRawPointer
  /// The size of the allocation in bytes.
  public private(set) var byteCount: Int
  /// The device the memory lives on.
  public let device: Device
  /// Bumped by every in-place write; read by autograd's saved-tensor checks.
  @exclusivity(unchecked) package var version: Int = 0
  /// Set for memory that must not be written (a read-only file mapping).
  @exclusivity(unchecked) package var isReadOnly = false
  /// Set for memory that maps a file, which `flush()` writes back.
  package var isFileMapping = false
  private var release: (@Sendable (UnsafeMutableRawPointer, Int) -> Void)?
  private let allocator: StorageAllocator?

  /// Wraps memory that someone else owns; `release` runs when the storage goes away.
  public init(
    wrapping data: UnsafeMutableRawPointer, byteCount: Int, device: Device,
    release: (@Sendable (UnsafeMutableRawPointer, Int) -> Void)?
  ) {
    self.data = data
    self.byteCount = byteCount
    self.device = device
    self.release = release
    self.allocator = nil
  }

  /// Allocates `byteCount` bytes with the allocator of `device`'s backend.
  package init(byteCount: Int, allocator: StorageAllocator) {
    self.byteCount = byteCount
    self.device = allocator.device
    self.allocator = allocator
    self.data = allocator.allocate(byteCount: byteCount)
    self.release = nil
  }

  /// Allocates `byteCount` bytes with `allocator`, or throws `DeviceError.outOfMemory`.
  package init(throwingByteCount byteCount: Int, allocator: StorageAllocator) throws {
    self.data = try allocator.allocateOrThrow(byteCount: byteCount)
    self.byteCount = byteCount
    self.device = allocator.device
    self.allocator = allocator
    self.release = nil
  }

  /// Takes ownership of `data`, which `allocator` allocated with `byteCount` bytes.
  package init(adopting data: UnsafeMutableRawPointer, byteCount: Int, allocator: StorageAllocator) {
    self.byteCount = byteCount
    self.device = allocator.device
    self.allocator = allocator
    self.data = data
    self.release = nil
  }

  /// Grows the allocation to at least `newByteCount` bytes, keeping the old contents
  /// (PyTorch's `resize_` semantics: storage only grows).
  package func grow(to newByteCount: Int) {
    guard newByteCount > byteCount else { return }
    guard let allocator else {
      usageFailure(
        "resize_: trying to resize storage that is not resizable (it wraps external memory of \(byteCount) bytes, \(newByteCount) needed)"
      )
    }
    let newData = allocator.allocate(byteCount: newByteCount)
    allocator.copy(from: data, to: newData, byteCount: byteCount)
    allocator.deallocate(data, byteCount: byteCount)
    data = newData
    byteCount = newByteCount
  }

  /// The address of storages of no bytes that wrap no memory: one allocation for the
  /// process's life, never written or freed.
  nonisolated(unsafe) package static let emptyPlaceholder = UnsafeMutableRawPointer.allocate(
    byteCount: 64, alignment: 64)

  /// Whether the memory is page-locked host memory that a device can copy from directly
  /// (PyTorch: `is_pinned()`).
  public var isPinned: Bool { allocator?.isPinnedHost ?? false }

  /// Bumps the version counter (an in-place write happened).
  package func bumpVersion() { version &+= 1 }

  deinit {
    if let allocator {
      allocator.deallocate(data, byteCount: byteCount)
    } else {
      release?(data, byteCount)
    }
  }
}

/// Allocates and frees the memory of storages on one device.
package protocol StorageAllocator: Sendable {
  var device: Device { get }
  /// A block of `byteCount` bytes; stops with the device's message when there is no memory
  /// (ops cannot throw).
  func allocate(byteCount: Int) -> UnsafeMutableRawPointer
  /// A block of `byteCount` bytes, or `DeviceError.outOfMemory` (moves and file readers).
  func allocateOrThrow(byteCount: Int) throws -> UnsafeMutableRawPointer
  /// Whether its blocks are page-locked host memory (`pinMemory`).
  var isPinnedHost: Bool { get }
  func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int)
  func copy(from: UnsafeRawPointer, to: UnsafeMutableRawPointer, byteCount: Int)
}

extension StorageAllocator {
  /// Device memory and ordinary host memory are not pinned.
  package var isPinnedHost: Bool { false }

  /// `allocateOrThrow`, stopping with its error (for allocators with no message of their own).
  package func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
    do { return try allocateOrThrow(byteCount: byteCount) } catch { usageFailure("\(error)") }
  }
}
