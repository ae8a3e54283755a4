#if !CUDA
  import Tensor

  /// The runtime of a build without the `CUDA` trait: no devices, and a clear error when one
  /// is asked for.
  enum Runtime {
    static func deviceCount() throws -> Int { throw DeviceError.backendMissing(.cuda(0)) }
    static func properties(_ index: Int) throws -> CUDA.DeviceProperties {
      throw DeviceError.backendMissing(.cuda(index))
    }
    static func synchronize() throws { throw DeviceError.backendMissing(.cuda(0)) }
    static func memoryStats(_ device: Int) -> MemoryStats { MemoryStats() }
    static func resetPeakMemoryStats(_ device: Int) {}
    static func emptyCache() {}

    /// Nothing to register: `.cuda` devices then fail with the missing-trait message.
    static func registerBackend() {}

    static func ensure(_ device: Device) throws {
      if device.isCUDA { throw DeviceError.backendMissing(device) }
    }

    static func createStream(_ device: Int) throws -> OpaquePointer? { throw DeviceError.backendMissing(.cuda(device)) }
    static func destroyStream(_ handle: OpaquePointer?) {}
    static func synchronizeStream(_ stream: CUDA.Stream) throws {
      throw DeviceError.backendMissing(.cuda(stream.device))
    }
    static func queryStream(_ stream: CUDA.Stream) throws -> Bool {
      throw DeviceError.backendMissing(.cuda(stream.device))
    }
    static func streamWait(_ stream: CUDA.Stream, for event: CUDA.Event) throws {
      throw DeviceError.backendMissing(.cuda(stream.device))
    }
    static func createEvent(timing: Bool) throws -> OpaquePointer? { throw DeviceError.backendMissing(.cuda(0)) }
    static func destroyEvent(_ handle: OpaquePointer?) {}
    static func recordEvent(_ event: CUDA.Event, on stream: CUDA.Stream) throws {
      throw DeviceError.backendMissing(.cuda(stream.device))
    }
    static func synchronizeEvent(_ event: CUDA.Event) throws { throw DeviceError.backendMissing(.cuda(0)) }
    static func queryEvent(_ event: CUDA.Event) throws -> Bool { throw DeviceError.backendMissing(.cuda(0)) }
    static func elapsedTime(from start: CUDA.Event, to end: CUDA.Event) throws -> Double {
      throw DeviceError.backendMissing(.cuda(0))
    }
    static func recordStream(_ tensor: Tensor, _ stream: CUDA.Stream) {}
  }
#endif
