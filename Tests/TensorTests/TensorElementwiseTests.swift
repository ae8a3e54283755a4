import TestSupport
import Testing

@testable import Tensor

private let fixtures = Fixtures()

private let unaryOps: [String: @Sendable (Tensor) -> Tensor] = [
  "abs": { $0.abs() }, "neg": { $0.neg() }, "sign": { $0.sign() }, "floor": { $0.floor() },
  "ceil": { $0.ceil() }, "round": { $0.round() }, "trunc": { $0.trunc() }, "exp": { $0.exp() },
  "expm1": { $0.expm1() }, "log": { $0.log() }, "log1p": { $0.log1p() }, "log2": { $0.log2() },
  "sqrt": { $0.sqrt() }, "rsqrt": { $0.rsqrt() }, "sin": { $0.sin() }, "cos": { $0.cos() },
  "tan": { $0.tan() }, "tanh": { $0.tanh() }, "sigmoid": { $0.sigmoid() }, "relu": { $0.relu() },
  "gelu": { $0.gelu() }, "silu": { $0.silu() }, "erf": { $0.erf() }, "reciprocal": { $0.reciprocal() },
]
private let positiveOnly: Set<String> = ["log", "log1p", "log2", "sqrt", "rsqrt"]

@Suite struct TensorElementwiseTests {
  @Test(arguments: unaryOps.keys.sorted())
  func unaryMatchesPyTorch(name: String) {
    let f = unaryOps[name]!
    let input = fixtures.tensor(positiveOnly.contains(name) ? "in_pos34" : "in_sgn34")
    expectClose(f(input), fixtures.tensor("unary_\(name)"), rtol: 2e-6, atol: 1e-6)
    expectClose(f(input.t()), fixtures.tensor("unary_\(name)_t"), rtol: 2e-6, atol: 1e-6)
    let f64 = f(input.double())
    #expect(f64.dtype == .float64)
    expectClose(f64, fixtures.tensor("unary_\(name)_f64"), rtol: 1e-12, atol: 1e-12)
  }

  @Test func unaryOnIntegersPromotesLikePyTorch() {
    let i = fixtures.tensor("in_i34")
    #expect(i.exp().dtype == .float32)
    expectClose(i.exp(), fixtures.tensor("unary_exp_int"), rtol: 1e-6)
    #expect(i.abs().dtype == .int64)
    expectClose(i.abs(), fixtures.tensor("unary_abs_int"), rtol: 0, atol: 0)
  }

  @Test func freeFunctionsMatchMethods() {
    let x = Tensor([0.5, -1.0])
    #expect(exp(x) == x.exp())
    #expect(relu(x) == x.relu())
    #expect(isnan(Tensor([Double.nan, 1])).toArray(Bool.self) == [true, false])
    #expect(isfinite(Tensor([Double.infinity, 1])).toArray(Bool.self) == [false, true])
  }

  @Test(arguments: ["add", "sub", "mul", "div", "pow", "remainder", "maximum", "minimum", "floor_divide"])
  func broadcastingBinaryMatchesPyTorch(name: String) {
    var a = fixtures.tensor("in_a314")
    let b = fixtures.tensor("in_b24")
    if name == "pow" { a = a.abs() + 0.5 }
    let result: Tensor =
      switch name {
      case "add": a + b
      case "sub": a - b
      case "mul": a * b
      case "div": a / b
      case "pow": a.pow(b)
      case "remainder": a % b
      case "maximum": a.maximum(b)
      case "minimum": a.minimum(b)
      default: a.floorDivide(b)
      }
    #expect(result.shape == [3, 2, 4])
    expectClose(result, fixtures.tensor("binary_\(name)"), rtol: 2e-6, atol: 1e-6)
  }

