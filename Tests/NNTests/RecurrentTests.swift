import Foundation
import TestSupport
import Testing

@testable import NN

private let fixtures = Fixtures()

@Sendable private func flat(_ tensors: Tensor...) -> Tensor { Tensor.cat(tensors.map { $0.flatten() }) }

/// A packed run as the fixture script's `packed_run`: pack (unsorted lengths), run, pad back.
@Sendable private func packedRun(_ x: Tensor, _ lengths: [Int], _ run: (PackedSequence) -> (PackedSequence, [Tensor]))
  -> Tensor
{
  let (output, finals) = run(packPaddedSequence(x, lengths: lengths, enforceSorted: false))
  return Tensor.cat([padPackedSequence(output).padded.flatten()] + finals.map { $0.flatten() })
}

/// The modules and calls of `Scripts/make_rnn_fixtures.py`.
private let recurrentCases:
  [String: (make: @Sendable () -> Module, call: @Sendable (Module, Tensor, [Tensor]) -> Tensor)] = [
    "lstm": (
      { LSTM(5, 7) },
      { m, x, _ in
        let r = (m as! LSTM)(x)
        return flat(r.output, r.state.h, r.state.c)
      }
    ),
    "lstm_deep_bidirectional": (
      { LSTM(5, 7, numLayers: 2, batchFirst: true, bidirectional: true) },
      { m, x, s in
        let r = (m as! LSTM)(x, (s[0], s[1]))
        return flat(r.output, r.state.h, r.state.c)
      }
    ),
    "lstm_projection": (
      { LSTM(5, 7, numLayers: 2, projSize: 3) },
      { m, x, s in
        let r = (m as! LSTM)(x, (s[0], s[1]))
        return flat(r.output, r.state.h, r.state.c)
      }
    ),
    "gru_bidirectional": (
      { GRU(5, 6, numLayers: 2, bidirectional: true) },
      { m, x, s in
        let r = (m as! GRU)(x, s[0])
        return flat(r.output, r.h)
      }
    ),
    "rnn_relu_no_bias": (
      { RNN(5, 6, numLayers: 2, nonlinearity: .relu, bias: false) },
      { m, x, _ in
        let r = (m as! RNN)(x)
        return flat(r.output, r.h)
      }
    ),
    "rnn_unbatched": (
      { RNN(5, 6) },
      { m, x, s in
        let r = (m as! RNN)(x, s[0])
        return flat(r.output, r.h)
      }
    ),
    "lstm_packed_bidirectional": (
      { LSTM(5, 7, bidirectional: true) },
      { m, x, _ in
        packedRun(x, [6, 3, 5]) { p in
          let r = (m as! LSTM)(p)
          return (r.output, [r.state.h, r.state.c])
        }
      }
    ),
    "gru_packed_state": (
      { GRU(5, 6, numLayers: 2) },
      { m, x, s in
        packedRun(x, [2, 6, 4]) { p in
          let r = (m as! GRU)(p, s[0])
          return (r.output, [r.h])
        }
      }
    ),
    "lstm_cell": (
      { LSTMCell(5, 7) },
      { m, x, s in
        let r = (m as! LSTMCell)(x, (s[0], s[1]))
        return flat(r.h, r.c)
      }
    ),
    "gru_cell": ({ GRUCell(5, 6) }, { m, x, s in (m as! GRUCell)(x, s[0]) }),
    "rnn_cell_unbatched": ({ RNNCell(5, 6, nonlinearity: .relu) }, { m, x, s in (m as! RNNCell)(x, s[0]) }),
  ]

