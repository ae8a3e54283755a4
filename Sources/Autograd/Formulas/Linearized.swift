/// The backward formula of an op given by its linear map (`Linearization`): the map's
/// transpose, found by differentiating the map with respect to stand-in tangents.
enum LinearizedFormulas {
  static func node(_ linearization: Linearization, inputs: [Tensor], output: Tensor) -> Function {
    let savedInputs = inputs.map { SavedTensor($0) }
    let savedOutput = SavedTensor(output: output)
    let needed = inputs.map(\.requiresGrad)
    return Function(name: linearization.name, inputs: inputs, savesValues: true, savedOutput: savedOutput) { g in
      // Linked to the graph only when the gradient is itself differentiated (createGraph).
      let createGraph = Autograd.isGradEnabled
      let values = try savedInputs.map { try $0.unpack() }
      let outputs = linearization.unpacked(try savedOutput.unpack())
      return try Autograd.$gradEnabled.withValue(true) {
        let tangents = values.indices.map { needed[$0] ? Tensor.zeros(like: values[$0]).requiresGrad_() : nil }
        let images = linearization.tangent(values, outputs, tangents)
        let upstream = linearization.unpacked(g)
        let used = images.indices.filter { images[$0].requiresGrad }
        let wanted = tangents.compactMap { $0 }
        guard !used.isEmpty else { return [Tensor?](repeating: nil, count: inputs.count) }
        let grads = try Autograd.grad(
          of: used.map { images[$0] }, wrt: wanted, gradOutputs: used.map { upstream[$0] }, createGraph: createGraph,
          allowUnused: true)
        var next = grads.makeIterator()
        return tangents.map { $0 == nil ? nil : next.next()! }
      }
    }
  }
}
