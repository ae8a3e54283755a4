import Foundation

/// The test devices (`Device.test(0)`, `Device.test(1)`): host memory behind a backend and an
/// allocator of their own, so that device-generic code runs, and is tested, on a machine
/// without a GPU. Every op runs the CPU's kernels; what differs from the CPU is what differs
/// on a real device: data crosses only through explicit moves (`to(_:)`, recorded for
/// autograd), an op that mixes devices stops with a message naming both, and the allocator
/// keeps memory statistics.
public enum TestDevice {
  /// How many test devices there are: two, so that tests can also mix devices of one kind.
  public static let deviceCount = 2

  /// What test device `index`'s allocator holds (as `torch.cuda.memory_stats`); it caches
  /// nothing, so reserved bytes are the allocated ones.
  public static func memoryStats(_ index: Int = 0) -> MemoryStats { allocator(index).statistics }

  /// Bytes held by tensors on test device `index` (as `torch.cuda.memory_allocated`).
  public static func memoryAllocated(_ index: Int = 0) -> Int { memoryStats(index).allocatedBytes }

  /// The most bytes held at once since the start or the last `resetPeakMemoryStats`
  /// (as `torch.cuda.max_memory_allocated`).
  public static func maxMemoryAllocated(_ index: Int = 0) -> Int { memoryStats(index).peakAllocatedBytes }

  /// Starts peak tracking afresh from the bytes held now (as `torch.cuda.reset_peak_memory_stats`).
  public static func resetPeakMemoryStats(_ index: Int = 0) { allocator(index).resetPeak() }

  private static let allocators = (0..<deviceCount).map { TestDeviceAllocator(index: $0) }
  private static let backends: [any Backend] = allocators.map {
    CPUBackend(allocator: $0, pinnedHostAllocator: pinnedAllocator)
  }
  /// Pinned host memory for the test devices: ordinary aligned host memory, marked pinned.
  private static let pinnedAllocator = PinnedTestAllocator()

  /// The backend of test device `index`, or the error PyTorch gives for a bad ordinal.
  static func backend(_ index: Int) throws -> any Backend {
    guard backends.indices.contains(index) else { throw invalidOrdinal(index) }
    return backends[index]
  }

  private static func allocator(_ index: Int) -> TestDeviceAllocator {
    guard allocators.indices.contains(index) else { usageFailure("\(invalidOrdinal(index))") }
    return allocators[index]
  }

  private static func invalidOrdinal(_ index: Int) -> DeviceError {
    .runtime(
      "invalid device ordinal: test:\(index) requested, \(deviceCount) test devices present (test:0 ... test:\(deviceCount - 1))"
    )
  }
}

extension CPUBackend {
  /// A test device draws from the same Philox stream as a GPU (computed on the host by the
  /// reference, `Philox.fill`), so device-generic code sees a device's random numbers, not
  /// the CPU's; the CPU itself draws from its Mersenne Twister (false).
  func fillRandom(_ dst: Tensor, _ distribution: RandomDistribution, seed: UInt64, offset: UInt64) -> Bool {
    guard case .test = allocator.device else { return false }
    Philox.fill(dst, distribution, seed: seed, offset: offset)
    return true
  }
}

/// The allocator of one test device: aligned host memory, counted.
final class TestDeviceAllocator: StorageAllocator, @unchecked Sendable {
  let device: Device
  private let lock = NSLock()
  private var stats = MemoryStats()

  init(index: Int) { device = .test(index) }

  /// The bytes held now and the most held at once.
  var statistics: MemoryStats { lock.withLock { stats } }

  func resetPeak() { lock.withLock { stats.resetPeaks() } }

  func allocateOrThrow(byteCount: Int) throws -> UnsafeMutableRawPointer {
    guard let pointer = CPUAllocator.systemAllocate(byteCount) else {
      let held = lock.withLock {
        stats.outOfMemoryErrors += 1
        return stats.allocatedBytes
      }
      throw DeviceError.outOfMemory(
        "\(device): out of memory: tried to allocate \(byteCount) bytes with \(held) bytes already allocated")
    }
    lock.withLock { stats.allocated(byteCount, fresh: byteCount) }
    return pointer
  }

  func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
    free(pointer)
    lock.withLock { stats.freed(byteCount, released: byteCount) }
  }

  func copy(from: UnsafeRawPointer, to: UnsafeMutableRawPointer, byteCount: Int) {
    to.copyMemory(from: from, byteCount: byteCount)
  }
}

/// Host memory that the test devices treat as pinned (`pinMemory(device: .test(0))`), so that
/// pinning in a data pipeline is exercised without a GPU.
final class PinnedTestAllocator: StorageAllocator, @unchecked Sendable {
  var device: Device { .cpu }
  var isPinnedHost: Bool { true }

  func allocateOrThrow(byteCount: Int) throws -> UnsafeMutableRawPointer {
    guard let pointer = CPUAllocator.systemAllocate(byteCount) else {
      throw DeviceError.outOfMemory("pinned host memory: out of memory: tried to allocate \(byteCount) bytes")
    }
    return pointer
  }

  func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) { free(pointer) }

  func copy(from: UnsafeRawPointer, to: UnsafeMutableRawPointer, byteCount: Int) {
    to.copyMemory(from: from, byteCount: byteCount)
  }
}