@Suite struct RecurrentTests {
  @Test(arguments: recurrentCases.keys.sorted())
  func layersMatchPyTorch(name: String) throws {
    let (make, call) = recurrentCases[name]!
    let module = make()
    try module.loadStateDict(
      Dictionary(uniqueKeysWithValues: module.stateDictKeys().map { ($0, fixtures.tensor("rnn_\(name)_param_\($0)")) }),
      strict: true)
    let x = fixtures.tensor("rnn_\(name)_x").requiresGrad_()
    var states: [Tensor] = []
    while FileManager.default.fileExists(
      atPath: fixtures.directory.appendingPathComponent("rnn_\(name)_s\(states.count).npy").path)
    {
      states.append(fixtures.tensor("rnn_\(name)_s\(states.count)").requiresGrad_())
    }
    let out = call(module, x, states)
    expectClose(out, fixtures.tensor("rnn_\(name)_out"), rtol: 1e-4, atol: 1e-5)
    (out * fixtures.tensor("rnn_\(name)_up")).sum().backward()
    expectClose(x.grad!, fixtures.tensor("rnn_\(name)_gx"), rtol: 1e-4, atol: 1e-5)
    for (i, s) in states.enumerated() {
      expectClose(s.grad!, fixtures.tensor("rnn_\(name)_gs\(i)"), rtol: 1e-4, atol: 1e-5)
    }
    for (key, p) in module.namedParameters() {
      expectClose(p.grad!, fixtures.tensor("rnn_\(name)_grad_\(key)"), rtol: 1e-4, atol: 1e-5)
    }
  }

  /// The hand-written backward through time against finite differences in float64, for
  /// every kind, with projections, per-sequence lengths and the reverse direction.
  @Test(arguments: [RecurrentKind.lstm, .gru, .rnnTanh, .rnnRelu])
  func backwardThroughTimeMatchesFiniteDifferences(kind: RecurrentKind) throws {
    let (input, hidden, projection) = (3, 4, kind == .lstm ? 2 : 0)
    let outSize = projection > 0 ? projection : hidden
    let generator = Generator().manualSeed(5)
    func random(_ shape: Int...) -> Tensor {
      (Tensor.randn(shape, dtype: .float64, generator: generator) * 0.5).requiresGrad_()
    }
    let rows = kind.gates * hidden
    var tensors = [random(4, 3, input), random(rows, input), random(rows, outSize), random(rows), random(rows)]
    if projection > 0 { tensors.append(random(projection, hidden)) }
    tensors.append(random(3, outSize))
    if kind == .lstm { tensors.append(random(3, hidden)) }
    for (lengths, reverse) in [(nil, false), ([4, 2, 3] as [Int]?, true)] {
      let f: ([Tensor]) -> Tensor = { t in
        let weights = RecurrentWeights(
          inputHidden: t[1], hiddenHidden: t[2], inputBias: t[3], hiddenBias: t[4],
          projection: projection > 0 ? t[5] : nil)
        let stateIndex = projection > 0 ? 6 : 5
        let result = recurrentDirection(
          kind, t[0], weights, h0: t[stateIndex], c0: kind == .lstm ? t[stateIndex + 1] : nil, lengths: lengths,
          reverse: reverse)
        return Tensor.cat([result.output.flatten(), result.h.flatten()] + (result.c.map { [$0.flatten()] } ?? []))
      }
      #expect(try Autograd.gradcheck(f, inputs: tensors, eps: 1e-6, atol: 1e-5, rtol: 1e-3))
    }
  }

