import Autograd

// The activation functions of `torch.nn.functional`, composed from elementwise ops (their
// gradients follow from those; where PyTorch's backward uses strict bounds, the composition
// selects with strict comparisons too), and their module forms.

extension Functional {
  /// `x` where positive, `negativeSlope * x` elsewhere (PyTorch: `F.leaky_relu`).
  public static func leakyRelu(_ x: Tensor, negativeSlope: Double = 0.01) -> Tensor {
    Tensor.where(x .> 0, x, x * negativeSlope)
  }

  /// `x` where positive, `alpha * (exp(x) - 1)` elsewhere (PyTorch: `F.elu`).
  public static func elu(_ x: Tensor, alpha: Double = 1) -> Tensor {
    Tensor.where(x .> 0, x, x.expm1() * alpha)
  }

  /// Scaled ELU with PyTorch's constants (PyTorch: `F.selu`).
  public static func selu(_ x: Tensor) -> Tensor {
    elu(x, alpha: 1.6732632423543772848170429916717) * 1.0507009873554804934193349852946
  }

  /// `max(0, x) + min(0, alpha * (exp(x / alpha) - 1))` (PyTorch: `F.celu`).
  public static func celu(_ x: Tensor, alpha: Double = 1) -> Tensor {
    Tensor.where(x .> 0, x, (x / alpha).expm1() * alpha)
  }

  /// `x` clamped to [`minVal`, `maxVal`], with gradient only strictly inside
  /// (PyTorch: `F.hardtanh`).
  public static func hardtanh(_ x: Tensor, minVal: Double = -1, maxVal: Double = 1) -> Tensor {
    Tensor.where(x .<= minVal, minVal, Tensor.where(x .>= maxVal, maxVal, x))
  }

  /// `hardtanh` to [0, 6] (PyTorch: `F.relu6`).
  public static func relu6(_ x: Tensor) -> Tensor { hardtanh(x, minVal: 0, maxVal: 6) }

  /// `log(1 + exp(beta * x)) / beta`, linear above `threshold` (PyTorch: `F.softplus`).
  public static func softplus(_ x: Tensor, beta: Double = 1, threshold: Double = 20) -> Tensor {
    let scaled = x * beta
    return Tensor.where(scaled .> threshold, x, scaled.exp().log1p() / beta)
  }

  /// `x / (1 + |x|)` (PyTorch: `F.softsign`).
  public static func softsign(_ x: Tensor) -> Tensor { x / (x.abs() + 1) }

  /// `x * tanh(softplus(x))` (PyTorch: `F.mish`).
  public static func mish(_ x: Tensor) -> Tensor { x * softplus(x).tanh() }

  /// The first half along `dim` gated by the sigmoid of the second (PyTorch: `F.glu`).
  public static func glu(_ x: Tensor, dim: Int = -1) -> Tensor {
    let size = x.shape[x.normalizedDim(dim)]
    usageCheck(size % 2 == 0, "glu: Halving dimension must be even, but dimension \(dim) is size \(size)")
    let halves = x.chunk(2, dim: dim)
    return halves[0] * halves[1].sigmoid()
  }

  /// `log(sigmoid(x))`, computed stably (PyTorch: `F.logsigmoid`).
  public static func logsigmoid(_ x: Tensor) -> Tensor { x.clamp(max: 0) - (-x.abs()).exp().log1p() }

  /// `relu6(x + 3) / 6` (PyTorch: `F.hardsigmoid`).
  public static func hardsigmoid(_ x: Tensor) -> Tensor { relu6(x + 3) / 6 }

  /// `x * relu6(x + 3) / 6` (PyTorch: `F.hardswish`).
  public static func hardswish(_ x: Tensor) -> Tensor { x * hardsigmoid(x) }

  /// `x - tanh(x)` (PyTorch: `F.tanhshrink`).
  public static func tanhshrink(_ x: Tensor) -> Tensor { x - x.tanh() }

  /// `x - lambd` above `lambd`, `x + lambd` below `-lambd`, 0 between (PyTorch: `F.softshrink`).
  public static func softshrink(_ x: Tensor, lambd: Double = 0.5) -> Tensor {
    Tensor.where(x .> lambd, x - lambd, Tensor.where(x .< -lambd, x + lambd, 0.0))
  }

  /// `x` outside [-`lambd`, `lambd`], 0 inside (PyTorch: `F.hardshrink`).
  public static func hardshrink(_ x: Tensor, lambd: Double = 0.5) -> Tensor {
    Tensor.where((x .>= -lambd).logicalAnd(x .<= lambd), 0.0, x)
  }

  /// `x` above `threshold`, `value` elsewhere (PyTorch: `F.threshold`).
  public static func threshold(_ x: Tensor, threshold: Double, value: Double) -> Tensor {
    Tensor.where(x .> threshold, x, value)
  }
}

