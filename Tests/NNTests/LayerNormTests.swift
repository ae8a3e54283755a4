import Foundation
import NN
import TestSupport
import Testing

private let fixtures = Fixtures()

/// The fused float32 layer normalization against PyTorch (`Scripts/make_layer_norm_fixtures.py`):
/// odd widths, two normalized dims, with and without weight and bias, one row, enough rows to
/// split over threads, a strided input and a large mean; node name, gradients of the other
/// dtypes' composed path, and differentiable gradients.
@Suite struct LayerNormTests {
  static let cases = fixtures.strings("layer_norm_cases")

  @Test(arguments: cases.keys.sorted()) func matchesPyTorch(_ name: String) throws {
    let s = try JSONSerialization.jsonObject(with: Data(Self.cases[name]!.utf8)) as! [String: Any]
    let normalized = s["normalized"] as! [Int]
    let loose = s["atol"] as! Double  // an ill-conditioned case's bound, relative to the values' size
    var x = fixtures.tensor("layer_norm_\(name)_x")
    if s["transposed"] as! Bool { x = x.transpose(0, 1) }
    x = x.requiresGrad_()
    let weight = (s["weight"] as! Bool) ? fixtures.tensor("layer_norm_\(name)_w").requiresGrad_() : nil
    let bias = (s["bias"] as! Bool) ? fixtures.tensor("layer_norm_\(name)_b").requiresGrad_() : nil
    let y = Functional.layerNorm(x, normalizedShape: normalized, weight: weight, bias: bias)
    #expect(y.gradFn?.name == "NativeLayerNormBackward0")
    expectClose(y, fixtures.tensor("layer_norm_\(name)_y"), rtol: 1e-5, atol: max(2e-5, loose))
    (y * fixtures.tensor("layer_norm_\(name)_up")).sum().backward()
    let gradientBound = max(1e-4, 25 * loose)
    expectClose(x.grad!, fixtures.tensor("layer_norm_\(name)_gx"), rtol: 1e-4, atol: max(5e-5, 25 * loose))
    if let weight {
      expectClose(weight.grad!, fixtures.tensor("layer_norm_\(name)_gw"), rtol: 1e-4, atol: gradientBound)
    }
    if let bias { expectClose(bias.grad!, fixtures.tensor("layer_norm_\(name)_gb"), rtol: 1e-4, atol: gradientBound) }
  }

  @Test func fusedAndComposedPathsAgreeInFloat64() {
    // float64 takes the composed path; the fused float32 result is its rounding.
    let x = Tensor.randn(6, 33, dtype: .float64)
    let (w, b) = (Tensor.randn(33, dtype: .float64) + 1, Tensor.randn(33, dtype: .float64))
    let wide = Functional.layerNorm(x, normalizedShape: [33], weight: w, bias: b)
    let single = Functional.layerNorm(x.float(), normalizedShape: [33], weight: w.float(), bias: b.float())
    #expect(wide.gradFn == nil && wide.dtype == .float64)
    expectClose(single.double(), wide, rtol: 1e-5, atol: 1e-5)
  }

  /// A 1-D input (0-d statistics), rows of width 1 (zero variance), an empty batch and an
  /// empty normalized dim: values and gradients against the float64 composed path.
  @Test(arguments: [[8], [3, 1], [0, 5], [4, 0]])
  func edgeShapesMatchTheComposedPath(shape: [Int]) throws {
    let width = shape.last!
    let x = Tensor.randn(shape, dtype: .float64).requiresGrad_()
    let w = (Tensor.randn(width, dtype: .float64) + 1).requiresGrad_()
    let b = Tensor.randn(width, dtype: .float64).requiresGrad_()
    let upstream = Tensor.randn(shape, dtype: .float64)
    let expected = Functional.layerNorm(x, normalizedShape: [width], weight: w, bias: b)
    (expected * upstream).sum().backward()
    let (xf, wf, bf) = (
      x.detach().float().requiresGrad_(), w.detach().float().requiresGrad_(), b.detach().float().requiresGrad_()
    )
    let y = Functional.layerNorm(xf, normalizedShape: [width], weight: wf, bias: bf)
    #expect(y.shape == shape)
    expectClose(y.double(), expected.detach(), rtol: 1e-5, atol: 1e-5)
    (y * upstream.float()).sum().backward()
    expectClose(xf.grad!.double(), x.grad!, rtol: 1e-4, atol: 1e-5)
    expectClose(wf.grad!.double(), w.grad!, rtol: 1e-4, atol: 1e-5)
    expectClose(bf.grad!.double(), b.grad!, rtol: 1e-4, atol: 1e-5)
  }

  @Test func secondDerivativesComeFromTheComposedNormalization() throws {
    let x = Tensor.randn(4, 9).requiresGrad_()
    let w = (Tensor.randn(9) + 1).requiresGrad_()
    let y = Functional.layerNorm(x, normalizedShape: [9], weight: w, bias: nil)
    let upstream = Tensor.randn(4, 9)
    let gx = try Autograd.grad(of: [(y * upstream).sum()], wrt: [x], createGraph: true)[0]!
    let gw = try Autograd.grad(of: [gx.pow(2).sum()], wrt: [w])[0]!
    // The same through float64's composed path.
    let x64 = x.detach().double().requiresGrad_()
    let w64 = w.detach().double().requiresGrad_()
    let y64 = Functional.layerNorm(x64, normalizedShape: [9], weight: w64, bias: nil)
    let gx64 = try Autograd.grad(of: [(y64 * upstream.double()).sum()], wrt: [x64], createGraph: true)[0]!
    let gw64 = try Autograd.grad(of: [gx64.pow(2).sum()], wrt: [w64])[0]!
    expectClose(gx.double(), gx64, rtol: 1e-4, atol: 1e-5)
    expectClose(gw.double(), gw64, rtol: 1e-3, atol: 1e-4)
  }

  @Test func noGraphWithoutGradientsAndInPlaceChangesAreCaught() async {
    let x = Tensor.randn(3, 8)
    #expect(Functional.layerNorm(x, normalizedShape: [8], weight: nil, bias: nil).gradFn == nil)
    await #expect(processExitsWith: .failure) {
      let w = Tensor.ones(8).requiresGrad_()
      let input = Tensor.randn(3, 8)
      let y = Functional.layerNorm(input, normalizedShape: [8], weight: w, bias: nil)
      input.add_(1)
      y.sum().backward()
    }
  }
}
