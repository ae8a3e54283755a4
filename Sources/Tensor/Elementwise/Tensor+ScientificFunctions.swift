// Elementwise functions beyond the basic arithmetic: inverse trigonometric and hyperbolic
// functions, erfc/erfinv, base-2 and base-10 exp/log, atan2, fmod, hypot, copysign, shifts,
// and the ones PyTorch composes from others (lerp, logaddexp, xlogy, nan_to_num, ...).

extension Tensor {
  /// `2^x` (PyTorch: `torch.exp2`).
  public func exp2(out: Tensor? = nil) -> Tensor { unaryOp(.exp2, out: out, name: "exp2") }
  /// Base-10 logarithm (PyTorch: `torch.log10`).
  public func log10(out: Tensor? = nil) -> Tensor { unaryOp(.log10, out: out, name: "log10") }
  /// Arcsine (PyTorch: `torch.asin`, `arcsin`).
  public func asin(out: Tensor? = nil) -> Tensor { unaryOp(.asin, out: out, name: "asin") }
  /// Arccosine (PyTorch: `torch.acos`, `arccos`).
  public func acos(out: Tensor? = nil) -> Tensor { unaryOp(.acos, out: out, name: "acos") }
  /// Arctangent (PyTorch: `torch.atan`, `arctan`).
  public func atan(out: Tensor? = nil) -> Tensor { unaryOp(.atan, out: out, name: "atan") }
  /// Hyperbolic sine (PyTorch: `torch.sinh`).
  public func sinh(out: Tensor? = nil) -> Tensor { unaryOp(.sinh, out: out, name: "sinh") }
  /// Hyperbolic cosine (PyTorch: `torch.cosh`).
  public func cosh(out: Tensor? = nil) -> Tensor { unaryOp(.cosh, out: out, name: "cosh") }
  /// Inverse hyperbolic sine (PyTorch: `torch.asinh`).
  public func asinh(out: Tensor? = nil) -> Tensor { unaryOp(.asinh, out: out, name: "asinh") }
  /// Inverse hyperbolic cosine (PyTorch: `torch.acosh`).
  public func acosh(out: Tensor? = nil) -> Tensor { unaryOp(.acosh, out: out, name: "acosh") }
  /// Inverse hyperbolic tangent (PyTorch: `torch.atanh`).
  public func atanh(out: Tensor? = nil) -> Tensor { unaryOp(.atanh, out: out, name: "atanh") }
  /// The complementary error function, `1 - erf(x)` without its cancellation (PyTorch: `torch.erfc`).
  public func erfc(out: Tensor? = nil) -> Tensor { unaryOp(.erfc, out: out, name: "erfc") }
  /// The inverse error function on [-1, 1] (PyTorch: `torch.erfinv`).
  public func erfinv(out: Tensor? = nil) -> Tensor { unaryOp(.erfinv, out: out, name: "erfinv") }

