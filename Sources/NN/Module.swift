@_exported import Autograd
import Foundation

/// The base class of layers and models (PyTorch: `torch.nn.Module`).
///
/// Submodules and parameters are found by reflection over stored properties, with no
/// registration: a `Module` property (or an array or optional of them) is a child, a
/// `Tensor` property a parameter (or a buffer, when registered with `registerBuffer`).
/// Names follow PyTorch's: `camelCase` properties become `snake_case` keys, and array
/// elements are numbered (`layer1.0.conv1.weight`).
///
/// ```swift
/// final class Net: Module {
///   var fc = Linear(4, 2)
///   override func forward(_ x: Tensor) -> Tensor { fc(x).relu() }
/// }
/// ```
open class Module: Forwarding {
  /// Whether the module is in training mode (`train()`) or evaluation mode (`eval()`).
  public private(set) var training = true
  private var bufferNames: Set<String> = []
  /// Hooks that run before `forward` (`registerForwardPreHook`), in registration order.
  var forwardPreHooks: [(id: Int, hook: (Module, Tensor) -> Tensor?)] = []
  /// Hooks that run after `forward` (`registerForwardHook`), in registration order.
  var forwardHooks: [(id: Int, hook: (Module, Tensor, Tensor) -> Tensor?)] = []

  /// Creates a module in training mode.
  public init() {}

  /// Runs `forward`, with the pre-hooks before it and the hooks after it when there are
  /// any (the call `m(x)` comes here).
  public func forwardWithHooks(_ input: Tensor) -> Tensor {
    forwardPreHooks.isEmpty && forwardHooks.isEmpty ? forward(input) : runningHooks(input) { forward($0) }
  }

  /// Computes the module's output; every module overrides it.
  open func forward(_ input: Tensor) -> Tensor {
    usageFailure("\(type(of: self)) does not override forward(_:); a Module subclass must define its computation")
  }

  /// Marks the tensor property `name` (Swift spelling) as a buffer: saved in `stateDict()`
  /// but not a parameter (PyTorch: `register_buffer`).
  public func registerBuffer(_ name: String) { bufferNames.insert(name) }

  /// The direct submodules with their names (PyTorch: `named_children()`).
  open func namedChildren() -> [(String, Module)] {
    reflectedChildren().compactMap { entry in
      if case .module(let m) = entry.value { return (entry.name, m) }
      return nil
    }
  }

  /// The module's own tensors (not its children's), with their names and whether each is
  /// a buffer.
  open func namedOwnTensors() -> [(name: String, tensor: Tensor, isBuffer: Bool)] {
    reflectedChildren().compactMap { entry in
      if case .tensor(let t, let property) = entry.value {
        return (entry.name, t, bufferNames.contains(property))
      }
      return nil
    }
  }

  private enum Reflected {
    case module(Module)
    case tensor(Tensor, property: String)
  }

  private func reflectedChildren() -> [(name: String, value: Reflected)] {
    var result: [(String, Reflected)] = []
    var mirror: Mirror? = Mirror(reflecting: self)
    var levels: [Mirror] = []
    while let m = mirror, m.subjectType != Module.self {
      levels.append(m)
      mirror = m.superclassMirror
    }
    // Base-class properties first, as PyTorch registers them in __init__ order.
    for level in levels.reversed() {
      for child in level.children {
        guard let label = child.label else { continue }
        let property = label.hasPrefix("_") ? String(label.dropFirst()) : label
        Module.collect(child.value, name: Module.snakeCase(property), property: property, into: &result)
      }
    }
    return result
  }

  private static func collect(_ value: Any, name: String, property: String, into result: inout [(String, Reflected)]) {
    if let module = value as? Module {
      result.append((name, .module(module)))
    } else if let tensor = value as? Tensor {
      result.append((name, .tensor(tensor, property: property)))
    } else {
      let mirror = Mirror(reflecting: value)
      switch mirror.displayStyle {
      case .optional:
        if let wrapped = mirror.children.first { collect(wrapped.value, name: name, property: property, into: &result) }
      case .collection:
        for (i, element) in mirror.children.enumerated() {
          collect(element.value, name: "\(name).\(i)", property: property, into: &result)
        }
      default: break
      }
    }
  }

