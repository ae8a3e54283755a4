import Foundation

/// A saved tensor that a formula may not have saved (it then reads nothing).
struct SavedReader {
  let saved: SavedTensor?
  init(_ saved: SavedTensor?) { self.saved = saved }
  func unpack() throws -> Tensor {
    guard let saved else { usageFailure("backward formula read a value it did not save") }
    return try saved.unpack()
  }
}

/// Backward formulas of elementwise ops (PyTorch's `derivatives.yaml` entries).
enum ElementwiseFormulas {
  static func unaryName(_ op: UnaryOp) -> String { unaryNames[op]! }

  /// Node names for every op, built once (a name built per op is a string allocation per op).
  private static let unaryNames: [UnaryOp: String] = Dictionary(
    uniqueKeysWithValues: UnaryOp.allCases.map { op in
      (op, op == .log1p ? "Log1PBackward0" : op.rawValue.prefix(1).uppercased() + op.rawValue.dropFirst() + "Backward0")
    })

  /// Unary formulas that read the output rather than the input.
  static let usesOutput: Set<UnaryOp> = [
    .exp, .expm1, .sqrt, .rsqrt, .tan, .tanh, .sigmoid, .relu, .reciprocal, .exp2, .erfinv,
  ]

  /// `inputs` is the recorded op's one-element input array (passed on, not rebuilt).
  static func unary(_ op: UnaryOp, inputs: [Tensor], output: Tensor) -> Function {
    let input = inputs[0]
    // Save only what the formula reads (each saved tensor is an allocation per op).
    let readsOutput = usesOutput.contains(op)
    let x = readsOutput || op == .neg ? nil : SavedTensor(input)
    let y = readsOutput ? SavedTensor(output: output) : nil
    return Function(name: unaryName(op), inputs: inputs, savesValues: op != .neg, savedOutput: y) { g in
      let x = SavedReader(x)
      let y = SavedReader(y)
      switch op {
      case .abs: return [g * (try x.unpack()).sign()]
      case .neg: return [-g]
      case .sign, .floor, .ceil, .round, .trunc: return [Tensor.zeros(like: g)]
      case .exp: return [g * (try y.unpack())]
      case .expm1: return [g * ((try y.unpack()) + 1)]
      case .log: return [g / (try x.unpack())]
      case .log1p: return [g / ((try x.unpack()) + 1)]
      case .log2: return [g / ((try x.unpack()) * M_LN2)]
      case .sqrt: return [g / ((try y.unpack()) * 2)]
      case .rsqrt: return [g * (try y.unpack()).pow(3) * -0.5]
      case .sin: return [g * (try x.unpack()).cos()]
      case .cos: return [g * -(try x.unpack()).sin()]
      case .tan:
        let t = try y.unpack()
        return [g * (t * t + 1)]
      case .tanh:
        let t = try y.unpack()
        return [g * (1 - t * t)]
      case .sigmoid:
        let s = try y.unpack()
        return [g * s * (1 - s)]
      // PyTorch's threshold_backward zeroes where y <= 0, so a NaN passes the gradient.
      case .relu:
        let v = try y.unpack()
        return [fusedBackward(.relu, saved: v, g) ?? thresholdBackward(g, zeroWhere: v .<= 0, source: v)]
      case .gelu:
        let v = try x.unpack()
        if let fused = fusedBackward(.gelu, saved: v, g) { return [fused] }
        let cdf = ((v * 0.5.squareRoot()).erf() + 1) * 0.5
        let pdf = (v * v * -0.5).exp() * (1 / (2 * Double.pi).squareRoot())
        return [g * (cdf + v * pdf)]
      case .silu:
        let v = try x.unpack()
        let s = v.sigmoid()
        return [g * s * ((1 - s) * v + 1)]
      case .erf:
        let v = try x.unpack()
        return [g * (v * v * -1).exp() * M_2_SQRTPI]
      case .reciprocal:
        let r = try y.unpack()
        return [g * r * r * -1]
      case .exp2: return [g * (try y.unpack()) * M_LN2]
      case .log10: return [g / ((try x.unpack()) * M_LN10)]
      case .asin: return [g * (1 - (try x.unpack()).pow(2)).rsqrt()]
      case .acos: return [-g * (1 - (try x.unpack()).pow(2)).rsqrt()]
      case .atan: return [g / ((try x.unpack()).pow(2) + 1)]
      case .sinh: return [g * (try x.unpack()).cosh()]
      case .cosh: return [g * (try x.unpack()).sinh()]
      case .asinh: return [g * ((try x.unpack()).pow(2) + 1).rsqrt()]
      case .acosh: return [g * ((try x.unpack()).pow(2) - 1).rsqrt()]
      case .atanh: return [g / (1 - (try x.unpack()).pow(2))]
      case .erfc:
        let v = try x.unpack()
        return [g * (v * v * -1).exp() * -M_2_SQRTPI]
      case .erfinv:
        let u = try y.unpack()
        return [g * (u * u).exp() * (Double.pi.squareRoot() / 2)]
      case .lgamma: return [g * (try x.unpack()).digamma()]
      case .logicalNot, .isnan, .isfinite, .bitwiseNot:
        return [nil]
      }
    }
  }

