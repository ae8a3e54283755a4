#if CUDA
  import CCUDA
  import Foundation
  import Tensor

  /// Compiles kernel modules with NVRTC for a GPU architecture and loads them, caching the
  /// binaries in memory and on disk (keyed by a hash of the source and the architecture).
  enum KernelCompiler {
    /// Compiles `module` for `arch` (e.g. `sm_90`) to a CUBIN, or throws NVRTC's log.
    static func compile(_ module: KernelSource.Module, arch: String) throws -> Data {
      var program: nvrtcProgram?
      try checkNVRTC(nvrtcCreateProgram(&program, module.source, module.name + ".cu", 0, nil, nil), module.name)
      defer { nvrtcDestroyProgram(&program) }
      let options = ["--gpu-architecture=\(arch)", "--std=c++17", "-default-device"]
      let cStrings = options.map { strdup($0) }
      defer { for string in cStrings { free(string) } }
      var pointers = cStrings.map { UnsafePointer<CChar>($0) }
      let status = nvrtcCompileProgram(program, Int32(pointers.count), &pointers)
      if status != NVRTC_SUCCESS {
        var logSize = 0
        nvrtcGetProgramLogSize(program, &logSize)
        var log = [CChar](repeating: 0, count: logSize + 1)
        nvrtcGetProgramLog(program, &log)
        throw DeviceError.runtime(
          "NVRTC could not compile \(module.name) for \(arch): \(String(cString: nvrtcGetErrorString(status)))\n\(String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))"
        )
      }
      var size = 0
      try checkNVRTC(nvrtcGetCUBINSize(program, &size), module.name)
      var binary = Data(count: size)
      try binary.withUnsafeMutableBytes { raw in
        try checkNVRTC(nvrtcGetCUBIN(program, raw.baseAddress!.assumingMemoryBound(to: CChar.self)), module.name)
      }
      return binary
    }

    private static func checkNVRTC(_ status: nvrtcResult, _ name: String) throws {
      guard status != NVRTC_SUCCESS else { return }
      throw DeviceError.runtime("NVRTC failed on \(name): \(String(cString: nvrtcGetErrorString(status)))")
    }

    /// The NVRTC version, as (major, minor).
    static func version() -> (Int, Int) {
      var major: Int32 = 0
      var minor: Int32 = 0
      nvrtcVersion(&major, &minor)
      return (Int(major), Int(minor))
    }

    /// The loaded kernels of every device.
    private static let table = KernelTable<cudaLibrary_t, cudaKernel_t>(
      loadModule: { module, device in
        let binary: Data
        do {
          binary = try cachedBinary(module, arch: architecture(of: device))
        } catch {
          usageFailure("\(error)")
        }
        var library: cudaLibrary_t?
        Runtime.setDevice(device)
        binary.withUnsafeBytes { raw in
          Runtime.require(
            cudaLibraryLoadData(&library, raw.baseAddress, nil, nil, 0, nil, nil, 0),
            "cudaLibraryLoadData(\(module.name))")
        }
        return library!
      },
      loadKernel: { library, name, _ in
        var kernel: cudaKernel_t?
        Runtime.require(cudaLibraryGetKernel(&kernel, library, name), "cudaLibraryGetKernel(\(name))")
        return kernel!
      })

    /// The kernel `name` of `family`'s module with its argument struct, compiled (or read from
    /// the disk cache) and loaded for `device`'s architecture once per process.
    static func kernel(_ name: String, in family: KernelSource.Family, device: Int) -> (cudaKernel_t, KernelArguments) {
      table.kernel(name, in: family, device: device)
    }

    /// Each device's architecture, read once (under the kernel table's lock, as modules load).
    nonisolated(unsafe) private static var architectures: [Int: String] = [:]

    private static func architecture(of device: Int) -> String {
      if let known = architectures[device] { return known }
      var major: Int32 = 0
      var minor: Int32 = 0
      Runtime.require(
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, Int32(device)), "cudaDeviceGetAttribute")
      Runtime.require(
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, Int32(device)), "cudaDeviceGetAttribute")
      let arch = "sm_\(major)\(minor)"
      architectures[device] = arch
      return arch
    }

    /// The folder of compiled kernels: `$SWIFT_TENSOR_KERNEL_CACHE`, else `~/.cache/swift-tensor/kernels`.
    static var cacheDirectory: URL {
      if let custom = ProcessInfo.processInfo.environment["SWIFT_TENSOR_KERNEL_CACHE"] {
        return URL(fileURLWithPath: custom)
      }
      return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/swift-tensor/kernels")
    }

    private static func cachedBinary(_ module: KernelSource.Module, arch: String) throws -> Data {
      let (major, minor) = version()
      let file = cacheDirectory.appendingPathComponent(
        "\(module.name)-\(arch)-nvrtc\(major).\(minor)-\(fnv1a(module.source)).cubin")
      if let data = try? Data(contentsOf: file) { return data }
      let binary = try compile(module, arch: arch)
      try? FileManager.default.createDirectory(at: cacheDirectory, withIntermediateDirectories: true)
      try? binary.write(to: file, options: .atomic)
      return binary
    }

    /// A 64-bit FNV-1a hash, in hex.
    static func fnv1a(_ text: String) -> String {
      var hash: UInt64 = 0xcbf2_9ce4_8422_2325
      for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
      }
      return String(hash, radix: 16)
    }
  }
#endif
