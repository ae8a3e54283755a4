/// Memory a device's allocator holds, with peaks (PyTorch: `torch.cuda.memory_stats()`, the
/// `allocated_bytes.all` and `reserved_bytes.all` entries and the retry and OOM counts).
public struct MemoryStats: Sendable, Equatable {
  /// Bytes held by tensors now.
  public package(set) var allocatedBytes = 0
  /// The most bytes held by tensors at once since the start or `resetPeakMemoryStats`.
  public package(set) var peakAllocatedBytes = 0
  /// Bytes the allocator has from the device now: held by tensors or cached for reuse.
  public package(set) var reservedBytes = 0
  /// The most bytes reserved at once since the start or `resetPeakMemoryStats`.
  public package(set) var peakReservedBytes = 0
  /// Allocations that succeeded only after the cache was freed (PyTorch: `num_alloc_retries`).
  public package(set) var allocationRetries = 0
  /// Allocations that failed for want of memory (PyTorch: `num_ooms`).
  public package(set) var outOfMemoryErrors = 0

  /// No memory held yet.
  public init() {}

  /// `bytes` given to a tensor, of which `fresh` were newly reserved from the device (the
  /// rest came from the cache).
  package mutating func allocated(_ bytes: Int, fresh: Int) {
    allocatedBytes += bytes
    reservedBytes += fresh
    peakAllocatedBytes = max(peakAllocatedBytes, allocatedBytes)
    peakReservedBytes = max(peakReservedBytes, reservedBytes)
  }

  /// `bytes` given back by a tensor, of which `released` went back to the device (the rest
  /// stays cached).
  package mutating func freed(_ bytes: Int, released: Int) {
    allocatedBytes -= bytes
    reservedBytes -= released
  }

  /// Cached bytes returned to the device.
  package mutating func released(_ bytes: Int) { reservedBytes -= bytes }

  /// Starts the peaks afresh from what is held now.
  package mutating func resetPeaks() {
    peakAllocatedBytes = allocatedBytes
    peakReservedBytes = reservedBytes
  }
}
