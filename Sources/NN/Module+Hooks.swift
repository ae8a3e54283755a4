import Foundation

/// Forward hooks and `apply` (PyTorch: `register_forward_pre_hook`, `register_forward_hook`,
/// `Module.apply`).
///
/// A module keeps its hooks, and each hook gets the module as an argument: capturing the
/// module itself in a hook is a reference cycle (neither would ever be freed).
extension Module {
  /// Registers `hook` to run before every `forward` (PyTorch: `register_forward_pre_hook`):
  /// it sees the module and the input, and returning a tensor replaces the input.
  @discardableResult
  public func registerForwardPreHook(_ hook: @escaping (_ module: Module, _ input: Tensor) -> Tensor?)
    -> Tensor.HookHandle
  {
    let id = ModuleHookCounter.shared.next()
    forwardPreHooks.append((id, hook))
    return Tensor.HookHandle { [weak self] in self?.forwardPreHooks.removeAll { $0.id == id } }
  }

  /// Registers `hook` to run after every `forward` (PyTorch: `register_forward_hook`): it
  /// sees the module, the input and the output, and returning a tensor replaces the output.
  @discardableResult
  public func registerForwardHook(_ hook: @escaping (_ module: Module, _ input: Tensor, _ output: Tensor) -> Tensor?)
    -> Tensor.HookHandle
  {
    let id = ModuleHookCounter.shared.next()
    forwardHooks.append((id, hook))
    return Tensor.HookHandle { [weak self] in self?.forwardHooks.removeAll { $0.id == id } }
  }

  /// Runs `forward` with the pre-hooks before it and the hooks after it.
  func runningHooks(_ input: Tensor, _ forward: (Tensor) -> Tensor) -> Tensor {
    var x = input
    for (_, hook) in forwardPreHooks { x = hook(self, x) ?? x }
    var y = forward(x)
    for (_, hook) in forwardHooks { y = hook(self, x, y) ?? y }
    return y
  }

  /// Calls `body` on every submodule and then on this one (PyTorch: `apply`, children
  /// first), for custom initialisation:
  /// `model.apply { if let l = $0 as? Linear { Init.zeros_(l.bias!) } }`.
  @discardableResult
  public func apply(_ body: (Module) -> Void) -> Self {
    for (_, child) in namedChildren() { child.apply(body) }
    body(self)
    return self
  }

  /// The number of parameter elements, each shared parameter once; with `trainableOnly`,
  /// only those that require grad (PyTorch: `sum(p.numel() for p in model.parameters())`).
  public func parameterCount(trainableOnly: Bool = false) -> Int {
    parameters().filter { !trainableOnly || $0.requiresGrad }.reduce(0) { $0 + $1.numel }
  }
}

/// Hands out ids for module hooks.
final class ModuleHookCounter: @unchecked Sendable {
  static let shared = ModuleHookCounter()
  private var value = 0
  private let lock = NSLock()
  func next() -> Int {
    lock.withLock {
      value += 1
      return value
    }
  }
}
