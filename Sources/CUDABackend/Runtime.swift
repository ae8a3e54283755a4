#if CUDA
  import CCUDA
  import Foundation
  import Tensor

  /// The CUDA runtime: devices, errors, copies, and registration of the backend.
  enum Runtime {
    /// Throws the runtime's error name and message for a failed call.
    static func check(_ status: cudaError_t, _ call: String) throws {
      guard status != cudaSuccess else { return }
      let name = String(cString: cudaGetErrorName(status))
      let message = String(cString: cudaGetErrorString(status))
      throw DeviceError.runtime("\(call) failed: \(name): \(message)")
    }

    /// `check` for calls inside ops, which cannot throw: stops with the same message.
    static func require(_ status: cudaError_t, _ call: String) {
      do { try check(status, call) } catch { usageFailure("\(error)") }
    }

    static func deviceCount() throws -> Int {
      var count: Int32 = 0
      try check(cudaGetDeviceCount(&count), "cudaGetDeviceCount")
      if count > 0 { registerOnce }
      return Int(count)
    }

    /// Registers the backend (`CUDADeviceLoader`): its factory checks the device, so a missing
    /// driver or ordinal surfaces as the runtime's error at first use.
    static func registerBackend() { registerOnce }

    static func properties(_ index: Int) throws -> CUDA.DeviceProperties {
      try ensure(.cuda(index))
      var p = cudaDeviceProp()
      try check(cudaGetDeviceProperties(&p, Int32(index)), "cudaGetDeviceProperties")
      let name = withUnsafeBytes(of: p.name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
      return CUDA.DeviceProperties(
        name: name, computeCapability: (Int(p.major), Int(p.minor)), totalMemory: Int(p.totalGlobalMem),
        multiprocessorCount: Int(p.multiProcessorCount))
    }

    static func synchronize() throws { try check(cudaDeviceSynchronize(), "cudaDeviceSynchronize") }

    static func memoryStats(_ device: Int) -> MemoryStats { DeviceAllocator.forDevice(device).statistics }
    static func resetPeakMemoryStats(_ device: Int) { DeviceAllocator.forDevice(device).resetPeaks() }
    static func emptyCache() {
      for allocator in DeviceAllocator.all { allocator.emptyCache() }
    }

    /// Checks that `device` exists (registering the backend), or throws the runtime's reason.
    static func ensure(_ device: Device) throws {
      guard case .cuda(let index) = device else { return }
      let count = try deviceCount()
      guard index >= 0 && index < count else {
        throw DeviceError.runtime(
          "CUDA error: invalid device ordinal: cuda:\(index) requested, \(count) device(s) present")
      }
    }

    static func setDevice(_ index: Int) { require(cudaSetDevice(Int32(index)), "cudaSetDevice") }

    /// Installs the backend factory, once.
    static let registerOnce: Void = {
      BackendRegistry.register(kind: "cuda") { device in
        guard case .cuda(let index) = device else { throw DeviceError.runtime("not a CUDA device: \(device)") }
        try ensure(device)
        return CUDADeviceBackend(index: index)
      }
    }()

    /// Copies the bytes of dense `src` into `dst` (same layout), between the host and a CUDA
    /// device or between two CUDA devices (the backend's `transfer`): queued on the current
    /// stream of `device` with `nonBlocking`, else finished before returning.
    static func copyBytes(from src: Tensor, to dst: Tensor, device: Int, nonBlocking: Bool) throws {
      let bytes = src.numel * src.dtype.itemSize
      guard bytes > 0 else { return }
      let from = UnsafeRawPointer(src.storage.data + src.storageOffset * src.dtype.itemSize)
      let to = dst.storage.data + dst.storageOffset * dst.dtype.itemSize
      let kind: cudaMemcpyKind
      switch (src.device, dst.device) {
      case (.cpu, .cuda): kind = cudaMemcpyHostToDevice
      case (.cuda, .cpu): kind = cudaMemcpyDeviceToHost
      case (.cuda, .cuda): kind = cudaMemcpyDeviceToDevice
      default: throw DeviceError.runtime("the CUDA backend cannot copy from \(src.device) to \(dst.device)")
      }
      if nonBlocking {
        try check(
          cudaMemcpyAsync(to, from, bytes, kind, currentStream(device)),
          "cudaMemcpyAsync(\(src.device) -> \(dst.device), \(bytes) bytes)")
      } else {
        try check(cudaMemcpy(to, from, bytes, kind), "cudaMemcpy(\(src.device) -> \(dst.device), \(bytes) bytes)")
      }
    }

    // MARK: Streams and events

    /// The handle of the current stream of `device` (nil: the default stream).
    static func currentStream(_ device: Int) -> cudaStream_t? {
      guard let set = CUDA.Stream.override, set.device == device else { return nil }
      return set.handle
    }

    /// The current stream of `device` as the caching allocator's key (0: the default stream).
    static func streamKey(_ device: Int) -> Int { currentStream(device).map { Int(bitPattern: $0) } ?? 0 }

    static func createStream(_ device: Int) throws -> OpaquePointer? {
      try ensure(.cuda(device))
      setDevice(device)
      var stream: cudaStream_t?
      try check(cudaStreamCreate(&stream), "cudaStreamCreate")
      return stream
    }

    static func destroyStream(_ handle: OpaquePointer?) { if let handle { _ = cudaStreamDestroy(handle) } }

    static func synchronizeStream(_ stream: CUDA.Stream) throws {
      try ensure(.cuda(stream.device))
      try check(cudaStreamSynchronize(stream.handle), "cudaStreamSynchronize")
    }

    static func queryStream(_ stream: CUDA.Stream) throws -> Bool {
      try ensure(.cuda(stream.device))
      let status = cudaStreamQuery(stream.handle)
      if status == cudaErrorNotReady { return false }
      try check(status, "cudaStreamQuery")
      return true
    }

    static func streamWait(_ stream: CUDA.Stream, for event: CUDA.Event) throws {
      try check(cudaStreamWaitEvent(stream.handle, event.handle, 0), "cudaStreamWaitEvent")
    }

    static func createEvent(timing: Bool) throws -> OpaquePointer? {
      try ensure(.cuda(0))
      var event: cudaEvent_t?
      try check(
        cudaEventCreateWithFlags(&event, UInt32(timing ? cudaEventDefault : cudaEventDisableTiming)), "cudaEventCreate")
      return event
    }

    static func destroyEvent(_ handle: OpaquePointer?) { if let handle { _ = cudaEventDestroy(handle) } }

    static func recordEvent(_ event: CUDA.Event, on stream: CUDA.Stream) throws {
      setDevice(stream.device)
      try check(cudaEventRecord(event.handle, stream.handle), "cudaEventRecord")
    }

    static func synchronizeEvent(_ event: CUDA.Event) throws {
      try check(cudaEventSynchronize(event.handle), "cudaEventSynchronize")
    }

    static func queryEvent(_ event: CUDA.Event) throws -> Bool {
      let status = cudaEventQuery(event.handle)
      if status == cudaErrorNotReady { return false }
      try check(status, "cudaEventQuery")
      return true
    }

    static func elapsedTime(from start: CUDA.Event, to end: CUDA.Event) throws -> Double {
      var milliseconds: Float = 0
      try check(cudaEventElapsedTime(&milliseconds, start.handle, end.handle), "cudaEventElapsedTime")
      return Double(milliseconds)
    }

    static func recordStream(_ tensor: Tensor, _ stream: CUDA.Stream) {
      guard case .cuda(let index) = tensor.device else { return }
      let key = stream.handle.map { Int(bitPattern: $0) } ?? 0
      // A view's storage starts at its block; storage made elsewhere (not from the allocator) is skipped.
      _ = DeviceAllocator.forDevice(index).markUsed(tensor.storage.data, onStream: key)
    }
  }
#endif
