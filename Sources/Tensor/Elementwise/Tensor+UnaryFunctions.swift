// PyTorch's in-place suffix `_` (`add_`, `uniform_`) is part of the API's names.
// swift-format-ignore-file: AlwaysUseLowerCamelCase
extension Tensor {
  /// Elementwise absolute value (PyTorch: `torch.abs`).
  @discardableResult
  public func abs(out: Tensor? = nil) -> Tensor { unaryOp(.abs, out: out, name: "abs") }
  /// In-place absolute value (PyTorch: `x.abs_()`).
  @discardableResult
  public func abs_() -> Tensor {
    unaryInPlace(.abs, name: "abs_")
    return self
  }
  /// Elementwise negation (PyTorch: `torch.neg`).
  @discardableResult
  public func neg(out: Tensor? = nil) -> Tensor { unaryOp(.neg, out: out, name: "neg") }
  /// In-place negation (PyTorch: `x.neg_()`).
  @discardableResult
  public func neg_() -> Tensor {
    unaryInPlace(.neg, name: "neg_")
    return self
  }
  /// Elementwise sign: -1, 0 or 1 (PyTorch: `torch.sign`).
  @discardableResult
  public func sign(out: Tensor? = nil) -> Tensor { unaryOp(.sign, out: out, name: "sign") }
  /// In-place sign: -1, 0 or 1 (PyTorch: `x.sign_()`).
  @discardableResult
  public func sign_() -> Tensor {
    unaryInPlace(.sign, name: "sign_")
    return self
  }
  /// Elementwise round toward negative infinity (PyTorch: `torch.floor`).
  @discardableResult
  public func floor(out: Tensor? = nil) -> Tensor { unaryOp(.floor, out: out, name: "floor") }
  /// In-place round toward negative infinity (PyTorch: `x.floor_()`).
  @discardableResult
  public func floor_() -> Tensor {
    unaryInPlace(.floor, name: "floor_")
    return self
  }
  /// Elementwise round toward positive infinity (PyTorch: `torch.ceil`).
  @discardableResult
  public func ceil(out: Tensor? = nil) -> Tensor { unaryOp(.ceil, out: out, name: "ceil") }
  /// In-place round toward positive infinity (PyTorch: `x.ceil_()`).
  @discardableResult
  public func ceil_() -> Tensor {
    unaryInPlace(.ceil, name: "ceil_")
    return self
  }
  /// Elementwise round half to even (PyTorch: `torch.round`).
  @discardableResult
  public func round(out: Tensor? = nil) -> Tensor { unaryOp(.round, out: out, name: "round") }
  /// Rounds half to even at `decimals` decimal places (negative: to tens, hundreds, ...),
  /// as `round(x * 10^d) / 10^d` (PyTorch: `torch.round(x, decimals=d)`).
  public func round(decimals: Int) -> Tensor {
    if decimals == 0 { return round() }
    let scale = (0..<Swift.abs(decimals)).reduce(1.0) { power, _ in power * 10 }
    return decimals > 0 ? (self * scale).round() / scale : (self / scale).round() * scale
  }
  /// In-place round half to even (PyTorch: `x.round_()`).
  @discardableResult
  public func round_() -> Tensor {
    unaryInPlace(.round, name: "round_")
    return self
  }
  /// Elementwise round toward zero (PyTorch: `torch.trunc`).
  @discardableResult
  public func trunc(out: Tensor? = nil) -> Tensor { unaryOp(.trunc, out: out, name: "trunc") }
  /// In-place round toward zero (PyTorch: `x.trunc_()`).
  @discardableResult
  public func trunc_() -> Tensor {
    unaryInPlace(.trunc, name: "trunc_")
    return self
  }
  /// Elementwise e^x (PyTorch: `torch.exp`).
  @discardableResult
  public func exp(out: Tensor? = nil) -> Tensor {
    if out == nil, let cast = Tensor.autocast(.float32OnDevices, self, { $0.exp() }) { return cast }
    return unaryOp(.exp, out: out, name: "exp")
  }
  /// In-place e^x (PyTorch: `x.exp_()`).
  @discardableResult
  public func exp_() -> Tensor {
    unaryInPlace(.exp, name: "exp_")
    return self
  }
  /// Elementwise e^x - 1, accurate near 0 (PyTorch: `torch.expm1`).
  @discardableResult
  public func expm1(out: Tensor? = nil) -> Tensor { unaryOp(.expm1, out: out, name: "expm1") }
  /// In-place e^x - 1, accurate near 0 (PyTorch: `x.expm1_()`).
  @discardableResult
  public func expm1_() -> Tensor {
    unaryInPlace(.expm1, name: "expm1_")
    return self
  }
  /// Elementwise natural logarithm (PyTorch: `torch.log`).
  @discardableResult
  public func log(out: Tensor? = nil) -> Tensor {
    if out == nil, let cast = Tensor.autocast(.float32OnDevices, self, { $0.log() }) { return cast }
    return unaryOp(.log, out: out, name: "log")
  }
  /// In-place natural logarithm (PyTorch: `x.log_()`).
  @discardableResult
  public func log_() -> Tensor {
    unaryInPlace(.log, name: "log_")
    return self
  }
  /// Elementwise log(1 + x), accurate near 0 (PyTorch: `torch.log1p`).
  @discardableResult
  public func log1p(out: Tensor? = nil) -> Tensor { unaryOp(.log1p, out: out, name: "log1p") }
  /// In-place log(1 + x), accurate near 0 (PyTorch: `x.log1p_()`).
  @discardableResult
  public func log1p_() -> Tensor {
    unaryInPlace(.log1p, name: "log1p_")
    return self
  }
  /// Elementwise base-2 logarithm (PyTorch: `torch.log2`).
  @discardableResult
  public func log2(out: Tensor? = nil) -> Tensor { unaryOp(.log2, out: out, name: "log2") }
  /// In-place base-2 logarithm (PyTorch: `x.log2_()`).
  @discardableResult
  public func log2_() -> Tensor {
    unaryInPlace(.log2, name: "log2_")
    return self
  }
  /// Elementwise square root (PyTorch: `torch.sqrt`).
  @discardableResult
  public func sqrt(out: Tensor? = nil) -> Tensor { unaryOp(.sqrt, out: out, name: "sqrt") }
  /// In-place square root (PyTorch: `x.sqrt_()`).
  @discardableResult
  public func sqrt_() -> Tensor {
    unaryInPlace(.sqrt, name: "sqrt_")
    return self
  }
  /// Elementwise 1 / sqrt(x) (PyTorch: `torch.rsqrt`).
  @discardableResult
  public func rsqrt(out: Tensor? = nil) -> Tensor {
    if out == nil, let cast = Tensor.autocast(.float32OnDevices, self, { $0.rsqrt() }) { return cast }
    return unaryOp(.rsqrt, out: out, name: "rsqrt")
  }
  /// In-place 1 / sqrt(x) (PyTorch: `x.rsqrt_()`).
  @discardableResult
  public func rsqrt_() -> Tensor {
    unaryInPlace(.rsqrt, name: "rsqrt_")
    return self
  }
  /// Elementwise sine (PyTorch: `torch.sin`).
  @discardableResult
  public func sin(out: Tensor? = nil) -> Tensor { unaryOp(.sin, out: out, name: "sin") }
  /// In-place sine (PyTorch: `x.sin_()`).
  @discardableResult
  public func sin_() -> Tensor {
    unaryInPlace(.sin, name: "sin_")
    return self
  }
  /// Elementwise cosine (PyTorch: `torch.cos`).
  @discardableResult
  public func cos(out: Tensor? = nil) -> Tensor { unaryOp(.cos, out: out, name: "cos") }
  /// In-place cosine (PyTorch: `x.cos_()`).
  @discardableResult
  public func cos_() -> Tensor {
    unaryInPlace(.cos, name: "cos_")
    return self
  }
  /// Elementwise tangent (PyTorch: `torch.tan`).
  @discardableResult
  public func tan(out: Tensor? = nil) -> Tensor { unaryOp(.tan, out: out, name: "tan") }
  /// In-place tangent (PyTorch: `x.tan_()`).
  @discardableResult
  public func tan_() -> Tensor {
    unaryInPlace(.tan, name: "tan_")
    return self
  }
  /// Elementwise hyperbolic tangent (PyTorch: `torch.tanh`).
  @discardableResult
  public func tanh(out: Tensor? = nil) -> Tensor { unaryOp(.tanh, out: out, name: "tanh") }
  /// In-place hyperbolic tangent (PyTorch: `x.tanh_()`).
  @discardableResult
  public func tanh_() -> Tensor {
    unaryInPlace(.tanh, name: "tanh_")
    return self
  }
  /// Elementwise logistic sigmoid 1 / (1 + e^-x) (PyTorch: `torch.sigmoid`).
  @discardableResult
  public func sigmoid(out: Tensor? = nil) -> Tensor { unaryOp(.sigmoid, out: out, name: "sigmoid") }
  /// In-place logistic sigmoid 1 / (1 + e^-x) (PyTorch: `x.sigmoid_()`).
  @discardableResult
  public func sigmoid_() -> Tensor {
    unaryInPlace(.sigmoid, name: "sigmoid_")
    return self
  }
  /// Elementwise max(x, 0) (PyTorch: `torch.relu`).
  @discardableResult
  public func relu(out: Tensor? = nil) -> Tensor { unaryOp(.relu, out: out, name: "relu") }
  /// In-place max(x, 0) (PyTorch: `x.relu_()`).
  @discardableResult
  public func relu_() -> Tensor {
    unaryInPlace(.relu, name: "relu_")
    return self
  }
  /// Elementwise GELU with the exact erf form (PyTorch: `torch.gelu`).
  @discardableResult
  public func gelu(out: Tensor? = nil) -> Tensor { unaryOp(.gelu, out: out, name: "gelu") }
  /// In-place GELU with the exact erf form (PyTorch: `x.gelu_()`).
  @discardableResult
  public func gelu_() -> Tensor {
    unaryInPlace(.gelu, name: "gelu_")
    return self
  }
  /// Elementwise x * sigmoid(x) (PyTorch: `torch.silu`).
  @discardableResult
  public func silu(out: Tensor? = nil) -> Tensor { unaryOp(.silu, out: out, name: "silu") }
  /// In-place x * sigmoid(x) (PyTorch: `x.silu_()`).
  @discardableResult
  public func silu_() -> Tensor {
    unaryInPlace(.silu, name: "silu_")
    return self
  }
  /// Elementwise error function (PyTorch: `torch.erf`).
  @discardableResult
  public func erf(out: Tensor? = nil) -> Tensor { unaryOp(.erf, out: out, name: "erf") }
  /// In-place error function (PyTorch: `x.erf_()`).
  @discardableResult
  public func erf_() -> Tensor {
    unaryInPlace(.erf, name: "erf_")
    return self
  }
  /// Elementwise 1 / x (PyTorch: `torch.reciprocal`).
  @discardableResult
  public func reciprocal(out: Tensor? = nil) -> Tensor {
    if out == nil, let cast = Tensor.autocast(.float32OnDevices, self, { $0.reciprocal() }) { return cast }
    return unaryOp(.reciprocal, out: out, name: "reciprocal")
  }
  /// In-place 1 / x (PyTorch: `x.reciprocal_()`).
  @discardableResult
  public func reciprocal_() -> Tensor {
    unaryInPlace(.reciprocal, name: "reciprocal_")
    return self
  }
  /// Whether each element is NaN (PyTorch: `torch.isnan`).
  public func isnan() -> Tensor { unaryOp(.isnan, name: "isnan") }
  /// Whether each element is finite (PyTorch: `torch.isfinite`).
  public func isfinite() -> Tensor { unaryOp(.isfinite, name: "isfinite") }
}

