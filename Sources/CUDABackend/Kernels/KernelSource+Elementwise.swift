import Tensor

// Elementwise kernels: unary and binary ops, conversions.
extension KernelSource {
  /// The CUDA C expression of a unary op on `x` (of compute type `t`), or `nil` when the op
  /// does not apply to the type.
  static func unaryExpression(_ op: UnaryOp, _ t: CType, _ dtype: DType) -> String? {
    let c = t.compute
    if dtype == .bool {
      switch op {
      case .abs, .floor, .ceil, .round, .trunc, .sign, .relu: return "x"
      case .logicalNot, .bitwiseNot: return "!x"
      case .isnan: return "false"
      case .isfinite: return "true"
      default: return nil
      }
    }
    if !t.isFloat {
      switch op {
      case .abs: return "(x < 0 ? (\(c))(0 - x) : x)"
      case .neg: return "(\(c))(0 - x)"
      case .sign: return "(\(c))((x > 0) - (x < 0))"
      case .floor, .ceil, .round, .trunc: return "x"
      case .relu: return "(x > 0 ? x : (\(c))0)"
      case .logicalNot: return "(x == 0)"
      case .isnan: return "false"
      case .isfinite: return "true"
      case .bitwiseNot: return "(\(c))(~x)"
      default: return nil
      }
    }
    switch op {
    case .abs: return "fabs(x)"
    case .neg: return "-x"
    case .sign: return "(\(c))((x > 0) - (x < 0))"  // NaN gives 0, as in PyTorch
    case .floor: return "floor(x)"
    case .ceil: return "ceil(x)"
    case .round: return "rint(x)"
    case .trunc: return "trunc(x)"
    case .exp: return "exp(x)"
    case .expm1: return "expm1(x)"
    case .log: return "log(x)"
    case .log1p: return "log1p(x)"
    case .log2: return "log2(x)"
    case .sqrt: return "sqrt(x)"
    case .rsqrt: return "((\(c))1 / sqrt(x))"
    case .sin: return "sin(x)"
    case .cos: return "cos(x)"
    case .tan: return "tan(x)"
    case .tanh: return "tanh(x)"
    case .sigmoid: return "((\(c))1 / ((\(c))1 + exp(-x)))"
    case .relu: return "((x > 0 || x != x) ? x : (\(c))0)"
    case .gelu: return "(x * (\(c))0.5 * ((\(c))1 + erf(x * (\(c))0.7071067811865476)))"
    case .silu: return "(x / ((\(c))1 + exp(-x)))"
    case .erf: return "erf(x)"
    case .reciprocal: return "((\(c))1 / x)"
    case .logicalNot: return "(x == 0)"
    case .isnan: return "(x != x)"
    case .isfinite: return "isfinite(x)"
    case .bitwiseNot: return nil
    case .exp2: return "exp2(x)"
    case .log10: return "log10(x)"
    case .asin: return "asin(x)"
    case .acos: return "acos(x)"
    case .atan: return "atan(x)"
    case .sinh: return "sinh(x)"
    case .cosh: return "cosh(x)"
    case .asinh: return "asinh(x)"
    case .acosh: return "acosh(x)"
    case .atanh: return "atanh(x)"
    case .erfc: return "erfc(x)"
    case .erfinv: return "erfinv(x)"
    case .lgamma: return "lgamma(x)"
    }
  }

  /// Unary kernels for one input dtype: `unary_<op>_<dtype>` (and `_dense`) with `in`, `out`.
  static func unaryModule(_ dtype: DType) -> Module {
    let t = ctype(dtype)
    var builder = ModuleBuilder("unary_\(dtype.name)")
    for op in UnaryOp.allCases {
      guard let expression = unaryExpression(op, t, dtype) else { continue }
      builder.elementwise(
        kernelName("unary", op.rawValue, dtype), inputs: [("x", t)], output: op.producesBool ? ctype(.bool) : t,
        expression: expression)
    }
    return builder.module
  }

