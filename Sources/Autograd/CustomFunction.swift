/// What a custom function's `forward` leaves for its `backward`
/// (PyTorch: the `ctx` of `torch.autograd.Function`).
public final class FunctionContext {
  private var saved: [SavedTensor] = []
  /// What `saveForBackward` was given, until `apply` knows which of it is the output.
  private var pending: [Tensor] = []
  /// Whether each input requires grad (PyTorch: `ctx.needs_input_grad`).
  public internal(set) var needsInputGrad: [Bool] = []
  /// Any other values `backward` needs.
  public var values: [String: Any] = [:]

  init() {}

  /// Saves tensors for `backward`, guarded against later in-place writes
  /// (PyTorch: `ctx.save_for_backward`).
  public func saveForBackward(_ tensors: Tensor...) {
    pending = tensors
  }

  /// Saves what `forward` asked for, its output as the node's own (linked to the node when
  /// unpacked, as PyTorch's saved outputs); returns that one for the node to bind.
  func seal(output: Tensor) -> SavedTensor? {
    let savedOutput = pending.contains { $0 === output } ? SavedTensor(output: output) : nil
    saved = pending.map { $0 === output ? savedOutput! : SavedTensor($0) }
    pending = []
    return savedOutput
  }

  /// The saved tensors; throws if one was modified in place since it was saved
  /// (PyTorch: `ctx.saved_tensors`).
  public func savedTensors() throws -> [Tensor] { try saved.map { try $0.unpack() } }
}

/// A differentiable op defined by its forward and backward (PyTorch: subclassing
/// `torch.autograd.Function`).
///
/// ```swift
/// enum Cube: CustomFunction {
///   static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor {
///     ctx.saveForBackward(inputs[0])
///     return inputs[0] * inputs[0] * inputs[0]
///   }
///   static func backward(_ ctx: FunctionContext, _ grad: Tensor) throws -> [Tensor?] {
///     let x = try ctx.savedTensors()[0]
///     return [grad * 3 * x * x]
///   }
/// }
/// let y = Cube.apply(x)
/// ```
public protocol CustomFunction {
  /// Computes the output (runs without recording).
  static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor
  /// Maps the output's gradient to one gradient (or `nil`) per input.
  static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) throws -> [Tensor?]
}

extension CustomFunction {
  /// Runs `forward` and records a node whose backward is `backward`
  /// (PyTorch: `Function.apply`).
  public static func apply(_ inputs: Tensor...) -> Tensor {
    let ctx = FunctionContext()
    ctx.needsInputGrad = inputs.map(\.requiresGrad)
    let output = withNoGrad { forward(ctx, inputs) }
    let savedOutput = ctx.seal(output: output)
    return Autograd.record(output, from: inputs, name: "\(Self.self)Backward", savedOutput: savedOutput) { g in
      try backward(ctx, g)
    }
  }
}

extension Autograd {
  /// Makes `output`, computed from `inputs` without recording, the result of one graph node
  /// named `name` whose backward maps the output's gradient to one gradient (or `nil`) per
  /// input: the closure form of `CustomFunction`, for ops whose settings are not tensors.
  /// Returns `output` itself when nothing needs a gradient.
  public static func record(
    _ output: Tensor, from inputs: [Tensor], name: String, backward: @escaping (Tensor) throws -> [Tensor?]
  ) -> Tensor {
    record(output, from: inputs, name: name, savedOutput: nil, backward: backward)
  }

  /// `record` for a fused op: its output came from a kernel, `backward` runs the gradient
  /// kernels, and `composed` is the same function written with differentiable ops. This is
  /// the one mechanism of the fused ops (convolution, attention, batch norm, pooling, the
  /// recurrent layers): the frontend that calls the kernel records it here, so the forward,
  /// the backward and the composed form of an op sit together. The inputs are saved, so a
  /// backward after one of them was written in place stops with PyTorch's message. When a
  /// graph of the gradient is being built (`createGraph: true`) the gradients come from
  /// `composed(inputs)` instead of the kernels, whose results are not differentiable, so
  /// second derivatives are exact (PyTorch's double backward of its fused ops).
  public static func record(
    _ output: Tensor, from inputs: [Tensor], name: String, composed: @escaping ([Tensor]) -> Tensor,
    backward: @escaping (Tensor) throws -> [Tensor?]
  ) -> Tensor {
    guard Autograd.isGradEnabled, inputs.contains(where: \.requiresGrad), output.dtype.isFloatingPoint else {
      return output
    }
    let saved = inputs.map { SavedTensor($0) }
    let needed = inputs.map(\.requiresGrad)
    return record(output, from: inputs, name: name) { g in
      let values = try saved.map { try $0.unpack() }
      guard Autograd.isGradEnabled else { return try backward(g) }
      return try Formulas.composedGradients(of: values, needed: needed, upstream: g, composed)
    }
  }

  /// `record` whose backward reads `savedOutput`, saved of `output` itself
  /// (`SavedTensor(output:)`), which the node binds.
  static func record(
    _ output: Tensor, from inputs: [Tensor], name: String, savedOutput: SavedTensor?,
    backward: @escaping (Tensor) throws -> [Tensor?]
  ) -> Tensor {
    guard Autograd.isGradEnabled, inputs.contains(where: \.requiresGrad), output.dtype.isFloatingPoint else {
      return output
    }
    let result = output.detach()
    result.setHistory(
      Function(name: name, inputs: inputs, savesValues: true, savedOutput: savedOutput, backward: backward))
    return result
  }
}
