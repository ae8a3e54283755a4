import Foundation
import Tensor

/// The loaded kernels of every device, keyed by integers: a family's `slot` and a kernel's
/// position in its module (`Module.kernelIndices`), in arrays per device.
///
/// A launch finds its kernel under one lock with array reads and one lookup of the name in
/// the module's index, and allocates nothing (the string key `"device/name"` it replaces was
/// built on every launch); the first launch of a module on a device loads it (`loadModule`),
/// and the first of a kernel resolves its handle (`loadKernel`). Generic over the handles so that the caching is tested without a GPU.
package final class KernelTable<Library, Handle>: @unchecked Sendable {
  /// One family's module on one device: the library handle and its kernels by position.
  private struct LoadedModule {
    let library: Library
    var kernels: [Handle?]
  }

  private let lock = NSLock()
  /// Each family's module, by slot (built once, then read without rebuilding its source).
  private var modules = [KernelSource.Module?](repeating: nil, count: KernelSource.Family.count)
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
      let module = modules[slot] ?? KernelSource.module(family)
      modules[slot] = module
      guard let index = module.kernelIndices[name] else {
        usageFailure("the CUDA module \(module.name) has no kernel \(name)")
      }
      let arguments = module.arguments[name]!
      while devices.count <= device {
        devices.append([LoadedModule?](repeating: nil, count: KernelSource.Family.count))
      }
      if let handle = devices[device][slot]?.kernels[index] { return (handle, arguments) }
      if devices[device][slot] == nil {
        devices[device][slot] = LoadedModule(
          library: loadModule(module, device), kernels: [Handle?](repeating: nil, count: module.kernelNames.count))
      }
      let handle = loadKernel(devices[device][slot]!.library, name, device)
      devices[device][slot]!.kernels[index] = handle
      return (handle, arguments)
    }
  }
}