  static func binaryExpression(_ op: BinaryOp, _ t: CType, _ dtype: DType) -> String? {
    let c = t.compute
    switch op {
    case .eq: return "(a == b)"
    case .ne: return "(a != b)"
    case .lt: return dtype == .bool ? "(!a && b)" : "(a < b)"
    case .le: return dtype == .bool ? "(!a || b)" : "(a <= b)"
    case .gt: return dtype == .bool ? "(a && !b)" : "(a > b)"
    case .ge: return dtype == .bool ? "(a || !b)" : "(a >= b)"
    case .logicalAnd: return "(a != 0 && b != 0)"
    case .logicalOr: return "(a != 0 || b != 0)"
    case .logicalXor: return "((a != 0) != (b != 0))"
    default: break
    }
    if dtype == .bool {
      switch op {
      case .add, .maximum, .bitwiseOr: return "(a || b)"
      case .mul, .minimum, .bitwiseAnd: return "(a && b)"
      case .bitwiseXor: return "(a != b)"
      case .pow: return "(a || !b)"
      default: return nil
      }
    }
    if !t.isFloat {
      switch op {
      case .add: return "(\(c))(a + b)"
      case .sub: return "(\(c))(a - b)"
      case .mul: return "(\(c))(a * b)"
      case .remainder:
        return "(b == 0 ? (\(c))0 : (\(c))(((a % b) != 0 && ((a % b) < 0) != (b < 0)) ? (a % b) + b : (a % b)))"
      case .floorDivide:
        return "(b == 0 ? (\(c))0 : (\(c))((a % b != 0 && ((a % b) < 0) != (b < 0)) ? a / b - 1 : a / b))"
      case .pow: return "ipow(a, b)"
      case .maximum: return "(a > b ? a : b)"
      case .minimum: return "(a < b ? a : b)"
      case .bitwiseAnd: return "(\(c))(a & b)"
      case .bitwiseOr: return "(\(c))(a | b)"
      case .bitwiseXor: return "(\(c))(a ^ b)"
      case .fmod: return "(b == 0 ? (\(c))0 : (\(c))(a % b))"
      case .bitwiseLeftShift: return "((b < 0 || b >= (\(c))(8 * sizeof(\(c)))) ? (\(c))0 : (\(c))(a << b))"
      case .bitwiseRightShift:
        return "((b < 0 || b >= (\(c))(8 * sizeof(\(c)))) ? (\(c))(a < 0 ? -1 : 0) : (\(c))(a >> b))"
      default: return nil
      }
    }
    switch op {
    case .add: return "(a + b)"
    case .sub: return "(a - b)"
    case .mul: return "(a * b)"
    case .div: return "(a / b)"
    case .remainder: return "pyrem(a, b)"
    case .floorDivide: return "pyfloordiv(a, b)"
    case .pow: return "pow(a, b)"
    case .maximum: return "((a != a || b != b) ? (a + b) : (a >= b ? a : b))"
    case .minimum: return "((a != a || b != b) ? (a + b) : (a <= b ? a : b))"
    case .atan2: return "atan2(a, b)"
    case .fmod: return "fmod(a, b)"
    case .hypot: return "hypot(a, b)"
    case .copysign: return "copysign(a, b)"
    default: return nil
    }
  }

  /// Binary kernels for one operand dtype: `binary_<op>_<dtype>` (and `_dense`) with `a`, `b`, `out`.
  static func binaryModule(_ dtype: DType) -> Module {
    let t = ctype(dtype)
    var builder = ModuleBuilder("binary_\(dtype.name)")
    if t.isFloat {
      builder.add(
        """
        template <typename T> __device__ __forceinline__ T pyrem(T a, T b) { T r = fmod(a, b); if (r != 0 && ((r < 0) != (b < 0))) r += b; return r; }
        template <typename T> __device__ __forceinline__ T pyfloordiv(T a, T b) {
          if (b == 0) return a / b;
          T m = fmod(a, b); T d = (a - m) / b;
          if (m != 0 && ((b < 0) != (m < 0))) d -= 1;
          if (d == 0) return copysign((T)0, a / b);
          T f = floor(d); return (d - f > (T)0.5) ? f + 1 : f;
        }

        """)
    } else if dtype != .bool {
      builder.add(
        """
        template <typename T> __device__ __forceinline__ T ipow(T base, T e) {
          if (e < 0) { if (base == 1) return 1; if (base == (T)-1) return (e & 1) ? base : (T)1; return 0; }
          T r = 1; while (e > 0) { if (e & 1) r = (T)(r * base); base = (T)(base * base); e >>= 1; } return r;
        }

        """)
    }
    for op in BinaryOp.allCases {
      guard let expression = binaryExpression(op, t, dtype) else { continue }
      builder.elementwise(
        kernelName("binary", op.rawValue, dtype), inputs: [("a", t), ("b", t)],
        output: op.producesBool ? ctype(.bool) : t,
        expression: expression)
    }
    return builder.module
  }

  /// Conversions from one dtype to every dtype: `copy_<dst>_<src>` (and `_dense`) with `in`, `out`.
  static func copyModule(from source: DType) -> Module {
    let s = ctype(source)
    var builder = ModuleBuilder("copy_\(source.name)")
    for target in DType.allCases {
      let d = ctype(target)
      builder.elementwise(
        kernelName("copy", target.name, source), inputs: [("x", s)], output: d,
        expression: target == .bool ? "(x != 0)" : "x")
    }
    return builder.module
  }
}
