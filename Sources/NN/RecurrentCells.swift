import Autograd

/// The weights of one recurrent cell (PyTorch: `nn.RNNCellBase`: `weight_ih`, `weight_hh`,
/// `bias_ih`, `bias_hh`, uniform in ±1/sqrt(hiddenSize)).
public class RecurrentCell: Module {
  /// `[gates * hiddenSize, inputSize]`.
  public var weightIh: Tensor
  /// `[gates * hiddenSize, hiddenSize]`.
  public var weightHh: Tensor
  /// `[gates * hiddenSize]`, or nil.
  public var biasIh: Tensor?
  /// `[gates * hiddenSize]`, or nil.
  public var biasHh: Tensor?
  /// Hidden units.
  public let hiddenSize: Int

  init(inputSize: Int, hiddenSize: Int, bias: Bool, gates: Int) {
    let bound = 1 / Double(hiddenSize).squareRoot()
    func parameter(_ shape: [Int]) -> Tensor { Tensor.empty(shape).uniform_(from: -bound, to: bound).requiresGrad_() }
    weightIh = parameter([gates * hiddenSize, inputSize])
    weightHh = parameter([gates * hiddenSize, hiddenSize])
    biasIh = bias ? parameter([gates * hiddenSize]) : nil
    biasHh = bias ? parameter([gates * hiddenSize]) : nil
    self.hiddenSize = hiddenSize
  }

  /// The input and hidden projections of one step (batched `[B, *]`).
  func projections(_ x: Tensor, _ h: Tensor) -> (Tensor, Tensor) {
    (Functional.linear(x, weight: weightIh, bias: biasIh), Functional.linear(h, weight: weightHh, bias: biasHh))
  }

  /// A zero state for `x`, or `h` checked; both batched.
  func batchedState(_ x: Tensor, _ h: Tensor?) -> (x: Tensor, h: Tensor, batched: Bool) {
    usageCheck(x.dim == 1 || x.dim == 2, "\(type(of: self)): Expected input to be 1D or 2D, got \(x.dim)D instead")
    let batched = x.dim == 2
    let input = batched ? x : x.unsqueeze(0)
    let state =
      h.map { batched ? $0 : $0.unsqueeze(0) }
      ?? Tensor.zeros([input.shape[0], hiddenSize], dtype: x.dtype, device: x.device)
    return (input, state, batched)
  }

  /// A cell called with the input alone starts from zero states; subclasses override this.
  public override func forward(_ input: Tensor) -> Tensor {
    usageFailure("\(type(of: self)): call the cell as cell(x) or cell(x, state) to get the next state")
  }
}

/// One Elman step, `h' = act(W_ih x + b_ih + W_hh h + b_hh)` (PyTorch: `nn.RNNCell`).
public final class RNNCell: RecurrentCell {
  let nonlinearity: RNNNonlinearity
  /// A cell of `hiddenSize` units over `inputSize` features.
  public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, nonlinearity: RNNNonlinearity = .tanh) {
    self.nonlinearity = nonlinearity
    super.init(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, gates: 1)
  }
  /// The next hidden state from a zero state (`cell(x)`).
  public override func forward(_ x: Tensor) -> Tensor { self(x, nil) }
  /// The next hidden state (from `h`, zeros when nil).
  public func callAsFunction(_ x: Tensor, _ h: Tensor?) -> Tensor {
    let (input, state, batched) = batchedState(x, h)
    let (a, b) = projections(input, state)
    let next = nonlinearity == .tanh ? (a + b).tanh() : (a + b).relu()
    return batched ? next : next.squeeze(dim: 0)
  }
}

/// One LSTM step (PyTorch: `nn.LSTMCell`): gates i, f, g, o; returns `(h', c')`.
public final class LSTMCell: RecurrentCell {
  /// A cell of `hiddenSize` units over `inputSize` features.
  public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true) {
    super.init(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, gates: 4)
  }
  /// The next hidden and cell states from zero states.
  public func callAsFunction(_ x: Tensor) -> (h: Tensor, c: Tensor) { self(x, nil) }

  /// The next hidden and cell states (from zeros when `state` is nil).
  public func callAsFunction(_ x: Tensor, _ state: (Tensor, Tensor)?) -> (h: Tensor, c: Tensor) {
    let (input, h, batched) = batchedState(x, state?.0)
    let c = state.map { batched ? $0.1 : $0.1.unsqueeze(0) } ?? Tensor.zeros(like: h)
    let (a, b) = projections(input, h)
    let gates = (a + b).chunk(4, dim: 1)
    let nextC = gates[1].sigmoid() * c + gates[0].sigmoid() * gates[2].tanh()
    let nextH = gates[3].sigmoid() * nextC.tanh()
    return batched ? (nextH, nextC) : (nextH.squeeze(dim: 0), nextC.squeeze(dim: 0))
  }
}

/// One GRU step (PyTorch: `nn.GRUCell`): gates r, z, n.
public final class GRUCell: RecurrentCell {
  /// A cell of `hiddenSize` units over `inputSize` features.
  public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true) {
    super.init(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, gates: 3)
  }
  /// The next hidden state from a zero state (`cell(x)`).
  public override func forward(_ x: Tensor) -> Tensor { self(x, nil) }
  /// The next hidden state (from `h`, zeros when nil).
  public func callAsFunction(_ x: Tensor, _ h: Tensor?) -> Tensor {
    let (input, state, batched) = batchedState(x, h)
    let (a, b) = projections(input, state)
    let (xs, hs) = (a.chunk(3, dim: 1), b.chunk(3, dim: 1))
    let r = (xs[0] + hs[0]).sigmoid()
    let z = (xs[1] + hs[1]).sigmoid()
    let n = (xs[2] + r * hs[2]).tanh()
    let next = (1 - z) * n + z * state
    return batched ? next : next.squeeze(dim: 0)
  }
}