  @Test(arguments: ["eq", "ne", "lt", "le", "gt", "ge"])
  func comparisonsGiveBool(name: String) {
    let a = fixtures.tensor("in_a314")
    let b = fixtures.tensor("in_b24")
    let result: Tensor =
      switch name {
      case "eq": a .== b
      case "ne": a .!= b
      case "lt": a .< b
      case "le": a .<= b
      case "gt": a .> b
      default: a .>= b
      }
    #expect(result.dtype == .bool)
    #expect(result.toArray(Bool.self) == fixtures.tensor("binary_\(name)").toArray(Bool.self))
  }

  @Test(arguments: ["add", "sub", "mul", "remainder", "floor_divide", "maximum", "minimum", "pow", "div"])
  func integerArithmeticMatchesPyTorch(name: String) {
    let i = fixtures.tensor("in_i34")
    let j = fixtures.tensor("in_j4")
    let result: Tensor =
      switch name {
      case "add": i + j
      case "sub": i - j
      case "mul": i * j
      case "remainder": i % j
      case "floor_divide": i.floorDivide(j)
      case "maximum": i.maximum(j)
      case "minimum": i.minimum(j)
      case "pow": i.pow(j.abs())
      default: i / j
      }
    #expect(result.dtype == (name == "div" ? .float32 : .int64))
    expectClose(result, fixtures.tensor("binary_int_\(name)"), rtol: name == "div" ? 1e-6 : 0, atol: 0)
  }

  @Test func alphaScalarsWhereAndClamp() {
    let a = fixtures.tensor("in_a314")
    let b = fixtures.tensor("in_b24")
    expectClose(a.add(b, alpha: 2.5), fixtures.tensor("binary_add_alpha"))
    expectClose(2.0 - a, fixtures.tensor("binary_scalar_rsub"))
    expectClose(3 / b, fixtures.tensor("binary_scalar_rdiv"))
    expectClose(Tensor.where(a .> 0, a, b), fixtures.tensor("binary_where"))
    expectClose(fixtures.tensor("in_sgn34").clamp(min: -1.0, max: 0.5), fixtures.tensor("binary_clamp"))
    #expect(Tensor([1, 5]).clamp(min: 2).dtype == .int64)
    #expect(Tensor([Double.nan]).clamp(min: 0).item().isNaN)
  }

  @Test func outArgumentsWriteIntoResult() {
    let x = Tensor.ones(5, 3)
    let y = Tensor.full([5, 3], 2.0)
    let result = Tensor.empty(0)
    x.add(y, out: result)
    #expect(result.shape == [5, 3])
    #expect(result.toArray(Float.self) == [Float](repeating: 3, count: 15))
    let preallocated = Tensor.empty(5, 3, dtype: .float64)
    x.mul(y, out: preallocated)
    #expect(preallocated.toArray(Double.self) == [Double](repeating: 2, count: 15))
    let e = Tensor.empty(5, 3)
    x.exp(out: e)
    expectClose(e, Tensor.full([5, 3], 2.718281828))
  }

  @Test func logicalAndBitwiseOps() {
    let a = Tensor([true, true, false])
    let b = Tensor([true, false, false])
    #expect(logicalAnd(a, b).toArray(Bool.self) == [true, false, false])
    #expect(logicalOr(a, b).toArray(Bool.self) == [true, true, false])
    #expect(logicalNot(a).toArray(Bool.self) == [false, false, true])
    #expect((~a).toArray(Bool.self) == [false, false, true])
    #expect((Tensor([12]) & 10).item() == 8)
    #expect((Tensor([12]) | 3).item() == 15)
    #expect((Tensor([12]) ^ 4).item() == 8)
    #expect((~Tensor([0])).item() == -1)
    #expect((a + b).toArray(Bool.self) == [true, true, false])
  }

  @Test func float16AndBFloat16ComputeInFloatAndRound() {
    let h = Tensor([0.1, 0.2], dtype: .float16)
    #expect((h + h).dtype == .float16)
    #expect((h + h).toArray(Float16.self) == [Float16(0.2), Float16(0.4)])
    let bf = Tensor([1.0, 3.0], dtype: .bfloat16)
    #expect((bf / 3).toArray(Float.self) == [BFloat16(Float(1) / 3).floatValue, 1])
    #expect((h + bf).dtype == .float32)
  }