/// Elementwise absolute value (PyTorch: `torch.abs`).
public func abs(_ x: Tensor) -> Tensor { x.abs() }
/// Elementwise negation (PyTorch: `torch.neg`).
public func neg(_ x: Tensor) -> Tensor { x.neg() }
/// Elementwise sign: -1, 0 or 1 (PyTorch: `torch.sign`).
public func sign(_ x: Tensor) -> Tensor { x.sign() }
/// Elementwise round toward negative infinity (PyTorch: `torch.floor`).
public func floor(_ x: Tensor) -> Tensor { x.floor() }
/// Elementwise round toward positive infinity (PyTorch: `torch.ceil`).
public func ceil(_ x: Tensor) -> Tensor { x.ceil() }
/// Elementwise round half to even (PyTorch: `torch.round`).
public func round(_ x: Tensor) -> Tensor { x.round() }
/// Elementwise round toward zero (PyTorch: `torch.trunc`).
public func trunc(_ x: Tensor) -> Tensor { x.trunc() }
/// Elementwise e^x (PyTorch: `torch.exp`).
public func exp(_ x: Tensor) -> Tensor { x.exp() }
/// Elementwise e^x - 1, accurate near 0 (PyTorch: `torch.expm1`).
public func expm1(_ x: Tensor) -> Tensor { x.expm1() }
/// Elementwise natural logarithm (PyTorch: `torch.log`).
public func log(_ x: Tensor) -> Tensor { x.log() }
/// Elementwise log(1 + x), accurate near 0 (PyTorch: `torch.log1p`).
public func log1p(_ x: Tensor) -> Tensor { x.log1p() }
/// Elementwise base-2 logarithm (PyTorch: `torch.log2`).
public func log2(_ x: Tensor) -> Tensor { x.log2() }
/// Elementwise square root (PyTorch: `torch.sqrt`).
public func sqrt(_ x: Tensor) -> Tensor { x.sqrt() }
/// Elementwise 1 / sqrt(x) (PyTorch: `torch.rsqrt`).
public func rsqrt(_ x: Tensor) -> Tensor { x.rsqrt() }
/// Elementwise sine (PyTorch: `torch.sin`).
public func sin(_ x: Tensor) -> Tensor { x.sin() }
/// Elementwise cosine (PyTorch: `torch.cos`).
public func cos(_ x: Tensor) -> Tensor { x.cos() }
/// Elementwise tangent (PyTorch: `torch.tan`).
public func tan(_ x: Tensor) -> Tensor { x.tan() }
/// Elementwise hyperbolic tangent (PyTorch: `torch.tanh`).
public func tanh(_ x: Tensor) -> Tensor { x.tanh() }
/// Elementwise logistic sigmoid 1 / (1 + e^-x) (PyTorch: `torch.sigmoid`).
public func sigmoid(_ x: Tensor) -> Tensor { x.sigmoid() }
/// Elementwise max(x, 0) (PyTorch: `torch.relu`).
public func relu(_ x: Tensor) -> Tensor { x.relu() }
/// Elementwise GELU with the exact erf form (PyTorch: `torch.gelu`).
public func gelu(_ x: Tensor) -> Tensor { x.gelu() }
/// Elementwise x * sigmoid(x) (PyTorch: `torch.silu`).
public func silu(_ x: Tensor) -> Tensor { x.silu() }
/// Elementwise error function (PyTorch: `torch.erf`).
public func erf(_ x: Tensor) -> Tensor { x.erf() }
/// Elementwise 1 / x (PyTorch: `torch.reciprocal`).
public func reciprocal(_ x: Tensor) -> Tensor { x.reciprocal() }
/// Whether each element is NaN (PyTorch: `torch.isnan`).
public func isnan(_ x: Tensor) -> Tensor { x.isnan() }
/// Whether each element is finite (PyTorch: `torch.isfinite`).
public func isfinite(_ x: Tensor) -> Tensor { x.isfinite() }
/// Elementwise logical and (PyTorch: `torch.logical_and`).
public func logicalAnd(_ a: Tensor, _ b: Tensor) -> Tensor { a.logicalAnd(b) }
/// Elementwise logical or (PyTorch: `torch.logical_or`).
public func logicalOr(_ a: Tensor, _ b: Tensor) -> Tensor { a.logicalOr(b) }
/// Elementwise logical not (PyTorch: `torch.logical_not`).
public func logicalNot(_ x: Tensor) -> Tensor { x.logicalNot() }
/// `a ** b` elementwise (PyTorch: `torch.pow`).
public func pow(_ a: Tensor, _ b: some TensorOperand) -> Tensor { a.pow(b) }
/// The elementwise maximum (PyTorch: `torch.maximum`).
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { a.maximum(b) }
/// The elementwise minimum (PyTorch: `torch.minimum`).
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { a.minimum(b) }
