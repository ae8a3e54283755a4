import Foundation
import Testing

@testable import CUDABackend
@testable import Tensor

/// The kernel cache's integer keys, with stand-in handles: no GPU needed.
@Suite struct KernelTableTests {
  /// Counts what a table loads; handles say what they were loaded for.
  final class Loads: @unchecked Sendable {
    var modules: [String] = []
    var kernels: [String] = []
  }

  static func table(_ loads: Loads) -> KernelTable<String, String> {
    KernelTable(
      loadModule: { module, device in
        loads.modules.append("\(device)/\(module.name)")
        return "\(device)/\(module.name)"
      },
      loadKernel: { library, name, _ in
        loads.kernels.append("\(library):\(name)")
        return "\(library):\(name)"
      })
  }

  @Test func familySlotsAreDenseAndFollowAllCases() {
    let slots = KernelSource.Family.allCases.map(\.slot)
    #expect(slots == Array(0..<KernelSource.Family.count))
    #expect(DType.allCases.map(\.ordinal) == Array(0..<DType.allCases.count))
  }

  @Test func modulesIndexTheirKernelsInNameOrder() {
    let module = KernelSource.module(.unary(.float16))
    #expect(module.kernelNames == module.arguments.keys.sorted())
    #expect(module.kernelNames.count > 10)
    for (position, name) in module.kernelNames.enumerated() { #expect(module.kernelIndices[name] == position) }
  }

  @Test func loadsEachModuleOncePerDeviceAndEachKernelOnce() {
    let loads = Loads()
    let table = Self.table(loads)
    let exp = KernelSource.kernelName("unary", "exp", .float32)
    let neg = KernelSource.kernelName("unary", "neg", .float32)
    let unary = KernelSource.module(.unary(.float32)).name
    for _ in 0..<3 {
      #expect(table.kernel(exp, in: .unary(.float32), device: 0).0 == "0/\(unary):\(exp)")
    }
    #expect(table.kernel(neg, in: .unary(.float32), device: 0).0 == "0/\(unary):\(neg)")
    #expect(table.kernel(exp, in: .unary(.float32), device: 2).0 == "2/\(unary):\(exp)")
    let (_, arguments) = table.kernel(exp, in: .unary(.float32), device: 2)
    #expect(arguments.fields.first?.kind == .geometry(operands: 2))
    #expect(loads.modules == ["0/\(unary)", "2/\(unary)"])
    #expect(loads.kernels == ["0/\(unary):\(exp)", "0/\(unary):\(neg)", "2/\(unary):\(exp)"])
    // The same name in another dtype's family is another module.
    let double = KernelSource.kernelName("unary", "exp", .float64)
    #expect(table.kernel(double, in: .unary(.float64), device: 0).0.hasSuffix(":\(double)"))
    #expect(loads.modules.count == 3)
  }
}
