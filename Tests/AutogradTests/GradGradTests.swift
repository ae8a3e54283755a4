import Autograd
import Foundation
import TestSupport
import Testing

private let inputFixtures = Fixtures()
private let fixtures = Fixtures(named: "GradGradFixtures")

/// The cases PyTorch cannot differentiate twice, with PyTorch's reason.
private let excludedByPyTorch = fixtures.strings("excluded")

/// A case's inputs and upstream gradient in float64, requiring grad.
private func float64Inputs(_ name: String) -> (inputs: [Tensor], upstream: Tensor) {
  var inputs: [Tensor] = []
  while inputFixtures.has("\(name)_in\(inputs.count)") {
    inputs.append(inputFixtures.tensor("\(name)_in\(inputs.count)").double().requiresGrad_())
  }
  return (inputs, inputFixtures.tensor("\(name)_up").double().requiresGrad_())
}

/// The sweep that would have caught saved outputs unpacking cut from the graph: every case of
/// the gradient-formula table (`formulaCases`, one or more per differentiable op) is
/// differentiated twice in float64 and compared with PyTorch's second derivatives
/// (`Scripts/make_gradgrad_fixtures.py`) and with finite differences of its first derivatives
/// (`gradgradcheck`). A case added to the table without PyTorch's second derivatives fails here.
@Suite struct GradGradTests {
  @Test(arguments: formulaCases.keys.sorted())
  func secondDerivativesMatchPyTorch(name: String) throws {
    guard excludedByPyTorch[name] == nil else { return }
    if ProcessInfo.processInfo.environment["GG_TRACE"] != nil {
      FileHandle.standardError.write("CASE \(name)\n".data(using: .utf8)!)
    }
    try #require(
      fixtures.has("\(name)_ggw"), "no second-derivative fixture for \(name): run Scripts/make_gradgrad_fixtures.py")
    let (xs, w) = float64Inputs(name)
    let vs = xs.indices.map { fixtures.tensor("\(name)_v\($0)") }
    let out = formulaCases[name]!(xs)
    let firsts = try Autograd.grad(of: [(out * w).sum()], wrt: xs, createGraph: true, allowUnused: true)
    let terms = zip(firsts, vs).compactMap { g, v in g.flatMap { $0.requiresGrad ? ($0 * v).sum() : nil } }
    let seconds: [Tensor?] =
      terms.isEmpty
      ? [Tensor?](repeating: nil, count: xs.count + 1)
      : try Autograd.grad(of: [terms.dropFirst().reduce(terms[0], +)], wrt: xs + [w], allowUnused: true)
    for (i, x) in (xs + [w]).enumerated() {
      let label = i < xs.count ? "gg\(i)" : "ggw"
      let expected = fixtures.tensor("\(name)_\(label)")
      let actual = seconds[i] ?? Tensor.zeros(like: x)
      #expect(actual.shape == expected.shape, "\(name) \(label)")
      #expect(actual.allclose(expected, rtol: 1e-6, atol: 1e-8), "\(name) \(label): \(actual) vs PyTorch's \(expected)")
    }
  }

  /// Cases with an input at a kink of `abs` (an exact 0), where finite differences straddle
  /// it: checked on inputs moved off it.
  static let kinks: Set<String> = ["matrix_norm_neginf", "norm_1_d1"]

  @Test(arguments: formulaCases.keys.sorted())
  func secondDerivativesMatchFiniteDifferences(name: String) throws {
    var (xs, w) = float64Inputs(name)
    if Self.kinks.contains(name) { xs = xs.map { ($0.detach() + 1e-3).requiresGrad_() } }
    #expect(
      try Autograd.gradgradcheck(formulaCases[name]!, inputs: xs, gradOutput: w, eps: 1e-6, atol: 1e-5, rtol: 1e-3))
  }

  /// PyTorch's own exclusions are the only ones, and they are the ones expected.
  @Test func onlyPyTorchsExclusionsAreSkipped() {
    #expect(
      excludedByPyTorch == [
        "cdist": "the derivative for '_cdist_backward' is not implemented.",
        "cdist_p1": "the derivative for '_cdist_backward' is not implemented.",
      ])
  }
}

/// Every elementwise op the formulas know has a case in the table (so in the sweep above):
/// an op added without one fails here.
@Suite struct SweepCoverageTests {
  @Test func everyDifferentiableUnaryOpHasACase() {
    let notDifferentiable: Set<UnaryOp> = [.logicalNot, .isnan, .isfinite, .bitwiseNot]
    for op in UnaryOp.allCases where !notDifferentiable.contains(op) {
      let name = op == .lgamma ? "lgamma" : "unary_\(op.rawValue)"
      #expect(formulaCases[name] != nil, "no gradient-formula case \(name) for \(op)")
    }
  }

  @Test func everyDifferentiableBinaryOpHasACase() {
    // Comparisons, logical and bitwise ops have no derivative; PyTorch defines none for
    // floor_divide ("derivative for aten::floor_divide is not implemented").
    let notDifferentiable: Set<BinaryOp> = [
      .eq, .ne, .lt, .le, .gt, .ge, .logicalAnd, .logicalOr, .logicalXor, .bitwiseAnd, .bitwiseOr, .bitwiseXor,
      .bitwiseLeftShift, .bitwiseRightShift, .floorDivide,
    ]
    let unprefixed: Set<BinaryOp> = [.atan2, .fmod, .hypot, .copysign]
    for op in BinaryOp.allCases where !notDifferentiable.contains(op) {
      let name = unprefixed.contains(op) ? op.rawValue : "binary_\(op.rawValue)"
      #expect(formulaCases[name] != nil, "no gradient-formula case \(name) for \(op)")
    }
  }
}
