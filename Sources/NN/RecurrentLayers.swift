import Autograd

/// The nonlinearity of a plain `RNN`.
public enum RNNNonlinearity: Sendable {
  /// `tanh` (PyTorch's default).
  case tanh
  /// `max(0, x)`.
  case relu
}

/// The shared machinery of `RNN`, `LSTM` and `GRU` (PyTorch: `nn.RNNBase`): the weights of
/// every layer and direction under PyTorch's names (`weight_ih_l0`, `weight_hh_l0`,
/// `bias_ih_l0`, `bias_hh_l0`, `weight_hr_l0`, `..._reverse`), initialised uniform in
/// ±1/sqrt(hiddenSize) in PyTorch's order, and the stacking of layers and directions.
public class RecurrentLayer: Module {
  /// Features per input step.
  public let inputSize: Int
  /// Hidden units per layer and direction.
  public let hiddenSize: Int
  /// Stacked layers.
  public let numLayers: Int
  /// Whether the layers have biases.
  public let bias: Bool
  /// Whether inputs and outputs are `[B, T, *]` rather than `[T, B, *]`.
  public let batchFirst: Bool
  /// Dropout on the outputs of every layer but the last, in training.
  public let dropout: Double
  /// Whether each layer also runs backwards in time.
  public let bidirectional: Bool
  /// LSTM's projection size (0: none).
  public let projSize: Int
  let kind: RecurrentKind
  /// The parameters by PyTorch name, in PyTorch's order.
  private(set) var parameterList: [(name: String, tensor: Tensor)] = []

  init(
    kind: RecurrentKind, inputSize: Int, hiddenSize: Int, numLayers: Int, bias: Bool, batchFirst: Bool, dropout: Double,
    bidirectional: Bool,
    projSize: Int
  ) {
    usageCheck(hiddenSize > 0, "hidden_size must be greater than zero")
    usageCheck(numLayers > 0, "num_layers must be greater than zero")
    usageCheck(
      dropout >= 0 && dropout <= 1,
      "dropout should be a number in range [0, 1] representing the probability of an element being zeroed")
    usageCheck(
      projSize >= 0 && projSize < hiddenSize || projSize == 0,
      "proj_size has to be a positive integer smaller than hidden_size")
    self.kind = kind
    self.inputSize = inputSize
    self.hiddenSize = hiddenSize
    self.numLayers = numLayers
    self.bias = bias
    self.batchFirst = batchFirst
    self.dropout = dropout
    self.bidirectional = bidirectional
    self.projSize = projSize
    super.init()
    let outSize = projSize > 0 ? projSize : hiddenSize
    let bound = 1 / Double(hiddenSize).squareRoot()
    func parameter(_ shape: [Int]) -> Tensor { Tensor.empty(shape).uniform_(from: -bound, to: bound).requiresGrad_() }
    for layer in 0..<numLayers {
      for direction in 0..<(bidirectional ? 2 : 1) {
        let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
        let layerInput = layer == 0 ? inputSize : outSize * (bidirectional ? 2 : 1)
        let rows = kind.gates * hiddenSize
        parameterList.append(("weight_ih" + suffix, parameter([rows, layerInput])))
        parameterList.append(("weight_hh" + suffix, parameter([rows, outSize])))
        if bias {
          parameterList.append(("bias_ih" + suffix, parameter([rows])))
          parameterList.append(("bias_hh" + suffix, parameter([rows])))
        }
        if projSize > 0 { parameterList.append(("weight_hr" + suffix, parameter([projSize, hiddenSize]))) }
      }
    }
  }

  /// The parameters under PyTorch's names.
  public override func namedOwnTensors() -> [(name: String, tensor: Tensor, isBuffer: Bool)] {
    parameterList.map { ($0.name, $0.tensor, false) }
  }

  /// The parameter named `name` (PyTorch: `getattr(rnn, "weight_ih_l0")`).
  public subscript(parameter name: String) -> Tensor? { parameterList.first { $0.name == name }?.tensor }

  func weights(layer: Int, reverse: Bool) -> RecurrentWeights {
    let suffix = "_l\(layer)" + (reverse ? "_reverse" : "")
    return RecurrentWeights(
      inputHidden: self[parameter: "weight_ih" + suffix]!, hiddenHidden: self[parameter: "weight_hh" + suffix]!,
      inputBias: self[parameter: "bias_ih" + suffix], hiddenBias: self[parameter: "bias_hh" + suffix],
      projection: self[parameter: "weight_hr" + suffix])
  }

  var directions: Int { bidirectional ? 2 : 1 }
  var outSize: Int { projSize > 0 ? projSize : hiddenSize }
  var name: String { kind == .lstm ? "LSTM" : (kind == .gru ? "GRU" : "RNN") }

