#if CUDA
  import CCUDA
  import Foundation
  import Tensor

  /// A caching allocator for one device (PyTorch's `CUDACachingAllocator` idea): freed
  /// blocks are kept by rounded size and reused, so steady-state training does not call
  /// `cudaMalloc`. It is stream-aware (see `StreamBlockPool`): a block is reused only on the
  /// stream it was allocated on, and one that `recordStream` marked as used by other streams
  /// only after events recorded there at its release have completed. Out of memory, it frees the cache and retries once before throwing
  /// `DeviceError.outOfMemory` with PyTorch's figures: requested, the device's total and
  /// free memory, allocated by tensors, reserved but unallocated (cached). `CUDA.emptyCache()`
  /// returns the cache, and the program carries on.
  final class DeviceAllocator: StorageAllocator, @unchecked Sendable {
    let index: Int
    var device: Device { .cuda(index) }
    private let lock = NSLock()
    private var pool = StreamBlockPool<cudaEvent_t>()
    private var stats = MemoryStats()

    /// What the allocator holds, with peaks.
    var statistics: MemoryStats { lock.withLock { stats } }
    /// Starts the peaks afresh.
    func resetPeaks() { lock.withLock { stats.resetPeaks() } }

    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var allocators: [Int: DeviceAllocator] = [:]

    /// The allocator of device `index`.
    static func forDevice(_ index: Int) -> DeviceAllocator {
      registryLock.withLock {
        if let existing = allocators[index] { return existing }
        let made = DeviceAllocator(index: index)
        allocators[index] = made
        return made
      }
    }

    /// Every allocator made so far.
    static var all: [DeviceAllocator] { registryLock.withLock { Array(allocators.values) } }

    private init(index: Int) { self.index = index }

    /// Small blocks round to 512 bytes, large ones to 2 MiB.
    static func rounded(_ bytes: Int) -> Int {
      let size = max(bytes, 1)
      return size < 1 << 20 ? (size + 511) / 512 * 512 : (size + (2 << 20) - 1) / (2 << 20) * (2 << 20)
    }

    func allocateOrThrow(byteCount: Int) throws -> UnsafeMutableRawPointer {
      let size = DeviceAllocator.rounded(byteCount)
      let stream = Runtime.streamKey(index)
      return try lock.withLock {
        collectCompletedLocked()
        if let block = pool.reuse(size: size, stream: stream) {
          stats.allocated(size, fresh: 0)
          return block
        }
        Runtime.setDevice(index)
        var pointer: UnsafeMutableRawPointer?
        var status = cudaMalloc(&pointer, size)
        if status == cudaErrorMemoryAllocation {
          _ = cudaGetLastError()  // clear the sticky error before retrying
          releaseCachedLocked()
          stats.allocationRetries += 1
          status = cudaMalloc(&pointer, size)
        }
        guard status == cudaSuccess, let pointer else {
          _ = cudaGetLastError()
          stats.outOfMemoryErrors += 1
          var (free, total) = (0, 0)
          _ = cudaMemGetInfo(&free, &total)
          let describe = DeviceAllocator.describe
          throw DeviceError.outOfMemory(
            "CUDA out of memory. Tried to allocate \(describe(size)). GPU \(index) has a total capacity of \(describe(total)) of which \(describe(free)) is free. Of the allocated memory \(describe(stats.allocatedBytes)) is allocated by tensors, and \(describe(stats.reservedBytes - stats.allocatedBytes)) is reserved by the caching allocator but unallocated (\(String(cString: cudaGetErrorName(status)))). Free tensors, or call CUDA.emptyCache() and try again."
          )
        }
        pool.added(pointer, size: size, stream: stream)
        stats.allocated(size, fresh: size)
        return pointer
      }
    }

    func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
      lock.withLock {
        let size = pool.released(pointer) { streams in
          // An event at the current end of every other stream that used the block.
          streams.compactMap { key in
            var event: cudaEvent_t?
            guard cudaEventCreateWithFlags(&event, UInt32(cudaEventDisableTiming)) == cudaSuccess, let event else {
              return nil
            }
            _ = cudaEventRecord(event, cudaStream_t(bitPattern: key))
            return event
          }
        }
        stats.freed(size ?? DeviceAllocator.rounded(byteCount), released: 0)
      }
    }

    /// Notes that `stream` (its key) uses the block at `pointer` too (`recordStream`); false
    /// when `pointer` is not the start of a block of this allocator.
    func markUsed(_ pointer: UnsafeMutableRawPointer, onStream stream: Int) -> Bool {
      lock.withLock { pool.markUsed(pointer, on: stream) }
    }

    func copy(from: UnsafeRawPointer, to: UnsafeMutableRawPointer, byteCount: Int) {
      Runtime.require(
        cudaMemcpyAsync(to, from, byteCount, cudaMemcpyDeviceToDevice, Runtime.currentStream(index)),
        "cudaMemcpyAsync (device to device)")
    }

    func emptyCache() { lock.withLock { releaseCachedLocked() } }

    /// Returns blocks whose other-stream events have completed to their pools.
    private func collectCompletedLocked() {
      for event in pool.collect(isComplete: { cudaEventQuery($0) == cudaSuccess }) { _ = cudaEventDestroy(event) }
    }

    private func releaseCachedLocked() {
      Runtime.setDevice(index)
      collectCompletedLocked()
      for (block, size) in pool.takeFree() {
        _ = cudaFree(block)
        stats.released(size)
      }
    }

    static func describe(_ bytes: Int) -> String {
      bytes >= 1 << 30
        ? String(format: "%.2f GiB", Double(bytes) / Double(1 << 30))
        : bytes >= 1 << 20 ? String(format: "%.2f MiB", Double(bytes) / Double(1 << 20)) : "\(bytes) bytes"
    }
  }

  /// Page-locked host memory (`cudaHostAlloc`), which the device copies from and to by DMA
  /// (PyTorch's pinned memory): what `pinMemory()` allocates.
  final class PinnedHostAllocator: StorageAllocator, @unchecked Sendable {
    static let shared = PinnedHostAllocator()
    var device: Device { .cpu }
    var isPinnedHost: Bool { true }

    func allocateOrThrow(byteCount: Int) throws -> UnsafeMutableRawPointer {
      var pointer: UnsafeMutableRawPointer?
      let status = cudaHostAlloc(&pointer, max(byteCount, 1), UInt32(cudaHostAllocDefault))
      guard status == cudaSuccess, let pointer else {
        _ = cudaGetLastError()
        throw DeviceError.outOfMemory(
          "cudaHostAlloc: could not pin \(DeviceAllocator.describe(byteCount)) of host memory (\(String(cString: cudaGetErrorName(status))))"
        )
      }
      return pointer
    }

    func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) { _ = cudaFreeHost(pointer) }

    func copy(from: UnsafeRawPointer, to: UnsafeMutableRawPointer, byteCount: Int) {
      to.copyMemory(from: from, byteCount: byteCount)
    }
  }
#endif
