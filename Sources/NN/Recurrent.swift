import Autograd

/// Which recurrence a layer runs.
enum RecurrentKind: Equatable, Sendable {
  case rnnTanh, rnnRelu, lstm, gru

  /// Gate rows per hidden unit in the stacked weights.
  var gates: Int {
    switch self {
    case .lstm: 4
    case .gru: 3
    case .rnnTanh, .rnnRelu: 1
    }
  }
}

/// One direction of one layer: its weights, in PyTorch's layouts and gate order (LSTM
/// i, f, g, o; GRU r, z, n).
struct RecurrentWeights {
  let inputHidden: Tensor
  let hiddenHidden: Tensor
  let inputBias: Tensor?
  let hiddenBias: Tensor?
  let projection: Tensor?

  /// The tensors in the order the fused op takes them.
  var all: [Tensor] { [inputHidden, hiddenHidden] + [inputBias, hiddenBias, projection].compactMap { $0 } }
}

/// Runs one direction of one recurrent layer over time-major `x` `[T, B, I]` from `h0`
/// (and `c0` for LSTM), as one graph node: the input projection of every step is one
/// matrix product, each step one product with the hidden weights plus the gate arithmetic,
/// and the backward through time is written out (its weight gradients are one product each
/// over all steps). With `lengths` (per batch element, for packed sequences), steps past a
/// sequence's end leave its state alone and output zeros, as PyTorch. Returns the outputs
/// `[T, B, Hout]`, and the final `h` and `c`.
///
/// Inside, states are feature-major (`[H, B]`): the products per step are then `W h` with
/// the large weight as the left operand, which the GEMM reads in place instead of packing
/// it again at every step, and the gate chunks are contiguous row blocks.
func recurrentDirection(
  _ kind: RecurrentKind, _ x: Tensor, _ weights: RecurrentWeights, h0: Tensor, c0: Tensor?, lengths: [Int]?,
  reverse: Bool
) -> (output: Tensor, h: Tensor, c: Tensor?) {
  if kind == .lstm, weights.projection == nil, lengths == nil, let c0,
    let fused = fusedLSTMDirection(x, weights, h0: h0, c0: c0, reverse: reverse)
  {
    return fused
  }
  let (steps, batch, inputSize) = (x.shape[0], x.shape[1], x.shape[2])
  let gateRows = weights.inputHidden.shape[0]
  let hidden = gateRows / kind.gates
  let outSize = weights.projection?.shape[0] ?? hidden
  let order = reverse ? Array((0..<steps).reversed()) : Array(0..<steps)
  // Per step, which batch elements are still inside their sequence (nil: all are), `[1, B]`.
  let active: [Tensor?] = (0..<steps).map { t in
    guard let lengths, lengths.contains(where: { $0 <= t }) else { return nil }
    return Tensor(lengths.map { t < $0 ? 1.0 : 0.0 }, shape: [1, batch]).to(x.dtype).movedTo(x.device)
  }
  let w = weights
  // Saved for the backward pass, per step (feature-major).
  var previousH: [Tensor] = Array(repeating: h0, count: steps)
  var previousC: [Tensor] = Array(repeating: h0, count: steps)
  var saved: [[Tensor]] = Array(repeating: [], count: steps)
  var outputs: [Tensor] = Array(repeating: h0, count: steps)
  var (h, c) = (h0.detach().t().contiguous(), c0?.detach().t().contiguous())
  let wHh = w.hiddenHidden.detach()
  let wHr = w.projection?.detach()
  let bHh = w.hiddenBias?.detach().unsqueeze(1)
  // LSTM steps whose gate arithmetic ran as one kernel (its backward then does too).
  var fusedSteps: [LSTMCellStep?] = Array(repeating: nil, count: steps)
  withNoGrad {
    // [G, T * B]: column block t holds step t's input gates.
    var projected = w.inputHidden.detach().matmul(x.detach().reshape(steps * batch, inputSize).t())
    if let b = w.inputBias { projected = projected + b.detach().unsqueeze(1) }
    for t in order {
      previousH[t] = h
      if let c { previousC[t] = c }
      let xg = projected.narrow(dim: 1, start: t * batch, length: batch)
      // The hidden projection (plus bias); the fused LSTM step adds the bias itself.
      var hiddenGates: Tensor {
        let product = wHh.matmul(h)
        return bHh.map { product + $0 } ?? product
      }
      var newH: Tensor
      var newC: Tensor?
      switch kind {
      case .lstm where active[t] == nil:
        if let step = Tensor.fusedLSTMCell(
          hiddenGates: wHh.matmul(h), inputGates: xg, bias: w.hiddenBias?.detach(), cPrevious: c!)
        {
          fusedSteps[t] = step
          newH = wHr.map { $0.matmul(step.h) } ?? step.h
          newC = step.c
          saved[t] = step.gates.chunk(4, dim: 0) + [step.tanhC, step.h]
          break
        }
        fallthrough
      case .lstm:
        let step = LSTMGates(xg + hiddenGates, cell: c!, dim: 0)
        newH = wHr.map { $0.matmul(step.raw) } ?? step.raw
        newC = step.cell
        saved[t] = [step.i, step.f, step.g, step.o, step.tanhCell, step.raw]
      case .gru:
        let step = GRUGates(xg, hiddenGates, h: h, dim: 0)
        newH = step.next
        saved[t] = [step.r, step.z, step.n, step.hiddenN]
      case .rnnTanh, .rnnRelu:
        let pre = xg + hiddenGates
        newH = kind == .rnnTanh ? pre.tanh() : pre.relu()
        saved[t] = [newH]
      }
      (outputs[t], h, c) = maskedStep(newH: newH, newC: newC, h: h, c: c, active: active[t])
    }
  }
  // One flat result holding outputs, final h and final c: the node's single output.
  let pieces =
    [Tensor.stack(outputs).transpose(1, 2).flatten(), h.t().flatten()] + (c.map { [$0.t().flatten()] } ?? [])
  let flat = withNoGrad { Tensor.cat(pieces) }
  let inputs = [x] + w.all + [h0] + (c0.map { [$0] } ?? [])
  let name = kind == .lstm ? "LstmLayerBackward" : (kind == .gru ? "GruLayerBackward" : "RnnLayerBackward")
  let counts = (steps * batch * outSize, batch * outSize, batch * hidden)
  let composed: ([Tensor]) -> Tensor = { v in
    composedRecurrentDirection(
      kind, v, hasInputBias: w.inputBias != nil, hasHiddenBias: w.hiddenBias != nil, hasProjection: w.projection != nil,
      lengths: lengths, reverse: reverse)
  }
  let recorded = Autograd.record(flat, from: inputs, name: name, composed: composed) { gradient in
    // Feature-major gradients: dOut [T, Hout, B], dh [Hout, B], dc [H, B].
    let dOut = gradient.narrow(dim: 0, start: 0, length: counts.0).view(steps, batch, outSize).transpose(1, 2)
      .contiguous()
    var dh = gradient.narrow(dim: 0, start: counts.0, length: counts.1).view(batch, outSize).t()
    var dc: Tensor? =
      c0 == nil ? nil : gradient.narrow(dim: 0, start: counts.0 + counts.1, length: counts.2).view(batch, hidden).t()
    // Transposed weights, made once, so each step's product reads its left operand in place.
    let wHhT = wHh.t().contiguous()
    let wHrT = wHr?.t().contiguous()
    var inputGrads: [Tensor] = Array(repeating: dh, count: steps)
    var hiddenGrads: [Tensor] = Array(repeating: dh, count: steps)
    var projectionGrads: [Tensor] = []
    for t in order.reversed() {
      let a = active[t]
      let dhIn = a.map { dh + dOut[t] * $0 } ?? dh + dOut[t]
      let dhStep = a.map { dhIn * $0 } ?? dhIn
      let s = saved[t]
      var dhPrevious: Tensor
      var dcPrevious: Tensor?
      switch kind {
      case .lstm:
        let (i, f, g, o, tanhCell) = (s[0], s[1], s[2], s[3], s[4])
        var dRaw = dhStep
        if let wHrT {
          dRaw = wHrT.matmul(dhStep)
          projectionGrads.append(dhStep)
        }
        if a == nil, let step = fusedSteps[t],
          let (gates, dcPrev) = Tensor.fusedLSTMCellBackward(step, dh: dRaw.contiguous(), dcNext: dc!.contiguous())
        {
          inputGrads[t] = gates
          hiddenGrads[t] = gates
          dhPrevious = wHhT.matmul(gates)
          dcPrevious = dcPrev
          break
        }
        let dcStep = (a.map { dc! * $0 } ?? dc!) + dRaw * o * (1 - tanhCell * tanhCell)
        let gates = Tensor.cat(
          [
            dcStep * g * i * (1 - i), dcStep * previousC[t] * f * (1 - f), dcStep * i * (1 - g * g),
            dRaw * tanhCell * o * (1 - o),
          ], dim: 0)
        inputGrads[t] = gates
        hiddenGrads[t] = gates
        dhPrevious = wHhT.matmul(gates)
        dcPrevious = dcStep * f
      case .gru:
        let (r, z, n, hn) = (s[0], s[1], s[2], s[3])
        let dn = dhStep * (1 - z) * (1 - n * n)
        let dz = dhStep * (previousH[t] - n) * z * (1 - z)
        let dr = dn * hn * r * (1 - r)
        inputGrads[t] = Tensor.cat([dr, dz, dn], dim: 0)
        hiddenGrads[t] = Tensor.cat([dr, dz, dn * r], dim: 0)
        dhPrevious = dhStep * z + wHhT.matmul(hiddenGrads[t])
      case .rnnTanh, .rnnRelu:
        let newH = s[0]
        let pre = kind == .rnnTanh ? dhStep * (1 - newH * newH) : dhStep * (newH .> 0).to(newH.dtype)
        inputGrads[t] = pre
        hiddenGrads[t] = pre
        dhPrevious = wHhT.matmul(pre)
      }
      // Steps past a sequence's end passed the state through unchanged.
      if let a {
        dh = dhPrevious * a + dhIn * (1 - a)
        if let dcPrevious { dc = dcPrevious * a + dc! * (1 - a) }
      } else {
        dh = dhPrevious
        if let dcPrevious { dc = dcPrevious }
      }
    }
    let dInput = Tensor.cat(inputGrads, dim: 1)
    let dHidden = kind == .lstm || kind.gates == 1 ? dInput : Tensor.cat(hiddenGrads, dim: 1)
    var projection: Tensor?
    if w.projection != nil {
      // dW_hr = sum over steps of dh_t raw_tᵀ, in processing order.
      let raws = order.reversed().map { saved[$0][5] }
      projection = Tensor.cat(projectionGrads, dim: 1).matmul(Tensor.cat(raws, dim: 1).t())
    }
    let dInputRows = dInput.t()
    return recurrentGradients(
      x, w, dInput: dInputRows, dHidden: dHidden === dInput ? dInputRows : dHidden.t(),
      previousHidden: Tensor.cat(previousH, dim: 1).t(), dProjection: projection, dh0: dh.t(), dc0: dc?.t())
  }
  return recurrentResults(recorded, steps: steps, batch: batch, outSize: outSize, hidden: c0 == nil ? nil : hidden)
}