  /// Runs every layer over time-major `x` `[T, B, I]` (with per-sequence `lengths` for packed
  /// input): outputs `[T, B, D * Hout]`, final `h` `[L * D, B, Hout]` and `c` `[L * D, B, H]`.
  func run(_ x: Tensor, h0: Tensor?, c0: Tensor?, lengths: [Int]?) -> (output: Tensor, h: Tensor, c: Tensor?) {
    usageCheck(
      x.shape[2] == inputSize,
      "\(name): input.size(-1) must be equal to input_size. Expected \(inputSize), got \(x.shape[2])")
    let batch = x.shape[1]
    let states = numLayers * directions
    let hInitial = h0 ?? Tensor.zeros([states, batch, outSize], dtype: x.dtype, device: x.device)
    usageCheck(
      hInitial.shape == [states, batch, outSize],
      "Expected hidden size \([states, batch, outSize]), got \(hInitial.shape)")
    var cInitial: Tensor?
    if kind == .lstm {
      cInitial = c0 ?? Tensor.zeros([states, batch, hiddenSize], dtype: x.dtype, device: x.device)
      usageCheck(
        cInitial!.shape == [states, batch, hiddenSize],
        "Expected hidden[1] size \([states, batch, hiddenSize]), got \(cInitial!.shape)")
    }
    var input = x
    var finalH: [Tensor] = []
    var finalC: [Tensor] = []
    for layer in 0..<numLayers {
      var outputs: [Tensor] = []
      for direction in 0..<directions {
        let index = layer * directions + direction
        let result = recurrentDirection(
          kind, input, weights(layer: layer, reverse: direction == 1), h0: hInitial[index], c0: cInitial?[index],
          lengths: lengths,
          reverse: direction == 1)
        outputs.append(result.output)
        finalH.append(result.h)
        if let c = result.c { finalC.append(c) }
      }
      input = directions == 1 ? outputs[0] : Tensor.cat(outputs, dim: 2)
      if layer < numLayers - 1 && dropout > 0 && training {
        input = Functional.dropout(input, p: dropout, training: true)
      }
    }
    return (input, Tensor.stack(finalH), finalC.isEmpty ? nil : Tensor.stack(finalC))
  }

  /// Time-major, batched input from the caller's layout; whether it was batched.
  func normalized(_ x: Tensor) -> (Tensor, batched: Bool) {
    usageCheck(x.dim == 2 || x.dim == 3, "\(name): Expected input to be 2D or 3D, got \(x.dim)D instead")
    if x.dim == 2 { return (x.unsqueeze(1), false) }
    return (batchFirst ? x.transpose(0, 1) : x, true)
  }

  /// The output back in the caller's layout.
  func restored(_ output: Tensor, batched: Bool) -> Tensor {
    !batched ? output.squeeze(dim: 1) : (batchFirst ? output.transpose(0, 1) : output)
  }

  /// Initial states from the caller's layout (unbatched states gain a batch dim).
  func state(_ s: Tensor?, batched: Bool) -> Tensor? {
    guard let s else { return nil }
    if !batched {
      usageCheck(s.dim == 2, "For unbatched 2-D input, hx should also be 2-D but got \(s.dim)-D tensor")
      return s.unsqueeze(1)
    }
    usageCheck(s.dim == 3, "For batched 3-D input, hx should also be 3-D but got \(s.dim)-D tensor")
    return s
  }

  /// `RNN` and `GRU`'s call: one hidden state in and out.
  func runWithHiddenState(_ x: Tensor, _ h0: Tensor?) -> (output: Tensor, h: Tensor) {
    let (input, batched) = normalized(x)
    let result = run(input, h0: state(h0, batched: batched), c0: nil, lengths: nil)
    return (restored(result.output, batched: batched), batched ? result.h : result.h.squeeze(dim: 1))
  }

  /// `RNN` and `GRU`'s call on packed sequences.
  func runWithHiddenState(_ x: PackedSequence, _ h0: Tensor?) -> (output: PackedSequence, h: Tensor) {
    let (padded, lengths) = x.paddedTimeMajor()
    let result = run(padded, h0: h0.map { x.sorted($0) }, c0: nil, lengths: lengths)
    return (x.repacking(result.output), x.unsorted(result.h))
  }

  /// A recurrent layer has no single-tensor forward of its own; call it with its states.
  public override func forward(_ input: Tensor) -> Tensor {
    usageFailure("\(name): call the layer as layer(x) or layer(x, state) to get the output and the final state")
  }
}