  /// An activation's gradient by the backend's one-pass kernel (`saved` is what the formula
  /// reads: GELU's input, ReLU's output); nil when a graph of the gradient is wanted
  /// (`createGraph: true`) or the backend has no kernel.
  private static func fusedBackward(_ op: UnaryOp, saved: Tensor, _ g: Tensor) -> Tensor? {
    guard !Autograd.gradEnabled else { return nil }
    // The kernels read and write plain contiguous operands (a channels-last `saved` would
    // otherwise get a channels-last `out` and be declined after the allocation).
    let operand = saved.contiguous()
    let out = Tensor.empty(like: operand)
    guard saved.backend.fusedActivationBackward(op, saved: operand, g.contiguous(), into: out) else { return nil }
    out.markWritten()
    return out
  }

  /// `where(mask, 0, g)` recorded as PyTorch's `threshold_backward`: a node that also takes
  /// `source` (the tensor the mask was read from) with a zero gradient. So the gradient of a
  /// piecewise-linear op requires grad whenever its input does (`createGraph: true`), and
  /// differentiating it again gives zeros, as in PyTorch, instead of "does not require grad".
  static func thresholdBackward(_ g: Tensor, zeroWhere mask: Tensor, source: Tensor) -> Tensor {
    guard Autograd.isGradEnabled, source.requiresGrad else { return Tensor.where(mask, 0.0, g) }
    let masked = withNoGrad { Tensor.where(mask, 0.0, g) }
    return Autograd.record(masked, from: [g, source], name: "ThresholdBackwardBackward0") { gg in
      [Tensor.where(mask, 0.0, gg), Tensor.zeros(like: source)]
    }
  }

  static func binaryName(_ op: BinaryOp, exponentIsScalar: Bool) -> String {
    op == .pow ? (exponentIsScalar ? "PowBackward0" : "PowBackward1") : binaryNames[op]!
  }

  /// `AddBackward0`, `FloorDivideBackward0`, ... for every op, built once.
  private static let binaryNames: [BinaryOp: String] = Dictionary(
    uniqueKeysWithValues: BinaryOp.allCases.map { op in
      (op, op.rawValue.prefix(1).uppercased() + op.rawValue.dropFirst() + "Backward0")
    })

