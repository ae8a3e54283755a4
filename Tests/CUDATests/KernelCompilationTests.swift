#if CUDA
  @testable import CUDABackend
  import Dispatch
  import Foundation
  import Testing

  /// NVRTC needs no GPU: every kernel module must compile for the architectures we target.
  @Suite struct KernelCompilationTests {
    @Test(arguments: ["sm_80", "sm_90"])
    func everyKernelModuleCompiles(arch: String) throws {
      let modules = KernelSource.allModules
      let failures = FailureLog()
      DispatchQueue.concurrentPerform(iterations: modules.count) { i in
        do {
          let binary = try KernelCompiler.compile(modules[i], arch: arch)
          if binary.isEmpty { failures.add("\(modules[i].name): empty binary") }
        } catch {
          failures.add("\(error)")
        }
      }
      #expect(failures.messages.isEmpty, "\(failures.messages.joined(separator: "\n"))")
      #expect(modules.count == 45)
    }

    /// The layout asserts are checked by the device compiler: a struct whose fields the device
    /// would lay out elsewhere than the host packs them does not compile.
    @Test func aStructTheHostWouldPackDifferentlyDoesNotCompile() throws {
      let args = KernelArguments("Probe", [("n", .int32), ("p", .pointer("float*"))])
      let kernel = "extern \"C\" __global__ void probe(const Probe args) { *args.p = (float)args.n; }\n"
      let good = KernelSource.Module(name: "probe", source: KernelSource.prelude + args.declaration + kernel)
      #expect(try !KernelCompiler.compile(good, arch: "sm_90").isEmpty)
      let swapped = args.declaration.replacingOccurrences(
        of: "  int n;\n  float* p;\n", with: "  float* p;\n  int n;\n")
      #expect(swapped != args.declaration)
      let bad = KernelSource.Module(name: "probe", source: KernelSource.prelude + swapped + kernel)
      #expect(throws: (any Error).self) { try KernelCompiler.compile(bad, arch: "sm_90") }
    }

    @Test func brokenSourceReportsTheCompilerLog() {
      let broken = KernelSource.Module(
        name: "broken", source: "extern \"C\" __global__ void k() { undefined_thing(); }")
      #expect(throws: (any Error).self) { try KernelCompiler.compile(broken, arch: "sm_90") }
    }
  }

  final class FailureLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ message: String) { lock.withLock { list.append(message) } }
    var messages: [String] { lock.withLock { list } }
  }
#endif