  @Test(arguments: DType.allCases)
  func coreOpsWorkForEveryDType(dtype: DType) {
    let a = Tensor([0, 1, 2, 3], dtype: dtype)
    let b = Tensor([1, 1, 0, 1], dtype: dtype)
    if dtype == .bool {
      #expect((a + b).toArray(Bool.self) == [true, true, true, true])
      #expect((a * b).toArray(Bool.self) == [false, true, false, true])
    } else {
      #expect((a + b).toArray(Double.self) == [1, 2, 2, 4])
      #expect((a * b).toArray(Double.self) == [0, 1, 0, 3])
      #expect((a - b).toArray(Double.self) == [-1, 0, 2, 2].map { dtype == .uint8 && $0 < 0 ? 255 : $0 })
      #expect((a + b).dtype == dtype)
      #expect(a.sum().item() == 6)
      #expect(a.amax().item() == 3)
      #expect(a.cumsum(dim: 0).toArray(Double.self) == [0, 1, 3, 6])
      #expect(a.abs().dtype == dtype)
    }
    #expect(
      (a .> b).toArray(Bool.self) == (dtype == .bool ? [false, false, true, false] : [false, false, true, true]))
    #expect(
      Tensor.where(b.bool(), a, Tensor.zeros(like: a)).toArray(Double.self)
        == (dtype == .bool ? [0, 1, 0, 1] : [0, 1, 0, 3]))
    #expect(Tensor.cat([a, b]).dtype == dtype)
    #expect(a[Tensor([3, 0])].toArray(Double.self) == (dtype == .bool ? [1, 0] : [3, 0]))
    #expect(a.t().contiguous().equal(a))
    #expect(a.max(dim: 0).indices.item() == (dtype == .bool ? 1 : 3))
  }

  @Test func zeroDimOperandsBroadcast() {
    let s = Tensor(2.0)
    #expect((s + Tensor([1.0, 2.0])).toArray(Float.self) == [3, 4])
    #expect((s * s).dim == 0)
    #expect((Tensor([1, 2]) * Tensor(2.5)).dtype == .float32)
    #expect((Tensor([1, 2], dtype: .int32) + Tensor(5)).dtype == .int32)
  }

  @Test func emptyOperands() {
    let e = Tensor.zeros(0, 3)
    #expect((e + Tensor.ones(3)).shape == [0, 3])
    #expect(e.exp().shape == [0, 3])
    #expect((e .> 0).shape == [0, 3])
  }

  @Test func equalComparesWholeTensors() {
    #expect(Tensor([1, 2]) == Tensor([1, 2]))
    #expect(Tensor([1, 2]) != Tensor([1, 3]))
    #expect(!Tensor([1, 2]).equal(Tensor([[1, 2]])))
  }

  @Test func mismatchedShapesStop() async {
    await #expect(processExitsWith: .failure) { _ = Tensor.ones(3, 4) + Tensor.ones(2, 4) }
  }

  @Test func boolSubtractionStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor([true]) - Tensor([false]) }
  }

  @Test func boolNegationStops() async {
    await #expect(processExitsWith: .failure) { _ = -Tensor([true]) }
  }

  @Test func integerRemainderByZeroStops() async {
    await #expect(processExitsWith: .failure) { _ = Tensor([1]) % 0 }
  }

  @Test func outOfWrongShapeStops() async {
    await #expect(processExitsWith: .failure) { Tensor.ones(2).add(Tensor.ones(2), out: Tensor.ones(3)) }
  }

  @Test func outOfNarrowerTypeStops() async {
    await #expect(processExitsWith: .failure) {
      Tensor.ones(2).add(Tensor.ones(2), out: Tensor.zeros(2, dtype: .int64))
    }
  }
}
