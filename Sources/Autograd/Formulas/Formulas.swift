/// Maps each recorded op to its node: PyTorch's name and backward formula. Formulas are
/// written with ordinary (recorded) tensor ops, so with `createGraph: true` the backward
/// pass builds a graph of its own and higher-order gradients work.
enum Formulas {
  static func node(for op: RecordedOp, inputs: [Tensor], output: Tensor) -> Function {
    switch op {
    case .unary(let u): return ElementwiseFormulas.unary(u, inputs: inputs, output: output)
    case .binary(let b): return ElementwiseFormulas.binary(b, inputs: inputs, output: output)
    case .select(let condition): return ElementwiseFormulas.select(condition, inputs[0], inputs[1])
    case .clamp(let lower, let upper, let hasLowerTensor, let hasUpperTensor):
      return ElementwiseFormulas.clamp(
        inputs, lower: lower, upper: upper, hasLowerTensor: hasLowerTensor, hasUpperTensor: hasUpperTensor)
    case .reduce(let r, let dims, let keepdim):
      return ReductionFormulas.reduce(r, dims: dims, keepdim: keepdim, input: inputs[0], output: output)
    case .argReduce(let r, let dim, let keepdim, let indices):
      return ReductionFormulas.argReduce(r, dim: dim, keepdim: keepdim, indices: indices, input: inputs[0])
    case .scan(let s, let dim): return ReductionFormulas.scan(s, dim: dim, input: inputs[0], output: output)
    case .mean(let dims, let keepdim): return ReductionFormulas.mean(dims: dims, keepdim: keepdim, input: inputs[0])
    case .softmax(let dim, let log):
      return ReductionFormulas.softmax(dim: dim, log: log, input: inputs[0], output: output)
    case .matmul: return LinearAlgebraFormulas.matmul(inputs[0], inputs[1])
    case .view(let kind, let name): return ViewFormulas.node(kind, name: name, input: inputs[0], output: output)
    case .conversion:
      let dtype = inputs[0].dtype
      return Function(name: "ToCopyBackward0", inputs: inputs, savesValues: false) { g in [g.to(dtype)] }
    case .deviceCopy(let source):
      return Function(name: "ToCopyBackward0", inputs: inputs, savesValues: false) { g in [g.movedTo(source)] }
    case .clone: return Function(name: "CloneBackward0", inputs: inputs, savesValues: false) { g in [g] }
    case .fill:
      return Function(name: "FillBackward2", inputs: inputs, savesValues: false) { g in [Tensor.zeros(like: g)] }
    case .take(let offsets): return IndexingFormulas.take(offsets: offsets, source: inputs[0])
    case .put(let offsets, let accumulate):
      return IndexingFormulas.put(offsets: offsets, accumulate: accumulate, target: inputs[0], values: inputs[1])
    case .cat(let dim): return IndexingFormulas.cat(dim: dim, inputs: inputs)
    case .linearized(let linearization): return LinearizedFormulas.node(linearization, inputs: inputs, output: output)
    case .notDifferentiable(let name, let message):
      return Function(name: name, inputs: inputs, savesValues: false) { _ in usageFailure("\(name): \(message)") }
    }
  }

  /// The gradients of `composed(values)` for the `needed` values, differentiable again (the
  /// `createGraph: true` path of the fused ops, whose kernels' gradients are not).
  static func composedGradients(
    of values: [Tensor], needed: [Bool], upstream g: Tensor, _ composed: ([Tensor]) -> Tensor
  ) throws -> [Tensor?] {
    let wanted = values.indices.filter { needed[$0] }
    let grads = try Autograd.grad(
      of: [composed(values)], wrt: wanted.map { values[$0] }, gradOutputs: [g], createGraph: true, allowUnused: true)
    var result = [Tensor?](repeating: nil, count: values.count)
    for (slot, index) in wanted.enumerated() { result[index] = grads[slot] }
    return result
  }
}
