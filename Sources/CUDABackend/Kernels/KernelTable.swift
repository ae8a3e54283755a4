import Foundation
import Tensor

/// The loaded kernels of every device, keyed by integers: a family's `slot` and a kernel's
/// position in its module (`Module.kernelIndices`), in arrays per device.
///
/// A launch finds its kernel under one lock with two array reads and one lookup of the name
/// in the module's index, and allocates nothing (the string key `"device/name"` it replaces
/// was built on every launch); the first launch of a module on a device loads it
/// (`loadModule`), and the first of a kernel resolves its handle (`loadKernel`). Generic over
/// the handles so that the caching is tested without a GPU.
package final class KernelTable<Library, Handle>: @unchecked Sendable {
  /// One family's module on one device: the module (for its kernels' positions), the library
  /// handle, and each kernel resolved with its argument struct, by position.
  private struct LoadedModule {
    let module: KernelSource.Module
    let library: Library
    var kernels: [(Handle, KernelArguments)?]
  }

  private let lock = NSLock()
  /// Per device, per family slot.
  private var devices: [[LoadedModule?]] = []
  private let loadModule: (KernelSource.Module, Int) -> Library
  private let loadKernel: (Library, String, Int) -> Handle

  /// A table that loads a module for a device with `loadModule(module, device)` and resolves
  /// a kernel with `loadKernel(library, name, device)`, each once.
  package init(
    loadModule: @escaping (KernelSource.Module, Int) -> Library,
    loadKernel: @escaping (Library, String, Int) -> Handle
  ) {
    self.loadModule = loadModule
    self.loadKernel = loadKernel
  }

  /// Kernel `name` of `family` on `device` with its argument struct, loaded on first use.
  package func kernel(_ name: String, in family: KernelSource.Family, device: Int) -> (Handle, KernelArguments) {
    let slot = family.slot
    return lock.withLock {
      while devices.count <= device {
        devices.append([LoadedModule?](repeating: nil, count: KernelSource.Family.count))
      }
      if devices[device][slot] == nil {
        let module = KernelSource.module(family)
        devices[device][slot] = LoadedModule(
          module: module, library: loadModule(module, device),
          kernels: Array(repeating: nil, count: module.kernelNames.count))
      }
      let loaded = devices[device][slot]!
      guard let index = loaded.module.kernelIndices[name] else {
        usageFailure("the CUDA module \(loaded.module.name) has no kernel \(name)")
      }
      if let cached = loaded.kernels[index] { return cached }
      let resolved = (loadKernel(loaded.library, name, device), loaded.module.arguments[name]!)
      devices[device][slot]!.kernels[index] = resolved
      return resolved
    }
  }
}
