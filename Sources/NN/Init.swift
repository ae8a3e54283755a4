// PyTorch's in-place suffix `_` (`add_`, `uniform_`) is part of the API's names.
// swift-format-ignore-file: AlwaysUseLowerCamelCase
import Foundation

/// Initialisers that fill a tensor in place (PyTorch: `torch.nn.init`), with PyTorch's fan
/// computations and gains; each draws from `generator` (the default one if `nil`) in
/// PyTorch's order, so a seed gives PyTorch's numbers, and runs without recording gradients.
public enum Init {
  /// The non-linearities `calculateGain` knows.
  public enum Nonlinearity: Sendable {
    case linear, conv1d, conv2d, conv3d, convTranspose1d, convTranspose2d, convTranspose3d, sigmoid, tanh, relu,
      leakyReLU, selu
  }

  /// Which fan scales a Kaiming initialisation: `fanIn` keeps the forward pass's variance,
  /// `fanOut` the backward pass's.
  public enum FanMode: Sendable { case fanIn, fanOut }

  /// The recommended gain for a non-linearity (PyTorch: `calculate_gain`): 1 for linear,
  /// convolutions and sigmoid, 5/3 for tanh, sqrt(2) for ReLU, sqrt(2 / (1 + slope²)) for
  /// leaky ReLU (`param` is the slope, 0.01 by default), 3/4 for SELU.
  public static func calculateGain(_ nonlinearity: Nonlinearity, param: Double? = nil) -> Double {
    switch nonlinearity {
    case .linear, .conv1d, .conv2d, .conv3d, .convTranspose1d, .convTranspose2d, .convTranspose3d, .sigmoid: 1
    case .tanh: 5.0 / 3
    case .relu: 2.0.squareRoot()
    case .leakyReLU: (2 / (1 + pow(param ?? 0.01, 2))).squareRoot()
    case .selu: 3.0 / 4
    }
  }

