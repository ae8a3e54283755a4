import Foundation
import Tensor

/// The CUDA runtime as PyTorch's `torch.cuda` shows it: availability, devices, memory.
///
/// Built without the `CUDA` package trait, there are no devices and moving a tensor to one
/// throws an error that says how to enable the trait.
public enum CUDA {
  /// Properties of one device (PyTorch: `torch.cuda.get_device_properties`).
  public struct DeviceProperties: Sendable, CustomStringConvertible {
    /// The marketing name (`NVIDIA H200`).
    public let name: String
    /// Compute capability major and minor (`(9, 0)`).
    public let computeCapability: (major: Int, minor: Int)
    /// Global memory in bytes.
    public let totalMemory: Int
    /// Streaming multiprocessors.
    public let multiprocessorCount: Int

    /// `NVIDIA H200 (sm_90, 139.8 GiB, 132 SMs)`.
    public var description: String {
      "\(name) (sm_\(computeCapability.major)\(computeCapability.minor), \(String(format: "%.1f", Double(totalMemory) / 1_073_741_824)) GiB, \(multiprocessorCount) SMs)"
    }
  }

  /// Whether a CUDA device can be used (PyTorch: `torch.cuda.is_available()`).
  public static var isAvailable: Bool { deviceCount > 0 }

  /// The number of CUDA devices; 0 without a driver or device (PyTorch: `torch.cuda.device_count()`).
  public static var deviceCount: Int { (try? Runtime.deviceCount()) ?? 0 }

  /// Why CUDA cannot be used, or `nil` when it can (the runtime's own reason, or the
  /// missing trait).
  public static var unavailableReason: String? {
    do {
      return try Runtime.deviceCount() > 0 ? nil : "no CUDA device was found"
    } catch {
      return "\(error)"
    }
  }

  /// Loads the runtime and checks that `device` exists (PyTorch: `torch.cuda.init()`, which
  /// happens on first use there too); any other device kind passes. `Module.to` calls it, so
  /// a model can move to a GPU before any tensor has.
  public static func initialize(for device: Device) throws { try device.prepare() }

  /// The properties of device `index`.
  public static func properties(of index: Int = 0) throws -> DeviceProperties { try Runtime.properties(index) }

  /// Waits for all work on the current device (PyTorch: `torch.cuda.synchronize()`).
  public static func synchronize() throws { try Runtime.synchronize() }

  /// What the caching allocator of `device` holds, with peaks, retries and out-of-memory
  /// errors (PyTorch: `torch.cuda.memory_stats()`); all zero without the trait or a device.
  public static func memoryStats(device: Int = 0) -> MemoryStats { Runtime.memoryStats(device) }

  /// Bytes held by tensors on `device` (PyTorch: `torch.cuda.memory_allocated()`).
  public static func memoryAllocated(device: Int = 0) -> Int { memoryStats(device: device).allocatedBytes }

  /// The most bytes held by tensors at once since the start or `resetPeakMemoryStats`
  /// (PyTorch: `torch.cuda.max_memory_allocated()`).
  public static func maxMemoryAllocated(device: Int = 0) -> Int { memoryStats(device: device).peakAllocatedBytes }

  /// Bytes the caching allocator holds, in use or cached (PyTorch: `torch.cuda.memory_reserved()`).
  public static func memoryReserved(device: Int = 0) -> Int { memoryStats(device: device).reservedBytes }

  /// The most bytes reserved at once (PyTorch: `torch.cuda.max_memory_reserved()`).
  public static func maxMemoryReserved(device: Int = 0) -> Int { memoryStats(device: device).peakReservedBytes }

  /// Starts the peaks afresh from what is held now (PyTorch: `torch.cuda.reset_peak_memory_stats()`).
  public static func resetPeakMemoryStats(device: Int = 0) { Runtime.resetPeakMemoryStats(device) }

  /// Returns cached, unused blocks to the driver (PyTorch: `torch.cuda.empty_cache()`).
  public static func emptyCache() { Runtime.emptyCache() }

  private static let settingsLock = NSLock()
  nonisolated(unsafe) private static var tf32 = false

  /// Whether float32 matrix products may use TF32 tensor cores (10-bit mantissa inputs, float32
  /// accumulation; about 8x the float32 throughput on an H100/H200). Off by default, as
  /// PyTorch's `torch.backends.cuda.matmul.allow_tf32`; `setFloat32MatmulPrecision` sets it too.
  public static var allowTF32: Bool {
    get { settingsLock.withLock { tf32 } }
    set { settingsLock.withLock { tf32 = newValue } }
  }

  /// The precision of float32 matrix products (PyTorch: `torch.set_float32_matmul_precision`):
  /// `"highest"` computes in float32, `"high"` and `"medium"` allow TF32.
  public static func setFloat32MatmulPrecision(_ precision: String) {
    usageCheck(
      ["highest", "high", "medium"].contains(precision),
      "setFloat32MatmulPrecision: expected \"highest\", \"high\" or \"medium\", got \"\(precision)\"")
    allowTF32 = precision != "highest"
  }

  /// `"highest"` unless TF32 is allowed, then `"high"` (PyTorch: `torch.get_float32_matmul_precision()`).
  public static var float32MatmulPrecision: String { allowTF32 ? "high" : "highest" }
}

/// What the core's `BackendRegistry` finds (by its mangled name) and asks to register the CUDA
/// backend the first time a `.cuda` device is used: the one point where the backend
/// registers, besides `CUDA.isAvailable`/`deviceCount`. Without the `CUDA` trait it registers
/// nothing, and the device's error says to build with the trait.
package enum CUDADeviceLoader: DeviceBackendLoader {
  /// Registers the CUDA backend factory (nothing without the `CUDA` trait).
  package static func registerBackends() { Runtime.registerBackend() }
}
