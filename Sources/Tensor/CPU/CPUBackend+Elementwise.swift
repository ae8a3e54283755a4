import CKernels
import Foundation

extension CPUBackend {
  func unary(_ op: UnaryOp, _ x: Tensor, into out: Tensor) {
    // float32 exp, sigmoid, tanh, GELU and ReLU run vector kernels over unit-stride rows.
    if let kernel = Self.vectorKernel(op), x.dtype == .float32 && out.dtype == .float32 {
      let xp = x.storage.data.assumingMemoryBound(to: Float.self)
      let outp = out.storage.data.assumingMemoryBound(to: Float.self)
      StridedLoop(shape: out.shape, layouts: [out.layout, x.layout]).forEachRow { offs, n, st in
        if st[0] == 1 && st[1] == 1 {
          kernel(Int64(n), xp + offs[1], outp + offs[0])
        } else {
          for k in 0..<n {
            let v = xp[offs[1] + k * st[1]]
            var result: Float = 0
            withUnsafePointer(to: v) { kernel(1, $0, &result) }
            outp[offs[0] + k * st[0]] = result
          }
        }
      }
      return
    }
    x.dtype.visit(UnaryKernel(op: op, x: x, out: out))
  }

  /// The vector float32 kernel of a unary op, if it has one.
  private static func vectorKernel(_ op: UnaryOp) -> (
    @convention(c) (Int64, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void
  )? {
    switch op {
    case .exp: ck_exp_f32
    case .gelu: ck_gelu_f32
    case .sigmoid: ck_sigmoid_f32
    case .tanh: ck_tanh_f32
    case .relu: ck_relu_f32
    default: nil
    }
  }

  func fusedActivationBackward(_ op: UnaryOp, saved: Tensor, _ grad: Tensor, into out: Tensor) -> Bool {
    let kernel:
      @convention(c) (Int64, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void
    switch op {
    case .gelu: kernel = ck_gelu_backward_f32
    case .relu: kernel = ck_relu_backward_f32
    default: return false
    }
    guard [saved, grad, out].allSatisfy({ $0.dtype == .float32 && $0.isContiguous && $0.shape == saved.shape }) else {
      return false
    }
    let n = saved.numel
    let sp = saved.storage.data.assumingMemoryBound(to: Float.self) + saved.storageOffset
    let gp = grad.storage.data.assumingMemoryBound(to: Float.self) + grad.storageOffset
    let outp = out.storage.data.assumingMemoryBound(to: Float.self) + out.storageOffset
    parallelRanges(n, threads: StridedLoop.threads(forElements: n)) { _, r in
      kernel(Int64(r.count), sp + r.lowerBound, gp + r.lowerBound, outp + r.lowerBound)
    }
    return true
  }

  private struct UnaryKernel: DTypeVisitor {
    let op: UnaryOp
    let x: Tensor
    let out: Tensor
    func float<T: FloatElement>(_: T.Type) { CPUBackend.unaryFloat(op, x, out, T.self) }
    func integer<T: IntElement>(_: T.Type) { CPUBackend.unaryInt(op, x, out, T.self) }
    func bool() { CPUBackend.unaryBool(op, x, out) }
  }

  fileprivate static func unaryFloat<T: FloatElement>(_ op: UnaryOp, _ x: Tensor, _ out: Tensor, _: T.Type) {
    typealias M = T.Math
    switch op {
    case .abs: map(x, out) { (v: T) in T(math: Swift.abs(v.math)) }
    case .neg: map(x, out) { (v: T) in T(math: -v.math) }
    case .sign:
      map(x, out) { (v: T) in
        let m = v.math
        return T(math: m > 0 ? 1 : (m < 0 ? -1 : 0))  // NaN gives 0, as in PyTorch
      }
    case .floor: map(x, out) { (v: T) in T(math: v.math.rounded(.down)) }
    case .ceil: map(x, out) { (v: T) in T(math: v.math.rounded(.up)) }
    case .round: map(x, out) { (v: T) in T(math: M.rint(v.math)) }
    case .trunc: map(x, out) { (v: T) in T(math: v.math.rounded(.towardZero)) }
    case .exp: map(x, out) { (v: T) in T(math: M.exp(v.math)) }
    case .expm1: map(x, out) { (v: T) in T(math: M.expm1(v.math)) }
    case .log: map(x, out) { (v: T) in T(math: M.log(v.math)) }
    case .log1p: map(x, out) { (v: T) in T(math: M.log1p(v.math)) }
    case .log2: map(x, out) { (v: T) in T(math: M.log2(v.math)) }
    case .sqrt: map(x, out) { (v: T) in T(math: v.math.squareRoot()) }
    case .rsqrt: map(x, out) { (v: T) in T(math: 1 / v.math.squareRoot()) }
    case .sin: map(x, out) { (v: T) in T(math: M.sin(v.math)) }
    case .cos: map(x, out) { (v: T) in T(math: M.cos(v.math)) }
    case .tan: map(x, out) { (v: T) in T(math: M.tan(v.math)) }
    case .tanh: map(x, out) { (v: T) in T(math: M.tanh(v.math)) }
    case .sigmoid: map(x, out) { (v: T) in T(math: 1 / (1 + M.exp(-v.math))) }
    case .relu: map(x, out) { (v: T) in T(math: v.math > 0 || v.math.isNaN ? v.math : 0) }
    case .gelu:
      map(x, out) { (v: T) in
        let m = v.math
        return T(math: m * 0.5 * (1 + M.erf(m * M(0.7071067811865476))))
      }
    case .silu: map(x, out) { (v: T) in T(math: v.math / (1 + M.exp(-v.math))) }
    case .erf: map(x, out) { (v: T) in T(math: M.erf(v.math)) }
    case .reciprocal: map(x, out) { (v: T) in T(math: 1 / v.math) }
    case .logicalNot: map(x, out) { (v: T) in v.math == 0 }
    case .isnan: map(x, out) { (v: T) in v.math.isNaN }
    case .isfinite: map(x, out) { (v: T) in v.math.isFinite }
    case .bitwiseNot:
      usageFailure("bitwise_not: not supported for floating-point dtype \(T.dtype); use an integer or bool tensor")
    case .exp2: map(x, out) { (v: T) in T(math: M.exp2(v.math)) }
    case .log10: map(x, out) { (v: T) in T(math: M.log10(v.math)) }
    case .asin: map(x, out) { (v: T) in T(math: M.asin(v.math)) }
    case .acos: map(x, out) { (v: T) in T(math: M.acos(v.math)) }
    case .atan: map(x, out) { (v: T) in T(math: M.atan(v.math)) }
    case .sinh: map(x, out) { (v: T) in T(math: M.sinh(v.math)) }
    case .cosh: map(x, out) { (v: T) in T(math: M.cosh(v.math)) }
    case .asinh: map(x, out) { (v: T) in T(math: M.asinh(v.math)) }
    case .acosh: map(x, out) { (v: T) in T(math: M.acosh(v.math)) }
    case .atanh: map(x, out) { (v: T) in T(math: M.atanh(v.math)) }
    case .erfc: map(x, out) { (v: T) in T(math: M.erfc(v.math)) }
    case .erfinv: map(x, out) { (v: T) in T(math: M(inverseErf(v.math.doubleValue))) }
    case .lgamma: map(x, out) { (v: T) in T(math: M.lgamma(v.math)) }
    }
  }

  fileprivate static func unaryInt<T: IntElement>(_ op: UnaryOp, _ x: Tensor, _ out: Tensor, _: T.Type) {
    switch op {
    case .abs: map(x, out) { (v: T) in v < 0 ? 0 &- v : v }
    case .neg: map(x, out) { (v: T) in 0 &- v }
    case .sign: map(x, out) { (v: T) -> T in v > 0 ? 1 : (v < 0 ? 0 &- 1 : 0) }
    case .floor, .ceil, .round, .trunc: map(x, out) { (v: T) in v }
    case .relu: map(x, out) { (v: T) in v > 0 ? v : 0 }
    case .logicalNot: map(x, out) { (v: T) in v == 0 }
    case .isnan: map(x, out) { (_: T) in false }
    case .isfinite: map(x, out) { (_: T) in true }
    case .bitwiseNot: map(x, out) { (v: T) in ~v }
    default: usageFailure("\(op.rawValue): integer inputs must be converted to float first")
    }
  }

  fileprivate static func unaryBool(_ op: UnaryOp, _ x: Tensor, _ out: Tensor) {
    switch op {
    case .abs, .floor, .ceil, .round, .trunc, .sign, .relu: map(x, out) { (v: Bool) in v }
    case .logicalNot, .bitwiseNot: map(x, out) { (v: Bool) in !v }
    case .isnan: map(x, out) { (_: Bool) in false }
    case .isfinite: map(x, out) { (_: Bool) in true }
    default: usageFailure("\(op.rawValue): not supported for bool tensors")
    }
  }

  func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor) {
    if binaryFast(op, a, b, out) { return }
    a.dtype.visit(BinaryKernel(op: op, a: a, b: b, out: out))
  }

  /// float32 add/sub/mul/div rows whose operands are contiguous or broadcast scalars go to
  /// the SIMD kernels; returns false for anything else.
  private func binaryFast(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor) -> Bool {
    guard a.dtype == .float32, out.dtype == .float32 else { return false }
    let kernel:
      (Int64, UnsafePointer<Float>?, Int64, UnsafePointer<Float>?, Int64, UnsafeMutablePointer<Float>?) -> Void
    switch op {
    case .add: kernel = ck_add_f32
    case .sub: kernel = ck_sub_f32
    case .mul: kernel = ck_mul_f32
    case .div: kernel = ck_div_f32
    default: return false
    }
    let ap = a.storage.data.assumingMemoryBound(to: Float.self)
    let bp = b.storage.data.assumingMemoryBound(to: Float.self)
    let outp = out.storage.data.assumingMemoryBound(to: Float.self)
    if a.isContiguous && b.isContiguous && out.isContiguous && a.shape == out.shape && b.shape == out.shape {
      // All dense: one flat run, split over threads when large.
      let n = out.numel
      let (ao, bo, oo) = (a.storageOffset, b.storageOffset, out.storageOffset)
      parallelRanges(n, threads: StridedLoop.threads(forElements: n)) { _, r in
        kernel(Int64(r.count), ap + ao + r.lowerBound, 1, bp + bo + r.lowerBound, 1, outp + oo + r.lowerBound)
      }
      return true
    }
    StridedLoop(shape: out.shape, layouts: [out.layout, a.layout, b.layout]).forEachRow { offs, n, st in
      if st[0] == 1 && (st[1] == 0 || st[1] == 1) && (st[2] == 0 || st[2] == 1) {
        kernel(Int64(n), ap + offs[1], Int64(st[1]), bp + offs[2], Int64(st[2]), outp + offs[0])
      } else {
        for k in 0..<n {
          let (x, y) = (ap[offs[1] + k * st[1]], bp[offs[2] + k * st[2]])
          outp[offs[0] + k * st[0]] = op == .add ? x + y : (op == .sub ? x - y : (op == .mul ? x * y : x / y))
        }
      }
    }
    return true
  }

  func fusedSoftmax(_ x: Tensor, log: Bool, into out: Tensor) -> Bool {
    guard x.dtype == .float32, out.dtype == .float32, x.isContiguous, out.isContiguous, x.dim >= 1 else { return false }
    let cols = x.shape[x.dim - 1]
    guard cols > 0 else { return false }
    let rows = x.numel / cols
    let xp = x.storage.data.assumingMemoryBound(to: Float.self) + x.storageOffset
    let op = out.storage.data.assumingMemoryBound(to: Float.self) + out.storageOffset
    let kernel = log ? ck_log_softmax_f32 : ck_softmax_f32
    parallelRanges(rows, threads: StridedLoop.threads(forElements: x.numel)) { _, r in
      kernel(Int64(r.count), Int64(cols), xp + r.lowerBound * cols, op + r.lowerBound * cols)
    }
    return true
  }

  func fusedAddScaled(_ y: Tensor, _ x: Tensor, alpha: Double) -> Bool {
    guard y.dtype == .float32, x.dtype == .float32, y.isContiguous, x.isContiguous, x.shape == y.shape else {
      return false
    }
    let n = y.numel
    let yp = y.storage.data.assumingMemoryBound(to: Float.self) + y.storageOffset
    let xp = x.storage.data.assumingMemoryBound(to: Float.self) + x.storageOffset
    parallelRanges(n, threads: StridedLoop.threads(forElements: n)) { _, r in
      ck_axpy_f32(Int64(r.count), Float(alpha), xp + r.lowerBound, yp + r.lowerBound)
    }
    return true
  }

  private struct BinaryKernel: DTypeVisitor {
    let op: BinaryOp
    let a: Tensor
    let b: Tensor
    let out: Tensor
    func float<T: FloatElement>(_: T.Type) { CPUBackend.binaryFloat(op, a, b, out, T.self) }
    func integer<T: IntElement>(_: T.Type) { CPUBackend.binaryInt(op, a, b, out, T.self) }
    func bool() { CPUBackend.binaryBool(op, a, b, out) }
  }

  fileprivate static func binaryFloat<T: FloatElement>(
    _ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type
  ) {
    typealias M = T.Math
    switch op {
    case .add: zipMap(a, b, out) { (x: T, y: T) in T(math: x.math + y.math) }
    case .sub: zipMap(a, b, out) { (x: T, y: T) in T(math: x.math - y.math) }
    case .mul: zipMap(a, b, out) { (x: T, y: T) in T(math: x.math * y.math) }
    case .div: zipMap(a, b, out) { (x: T, y: T) in T(math: x.math / y.math) }
    case .remainder:
      zipMap(a, b, out) { (x: T, y: T) in
        var r = M.fmod(x.math, y.math)
        if r != 0 && (r < 0) != (y.math < 0) { r += y.math }
        return T(math: r)
      }
    case .floorDivide:
      zipMap(a, b, out) { (x: T, y: T) in T(math: floorDivide(x.math, y.math)) }
    case .pow: zipMap(a, b, out) { (x: T, y: T) in T(math: M.pow(x.math, y.math)) }
    case .maximum:
      zipMap(a, b, out) { (x: T, y: T) in
        x.math.isNaN || y.math.isNaN ? T(math: .nan) : (x.math >= y.math ? x : y)
      }
    case .minimum:
      zipMap(a, b, out) { (x: T, y: T) in
        x.math.isNaN || y.math.isNaN ? T(math: .nan) : (x.math <= y.math ? x : y)
      }
    case .eq: zipMap(a, b, out) { (x: T, y: T) in x.math == y.math }
    case .ne: zipMap(a, b, out) { (x: T, y: T) in x.math != y.math }
    case .lt: zipMap(a, b, out) { (x: T, y: T) in x.math < y.math }
    case .le: zipMap(a, b, out) { (x: T, y: T) in x.math <= y.math }
    case .gt: zipMap(a, b, out) { (x: T, y: T) in x.math > y.math }
    case .ge: zipMap(a, b, out) { (x: T, y: T) in x.math >= y.math }
    case .logicalAnd: zipMap(a, b, out) { (x: T, y: T) in x.math != 0 && y.math != 0 }
    case .logicalOr: zipMap(a, b, out) { (x: T, y: T) in x.math != 0 || y.math != 0 }
    case .logicalXor: zipMap(a, b, out) { (x: T, y: T) in (x.math != 0) != (y.math != 0) }
    case .atan2: zipMap(a, b, out) { (x: T, y: T) in T(math: M.atan2(x.math, y.math)) }
    case .fmod: zipMap(a, b, out) { (x: T, y: T) in T(math: M.fmod(x.math, y.math)) }
    case .hypot: zipMap(a, b, out) { (x: T, y: T) in T(math: M.hypot(x.math, y.math)) }
    case .copysign: zipMap(a, b, out) { (x: T, y: T) in T(math: M(signOf: y.math, magnitudeOf: x.math)) }
    case .bitwiseAnd, .bitwiseOr, .bitwiseXor, .bitwiseLeftShift, .bitwiseRightShift:
      usageFailure("\(op.rawValue): not supported for floating-point dtype \(T.dtype)")
    }
  }

  fileprivate static func binaryInt<T: IntElement>(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type) {
    switch op {
    case .add: zipMap(a, b, out) { (x: T, y: T) in x &+ y }
    case .sub: zipMap(a, b, out) { (x: T, y: T) in x &- y }
    case .mul: zipMap(a, b, out) { (x: T, y: T) in x &* y }
    case .div: usageFailure("div: integer inputs must be converted to float first")
    case .remainder:
      zipMap(a, b, out) { (x: T, y: T) in
        usageCheck(y != 0, "ZeroDivisionError: remainder of an integer tensor by zero")
        var r = x.remainderReportingOverflow(dividingBy: y).partialValue
        if r != 0 && (r < 0) != (y < 0) { r = r &+ y }
        return r
      }
    case .floorDivide:
      zipMap(a, b, out) { (x: T, y: T) in
        usageCheck(y != 0, "ZeroDivisionError: floor division of an integer tensor by zero")
        let (q, r) = (
          x.dividedReportingOverflow(by: y).partialValue, x.remainderReportingOverflow(dividingBy: y).partialValue
        )
        return r != 0 && (r < 0) != (y < 0) ? q &- 1 : q
      }
    case .pow: zipMap(a, b, out) { (x: T, y: T) in integerPower(x, y) }
    case .maximum: zipMap(a, b, out) { (x: T, y: T) in Swift.max(x, y) }
    case .minimum: zipMap(a, b, out) { (x: T, y: T) in Swift.min(x, y) }
    case .eq: zipMap(a, b, out) { (x: T, y: T) in x == y }
    case .ne: zipMap(a, b, out) { (x: T, y: T) in x != y }
    case .lt: zipMap(a, b, out) { (x: T, y: T) in x < y }
    case .le: zipMap(a, b, out) { (x: T, y: T) in x <= y }
    case .gt: zipMap(a, b, out) { (x: T, y: T) in x > y }
    case .ge: zipMap(a, b, out) { (x: T, y: T) in x >= y }
    case .logicalAnd: zipMap(a, b, out) { (x: T, y: T) in x != 0 && y != 0 }
    case .logicalOr: zipMap(a, b, out) { (x: T, y: T) in x != 0 || y != 0 }
    case .logicalXor: zipMap(a, b, out) { (x: T, y: T) in (x != 0) != (y != 0) }
    case .bitwiseAnd: zipMap(a, b, out) { (x: T, y: T) in x & y }
    case .bitwiseOr: zipMap(a, b, out) { (x: T, y: T) in x | y }
    case .bitwiseXor: zipMap(a, b, out) { (x: T, y: T) in x ^ y }
    case .fmod:
      zipMap(a, b, out) { (x: T, y: T) in
        usageCheck(y != 0, "ZeroDivisionError: fmod of an integer tensor by zero")
        return x.remainderReportingOverflow(dividingBy: y).partialValue
      }
    // Shifts by a negative count or by the width or more give 0 (or -1 for a negative value
    // shifted right), as in PyTorch.
    case .bitwiseLeftShift:
      zipMap(a, b, out) { (x: T, y: T) in y < 0 || Int(y) >= T.bitWidth ? 0 : x << y }
    case .bitwiseRightShift:
      zipMap(a, b, out) { (x: T, y: T) in y < 0 || Int(y) >= T.bitWidth ? (x < 0 ? 0 &- 1 : 0) : x >> y }
    case .atan2, .hypot, .copysign: usageFailure("\(op.rawValue): integer inputs must be converted to float first")
    }
  }

  fileprivate static func binaryBool(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor) {
    switch op {
    case .add, .maximum, .logicalOr, .bitwiseOr: zipMap(a, b, out) { (x: Bool, y: Bool) in x || y }
    case .mul, .minimum, .logicalAnd, .bitwiseAnd: zipMap(a, b, out) { (x: Bool, y: Bool) in x && y }
    case .eq: zipMap(a, b, out) { (x: Bool, y: Bool) in x == y }
    case .ne, .logicalXor, .bitwiseXor: zipMap(a, b, out) { (x: Bool, y: Bool) in x != y }
    case .lt: zipMap(a, b, out) { (x: Bool, y: Bool) in !x && y }
    case .le: zipMap(a, b, out) { (x: Bool, y: Bool) in !x || y }
    case .gt: zipMap(a, b, out) { (x: Bool, y: Bool) in x && !y }
    case .ge: zipMap(a, b, out) { (x: Bool, y: Bool) in x || !y }
    case .pow: zipMap(a, b, out) { (x: Bool, y: Bool) in x || !y }
    case .sub, .div, .remainder, .floorDivide, .atan2, .fmod, .hypot, .copysign, .bitwiseLeftShift, .bitwiseRightShift:
      usageFailure("\(op.rawValue): bool inputs must be converted to a numeric type first")
    }
  }

  func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor) {
    a.dtype.visit(Select(c: condition, a: a, b: b, out: out))
  }

