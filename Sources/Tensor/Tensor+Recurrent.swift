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
  package static func fusedLSTMCell(hiddenGates: Tensor, inputGates: Tensor, bias: Tensor?, cPrevious: Tensor) -> LSTMCellStep? {
    let (rows, batch) = (hiddenGates.shape[0], hiddenGates.shape[1])
    guard hiddenGates.dtype == .float32, hiddenGates.isContiguous, inputGates.stride(1) == 1, inputGates.shape == [rows, batch],
      cPrevious.isContiguous, bias.map({ $0.isContiguous }) ?? true
    else { return nil }
    let state = [rows / 4, batch]
    func fresh() -> Tensor { Tensor(uninitializedShape: state, dtype: .float32, device: hiddenGates.device) }
    let step = LSTMCellStep(
      gates: hiddenGates, inputGates: inputGates, bias: bias, cPrevious: cPrevious, c: fresh(), tanhC: fresh(), h: fresh())
    guard hiddenGates.backend.fusedLSTMCell(step) else { return nil }
    for t in [step.gates, step.c, step.tanhC, step.h] { t.markWritten() }
    return step
  }

  /// The gate gradients `[4H, B]` and `dc_prev` of a fused step from `dh` (of `h`) and
  /// `dcNext` (of `c`); nil when not fused.
  package static func fusedLSTMCellBackward(_ step: LSTMCellStep, dh: Tensor, dcNext: Tensor) -> (dGates: Tensor, dcPrevious: Tensor)? {
    guard dh.isContiguous, dcNext.isContiguous, dh.dtype == .float32, dcNext.dtype == .float32 else { return nil }
    let dGates = Tensor(uninitializedShape: step.gates.shape, dtype: .float32, device: dh.device)
    let dcPrevious = Tensor(uninitializedShape: step.c.shape, dtype: .float32, device: dh.device)
    guard dh.backend.fusedLSTMCellBackward(step, dh: dh, dcNext: dcNext, dGates: dGates, dcPrevious: dcPrevious) else { return nil }
    dGates.markWritten()
    dcPrevious.markWritten()
    return (dGates, dcPrevious)
  }
}