  /// The angle of the point `(other, self)`: `atan(self / other)` in the right quadrant
  /// (PyTorch: `torch.atan2(self, other)`).
  public func atan2(_ other: some TensorOperand, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.atan2, operand, other.operand, out: out, name: "atan2")
  }
  /// C's remainder: the result has the dividend's sign (PyTorch: `torch.fmod`; `remainder`
  /// follows the divisor's).
  public func fmod(_ other: some TensorOperand, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.fmod, operand, other.operand, out: out, name: "fmod")
  }
  /// `sqrt(self² + other²)` without overflow (PyTorch: `torch.hypot`).
  public func hypot(_ other: some TensorOperand, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.hypot, operand, other.operand, out: out, name: "hypot")
  }
  /// `self`'s magnitude with `other`'s sign (PyTorch: `torch.copysign`).
  public func copysign(_ other: some TensorOperand, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.copysign, operand, other.operand, out: out, name: "copysign")
  }
  /// Shifts integer bits left; counts that are negative or at least the width give 0
  /// (PyTorch: `torch.bitwise_left_shift`, `<<`).
  public func bitwiseLeftShift(_ other: some TensorOperand, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.bitwiseLeftShift, operand, other.operand, out: out, name: "bitwise_left_shift")
  }
  /// Shifts integer bits right, arithmetically (PyTorch: `torch.bitwise_right_shift`, `>>`).
  public func bitwiseRightShift(_ other: some TensorOperand, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.bitwiseRightShift, operand, other.operand, out: out, name: "bitwise_right_shift")
  }
  /// Bitwise and of integer or bool tensors (PyTorch: `torch.bitwise_and`, `&`).
  public func bitwiseAnd(_ other: some TensorOperand, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.bitwiseAnd, operand, other.operand, out: out, name: "bitwise_and")
  }
  /// Bitwise or (PyTorch: `torch.bitwise_or`, `|`).
  public func bitwiseOr(_ other: some TensorOperand, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.bitwiseOr, operand, other.operand, out: out, name: "bitwise_or")
  }
  /// Bitwise exclusive or (PyTorch: `torch.bitwise_xor`, `^`).
  public func bitwiseXor(_ other: some TensorOperand, out: Tensor? = nil) -> Tensor {
    Tensor.binaryOp(.bitwiseXor, operand, other.operand, out: out, name: "bitwise_xor")
  }
  /// Shifts left (PyTorch: `a << b`).
  public static func << (lhs: Tensor, rhs: some TensorOperand) -> Tensor { lhs.bitwiseLeftShift(rhs) }
  /// Shifts right (PyTorch: `a >> b`).
  public static func >> (lhs: Tensor, rhs: some TensorOperand) -> Tensor { lhs.bitwiseRightShift(rhs) }

  /// How `div(_:roundingMode:)` rounds the quotient.
  public enum RoundingMode: Sendable {
    /// Toward zero (C's integer division).
    case trunc
    /// Toward negative infinity (Python's `//`).
    case floor
  }

  /// Division rounded as `roundingMode` says, or true division when it is `nil`
  /// (PyTorch: `torch.div(a, b, rounding_mode=)`).
  public func div(_ other: some TensorOperand, roundingMode: RoundingMode?, out: Tensor? = nil) -> Tensor {
    switch roundingMode {
    case nil: return div(other, out: out)
    case .floor: return floorDivide(other, out: out)
    case .trunc:
      let result: Tensor
      if Tensor.resultType([operand, other.operand]).isFloatingPoint {
        result = div(other).trunc()
      } else {
        // Exact for integers: the dividend minus C's remainder is a multiple of the divisor.
        result = (self - fmod(other)).floorDivide(other)
      }
      return Tensor.deliver(result, into: out, op: "div")
    }
  }

  /// `self + weight * (end - self)`, computed from the nearer end as PyTorch does
  /// (PyTorch: `torch.lerp`).
  public func lerp(_ end: Tensor, weight: some TensorOperand, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "lerp") {
      let w = Tensor.materialize(weight.operand, dtype: Tensor.resultType([operand, end.operand]), device: device)
      let span = end - self
      return Tensor.where(w.abs() .< 0.5, self + w * span, end - span * (1 - w))
    }
  }

  /// `log(exp(self) + exp(other))` without overflow (PyTorch: `torch.logaddexp`).
  public func logaddexp(_ other: Tensor, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "logaddexp") {
      let larger = maximum(other)
      let sum = larger + (-(self - other).abs()).exp().log1p()
      // Equal infinities: inf - inf is NaN, but the answer is the infinity itself.
      return Tensor.where((self .== other).logicalAnd(isinf()), self, sum)
    }
  }

  /// `self * log(other)`, 0 where `self` is 0 (unless `other` is NaN) (PyTorch: `torch.xlogy`).
  public func xlogy(_ other: some TensorOperand, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "xlogy") {
      let y = Tensor.materialize(
        other.operand, dtype: Tensor.resultType([operand, other.operand]).floatingResult, device: device)
      let product = self * y.log()
      return Tensor.where((self .== 0).logicalAnd(y.isnan().logicalNot()), 0.0, product)
    }
  }

  /// 0 where `self < 0`, `values` where `self == 0`, 1 where `self > 0`
  /// (PyTorch: `torch.heaviside`).
  public func heaviside(_ values: Tensor, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "heaviside") {
      Tensor.where(self .== 0, values, (self .> 0).to(Tensor.resultType([operand, values.operand])))
    }
  }

  /// The fractional part, `self - trunc(self)` (PyTorch: `torch.frac`).
  public func frac(out: Tensor? = nil) -> Tensor { Tensor.writing(into: out, op: "frac") { self - trunc() } }

  /// `self * self` (PyTorch: `torch.square`).
  public func square(out: Tensor? = nil) -> Tensor { Tensor.writing(into: out, op: "square") { self * self } }

  /// The sign for real tensors (PyTorch: `torch.sgn`, which also covers complex ones).
  public func sgn(out: Tensor? = nil) -> Tensor { Tensor.writing(into: out, op: "sgn") { sign() } }

  /// `clamp` under NumPy's name (PyTorch: `torch.clip`).
  public func clip(min lower: Scalar? = nil, max upper: Scalar? = nil, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "clip") { clamp(min: lower, max: upper) }
  }

  /// Whether each element is positive or negative infinity (PyTorch: `torch.isinf`).
  public func isinf() -> Tensor {
    dtype.isFloatingPoint ? abs() .== Double.infinity : Tensor.zeros(like: self, dtype: .bool)
  }
  /// Whether each element is positive infinity (PyTorch: `torch.isposinf`).
  public func isposinf(out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "isposinf") {
      dtype.isFloatingPoint ? self .== Double.infinity : Tensor.zeros(like: self, dtype: .bool)
    }
  }
  /// Whether each element is negative infinity (PyTorch: `torch.isneginf`).
  public func isneginf(out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "isneginf") {
      dtype.isFloatingPoint ? self .== -Double.infinity : Tensor.zeros(like: self, dtype: .bool)
    }
  }

  /// NaN, positive and negative infinity replaced by `nan`, `posinf` and `neginf`, which
  /// default to 0 and the dtype's largest and lowest finite values (PyTorch: `torch.nan_to_num`).
  public func nanToNum(nan: Double = 0, posinf: Double? = nil, neginf: Double? = nil, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "nan_to_num") {
      guard dtype.isFloatingPoint else { return clone() }
      let largest: Double =
        switch dtype {
        case .float16: 65504
        case .bfloat16: 3.3895313892515355e38
        case .float32: Double(Float.greatestFiniteMagnitude)
        default: Double.greatestFiniteMagnitude
        }
      var result = Tensor.where(isnan(), nan, self)
      result = Tensor.where(isposinf(), posinf ?? largest, result)
      return Tensor.where(isneginf(), neginf ?? -largest, result)
    }
  }
}

