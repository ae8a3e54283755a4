import CKernels

extension CPUBackend {
  private static func floats(_ t: Tensor) -> UnsafeMutablePointer<Float> {
    t.storage.data.assumingMemoryBound(to: Float.self) + t.storageOffset
  }

  func fusedLSTMCell(_ step: LSTMCellStep) -> Bool {
    let (hidden, batch) = (step.c.shape[0], step.c.shape[1])
    ck_lstm_cell_forward_f32(
      Int64(hidden), Int64(batch), Self.floats(step.gates), Self.floats(step.inputGates), Int64(step.inputGates.stride(0)),
      step.bias.map { UnsafePointer(Self.floats($0)) }, Self.floats(step.cPrevious), Self.floats(step.c), Self.floats(step.tanhC),
      Self.floats(step.h))
    return true
  }

  func fusedLSTMCellBackward(_ step: LSTMCellStep, dh: Tensor, dcNext: Tensor, dGates: Tensor, dcPrevious: Tensor) -> Bool {
    let (hidden, batch) = (step.c.shape[0], step.c.shape[1])
    ck_lstm_cell_backward_f32(
      Int64(hidden), Int64(batch), Self.floats(step.gates), Self.floats(step.tanhC), Self.floats(step.cPrevious), Self.floats(dh),
      Self.floats(dcNext), Self.floats(dGates), Self.floats(dcPrevious))
    return true
  }
}