  /// `runningMean` → `running_mean`, as PyTorch spells attributes.
  static func snakeCase(_ name: String) -> String {
    var out = ""
    for c in name {
      if c.isUppercase {
        if !out.isEmpty { out.append("_") }
        out.append(Character(c.lowercased()))
      } else {
        out.append(c)
      }
    }
    return out
  }

  /// Every submodule, this one first, with dotted names (PyTorch: `named_modules()`).
  public func namedModules(prefix: String = "") -> [(String, Module)] {
    var result: [(String, Module)] = [(prefix, self)]
    var seen: Set<ObjectIdentifier> = [ObjectIdentifier(self)]
    for (name, child) in namedChildren() where seen.insert(ObjectIdentifier(child)).inserted {
      result += child.namedModules(prefix: prefix.isEmpty ? name : "\(prefix).\(name)")
    }
    return result
  }

  /// Every parameter with its dotted name, each once (PyTorch: `named_parameters()`).
  public func namedParameters() -> [(String, Tensor)] { namedTensors(buffers: false) }

  /// Every parameter (PyTorch: `parameters()`).
  public func parameters() -> [Tensor] { namedParameters().map(\.1) }

  /// Every buffer with its dotted name (PyTorch: `named_buffers()`).
  public func namedBuffers() -> [(String, Tensor)] { namedTensors(buffers: true) }

  private func namedTensors(buffers: Bool) -> [(String, Tensor)] {
    var result: [(String, Tensor)] = []
    var seen = Set<ObjectIdentifier>()
    for (prefix, module) in namedModules() {
      for entry in module.namedOwnTensors() where entry.isBuffer == buffers {
        guard seen.insert(ObjectIdentifier(entry.tensor)).inserted else { continue }
        result.append((prefix.isEmpty ? entry.name : "\(prefix).\(entry.name)", entry.tensor))
      }
    }
    return result
  }