/// A module that applies one function of its input: the base of the activation modules and
/// other parameter-free layers.
open class FunctionModule: Module {
  let function: @Sendable (Tensor) -> Tensor
  /// The settings `print(model)` shows (PyTorch: `extra_repr()`).
  public let settingsDescription: String
  /// A module applying `function`; `settings` is what `print(model)` shows in its parentheses.
  public init(settings: String = "", _ function: @escaping @Sendable (Tensor) -> Tensor) {
    settingsDescription = settings
    self.function = function
  }
  /// Applies the activation.
  public override func forward(_ x: Tensor) -> Tensor { function(x) }
}

/// PyTorch: `nn.LeakyReLU(negative_slope)`.
public final class LeakyReLU: FunctionModule {
  /// The activation with `negativeSlope` below zero.
  public init(negativeSlope: Double = 0.01) {
    super.init(settings: "negative_slope=\(negativeSlope)") { Functional.leakyRelu($0, negativeSlope: negativeSlope) }
  }
}
/// PyTorch: `nn.ELU(alpha)`.
public final class ELU: FunctionModule {
  /// The activation with `alpha`.
  public init(alpha: Double = 1) { super.init(settings: "alpha=\(alpha)") { Functional.elu($0, alpha: alpha) } }
}
/// PyTorch: `nn.SELU()`.
public final class SELU: FunctionModule {
  /// The activation.
  public init() { super.init { Functional.selu($0) } }
}
/// PyTorch: `nn.CELU(alpha)`.
public final class CELU: FunctionModule {
  /// The activation with `alpha`.
  public init(alpha: Double = 1) { super.init { Functional.celu($0, alpha: alpha) } }
}
/// PyTorch: `nn.Hardtanh(min_val, max_val)`.
public final class Hardtanh: FunctionModule {
  /// The activation clamping to [`minVal`, `maxVal`].
  public init(minVal: Double = -1, maxVal: Double = 1) {
    super.init { Functional.hardtanh($0, minVal: minVal, maxVal: maxVal) }
  }
}
/// PyTorch: `nn.ReLU6()`.
public final class ReLU6: FunctionModule {
  /// The activation.
  public init() { super.init { Functional.relu6($0) } }
}
/// PyTorch: `nn.Softplus(beta, threshold)`.
public final class Softplus: FunctionModule {
  /// The activation with `beta` and `threshold`.
  public init(beta: Double = 1, threshold: Double = 20) {
    super.init { Functional.softplus($0, beta: beta, threshold: threshold) }
  }
}
/// PyTorch: `nn.Softsign()`.
public final class Softsign: FunctionModule {
  /// The activation.
  public init() { super.init { Functional.softsign($0) } }
}
/// PyTorch: `nn.Mish()`.
public final class Mish: FunctionModule {
  /// The activation.
  public init() { super.init { Functional.mish($0) } }
}
/// PyTorch: `nn.GLU(dim)`.
public final class GLU: FunctionModule {
  /// The gated unit halving `dim`.
  public init(dim: Int = -1) { super.init { Functional.glu($0, dim: dim) } }
}
/// PyTorch: `nn.LogSigmoid()`.
public final class LogSigmoid: FunctionModule {
  /// The activation.
  public init() { super.init { Functional.logsigmoid($0) } }
}
/// PyTorch: `nn.Hardsigmoid()`.
public final class Hardsigmoid: FunctionModule {
  /// The activation.
  public init() { super.init { Functional.hardsigmoid($0) } }
}
/// PyTorch: `nn.Hardswish()`.
public final class Hardswish: FunctionModule {
  /// The activation.
  public init() { super.init { Functional.hardswish($0) } }
}
/// PyTorch: `nn.Tanhshrink()`.
public final class Tanhshrink: FunctionModule {
  /// The activation.
  public init() { super.init { Functional.tanhshrink($0) } }
}
/// PyTorch: `nn.Softshrink(lambd)`.
public final class Softshrink: FunctionModule {
  /// The activation with `lambd`.
  public init(lambd: Double = 0.5) { super.init { Functional.softshrink($0, lambd: lambd) } }
}
/// PyTorch: `nn.Hardshrink(lambd)`.
public final class Hardshrink: FunctionModule {
  /// The activation with `lambd`.
  public init(lambd: Double = 0.5) { super.init { Functional.hardshrink($0, lambd: lambd) } }
}
/// PyTorch: `nn.Threshold(threshold, value)`.
public final class Threshold: FunctionModule {
  /// `x` above `threshold`, `value` elsewhere.
  public init(threshold: Double, value: Double) {
    super.init { Functional.threshold($0, threshold: threshold, value: value) }
  }
}
/// PyTorch: `nn.SiLU()`.
public final class SiLU: FunctionModule {
  /// The activation.
  public init() { super.init { $0.silu() } }
}
/// PyTorch: `nn.LogSoftmax(dim)`.
public final class LogSoftmax: FunctionModule {
  /// Log-softmax along `dim`.
  public init(dim: Int) { super.init { $0.logSoftmax(dim: dim) } }
}