/// The gradients of a direction's inputs in the fused op's order from the `[T * B, G]` gate
/// gradients (input side and hidden side; row t*B + k), the `[T * B, Hout]` states before each
/// step, and the initial states' gradients: every weight gradient is one product over all
/// steps.
private func recurrentGradients(
  _ x: Tensor, _ w: RecurrentWeights, dInput: Tensor, dHidden: Tensor, previousHidden: Tensor, dProjection: Tensor?,
  dh0: Tensor, dc0: Tensor?
) -> [Tensor?] {
  let (steps, batch, inputSize) = (x.shape[0], x.shape[1], x.shape[2])
  var grads: [Tensor?] = [
    dInput.matmul(w.inputHidden.detach()).reshape(steps, batch, inputSize),
    dInput.t().matmul(x.detach().reshape(steps * batch, inputSize)),
    dHidden.t().matmul(previousHidden),
  ]
  let inputBiasGrad = w.inputBias == nil ? nil : dInput.sum(dim: [0])
  if let inputBiasGrad { grads.append(inputBiasGrad) }
  if w.hiddenBias != nil {
    // One gate gradient serves both sides (LSTM, RNN): its column sums serve both biases.
    grads.append(inputBiasGrad != nil && dHidden === dInput ? inputBiasGrad : dHidden.sum(dim: [0]))
  }
  if w.projection != nil { grads.append(dProjection ?? Tensor.zeros(like: w.projection!)) }
  grads.append(dh0)
  if let dc0 { grads.append(dc0) }
  return grads
}

