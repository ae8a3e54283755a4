#if CUDA
  import CCUDA
  import Foundation
  import Tensor

  /// A caching allocator for one device (PyTorch's `CUDACachingAllocator` idea): freed
  /// blocks are kept by rounded size and reused, so steady-state training does not call
  /// `cudaMalloc`. Out of memory, it frees the cache and retries once before failing with
  /// the requested, allocated and reserved byte counts.
  final class DeviceAllocator: StorageAllocator, @unchecked Sendable {
    let index: Int
    var device: Device { .cuda(index) }
    private let lock = NSLock()
    private var cached: [Int: [UnsafeMutableRawPointer]] = [:]
    private var sizes: [UnsafeMutableRawPointer: Int] = [:]
    private(set) var allocatedBytes = 0
    private(set) var reservedBytes = 0

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
      return try lock.withLock {
        if var blocks = cached[size], let block = blocks.popLast() {
          cached[size] = blocks
          allocatedBytes += size
          return block
        }
        Runtime.setDevice(index)
        var pointer: UnsafeMutableRawPointer?
        var status = cudaMalloc(&pointer, size)
        if status == cudaErrorMemoryAllocation {
          _ = cudaGetLastError()  // clear the sticky error before retrying
          releaseCachedLocked()
          status = cudaMalloc(&pointer, size)
        }
        guard status == cudaSuccess, let pointer else {
          _ = cudaGetLastError()
          throw DeviceError.runtime(
            "CUDA out of memory. Tried to allocate \(DeviceAllocator.describe(size)) on cuda:\(index): \(DeviceAllocator.describe(allocatedBytes)) allocated by tensors, \(DeviceAllocator.describe(reservedBytes)) reserved by the caching allocator (\(String(cString: cudaGetErrorName(status)))). Free tensors or call CUDA.emptyCache()."
          )
        }
        sizes[pointer] = size
        allocatedBytes += size
        reservedBytes += size
        return pointer
      }
    }

    func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
      do { return try allocateOrThrow(byteCount: byteCount) } catch { usageFailure("\(error)") }
    }

    func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
      lock.withLock {
        let size = sizes[pointer] ?? DeviceAllocator.rounded(byteCount)
        cached[size, default: []].append(pointer)
        allocatedBytes -= size
      }
    }

    func copy(from: UnsafeRawPointer, to: UnsafeMutableRawPointer, byteCount: Int) {
      Runtime.require(cudaMemcpy(to, from, byteCount, cudaMemcpyDeviceToDevice), "cudaMemcpy (device to device)")
    }

    func emptyCache() { lock.withLock { releaseCachedLocked() } }

    private func releaseCachedLocked() {
      Runtime.setDevice(index)
      for (size, blocks) in cached {
        for block in blocks {
          _ = cudaFree(block)
          sizes[block] = nil
          reservedBytes -= size
        }
      }
      cached = [:]
    }

    static func describe(_ bytes: Int) -> String {
      bytes >= 1 << 30 ? String(format: "%.2f GiB", Double(bytes) / Double(1 << 30))
        : bytes >= 1 << 20 ? String(format: "%.2f MiB", Double(bytes) / Double(1 << 20)) : "\(bytes) bytes"
    }
  }
#endif
