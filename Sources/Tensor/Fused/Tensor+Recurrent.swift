/// The tensors of one fused LSTM step, feature-major: `gates` `[4H, B]` (the hidden
/// projection on entry, the activations i, f, g, o after), `inputGates` `[4H, B]` with unit
/// inner stride, an optional per-row `bias` `[4H]`, and the `[H, B]` states.
package struct LSTMCellStep {
  package let gates: Tensor
  package let inputGates: Tensor
  package let bias: Tensor?
  package let cPrevious: Tensor
  package let c: Tensor
  package let tanhC: Tensor
  package let h: Tensor
}

extension Tensor {
  /// One LSTM step's gate arithmetic in one kernel where the backend has it: adds
  /// `inputGates` and `bias` to `hiddenGates` (which it takes over), applies the gate
  /// activations and forms `c`, `tanh(c)` and `h`. Nil when not fused (then the caller
  /// composes the step from ops). Not recorded: the recurrent layers' own backward uses it.
  package static func fusedLSTMCell(hiddenGates: Tensor, inputGates: Tensor, bias: Tensor?, cPrevious: Tensor)
    -> LSTMCellStep?
  {
    let (rows, batch) = (hiddenGates.shape[0], hiddenGates.shape[1])
    guard hiddenGates.dtype == .float32, hiddenGates.isContiguous, inputGates.stride(1) == 1,
      inputGates.shape == [rows, batch],
      cPrevious.isContiguous, bias.map({ $0.isContiguous }) ?? true
    else { return nil }
    let state = [rows / 4, batch]
    func fresh() -> Tensor { Tensor(uninitializedShape: state, dtype: .float32, device: hiddenGates.device) }
    let step = LSTMCellStep(
      gates: hiddenGates, inputGates: inputGates, bias: bias, cPrevious: cPrevious, c: fresh(), tanhC: fresh(),
      h: fresh())
    guard hiddenGates.backend.fusedLSTMCell(step) else { return nil }
    for t in [step.gates, step.c, step.tanhC, step.h] { t.markWritten() }
    return step
  }

  /// The gate gradients `[4H, B]` and `dc_prev` of a fused step from `dh` (of `h`) and
  /// `dcNext` (of `c`); nil when not fused.
  package static func fusedLSTMCellBackward(_ step: LSTMCellStep, dh: Tensor, dcNext: Tensor) -> (
    dGates: Tensor, dcPrevious: Tensor
  )? {
    guard dh.isContiguous, dcNext.isContiguous, dh.dtype == .float32, dcNext.dtype == .float32 else { return nil }
    let dGates = Tensor(uninitializedShape: step.gates.shape, dtype: .float32, device: dh.device)
    let dcPrevious = Tensor(uninitializedShape: step.c.shape, dtype: .float32, device: dh.device)
    guard dh.backend.fusedLSTMCellBackward(step, dh: dh, dcNext: dcNext, dGates: dGates, dcPrevious: dcPrevious) else {
      return nil
    }
    dGates.markWritten()
    dcPrevious.markWritten()
    return (dGates, dcPrevious)
  }
}

/// One LSTM direction's recurrence as the backends see it (float32, PyTorch's batch-major
/// layouts, contiguous): `inputGates` `[T*B, 4H]` (row t*B + k, input bias included), `weight`
/// `[4H, H]`, `bias` `[4H]` or nil, `c0` `[B, H]`; `states` `[T+1, B, H]` holds h0 in slot 0
/// (slot T when `reverse`) and receives each step's new state in the slot after (before)
/// it; the forward also fills the saved `activations` `[T, B, 4H]`, `cells` and `tanhCells`
/// `[T, B, H]`.
package struct LSTMRecurrence {
  package let inputGates: Tensor
  package let weight: Tensor
  package let bias: Tensor?
  package let c0: Tensor
  package let reverse: Bool
  package let activations: Tensor
  package let cells: Tensor
  package let tanhCells: Tensor
  package let states: Tensor

  package var steps: Int { cells.shape[0] }
  package var batch: Int { cells.shape[1] }
  package var hiddenSize: Int { cells.shape[2] }
  /// Each step's new state, `[T, B, H]` (a view of `states`).
  package var output: Tensor { states.narrow(dim: 0, start: reverse ? 0 : 1, length: steps) }
  /// The state before each step, `[T, B, H]` (a view of `states`).
  package var previousHidden: Tensor { states.narrow(dim: 0, start: reverse ? 1 : 0, length: steps) }
}

extension Tensor {
  /// Runs a whole LSTM direction's forward recurrence in the backend's fused kernel (one team
  /// of threads, a barrier per step), or returns nil when it has none or the operands do not
  /// suit it. Not recorded: the recurrent layers' own backward uses it. `h0` and `c0` are
  /// `[B, H]`.
  package static func fusedLSTMRecurrence(
    inputGates: Tensor, weight: Tensor, bias: Tensor?, h0: Tensor, c0: Tensor, steps: Int, reverse: Bool
  ) -> LSTMRecurrence? {
    let (rows, hidden) = (weight.shape[0], weight.shape[1])
    let batch = h0.shape[0]
    guard inputGates.dtype == .float32, rows == 4 * hidden, [inputGates, weight, c0].allSatisfy(\.isContiguous),
      bias.map({ $0.isContiguous }) ?? true, inputGates.shape == [steps * batch, rows], h0.shape == [batch, hidden],
      c0.shape == [batch, hidden]
    else { return nil }
    func fresh(_ shape: [Int]) -> Tensor { Tensor(uninitializedShape: shape, dtype: .float32, device: weight.device) }
    let states = fresh([steps + 1, batch, hidden])
    states[reverse ? steps : 0].copy_(h0)
    let problem = LSTMRecurrence(
      inputGates: inputGates, weight: weight, bias: bias, c0: c0, reverse: reverse,
      activations: fresh([steps, batch, rows]), cells: fresh([steps, batch, hidden]),
      tanhCells: fresh([steps, batch, hidden]), states: states)
    guard weight.backend.fusedLSTMRecurrence(problem) else { return nil }
    for t in [problem.activations, problem.cells, problem.tanhCells, problem.states] { t.markWritten() }
    return problem
  }

  /// The backward of a fused recurrence from `dOut` `[T, B, H]` and the final states'
  /// gradients `[B, H]`: the gate gradients `[T*B, 4H]` and the initial states' gradients
  /// `[B, H]`.
  package static func fusedLSTMRecurrenceBackward(
    _ problem: LSTMRecurrence, dOut: Tensor, dhFinal: Tensor, dcFinal: Tensor
  ) -> (
    dGates: Tensor, dh0: Tensor, dc0: Tensor
  )? {
    let dh = dhFinal.contiguous().clone()
    let dc = dcFinal.contiguous().clone()
    let dGates = Tensor(
      uninitializedShape: [problem.steps * problem.batch, 4 * problem.hiddenSize], dtype: .float32, device: dh.device)
    guard
      problem.weight.backend.fusedLSTMRecurrenceBackward(
        problem, dOut: dOut.contiguous(), dh: dh, dc: dc, dGates: dGates)
    else { return nil }
    for t in [dh, dc, dGates] { t.markWritten() }
    return (dGates, dh, dc)
  }
}
