import Foundation
import NN
import TestSupport
import Testing

private let fixtures = Fixtures()

/// The fused float32 pooling kernels against PyTorch (`Scripts/make_pool_fixtures.py`):
/// max pooling (values, indices with PyTorch's ties and NaNs, gradients), average pooling
/// (padding in or out of the divisor, ceil mode, a divisor override) and adaptive average
/// pooling, on contiguous, channels-last and strided inputs; layouts, node names, threads and
/// differentiable gradients.
@Suite struct PoolingTests {
  static let cases = fixtures.strings("pool_cases")

  struct Settings {
    let op: String, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)
    let ceilMode: Bool, countIncludePad: Bool, divisorOverride: Int?, outputSize: (Int, Int), channelsLast: Bool,
      slice: Bool

    init(_ name: String) throws {
      let s = try JSONSerialization.jsonObject(with: Data(PoolingTests.cases[name]!.utf8)) as! [String: Any]
      func pair(_ key: String, _ fallback: (Int, Int)) -> (Int, Int) {
        (s[key] as? [Int]).map { ($0[0], $0[1]) } ?? fallback
      }
      op = s["op"] as! String
      (kernel, stride, padding, dilation) = (
        pair("kernel", (1, 1)), pair("stride", (1, 1)), pair("padding", (0, 0)), pair("dilation", (1, 1))
      )
      (ceilMode, countIncludePad) = (s["ceil_mode"] as? Bool ?? false, s["count_include_pad"] as? Bool ?? true)
      (divisorOverride, outputSize) = (s["divisor_override"] as? Int, pair("output_size", (0, 0)))
      (channelsLast, slice) = (s["channels_last"] as? Bool ?? false, s["slice"] as? Bool ?? false)
    }

    /// The pooling, with the indices for max pooling.
    func apply(_ x: Tensor) -> (Tensor, Tensor?) {
      switch op {
      case "max":
        let (values, indices) = Functional.maxPool2dWithIndices(
          x, kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
        return (values, indices)
      case "avg":
        return (
          Functional.avgPool2d(
            x, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad,
            divisorOverride: divisorOverride), nil
        )
      default: return (Functional.adaptiveAvgPool2d(x, outputSize: outputSize), nil)
      }
    }

    var nodeName: String {
      ["max": "MaxPool2DWithIndicesBackward0", "avg": "AvgPool2DBackward0"][op] ?? "AdaptiveAvgPool2DBackward0"
    }
  }

  @Test(arguments: cases.keys.sorted())
  func matchesPyTorch(name: String) throws {
    let settings = try Settings(name)
    let stored = fixtures.tensor("pool_\(name)_x").requiresGrad_()
    var x = settings.slice ? stored[.all, .all, .stride(by: 2)] : stored
    if settings.channelsLast { x = x.contiguous(memoryFormat: .channelsLast) }
    let (y, indices) = settings.apply(x)
    #expect(y.gradFn?.name == settings.nodeName)
    #expect(y.isContiguous(memoryFormat: settings.channelsLast ? .channelsLast : .contiguousFormat))
    // The same sums in the same order as PyTorch's: max is exact, the means round alike.
    expectClose(y, fixtures.tensor("pool_\(name)_y"), rtol: 1e-6, atol: 1e-7)
    if let indices {
      #expect(indices.dtype == .int64)
      #expect(indices.isContiguous(memoryFormat: settings.channelsLast ? .channelsLast : .contiguousFormat))
      #expect(indices == fixtures.tensor("pool_\(name)_idx"))
    }
    y.backward(gradient: fixtures.tensor("pool_\(name)_up"))
    var expected = fixtures.tensor("pool_\(name)_gx")
    if settings.slice {
      // The gradient of the stored tensor: the view's, every other row.
      expected = Tensor.zeros(like: stored).indexCopy(
        dim: 2, index: Tensor.arange(0, stored.shape[2], step: 2), source: expected)
    }
    expectClose(stored.grad!, expected, rtol: 1e-6, atol: 1e-6)
  }

  /// Inputs large enough to split over threads, with a plane range that ends inside an image
  /// (one image of 33 channels-last channels): the fused kernels against the composed float64
  /// pooling, whose formulas the fixtures pin.
  @Test(arguments: ["max", "avg", "adaptive"], [false, true])
  func threadedKernelsMatchTheComposedPath(op: String, channelsLast: Bool) throws {
    let generator = Generator(seed: 5)
    var x = Tensor.randn([1, 33, 40, 41], generator: generator)
    if channelsLast { x = x.contiguous(memoryFormat: .channelsLast) }
    func pool(_ x: Tensor) -> Tensor {
      switch op {
      case "max": return Functional.maxPool2d(x, kernel: (3, 3), stride: (2, 2), padding: (1, 1))
      case "avg":
        return Functional.avgPool2d(
          x, kernel: (3, 3), stride: (2, 2), padding: (1, 1), ceilMode: true, countIncludePad: false)
      default: return Functional.adaptiveAvgPool2d(x, outputSize: (7, 9))
      }
    }
    let (fused, reference) = (x.detach().requiresGrad_(), x.double().requiresGrad_())
    let (y, yReference) = (pool(fused), pool(reference))
    expectClose(y, yReference.float(), rtol: 1e-5, atol: 1e-6)
    let upstream = Tensor.randn(y.shape, generator: generator)
    y.backward(gradient: upstream)
    yReference.backward(gradient: upstream.double())
    expectClose(fused.grad!, reference.grad!.float(), rtol: 1e-5, atol: 1e-6)
  }

  /// With `createGraph: true` the gradients are differentiable again and equal the composed
  /// float64 path's: max pooling's second derivative gathers at the indices.
  @Test(arguments: ["max", "avg", "adaptive"])
  func doubleBackwardMatchesFloat64(op: String) throws {
    func secondOrder(_ dtype: DType) throws -> Tensor {
      let x = fixtures.tensor("pool_\(op == "max" ? "max_stem" : op == "avg" ? "avg_exclude_pad_ceil" : "adaptive")_x")
        .to(dtype).requiresGrad_()
      let (y, _) = try Settings(op == "max" ? "max_stem" : op == "avg" ? "avg_exclude_pad_ceil" : "adaptive").apply(x)
      let weights = Tensor.arange(y.numel).to(dtype).view(y.shape).remainder(7) - 3
      let gx = try Autograd.grad(of: [(y * y * weights).sum()], wrt: [x], createGraph: true)[0]!
      (gx * gx).sum().backward()
      return x.grad!
    }
    expectClose(try secondOrder(.float32), try secondOrder(.float64).float(), rtol: 1e-5, atol: 1e-5)
  }

  /// PyTorch's argument errors, from the checks shared by every path.
  @Test func badArgumentsStopWithPyTorchsMessages() async {
    let stride = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Functional.maxPool2d(Tensor.ones(1, 1, 4, 4), kernel: (2, 2), stride: (0, 1))
    }
    #expect(standardError(of: stride).contains("max_pool2d: stride should be greater than zero, but got [0, 1]"))
    let divisor = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Functional.avgPool2d(Tensor.ones(1, 1, 4, 4), kernel: (2, 2), divisorOverride: 0)
    }
    #expect(standardError(of: divisor).contains("avg_pool2d: divisor must be not zero"))
    let adaptive = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Functional.adaptiveAvgPool2d(Tensor.ones(1, 1, 4, 4), outputSize: (-1, 2))
    }
    #expect(
      standardError(of: adaptive).contains(
        "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0"))
  }
}
