import Autograd

/// One direction of a recurrent layer written with differentiable ops, step by step
/// (batch-major states `[B, H]`), returning the fused node's flat result: outputs `[T, B,
/// Hout]`, final h `[B, Hout]` and, for LSTM, final c `[B, H]`, one after another.
/// `inputs` are the node's: `x`, the weights in `RecurrentWeights.all`'s order, `h0` and
/// (LSTM) `c0`. The fused recurrence's backward is written out by hand and not itself
/// differentiable; its gradients come from this function when a graph of them is built
/// (`createGraph: true`), so second derivatives through LSTM, GRU and RNN layers are exact.
func composedRecurrentDirection(
  _ kind: RecurrentKind, _ inputs: [Tensor], hasInputBias: Bool, hasHiddenBias: Bool, hasProjection: Bool,
  lengths: [Int]?,
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
      let step = LSTMGates(inputGates + hiddenGates, cell: c!, dim: 1)
      newH = wHr.map { step.raw.matmul($0.t()) } ?? step.raw
      newC = step.cell
    case .gru: newH = GRUGates(inputGates, hiddenGates, h: h, dim: 1).next
    case .rnnTanh: newH = (inputGates + hiddenGates).tanh()
    case .rnnRelu: newH = (inputGates + hiddenGates).relu()
    }
    let active = lengths.flatMap { lengths in
      lengths.contains { $0 <= t }
        ? Tensor(lengths.map { t < $0 ? 1.0 : 0.0 }, shape: [batch, 1]).to(x.dtype).movedTo(x.device) : nil
    }
    (outputs[t], h, c) = maskedStep(newH: newH, newC: newC, h: h, c: c, active: active)
  }
  return Tensor.cat([Tensor.stack(outputs).flatten(), h.flatten()] + (c.map { [$0.flatten()] } ?? []))
}

/// One LSTM step's gate arithmetic from the stacked pre-activations (blocks i, f, g, o along
/// `dim`) and the previous cell, with what the hand-written backward reads.
struct LSTMGates {
  let i, f, g, o, cell, tanhCell, raw: Tensor

  init(_ gates: Tensor, cell previous: Tensor, dim: Int) {
    let parts = gates.chunk(4, dim: dim)
    (i, f, g, o) = (parts[0].sigmoid(), parts[1].sigmoid(), parts[2].tanh(), parts[3].sigmoid())
    cell = f * previous + i * g
    tanhCell = cell.tanh()
    raw = o * tanhCell
  }
}

/// One GRU step's gate arithmetic from the stacked input and hidden projections (blocks r, z,
/// n along `dim`) and the previous state, with what the hand-written backward reads.
struct GRUGates {
  let r, z, n, hiddenN, next: Tensor

  init(_ inputGates: Tensor, _ hiddenGates: Tensor, h: Tensor, dim: Int) {
    let xs = inputGates.chunk(3, dim: dim)
    let hs = hiddenGates.chunk(3, dim: dim)
    r = (xs[0] + hs[0]).sigmoid()
    z = (xs[1] + hs[1]).sigmoid()
    hiddenN = hs[2]
    n = (xs[2] + r * hiddenN).tanh()
    next = (1 - z) * n + z * h
  }
}

/// A step's output and the states after it; with `active` (1 for the batch elements still
/// inside their sequence, 0 past its end), a finished sequence keeps its state and outputs
/// zeros, as PyTorch's packed sequences.
func maskedStep(newH: Tensor, newC: Tensor?, h: Tensor, c: Tensor?, active: Tensor?) -> (
  output: Tensor, h: Tensor, c: Tensor?
) {
  guard let active else { return (newH, newH, newC ?? c) }
  let running = active .> 0
  return (newH * active, Tensor.where(running, newH, h), newC.map { Tensor.where(running, $0, c!) } ?? c)
}