  /// `fan_in` and `fan_out` of a weight: dims 1 and 0 times the receptive field (the product
  /// of the dims after the first two); stops for fewer than 2 dims, as PyTorch.
  public static func fans(_ tensor: Tensor) -> (fanIn: Int, fanOut: Int) {
    usageCheck(tensor.dim >= 2, "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    let receptive = tensor.shape.dropFirst(2).reduce(1, *)
    return (tensor.shape[1] * receptive, tensor.shape[0] * receptive)
  }

  private static func filling(_ tensor: Tensor, _ body: () -> Void) -> Tensor {
    withNoGrad { body() }
    return tensor
  }

  /// Uniform in `[low, high)` (PyTorch: `uniform_`).
  @discardableResult
  public static func uniform_(_ tensor: Tensor, low: Double = 0, high: Double = 1, generator: Generator? = nil)
    -> Tensor
  {
    filling(tensor) { _ = tensor.detach().uniform_(from: low, to: high, generator: generator) }
  }

  /// Normal with `mean` and `std` (PyTorch: `normal_`).
  @discardableResult
  public static func normal_(_ tensor: Tensor, mean: Double = 0, std: Double = 1, generator: Generator? = nil) -> Tensor
  {
    filling(tensor) { _ = tensor.detach().normal_(mean: mean, std: std, generator: generator) }
  }

  /// Every element `value` (PyTorch: `constant_`).
  @discardableResult
  public static func constant_(_ tensor: Tensor, _ value: Double) -> Tensor {
    filling(tensor) { _ = tensor.detach().fill_(.double(value)) }
  }

  /// Zeros (PyTorch: `zeros_`).
  @discardableResult
  public static func zeros_(_ tensor: Tensor) -> Tensor { constant_(tensor, 0) }

  /// Ones (PyTorch: `ones_`).
  @discardableResult
  public static func ones_(_ tensor: Tensor) -> Tensor { constant_(tensor, 1) }

  /// Uniform in ±`gain * sqrt(6 / (fan_in + fan_out))` (Glorot; PyTorch: `xavier_uniform_`).
  @discardableResult
  public static func xavierUniform_(_ tensor: Tensor, gain: Double = 1, generator: Generator? = nil) -> Tensor {
    let (fanIn, fanOut) = fans(tensor)
    let bound = 3.0.squareRoot() * gain * (2 / Double(fanIn + fanOut)).squareRoot()
    return uniform_(tensor, low: -bound, high: bound, generator: generator)
  }

  /// Normal with std `gain * sqrt(2 / (fan_in + fan_out))` (PyTorch: `xavier_normal_`).
  @discardableResult
  public static func xavierNormal_(_ tensor: Tensor, gain: Double = 1, generator: Generator? = nil) -> Tensor {
    let (fanIn, fanOut) = fans(tensor)
    return normal_(tensor, std: gain * (2 / Double(fanIn + fanOut)).squareRoot(), generator: generator)
  }

  private static func kaimingStd(_ tensor: Tensor, a: Double, mode: FanMode, nonlinearity: Nonlinearity) -> Double {
    let (fanIn, fanOut) = fans(tensor)
    let fan = mode == .fanIn ? fanIn : fanOut
    return calculateGain(nonlinearity, param: a) / Double(fan).squareRoot()
  }

  /// Uniform in ±`gain * sqrt(3 / fan)` (He; PyTorch: `kaiming_uniform_`, whose defaults
  /// are `a = 0`, fan-in, leaky ReLU; layers use `a = sqrt(5)`).
  @discardableResult
  public static func kaimingUniform_(
    _ tensor: Tensor, a: Double = 0, mode: FanMode = .fanIn, nonlinearity: Nonlinearity = .leakyReLU,
    generator: Generator? = nil
  ) -> Tensor {
    let bound = 3.0.squareRoot() * kaimingStd(tensor, a: a, mode: mode, nonlinearity: nonlinearity)
    return uniform_(tensor, low: -bound, high: bound, generator: generator)
  }

  /// Normal with std `gain / sqrt(fan)` (PyTorch: `kaiming_normal_`).
  @discardableResult
  public static func kaimingNormal_(
    _ tensor: Tensor, a: Double = 0, mode: FanMode = .fanIn, nonlinearity: Nonlinearity = .leakyReLU,
    generator: Generator? = nil
  ) -> Tensor {
    normal_(tensor, std: kaimingStd(tensor, a: a, mode: mode, nonlinearity: nonlinearity), generator: generator)
  }

  /// Normal with `mean` and `std` truncated to `[a, b]` (PyTorch: `trunc_normal_`, with
  /// PyTorch 2.13's method, so the same numbers): when the interval holds more than 30% of
  /// the mass, normal draws outside it are redrawn until none is; otherwise uniform draws in
  /// `[a, b]` are accepted with probability `pdf(x) / pdf(mode)`, redrawing the rejected.
  @discardableResult
  public static func truncNormal_(
    _ tensor: Tensor, mean: Double = 0, std: Double = 1, a: Double = -2, b: Double = 2, generator: Generator? = nil
  ) -> Tensor {
    func normalCDF(_ x: Double) -> Double { (1 + erf(x / 2.0.squareRoot())) / 2 }
    let mass = normalCDF((b - mean) / std) - normalCDF((a - mean) / std)
    return filling(tensor) {
      let t = tensor.detach()
      if mass > 0.3 {
        // The bounds as the tensor's dtype holds them, so the mask agrees with the values.
        let low = Tensor(a, dtype: t.dtype).item()
        let high = Tensor(b, dtype: t.dtype).item()
        var result = t.normal_(mean: mean, std: std, generator: generator)
        while true {
          let outside = (result .< low) | (result .> high)
          guard outside.any().item(Bool.self) else { break }
          result = Tensor.where(
            outside, Tensor.empty(like: result).normal_(mean: mean, std: std, generator: generator), result)
        }
        if result !== t { _ = t.copy_(result) }
      } else {
        let mode = max(a, min(mean, b))
        let logPeak = -0.5 * pow((mode - mean) / std, 2)
        func logDensity(_ x: Tensor) -> Tensor { ((x - mean) / std).pow(2) * -0.5 - logPeak }
        func accepts(_ logPdf: Tensor) -> Tensor {
          Tensor.empty(like: logPdf).uniform_(generator: generator).log() .> logPdf
        }
        _ = t.uniform_(from: a, to: b, generator: generator)
        var pending = accepts(logDensity(t))
        var result = t
        while pending.any().item(Bool.self) {
          let candidates = Tensor.empty(like: t).uniform_(from: a, to: b, generator: generator)
          result = Tensor.where(pending, candidates, result)
          pending = Tensor.where(pending, accepts(logDensity(candidates)), pending)
        }
        if result !== t { _ = t.copy_(result) }
      }
    }
  }

  /// A (semi-)orthogonal matrix, scaled by `gain`, from the QR decomposition of a normal
  /// draw with the signs fixed by R's diagonal (PyTorch: `orthogonal_`); dims after the first
  /// are flattened.
  @discardableResult
  public static func orthogonal_(_ tensor: Tensor, gain: Double = 1, generator: Generator? = nil) -> Tensor {
    usageCheck(tensor.dim >= 2, "Only tensors with 2 or more dimensions are supported")
    guard tensor.numel > 0 else { return tensor }
    let rows = tensor.shape[0]
    let columns = tensor.numel / rows
    return filling(tensor) {
      var flat = Tensor.empty([rows, columns], dtype: tensor.dtype).normal_(generator: generator)
      if rows < columns { flat = flat.t() }
      let (q, r) = Linalg.qr(flat)
      var result = q * r.diagonal().sign()
      if rows < columns { result = result.t() }
      _ = tensor.detach().copy_((result * gain).reshape(tensor.shape))
    }
  }
}
