/// Backward formulas of indexing and joining.
enum IndexingFormulas {
  static func take(offsets: Tensor, source: Tensor) -> Function {
    let shape = source.shape
    return Function(name: "IndexBackward0", inputs: [source], savesValues: false) { g in
      [ViewFormulas.embed(g, at: offsets, shape: shape)]
    }
  }

  static func put(offsets: Tensor, accumulate: Bool, target: Tensor, values: Tensor) -> Function {
    let layout = target.layout
    return Function(name: "IndexPutBackward0", inputs: [target, values], savesValues: false) { g in
      // Offsets count through the target's strides: lay the gradient out the same way.
      let laid = Tensor.emptyStrided(layout: layout, dtype: g.dtype, device: g.device)
      laid.copy_(g)
      let valuesGrad = laid.take(offsets: offsets)
      if !accumulate {
        laid.put_(offsets: offsets, values: Tensor.zeros([], dtype: g.dtype, device: g.device), accumulate: false)
      }
      return [laid, valuesGrad]
    }
  }

  static func cat(dim: Int, inputs: [Tensor]) -> Function {
    let sizes = inputs.map { $0.shape[dim] }
    return Function(name: "CatBackward0", inputs: inputs, savesValues: false) { g in
      g.split(sizes: sizes, dim: dim)
    }
  }
}
