import Foundation
import NN
import TestSupport
import Testing

private let fixtures = Fixtures()

/// `F.interpolate` in every mode against PyTorch (`Scripts/make_interpolate_fixtures.py`):
/// outputs and input gradients.
@Suite struct InterpolateTests {
  static let cases = fixtures.strings("interp_cases")

  @Test(arguments: cases.keys.sorted())
  func matchesPyTorch(name: String) throws {
    let settings = try JSONSerialization.jsonObject(with: Data(Self.cases[name]!.utf8)) as! [String: Any]
    let modes: [String: Functional.InterpolationMode] = [
      "nearest": .nearest, "nearest-exact": .nearestExact, "linear": .linear, "bilinear": .bilinear,
      "bicubic": .bicubic,
      "trilinear": .trilinear, "area": .area,
    ]
    let scale: [Double]? = (settings["scale_factor"] as? [Double]) ?? (settings["scale_factor"] as? Double).map { [$0] }
    let x = fixtures.tensor("interp_\(name)_in").requiresGrad_()
    let y = Functional.interpolate(
      x, size: settings["size"] as? [Int], scaleFactor: scale, mode: modes[settings["mode"] as! String]!,
      alignCorners: settings["align_corners"] as? Bool,
      recomputeScaleFactor: settings["recompute_scale_factor"] as? Bool,
      antialias: settings["antialias"] as? Bool ?? false)
    expectClose(y, fixtures.tensor("interp_\(name)_out"), rtol: 1e-5, atol: 1e-5)
    y.backward(gradient: fixtures.tensor("interp_\(name)_upstream"))
    expectClose(x.grad!, fixtures.tensor("interp_\(name)_grad"), rtol: 1e-5, atol: 1e-5)
  }

  @Test func gradientsMatchFiniteDifferences() throws {
    let x = Tensor.randn([1, 1, 3, 4], dtype: .float64, generator: Generator(seed: 5)).requiresGrad_()
    for mode in [Functional.InterpolationMode.bilinear, .bicubic] {
      #expect(
        try Autograd.gradcheck(
          { Functional.interpolate($0[0], size: [5, 3], mode: mode, antialias: mode == .bicubic) }, inputs: [x]))
    }
  }

  @Test func refusesWhatPyTorchRefuses() async {
    await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Functional.interpolate(Tensor.zeros(1, 1, 4), size: [8], mode: .bilinear)
    }.map { #expect(standardError(of: $0).contains("Got 3D input, but bilinear mode needs 4D input")) }
    await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Functional.interpolate(Tensor.zeros(1, 1, 4, 4), size: [8, 8], mode: .nearest, alignCorners: true)
    }.map {
      #expect(standardError(of: $0).contains("align_corners option can only be set with the interpolating modes"))
    }
    await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Functional.interpolate(Tensor.zeros(1, 1, 4, 4), size: [8, 8], scaleFactor: [2])
    }.map { #expect(standardError(of: $0).contains("only one of size or scale_factor should be defined")) }
  }
}

@Suite struct InterpolateDTypeTests {
  /// Half precision takes the dense path (a matrix product); it agrees with float32's taps.
  @Test func halfPrecisionAgreesWithFloat() {
    let x = Tensor.randn([1, 2, 9, 7], generator: Generator(seed: 3))
    let reference = Functional.interpolate(x, size: [4, 11], mode: .bicubic, antialias: true)
    let half = Functional.interpolate(x.half(), size: [4, 11], mode: .bicubic, antialias: true)
    #expect(half.dtype == .float16)
    expectClose(half.float(), reference, rtol: 1e-2, atol: 2e-2)
  }
}
