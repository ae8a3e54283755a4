import Foundation
import NN
import TestSupport
import Testing

private let fixtures = Fixtures()

/// `F.conv2d` against PyTorch (`Scripts/make_conv_fixtures.py`): outputs and the input,
/// weight and bias gradients of every kernel path (implicit GEMM, strided, dilated,
/// rectangular, grouped, depthwise, 1x1, one image split over threads, blocked over K and
/// pixels, a 7x7 stem), on contiguous and channels-last inputs.
@Suite struct ConvolutionTests {
  static let cases = fixtures.strings("conv_cases")

  struct Settings {
    let stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int, bias: Bool, channelsLast: Bool

    init(_ name: String) throws {
      let s = try JSONSerialization.jsonObject(with: Data(ConvolutionTests.cases[name]!.utf8)) as! [String: Any]
      func pair(_ key: String) -> (Int, Int) {
        let v = s[key] as! [Int]
        return (v[0], v[1])
      }
      (stride, padding, dilation) = (pair("stride"), pair("padding"), pair("dilation"))
      (groups, bias, channelsLast) = (s["groups"] as! Int, s["bias"] as! Bool, s["channels_last"] as? Bool ?? false)
    }
  }

  @Test(arguments: cases.keys.sorted())
  func matchesPyTorch(name: String) throws {
    let settings = try Settings(name)
    var x = fixtures.tensor("conv_\(name)_x")
    if settings.channelsLast { x = x.contiguous(memoryFormat: .channelsLast) }
    x.requiresGrad_()
    let w = fixtures.tensor("conv_\(name)_w").requiresGrad_()
    let b = settings.bias ? fixtures.tensor("conv_\(name)_b").requiresGrad_() : nil
    let y = Functional.conv2d(
      x, weight: w, bias: b, stride: settings.stride, padding: settings.padding, dilation: settings.dilation,
      groups: settings.groups)
    #expect(y.gradFn?.name == "ConvolutionBackward0")
    #expect(y.isContiguous(memoryFormat: settings.channelsLast ? .channelsLast : .contiguousFormat))
    expectClose(y, fixtures.tensor("conv_\(name)_y"), rtol: 1e-4, atol: 1e-5)
    y.backward(gradient: fixtures.tensor("conv_\(name)_up"))
    expectClose(x.grad!, fixtures.tensor("conv_\(name)_gx"), rtol: 1e-4, atol: 1e-4)
    expectClose(w.grad!, fixtures.tensor("conv_\(name)_gw"), rtol: 1e-4, atol: 1e-4)
    if let b { expectClose(b.grad!, fixtures.tensor("conv_\(name)_gb"), rtol: 1e-4, atol: 1e-4) }
  }

  /// The fused float32 kernels against finite differences (a convolution is linear in each
  /// operand, so float32 central differences are exact up to rounding).
  @Test(arguments: ["strided", "dilated_rect", "groups", "depthwise", "depthwise_wide_padding"])
  func gradientsMatchFiniteDifferences(name: String) throws {
    let settings = try Settings(name)
    let x = fixtures.tensor("conv_\(name)_x")[0..<1].contiguous().requiresGrad_()
    let w = fixtures.tensor("conv_\(name)_w").requiresGrad_()
    let ok = try Autograd.gradcheck(
      { inputs in
        Functional.conv2d(
          inputs[0], weight: inputs[1], bias: nil, stride: settings.stride, padding: settings.padding,
          dilation: settings.dilation,
          groups: settings.groups)
      }, inputs: [x, w], eps: 1e-2, atol: 2e-3, rtol: 2e-3)
    #expect(ok)
  }