  /// The fused float32 recurrence (a team of threads with a barrier per step, at a size big
  /// enough to use every core) against the composed float64 path, values and gradients; an odd
  /// hidden size splits the units unevenly and leaves partial tiles in every product; a
  /// single sequence (batch 1) is one column of every product.
  @Test(arguments: [(false, 64, 8), (true, 64, 8), (false, 67, 13), (true, 67, 13), (true, 80, 1)])
  func fusedRecurrenceMatchesTheComposedPath(reverse: Bool, hidden: Int, batch: Int) throws {
    let (steps, input) = (6, 5)
    let generator = Generator().manualSeed(9)
    let doubles = [
      [steps, batch, input], [4 * hidden, input], [4 * hidden, hidden], [4 * hidden], [4 * hidden], [batch, hidden],
      [batch, hidden],
    ]
    .map { (Tensor.randn($0, dtype: .float64, generator: generator) * 0.3).requiresGrad_() }
    let floats = doubles.map { $0.detach().float().requiresGrad_() }
    let upstream = Tensor.randn([steps * batch * hidden + 2 * batch * hidden], dtype: .float64, generator: generator)
    var results: [Tensor] = []
    for t in [floats, doubles] {
      let weights = RecurrentWeights(
        inputHidden: t[1], hiddenHidden: t[2], inputBias: t[3], hiddenBias: t[4], projection: nil)
      let r = recurrentDirection(.lstm, t[0], weights, h0: t[5], c0: t[6], lengths: nil, reverse: reverse)
      let out = Tensor.cat([r.output.flatten(), r.h.flatten(), r.c!.flatten()])
      (out * upstream.to(out.dtype)).sum().backward()
      results.append(out.double())
    }
    #expect(floats[0].grad != nil)
    expectClose(results[0], results[1], rtol: 1e-4, atol: 1e-5)
    for (f, d) in zip(floats, doubles) { expectClose(f.grad!.double(), d.grad!, rtol: 1e-3, atol: 1e-4) }
  }

  @Test func dropoutActsBetweenLayersInTrainingOnly() throws {
    let dropped = LSTM(3, 4, numLayers: 2, dropout: 1)
    let plain = LSTM(3, 4, numLayers: 2)
    try plain.loadStateDict(dropped.stateDict())
    let x = Tensor.randn(5, 2, 3)
    dropped.eval()
    #expect(dropped(x).output == plain(x).output)
    dropped.train()
    // With p = 1 the second layer sees zeros: the same as a one-layer LSTM with its weights.
    let second = LSTM(4, 4)
    try second.loadStateDict([
      "weight_ih_l0": dropped[parameter: "weight_ih_l1"]!, "weight_hh_l0": dropped[parameter: "weight_hh_l1"]!,
      "bias_ih_l0": dropped[parameter: "bias_ih_l1"]!, "bias_hh_l0": dropped[parameter: "bias_hh_l1"]!,
    ])
    expectClose(dropped(x).output, second(Tensor.zeros(5, 2, 4)).output, rtol: 1e-6, atol: 1e-7)
  }

  @Test func packingMatchesPyTorch() {
    let padded = fixtures.tensor("rnn_pack_padded")
    let packed = packPaddedSequence(padded, lengths: [3, 5, 2], enforceSorted: false)
    #expect(packed.data == fixtures.tensor("rnn_pack_data"))
    #expect(packed.batchSizes == fixtures.tensor("rnn_pack_batch_sizes"))
    #expect(packed.sortedIndices == fixtures.tensor("rnn_pack_sorted_indices"))
    let (back, lengths) = padPackedSequence(packed, batchFirst: true, totalLength: 6)
    #expect(lengths == Tensor([3, 5, 2]) && back.shape == [3, 6, 2])
    #expect(back[1, ..<5] == padded[..<5, 1])
    #expect(padSequence([Tensor.ones(2, 3), Tensor.ones(4, 3)], batchFirst: true).shape == [2, 4, 3])
  }

  @Test func parameterNamesAndInitialisationAreTorchs() {
    let lstm = LSTM(4, 3, numLayers: 2, bidirectional: true, projSize: 2)
    #expect(
      Array(lstm.stateDictKeys().prefix(10)) == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0", "weight_ih_l0_reverse",
        "weight_hh_l0_reverse",
        "bias_ih_l0_reverse", "bias_hh_l0_reverse", "weight_hr_l0_reverse",
      ])
    #expect(lstm[parameter: "weight_ih_l1"]!.shape == [12, 4] && lstm[parameter: "weight_hh_l1"]!.shape == [12, 2])
    #expect(lstm.parameters().allSatisfy { $0.abs().max().item() <= 1 / 3.0.squareRoot() })
    #expect(GRUCell(3, 5).stateDictKeys() == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
  }
}
