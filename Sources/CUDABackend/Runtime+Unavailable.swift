#if !CUDA
  import Tensor

  /// The runtime of a build without the `CUDA` trait: no devices, and a clear error when one
  /// is asked for.
  enum Runtime {
    static func deviceCount() throws -> Int { throw DeviceError.backendMissing(.cuda(0)) }
    static func properties(_ index: Int) throws -> CUDA.DeviceProperties { throw DeviceError.backendMissing(.cuda(index)) }
    static func synchronize() throws { throw DeviceError.backendMissing(.cuda(0)) }
    static func memoryStats(_ device: Int) -> MemoryStats { MemoryStats() }
    static func resetPeakMemoryStats(_ device: Int) {}
    static func emptyCache() {}

    static func ensure(_ device: Device) throws {
      if device.isCUDA { throw DeviceError.backendMissing(device) }
    }
  }
#endif