/// Views of the node's flat result: outputs `[T, B, Hout]`, final h `[B, Hout]` and final c
/// `[B, H]` (when `hidden` is given).
private func recurrentResults(_ flat: Tensor, steps: Int, batch: Int, outSize: Int, hidden: Int?) -> (
  output: Tensor, h: Tensor, c: Tensor?
) {
  let (outputs, finals) = (steps * batch * outSize, batch * outSize)
  let output = flat.narrow(dim: 0, start: 0, length: outputs).view(steps, batch, outSize)
  let finalH = flat.narrow(dim: 0, start: outputs, length: finals).view(batch, outSize)
  let finalC = hidden.map { flat.narrow(dim: 0, start: outputs + finals, length: batch * $0).view(batch, $0) }
  return (output, finalH, finalC)
}

/// An LSTM direction without projection or lengths, through the backend's fused recurrence
/// (a team of threads over the hidden units, a barrier per step); nil when it has none.
private func fusedLSTMDirection(_ x: Tensor, _ w: RecurrentWeights, h0: Tensor, c0: Tensor, reverse: Bool) -> (
  output: Tensor, h: Tensor, c: Tensor?
)? {
  let (steps, batch, inputSize) = (x.shape[0], x.shape[1], x.shape[2])
  let hidden = w.hiddenHidden.shape[1]
  guard x.dtype == .float32, steps > 0, batch > 0 else { return nil }
  let problem: LSTMRecurrence? = withNoGrad {
    let rows = x.detach().reshape(steps * batch, inputSize)
    let weight = w.inputHidden.detach()
    // The input projection of every step is one linear layer (the bias added as it forms).
    let projected =
      if let bias = w.inputBias?.detach() {
        Tensor.fusedLinear(rows, weight: weight, bias: bias) ?? rows.matmul(weight.t()) + bias
      } else {
        rows.matmul(weight.t())
      }
    return Tensor.fusedLSTMRecurrence(
      inputGates: projected.contiguous(), weight: w.hiddenHidden.detach().contiguous(),
      bias: w.hiddenBias?.detach().contiguous(), h0: h0.detach(), c0: c0.detach().contiguous(), steps: steps,
      reverse: reverse)
  }
  guard let p = problem else { return nil }
  let last = reverse ? 0 : steps - 1
  let flat = withNoGrad { Tensor.cat([p.output.flatten(), p.output[last].flatten(), p.cells[last].flatten()]) }
  let counts = (steps * batch * hidden, batch * hidden)
  let composed: ([Tensor]) -> Tensor = { v in
    composedRecurrentDirection(
      .lstm, v, hasInputBias: w.inputBias != nil, hasHiddenBias: w.hiddenBias != nil, hasProjection: false,
      lengths: nil, reverse: reverse)
  }
  let recorded = Autograd.record(flat, from: [x] + w.all + [h0, c0], name: "LstmLayerBackward", composed: composed) {
    gradient in
    let dOut = gradient.narrow(dim: 0, start: 0, length: counts.0).view(steps, batch, hidden)
    let dh = gradient.narrow(dim: 0, start: counts.0, length: counts.1).view(batch, hidden)
    let dc = gradient.narrow(dim: 0, start: counts.0 + counts.1, length: counts.1).view(batch, hidden)
    guard let (dGates, dh0, dc0) = Tensor.fusedLSTMRecurrenceBackward(p, dOut: dOut, dhFinal: dh, dcFinal: dc) else {
      usageFailure("LSTM: the fused backward could not run on \(x.device)")
    }
    return recurrentGradients(
      x, w, dInput: dGates, dHidden: dGates, previousHidden: p.previousHidden.reshape(steps * batch, hidden),
      dProjection: nil, dh0: dh0, dc0: dc0)
  }
  return recurrentResults(recorded, steps: steps, batch: batch, outSize: hidden, hidden: hidden)
}