/// Long short-term memory over sequences (PyTorch: `nn.LSTM`), optionally with projections.
/// Call it as `lstm(x)` or `lstm(x, (h0, c0))`; it returns `(output, (hN, cN))`.
public final class LSTM: RecurrentLayer {
  /// Layers of `hiddenSize` units over inputs of `inputSize` features.
  public init(
    _ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
    dropout: Double = 0,
    bidirectional: Bool = false, projSize: Int = 0
  ) {
    super.init(
      kind: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
      batchFirst: batchFirst, dropout: dropout,
      bidirectional: bidirectional, projSize: projSize)
  }

  /// Runs the layers over `x` (`[T, B, I]`, `[B, T, I]` with `batchFirst`, or unbatched
  /// `[T, I]`) from zero states.
  public func callAsFunction(_ x: Tensor) -> (output: Tensor, state: (h: Tensor, c: Tensor)) { self(x, nil) }

  /// Runs the layers over `x` from `(h0, c0)` (zeros when nil).
  public func callAsFunction(_ x: Tensor, _ state: (Tensor, Tensor)?) -> (output: Tensor, state: (h: Tensor, c: Tensor))
  {
    let (input, batched) = normalized(x)
    let result = run(
      input, h0: self.state(state?.0, batched: batched), c0: self.state(state?.1, batched: batched), lengths: nil)
    let (h, c) = (result.h, result.c!)
    return (restored(result.output, batched: batched), batched ? (h, c) : (h.squeeze(dim: 1), c.squeeze(dim: 1)))
  }

  /// Runs the layers over a packed batch of sequences; the output is packed the same way and
  /// the final states are in the caller's batch order.
  public func callAsFunction(_ x: PackedSequence, _ state: (Tensor, Tensor)? = nil) -> (
    output: PackedSequence, state: (h: Tensor, c: Tensor)
  ) {
    let (padded, lengths) = x.paddedTimeMajor()
    let result = run(padded, h0: state.map { x.sorted($0.0) }, c0: state.map { x.sorted($0.1) }, lengths: lengths)
    return (x.repacking(result.output), (x.unsorted(result.h), x.unsorted(result.c!)))
  }
}

/// Gated recurrent units over sequences (PyTorch: `nn.GRU`). Call it as `gru(x)` or
/// `gru(x, h0)`; it returns `(output, hN)`.
public final class GRU: RecurrentLayer {
  /// Layers of `hiddenSize` units over inputs of `inputSize` features.
  public init(
    _ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
    dropout: Double = 0,
    bidirectional: Bool = false
  ) {
    super.init(
      kind: .gru, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
      batchFirst: batchFirst, dropout: dropout,
      bidirectional: bidirectional, projSize: 0)
  }

  /// Runs the layers over `x` from a zero state.
  public func callAsFunction(_ x: Tensor) -> (output: Tensor, h: Tensor) { runWithHiddenState(x, nil) }

  /// Runs the layers over `x` from `h0` (zeros when nil).
  public func callAsFunction(_ x: Tensor, _ h0: Tensor?) -> (output: Tensor, h: Tensor) { runWithHiddenState(x, h0) }

  /// Runs the layers over a packed batch of sequences.
  public func callAsFunction(_ x: PackedSequence, _ h0: Tensor? = nil) -> (output: PackedSequence, h: Tensor) {
    runWithHiddenState(x, h0)
  }
}

/// An Elman recurrent network with tanh or ReLU (PyTorch: `nn.RNN`). Call it as `rnn(x)` or
/// `rnn(x, h0)`; it returns `(output, hN)`.
public final class RNN: RecurrentLayer {
  /// Layers of `hiddenSize` units over inputs of `inputSize` features.
  public init(
    _ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, nonlinearity: RNNNonlinearity = .tanh, bias: Bool = true,
    batchFirst: Bool = false,
    dropout: Double = 0, bidirectional: Bool = false
  ) {
    super.init(
      kind: nonlinearity == .tanh ? .rnnTanh : .rnnRelu, inputSize: inputSize, hiddenSize: hiddenSize,
      numLayers: numLayers, bias: bias,
      batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, projSize: 0)
  }

  /// Runs the layers over `x` from a zero state.
  public func callAsFunction(_ x: Tensor) -> (output: Tensor, h: Tensor) { runWithHiddenState(x, nil) }

  /// Runs the layers over `x` from `h0` (zeros when nil).
  public func callAsFunction(_ x: Tensor, _ h0: Tensor?) -> (output: Tensor, h: Tensor) { runWithHiddenState(x, h0) }

  /// Runs the layers over a packed batch of sequences.
  public func callAsFunction(_ x: PackedSequence, _ h0: Tensor? = nil) -> (output: PackedSequence, h: Tensor) {
    runWithHiddenState(x, h0)
  }
}
