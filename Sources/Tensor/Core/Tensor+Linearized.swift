/// An op whose derivative is given as its linear map (its Jacobian-vector product): the
/// factorizations, which compute their values on the host, describe how their results move
/// when their inputs move, and autograd derives the backward formula from that map by
/// transposing it (the map is linear in the tangents, so its vector-Jacobian product is the
/// gradient of the map with the tangents as variables).
///
/// The map reads the op's inputs and outputs; when a graph of the gradient is being built
/// (`createGraph: true`) they come back linked to the graph, so the gradient is differentiable
/// again and second derivatives account for how the outputs themselves move. The map must be
/// built from ops whose own backward does not transpose the same map again (matrix products,
/// `Linalg.inv`, elementwise ops): `Linalg.solve` inside the map of `solve` would recurse.
package struct Linearization {
  /// The node's name (PyTorch's: `LinalgInvExBackward0`).
  package let name: String
  /// The shapes of the op's outputs, packed one after another into the recorded output.
  package let outputShapes: [[Int]]
  /// The outputs' tangents from the inputs, the outputs and the inputs' tangents (`nil` for
  /// inputs that need no gradient).
  package let tangent: (_ inputs: [Tensor], _ outputs: [Tensor], _ tangents: [Tensor?]) -> [Tensor]

  /// The outputs as views of the packed output (or of its gradient).
  package func unpacked(_ packed: Tensor) -> [Tensor] {
    guard outputShapes.count > 1 else { return [packed] }
    var offset = 0
    return outputShapes.map { shape in
      let count = shape.reduce(1, *)
      defer { offset += count }
      return packed.narrow(dim: 0, start: offset, length: count).view(shape)
    }
  }
}

extension Tensor {
  /// `outputs`, computed from `inputs` without recording, recorded as one node whose
  /// derivative is `tangent` (see `Linearization`). An op with several outputs is recorded
  /// once, on their concatenation, and returns views of it: one node with one output, whose
  /// parts are the op's results. Returns `outputs` unchanged when no input requires grad
  /// while gradients are being recorded.
  package static func linearized(
    _ outputs: [Tensor], of inputs: [Tensor], name: String,
    tangent: @escaping (_ inputs: [Tensor], _ outputs: [Tensor], _ tangents: [Tensor?]) -> [Tensor]
  ) -> [Tensor] {
    guard let recorder, inputs.contains(where: recorder.requiresGradient) else { return outputs }
    let linearization = Linearization(name: name, outputShapes: outputs.map(\.shape), tangent: tangent)
    guard outputs.count > 1 else { return [outputs[0].recorded(.linearized(linearization), inputs, outputs[0])] }
    let packed = unrecorded { Tensor.cat(outputs.map { $0.reshape([-1]) }) }
    return linearization.unpacked(packed.recorded(.linearized(linearization), inputs, packed))
  }
}