  /// Parameters and buffers by name, detached (PyTorch: `state_dict()`).
  public func stateDict() -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    for (name, t) in namedParameters() + namedBuffers() { result[name] = t.detach() }
    return result
  }

  /// The ordered keys of `stateDict()` (parameters, then buffers, module by module).
  public func stateDictKeys() -> [String] { (namedParameters() + namedBuffers()).map(\.0) }

  /// Copies values into the parameters and buffers (PyTorch: `load_state_dict`). With
  /// `strict`, missing and unexpected keys are errors; a shape mismatch always is.
  public func loadStateDict(_ state: [String: Tensor], strict: Bool = true) throws {
    let own = namedParameters() + namedBuffers()
    let ownNames = Set(own.map(\.0))
    var problems: [String] = []
    let missing = own.map(\.0).filter { state[$0] == nil }
    let unexpected = state.keys.filter { !ownNames.contains($0) }.sorted()
    if strict && !missing.isEmpty {
      problems.append("Missing key(s) in state_dict: \(missing.map { "\"\($0)\"" }.joined(separator: ", ")).")
    }
    if strict && !unexpected.isEmpty {
      problems.append("Unexpected key(s) in state_dict: \(unexpected.map { "\"\($0)\"" }.joined(separator: ", ")).")
    }
    for (name, t) in own {
      guard let value = state[name], value.shape != t.shape else { continue }
      problems.append(
        "size mismatch for \(name): copying a param with shape \(value.shape) from checkpoint, the shape in current model is \(t.shape)."
      )
    }
    guard problems.isEmpty else {
      throw StateDictError(
        description: "Error(s) in loading state_dict for \(type(of: self)):\n\t" + problems.joined(separator: "\n\t"))
    }
    withNoGrad {
      for (name, t) in own { if let value = state[name] { t.copy_(value) } }
    }
  }

  /// Sets training mode here and in every submodule (PyTorch: `train()`).
  @discardableResult
  public func train(_ mode: Bool = true) -> Self {
    for (_, m) in namedModules() { m.training = mode }
    return self
  }

  /// Sets evaluation mode (PyTorch: `eval()`).
  @discardableResult
  public func eval() -> Self { train(false) }

  /// Clears every parameter's gradient (PyTorch: `zero_grad()`, which sets `.grad` to None).
  public func zeroGrad() {
    for p in parameters() { p.grad = nil }
  }

  /// Moves every parameter and buffer, and the parameters' gradients, to `device` in place,
  /// keeping the same tensor objects (still leaves), so an optimizer built before the move
  /// keeps working (PyTorch: `model.to(device)`); throws when the device is unavailable or
  /// has no memory for them, before anything has moved when the device cannot be used.
  public func to(_ device: Device) throws {
    try device.prepare()
    for (_, t) in namedParameters() + namedBuffers() where t.device != device {
      let moved = try t.detach().moved(to: device)
      let grad = try t.grad.map { try $0.detach().moved(to: device) }
      t.storage = moved.storage
      t.layout = moved.layout
      t.grad = grad
    }
  }

  /// Converts every floating-point parameter and buffer (and their gradients) to `dtype`
  /// in place, keeping the same tensor objects, so an optimizer made before still holds them
  /// (PyTorch: `model.to(dtype)`); integer buffers (`num_batches_tracked`) stay as they are.
  @discardableResult
  public func to(dtype: DType) -> Self {
    usageCheck(dtype.isFloatingPoint, "nn.Module.to only accepts floating point dtypes, but got desired dtype=\(dtype)")
    for (_, t) in namedParameters() + namedBuffers() where t.dtype.isFloatingPoint && t.dtype != dtype {
      let converted = t.detach().to(dtype)
      t.storage = converted.storage
      t.layout = converted.layout
      t.dtype = dtype
      if let grad = t.grad { t.grad = grad.to(dtype) }
    }
    return self
  }

  /// Converts floating-point parameters and buffers to float16 (PyTorch: `half()`).
  @discardableResult
  public func half() -> Self { to(dtype: .float16) }

  /// Converts floating-point parameters and buffers to bfloat16 (PyTorch: `bfloat16()`).
  @discardableResult
  public func bfloat16() -> Self { to(dtype: .bfloat16) }

  /// Converts floating-point parameters and buffers to float32 (PyTorch: `float()`).
  @discardableResult
  public func float() -> Self { to(dtype: .float32) }

  /// Converts floating-point parameters and buffers to float64 (PyTorch: `double()`).
  @discardableResult
  public func double() -> Self { to(dtype: .float64) }
}

/// What makes a module callable as `model(x)`. The call lives in a protocol extension, not
/// on `Module`, so that a layer whose call returns more than a tensor (`lstm(x)` returns the
/// output and the final states) can declare its own `callAsFunction(_:)`: a concrete type's
/// method wins over a protocol extension's.
public protocol Forwarding: AnyObject {
  /// The module's computation.
  func forward(_ input: Tensor) -> Tensor
  /// Runs `forward` with the module's forward hooks around it (`Module` implements it).
  func forwardWithHooks(_ input: Tensor) -> Tensor
}

extension Forwarding {
  /// Runs `forward` (PyTorch: `model(x)`), with the module's forward hooks around it.
  public func callAsFunction(_ input: Tensor) -> Tensor { forwardWithHooks(input) }
}

/// A `loadStateDict` failure, with PyTorch's message.
public struct StateDictError: Error, CustomStringConvertible {
  /// Every missing, unexpected and mismatched key.
  public let description: String
}

/// Modules applied one after another (PyTorch: `nn.Sequential`); children are named `0`, `1`, ...
public final class Sequential: Module {
  /// The layers, in order.
  public var layers: [Module]

  /// Chains `layers`.
  public init(_ layers: Module...) { self.layers = layers }
  /// Chains an array of layers.
  public init(_ layers: [Module]) { self.layers = layers }

  /// Children named by position.
  public override func namedChildren() -> [(String, Module)] {
    layers.enumerated().map { ("\($0.offset)", $0.element) }
  }

  /// Applies each layer in turn.
  public override func forward(_ input: Tensor) -> Tensor { layers.reduce(input) { $1($0) } }

  /// The layer at `index`.
  public subscript(index: Int) -> Module { layers[index] }
}