  /// Empty batches and zero input channels through every kernel path (stride-1 input gradient
  /// as a convolution, strided, depthwise, pointwise, a wide layer, the direct kernels over
  /// 16-channel blocks forward and backward): PyTorch returns an empty
  /// result, or the bias when nothing is summed, and zero or empty gradients.
  @Test func emptyBatchesAndZeroChannels() {
    // (channels, out channels, kernel, stride, groups)
    for (c, o, k, s, groups) in [
      (4, 6, 3, 1, 1), (4, 6, 3, 2, 1), (4, 8, 3, 1, 4), (4, 6, 1, 1, 1), (3, 130, 3, 1, 1), (16, 32, 3, 1, 1),
      (32, 17, 3, 1, 1),
    ] {
      let x = Tensor.zeros(0, c, 5, 5).requiresGrad_()
      let w = Tensor.ones(o, c / groups, k, k).requiresGrad_()
      let b = Tensor.ones(o).requiresGrad_()
      let y = Functional.conv2d(x, weight: w, bias: b, stride: (s, s), padding: (k / 2, k / 2), groups: groups)
      let side = (5 + 2 * (k / 2) - k) / s + 1
      #expect(y.shape == [0, o, side, side])
      y.sum().backward()
      #expect(x.grad!.shape == [0, c, 5, 5])
      #expect(w.grad!.toArray(Float.self) == [Float](repeating: 0, count: w.numel))
      #expect(b.grad!.toArray(Float.self) == [Float](repeating: 0, count: o))
    }
    let x = Tensor.randn(2, 0, 5, 5).requiresGrad_()
    let w = Tensor.zeros(3, 0, 3, 3).requiresGrad_()
    let b = Tensor([1, 2, 3] as [Float]).requiresGrad_()
    let y = Functional.conv2d(x, weight: w, bias: b, stride: (1, 1), padding: (1, 1))
    #expect(y.shape == [2, 3, 5, 5])
    #expect(
      y.toArray(Float.self) == [Float](repeating: 0, count: 150).enumerated().map { Float($0.offset / 25 % 3 + 1) })
    y.sum().backward()
    #expect(b.grad!.toArray(Float.self) == [50, 50, 50])
    #expect(x.grad!.shape == [2, 0, 5, 5] && w.grad!.shape == [3, 0, 3, 3])
  }

  /// With `createGraph: true` the gradients are differentiable again (double backward), and
  /// equal those of the composed float64 convolution.
  @Test func doubleBackwardMatchesFloat64() throws {
    func secondOrder(_ dtype: DType) throws -> (Tensor, Tensor) {
      let x = fixtures.tensor("conv_strided_x").to(dtype).requiresGrad_()
      let w = fixtures.tensor("conv_strided_w").to(dtype).requiresGrad_()
      let y = Functional.conv2d(x, weight: w, bias: nil, stride: (2, 2), padding: (1, 1))
      let gx = try Autograd.grad(of: [(y * y).sum()], wrt: [x], createGraph: true)[0]!
      (gx * gx).sum().backward()
      return (x.grad!, w.grad!)
    }
    let (fused, composed) = (try secondOrder(.float32), try secondOrder(.float64))
    expectClose(fused.0, composed.0.float(), rtol: 1e-4, atol: 1e-4)
    expectClose(fused.1, composed.1.float(), rtol: 1e-4, atol: 1e-4)
  }

  /// The channels-last layout: PyTorch's strides and contiguity rules (size-1 dims are free).
  @Test func channelsLastLayout() {
    let x = Tensor.arange(120).float().view(2, 3, 4, 5)
    let last = x.contiguous(memoryFormat: .channelsLast)
    #expect(last.shape == [2, 3, 4, 5])
    #expect(last.stride() == [60, 1, 15, 3])
    #expect(last == x)
    #expect(last.isContiguous(memoryFormat: .channelsLast) && !last.isContiguous)
    #expect(!x.isContiguous(memoryFormat: .channelsLast) && x.isContiguous(memoryFormat: .contiguousFormat))
    #expect(last.contiguous(memoryFormat: .channelsLast) === last)
    #expect(last.contiguous().stride() == [60, 20, 5, 1])
    // One channel: both layouts at once, as in PyTorch.
    let single = Tensor.zeros(2, 1, 4, 5)
    #expect(single.isContiguous(memoryFormat: .channelsLast) && single.isContiguous)
    #expect(!Tensor.zeros(3, 4, 5).isContiguous(memoryFormat: .channelsLast))
    // The copy is differentiable.
    let leaf = x.detach().requiresGrad_()
    (leaf.contiguous(memoryFormat: .channelsLast) * 2).sum().backward()
    #expect(leaf.grad! == Tensor.full([2, 3, 4, 5], 2.0))
  }

  /// Elementwise results keep a channels-last operand's layout (PyTorch's TensorIterator):
  /// unary ops, same-shape and broadcast binary ops, `where`; a plainly contiguous first
  /// operand decides for contiguous.
  @Test func elementwiseOpsKeepChannelsLast() {
    let x = Tensor.arange(120).float().view(2, 3, 4, 5)
    let last = x.contiguous(memoryFormat: .channelsLast)
    let bias = Tensor([1, 2, 3] as [Float]).view(1, 3, 1, 1)
    for y in [
      last.relu(), last * 2, last + last, last + bias, bias + last, Tensor.where(last .> 50, last, 0.0),
      last + x.double(),
    ] {
      #expect(y.isContiguous(memoryFormat: .channelsLast) && !y.isContiguous)
    }
    #expect((x + last).isContiguous && (last + bias).toArray(Float.self) == (x + bias).toArray(Float.self))
    #expect(last.relu().contiguous() == x.relu())
  }

  @Test func channelsLastNeedsFourDims() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.zeros(3, 4, 5).contiguous(memoryFormat: .channelsLast)
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("required rank 4 tensor to use channels_last format"))
  }
}