  /// `inputs` is the recorded op's `[lhs, rhs]` (passed on, not rebuilt).
  static func binary(_ op: BinaryOp, inputs: [Tensor], output: Tensor) -> Function {
    let (lhs, rhs) = (inputs[0], inputs[1])
    // The formulas that read nothing get closures that capture nothing (no context
    // allocation per op), and their names as literals: calling `binaryName` measured 3% of
    // a recorded add.
    switch op {
    case .add: return Function(name: "AddBackward0", inputs: inputs, savesValues: false) { g in [g, g] }
    case .sub: return Function(name: "SubBackward0", inputs: inputs, savesValues: false) { g in [g, -g] }
    case .floorDivide:
      return Function(name: "FloorDivideBackward0", inputs: inputs, savesValues: false) { g in
        [Tensor.zeros(like: g), Tensor.zeros(like: g)]
      }
    default: break
    }
    let name = binaryName(op, exponentIsScalar: rhs.dim == 0 && !rhs.requiresGrad)
    let a = SavedReader(SavedTensor(lhs))
    let b = SavedReader(SavedTensor(rhs))
    let savedOutput = op == .pow || op == .hypot || op == .copysign ? SavedTensor(output: output) : nil
    let y = SavedReader(savedOutput)
    return Function(name: name, inputs: inputs, savesValues: true, savedOutput: savedOutput) { g in
      switch op {
      case .mul: return [g * (try b.unpack()), g * (try a.unpack())]
      case .div:
        let (va, vb) = (try a.unpack(), try b.unpack())
        return [g / vb, -g * va / (vb * vb)]
      case .pow:
        let (va, vb, vy) = (try a.unpack(), try b.unpack(), try y.unpack())
        let base = Tensor.where(vb .== 0, 0.0, g * vb * va.pow(vb - 1))
        let exponent = Tensor.where((va .== 0).logicalAnd(vb .>= 0), 0.0, g * vy * va.log())
        return [base, exponent]
      case .remainder:
        return [g, -g * (try a.unpack()).floorDivide(try b.unpack())]
      case .fmod:
        return [g, -g * (try a.unpack()).div(try b.unpack(), roundingMode: .trunc)]
      case .atan2:
        let (va, vb) = (try a.unpack(), try b.unpack())
        let squares = va * va + vb * vb
        return [g * vb / squares, g * -va / squares]
      case .hypot:
        let r = try y.unpack()
        return [g * (try a.unpack()) / r, g * (try b.unpack()) / r]
      case .copysign:
        // PyTorch's copysign_tensor_self_backward: result / self, 0 where self is 0.
        let va = try a.unpack()
        return [g * Tensor.where(va .== 0, 0.0, (try y.unpack()) / va), Tensor.zeros(like: g)]
      case .maximum, .minimum:
        let (va, vb) = (try a.unpack(), try b.unpack())
        let shared = Tensor.where(va .== vb, g / 2, g)
        let aLoses = op == .maximum ? va .< vb : va .> vb
        let bLoses = op == .maximum ? va .> vb : va .< vb
        return [Tensor.where(aLoses, 0.0, shared), Tensor.where(bLoses, 0.0, shared)]
      default:
        return [nil, nil]
      }
    }
  }

  static func select(_ condition: Tensor, _ lhs: Tensor, _ rhs: Tensor) -> Function {
    Function(name: "WhereBackward0", inputs: [lhs, rhs], savesValues: false) { g in
      [Tensor.where(condition, g, 0.0), Tensor.where(condition, 0.0, g)]
    }
  }

  /// PyTorch's clamp gradient: the full gradient where the input is inside the bounds
  /// (boundaries included); tensor bounds get it where they won.
  static func clamp(_ inputs: [Tensor], lower: Scalar?, upper: Scalar?, hasLowerTensor: Bool, hasUpperTensor: Bool)
    -> Function
  {
    let x = SavedTensor(inputs[0])
    let lowerTensor = hasLowerTensor ? SavedTensor(inputs[1]) : nil
    let upperTensor = hasUpperTensor ? SavedTensor(inputs[hasLowerTensor ? 2 : 1]) : nil
    let name =
      hasLowerTensor || hasUpperTensor
      ? "ClampBackward0"
      : (lower != nil && upper != nil ? "ClampBackward1" : (lower != nil ? "ClampMinBackward0" : "ClampMaxBackward0"))
    return Function(name: name, inputs: inputs, savesValues: true) { g in
      let v = try x.unpack()
      var inside = Tensor.ones(like: v, dtype: .bool)
      var grads: [Tensor?] = []
      let lo: Tensor? = try lowerTensor?.unpack() ?? lower.map { Tensor.full([], $0, dtype: v.dtype, device: v.device) }
      let hi: Tensor? = try upperTensor?.unpack() ?? upper.map { Tensor.full([], $0, dtype: v.dtype, device: v.device) }
      if let lo { inside = inside.logicalAnd(v .>= lo) }
      if let hi { inside = inside.logicalAnd(v .<= hi) }
      grads.append(Tensor.where(inside, g, 0.0))
      // Where min > max the result is max (PyTorch's clamp_backward_min_max): the gradient
      // goes to max, not to min.
      var toLower = v .< (lo ?? v)
      var toUpper = v .> (hi ?? v)
      if let lo, let hi {
        toLower = toLower.logicalAnd(lo .< hi)
        toUpper = toUpper.logicalOr(hi .< lo)
      }
      if lowerTensor != nil { grads.append(Tensor.where(toLower, g, 0.0)) }
      if upperTensor != nil { grads.append(Tensor.where(toUpper, g, 0.0)) }
      return grads
    }
  }
}