  private struct Select: AnyDTypeVisitor {
    let c: Tensor
    let a: Tensor
    let b: Tensor
    let out: Tensor
    func any<T: KernelElement>(_: T.Type) { CPUBackend.selectTyped(c, a, b, out, T.self) }
  }

  fileprivate static func selectTyped<T: KernelElement>(_ c: Tensor, _ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type)
  {
    let cp = c.storage.data.assumingMemoryBound(to: Bool.self)
    let ap = a.storage.data.assumingMemoryBound(to: T.self)
    let bp = b.storage.data.assumingMemoryBound(to: T.self)
    let op = out.storage.data.assumingMemoryBound(to: T.self)
    StridedLoop(shape: out.shape, layouts: [out.layout, c.layout, a.layout, b.layout]).forEachRow { offs, n, st in
      let (o, cond, x, y) = (op + offs[0], cp + offs[1], ap + offs[2], bp + offs[3])
      let (so, sc, sa, sb) = (st[0], st[1], st[2], st[3])
      if MemoryLayout<T>.size == 4 && so == 1 && sc == 1 && (0...1).contains(sa) && (0...1).contains(sb) {
        // Branch-free blend of bit patterns (float32, int32): a data-dependent branch per element
        // mispredicts on masks like relu's.
        ck_select32(Int64(n), cond, x, Int64(sa), y, Int64(sb), o)
      } else if so == 1 && sc == 1 && sa == 1 && sb == 1 {
        for k in 0..<n { o[k] = cond[k] ? x[k] : y[k] }
      } else if so == 1 && sc == 1 && sa == 1 && sb == 0 {
        let other = y[0]  // where(c, x, scalar): relu's and masking's backward
        for k in 0..<n { o[k] = cond[k] ? x[k] : other }
      } else {
        for k in 0..<n { o[k * so] = cond[k * sc] ? x[k * sa] : y[k * sb] }
      }
    }
  }
}

/// Python's floor division for floating values (PyTorch's `div_floor`).
@inline(__always)
func floorDivide<M: MathFloat>(_ a: M, _ b: M) -> M {
  if b == 0 { return a / b }
  let mod = M.fmod(a, b)
  var div = (a - mod) / b
  if mod != 0 && (b < 0) != (mod < 0) { div -= 1 }
  if div == 0 { return (a / b).sign == .minus ? -0.0 : 0 }
  let floorDiv = div.rounded(.down)
  return div - floorDiv > 0.5 ? floorDiv + 1 : floorDiv
}

/// Integer power by squaring; negative exponents give 0 except for bases 1 and -1
/// (PyTorch's rule for integer tensors).
@inline(__always)
func integerPower<T: FixedWidthInteger>(_ base: T, _ exponent: T) -> T {
  if exponent < 0 {
    if base == 1 { return 1 }
    if T.isSigned && base == 0 &- 1 { return exponent & 1 == 0 ? 1 : base }
    return 0
  }
  var result: T = 1
  var b = base
  var e = exponent
  while e > 0 {
    if e & 1 == 1 { result = result &* b }
    b = b &* b
    e >>= 1
  }
  return result
}
