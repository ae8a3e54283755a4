import Autograd

/// One direction of a recurrent layer written with differentiable ops, step by step
/// (batch-major states `[B, H]`), returning the fused node's flat result: outputs `[T, B,
/// Hout]`, final h `[B, Hout]` and, for LSTM, final c `[B, H]`, one after another.
/// `inputs` are the node's: `x`, the weights in `RecurrentWeights.all`'s order, `h0` and
/// (LSTM) `c0`. The fused recurrence's backward is written out by hand and not itself
/// differentiable; its gradients come from this function when a graph of them is built
/// (`createGraph: true`), so second derivatives through LSTM, GRU and RNN layers are exact.
func composedRecurrentDirection(
  _ kind: RecurrentKind, _ inputs: [Tensor], hasInputBias: Bool, hasHiddenBias: Bool, hasProjection: Bool, lengths: [Int]?,
  reverse: Bool
) -> Tensor {
  var next = inputs.makeIterator()
  let x = next.next()!
  let wIh = next.next()!
  let wHh = next.next()!
  let bIh = hasInputBias ? next.next() : nil
  let bHh = hasHiddenBias ? next.next() : nil
  let wHr = hasProjection ? next.next() : nil
  var h = next.next()!
  var c = kind == .lstm ? next.next() : nil
  let (steps, batch) = (x.shape[0], x.shape[1])
  var outputs = [Tensor](repeating: h, count: steps)
  for t in reverse ? Array((0..<steps).reversed()) : Array(0..<steps) {
    var inputGates = x[t].matmul(wIh.t())
    if let bIh { inputGates = inputGates + bIh }
    var hiddenGates = h.matmul(wHh.t())
    if let bHh { hiddenGates = hiddenGates + bHh }
    var newH: Tensor
    var newC: Tensor?
    switch kind {
    case .lstm:
      let parts = (inputGates + hiddenGates).chunk(4, dim: 1)
      let cell = parts[1].sigmoid() * c! + parts[0].sigmoid() * parts[2].tanh()
      let raw = parts[3].sigmoid() * cell.tanh()
      newH = wHr.map { raw.matmul($0.t()) } ?? raw
      newC = cell
    case .gru:
      let xs = inputGates.chunk(3, dim: 1)
      let hs = hiddenGates.chunk(3, dim: 1)
      let r = (xs[0] + hs[0]).sigmoid()
      let z = (xs[1] + hs[1]).sigmoid()
      let n = (xs[2] + r * hs[2]).tanh()
      newH = (1 - z) * n + z * h
    case .rnnTanh: newH = (inputGates + hiddenGates).tanh()
    case .rnnRelu: newH = (inputGates + hiddenGates).relu()
    }
    // Past a sequence's end the state stays and the output is zero, as in the fused path.
    if let lengths, lengths.contains(where: { $0 <= t }) {
      let active = Tensor(lengths.map { t < $0 ? 1.0 : 0.0 }, shape: [batch, 1]).to(x.dtype).movedTo(x.device)
      outputs[t] = newH * active
      h = Tensor.where(active .> 0, newH, h)
      if let newC { c = Tensor.where(active .> 0, newC, c!) }
    } else {
      outputs[t] = newH
      h = newH
      if let newC { c = newC }
    }
  }
  return Tensor.cat([Tensor.stack(outputs).flatten(), h.flatten()] + (c.map { [$0.flatten()] } ?? []))
}
