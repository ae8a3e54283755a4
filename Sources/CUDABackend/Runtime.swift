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
    static func emptyCache() { DeviceAllocator.all.forEach { $0.emptyCache() } }

    /// Checks that `device` exists (registering the backend), or throws the runtime's reason.
    static func ensure(_ device: Device) throws {
      guard case .cuda(let index) = device else { return }
      let count = try deviceCount()
      guard index >= 0 && index < count else {
        throw DeviceError.runtime("CUDA error: invalid device ordinal: cuda:\(index) requested, \(count) device(s) present")
      }
    }

    static func setDevice(_ index: Int) { require(cudaSetDevice(Int32(index)), "cudaSetDevice") }

    /// Installs the backend factory, once.
    static let registerOnce: Void = {
      BackendRegistry.register(kind: "cuda") { device in
        guard case .cuda(let index) = device else { throw DeviceError.runtime("not a CUDA device: \(device)") }
        return CUDADeviceBackend(index: index)
      }
    }()

    /// Copies the bytes of dense `src` into `dst` (same layout), between the host and a CUDA
    /// device or between two CUDA devices (the backend's `transfer`).
    static func copyBytes(from src: Tensor, to dst: Tensor) throws {
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
      try check(cudaMemcpy(to, from, bytes, kind), "cudaMemcpy(\(src.device) -> \(dst.device), \(bytes) bytes)")
    }
  }
#endif
