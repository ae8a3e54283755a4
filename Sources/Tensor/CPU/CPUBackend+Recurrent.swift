import CKernels
import Synchronization

extension CPUBackend {
  func fusedLSTMCell(_ step: LSTMCellStep) -> Bool {
    let (hidden, batch) = (step.c.shape[0], step.c.shape[1])
    ck_lstm_cell_forward_f32(
      Int64(hidden), Int64(batch), Self.floats(step.gates), Self.floats(step.inputGates),
      Int64(step.inputGates.stride(0)),
      step.bias.map { UnsafePointer(Self.floats($0)) }, Self.floats(step.cPrevious), Self.floats(step.c),
      Self.floats(step.tanhC),
      Self.floats(step.h))
    return true
  }

  func fusedLSTMCellBackward(_ step: LSTMCellStep, dh: Tensor, dcNext: Tensor, dGates: Tensor, dcPrevious: Tensor)
    -> Bool
  {
    let (hidden, batch) = (step.c.shape[0], step.c.shape[1])
    ck_lstm_cell_backward_f32(
      Int64(hidden), Int64(batch), Self.floats(step.gates), Self.floats(step.tanhC), Self.floats(step.cPrevious),
      Self.floats(dh),
      Self.floats(dcNext), Self.floats(dGates), Self.floats(dcPrevious))
    return true
  }

  func fusedLSTMRecurrence(_ problem: LSTMRecurrence) -> Bool {
    let p = problem
    let threads = p.hiddenSize * p.batch * p.hiddenSize * 4 >= 1 << 17 ? StridedLoop.threadCount : 1
    var barrier = ck_barrier()
    ck_barrier_init(&barrier)
    let failed = Atomic<Bool>(false)
    withUnsafeMutablePointer(to: &barrier) { barrierPointer in
      parallelTeam(threads) { member, team in
        let status = ck_lstm_recurrence_forward_f32(
          Int32(member), Int32(team), barrierPointer, Int64(p.steps), Int64(p.batch), Int64(p.hiddenSize),
          Self.floats(p.weight), Self.floats(p.inputGates), p.bias.map { UnsafePointer(Self.floats($0)) },
          Self.floats(p.c0), p.reverse ? 1 : 0, Self.floats(p.activations), Self.floats(p.cells),
          Self.floats(p.tanhCells), Self.floats(p.states))
        if status != 0 { failed.store(true, ordering: .relaxed) }
      }
    }
    return !failed.load(ordering: .relaxed)
  }

  func fusedLSTMRecurrenceBackward(
    _ problem: LSTMRecurrence, dOut: Tensor, dh: Tensor, dc: Tensor, dGates: Tensor
  ) -> Bool {
    let p = problem
    let threads = p.hiddenSize * p.batch * p.hiddenSize * 4 >= 1 << 17 ? StridedLoop.threadCount : 1
    var barrier = ck_barrier()
    ck_barrier_init(&barrier)
    let failed = Atomic<Bool>(false)
    withUnsafeMutablePointer(to: &barrier) { barrierPointer in
      parallelTeam(threads) { member, team in
        let status = ck_lstm_recurrence_backward_f32(
          Int32(member), Int32(team), barrierPointer, Int64(p.steps), Int64(p.batch), Int64(p.hiddenSize),
          Self.floats(p.weight), Self.floats(p.activations), Self.floats(p.cells), Self.floats(p.tanhCells),
          Self.floats(p.c0), Self.floats(dOut), p.reverse ? 1 : 0, Self.floats(dh), Self.floats(dc),
          Self.floats(dGates))
        if status != 0 { failed.store(true, ordering: .relaxed) }
      }
    }
    return !failed.load(ordering: .relaxed)
  }
}