extension Tensor {
  /// The log of the absolute value of the gamma function (PyTorch: `torch.lgamma`).
  public func lgamma(out: Tensor? = nil) -> Tensor { unaryOp(.lgamma, out: out, name: "lgamma") }

  /// The logarithmic derivative of the gamma function: -inf at 0, NaN at negative integers
  /// (PyTorch: `torch.digamma`). Composed in double precision: the recurrence
  /// ψ(x) = ψ(x + 6) - Σ 1/(x + k), the asymptotic series at x + 6, and the reflection
  /// ψ(x) = ψ(1 - x) - π / tan(πx) below 1/2; its gradient follows from the composition.
  public func digamma(out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "digamma") {
      let v = to(.float64)
      let reflected = v .< 0.5
      var y = Tensor.where(reflected, 1 - v, v)
      var shifted = Tensor.zeros(like: y)
      for _ in 0..<6 {
        shifted = shifted - y.reciprocal()
        y = y + 1
      }
      let r = y.reciprocal()
      let r2 = r * r
      // log y - 1/(2y) - Σ B_2k / (2k y^2k), k = 1...6.
      let tail =
        r2
        * (1.0 / 12 - r2 * (1.0 / 120 - r2 * (1.0 / 252 - r2 * (1.0 / 240 - r2 * (1.0 / 132 - r2 * (691.0 / 32760))))))
      var result = y.log() - r * 0.5 - tail + shifted
      result = Tensor.where(reflected, result - Double.pi / (v * Double.pi).tan(), result)
      result = Tensor.where(v .== 0, -Double.infinity, result)
      result = Tensor.where((v .< 0).logicalAnd(v .== v.floor()), Double.nan, result)
      return result.to(dtype.isFloatingPoint ? dtype : .float32)
    }
  }

  /// The `n`-th derivative of `digamma` (`n = 0` is `digamma` itself) (PyTorch:
  /// `torch.polygamma(n, x)`): `(-1)^(n+1) n! Σ_k (x + k)^-(n+1)`, summed directly until the
  /// argument passes 9 and by the Euler-Maclaurin series beyond, in double precision.
  public func polygamma(_ n: Int, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "polygamma") {
      usageCheck(n >= 0, "polygamma(n, x) does not support negative n, got n = \(n)")
      if n == 0 { return digamma() }
      let v = to(.float64)
      let s = Double(n + 1)
      let smallest = numel == 0 ? 0 : v.min().item()
      let steps = Swift.min(Swift.max(10, Int((9 - smallest).rounded(.up))), 100_000)
      var sum = Tensor.zeros(like: v)
      var y = v
      for _ in 0..<steps {
        sum = sum + y.pow(-s)
        y = y + 1
      }
      // Hurwitz zeta tail at y: y^(1-s)/(s-1) + y^-s/2 + Σ B_2j/(2j)! s(s+1)...(s+2j-2) y^(-s-2j+1).
      let bernoulli: [Double] = [1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730]
      var tail = y.pow(1 - s) / (s - 1) + y.pow(-s) * 0.5
      var rising = 1.0
      var factorial = 1.0
      for (j, b) in bernoulli.enumerated() {
        let k = 2 * (j + 1)
        rising *= j == 0 ? s : (s + Double(k - 3)) * (s + Double(k - 2))
        factorial *= Double((k - 1) * k)
        tail = tail + y.pow(-s - Double(k) + 1) * (b / factorial * rising)
      }
      let nFactorial = (1...n).reduce(1.0) { $0 * Double($1) }
      var result = (sum + tail) * ((n % 2 == 1 ? 1.0 : -1.0) * nFactorial)
      // Poles at 0 and the negative integers: +inf for odd n, -inf for even n (PyTorch's).
      result = Tensor.where(
        (v .<= 0).logicalAnd(v .== v.floor()), n % 2 == 1 ? Double.infinity : -Double.infinity, result)
      return result.to(dtype.isFloatingPoint ? dtype : .float32)
    }
  }
}
