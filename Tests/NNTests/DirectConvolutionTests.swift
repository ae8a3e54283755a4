import NN
import TestSupport
import Testing

/// The direct kernels over 16-channel blocks (`Sources/CKernels/conv_direct.c`) against the
/// float64 convolution (which takes the composed path): every tile shape, forward and input
/// gradient. Rows 1 to 30 pixels wide give one to three tiles a row, the last running past
/// the row's end; 32 and 64 output channels give tiles of two and of four output blocks (the
/// input gradient swaps the two counts), and 40 a partial block. The weight gradient's units
/// (three output channels, or the one or two left over) come from the same cases.
@Suite struct DirectConvolutionTests {
  @Test(arguments: [(32, 32), (32, 64), (64, 32), (24, 40)])
  func everyTileShapeMatchesFloat64(channels: Int, outChannels: Int) {
    for width in 1...30 {
      let x = Tensor.randn(2, channels, 3, width).requiresGrad_()
      let w = (Tensor.randn(outChannels, channels, 3, 3) * 0.1).requiresGrad_()
      let b = Tensor.randn(outChannels).requiresGrad_()
      let up = Tensor.randn(2, outChannels, 3, width)
      let y = Functional.conv2d(x, weight: w, bias: b, padding: (1, 1))
      y.backward(gradient: up)
      let x64 = x.detach().double().requiresGrad_()
      let w64 = w.detach().double().requiresGrad_()
      let y64 = Functional.conv2d(x64, weight: w64, bias: b.detach().double(), padding: (1, 1))
      y64.backward(gradient: up.double())
      expectClose(y, y64.float(), rtol: 1e-4, atol: 1e-4)
      expectClose(x.grad!, x64.grad!.float(), rtol: 1e-4, atol: 1e-4)
      expectClose(w.grad!, w64.grad!.float(), rtol: 1e-4, atol: 1e-4)
    }
  }

  /// The direct weight gradient over strides, asymmetric and wide paddings and several passes:
  /// each 92-pixel-wide padded block of 16 channels holds more than a pass's floats, so the
  /// three images are summed in three passes, each adding to the gradient the one before wrote.
  @Test(arguments: [(1, 1, 1), (2, 1, 1), (2, 0, 1), (1, 0, 0), (3, 2, 1)])
  func weightGradientMatchesFloat64OverStridesPaddingsAndPasses(stride: Int, padH: Int, padW: Int) {
    let x = Tensor.randn(3, 17, 90, 91)
    let w = (Tensor.randn(4, 17, 3, 3) * 0.1).requiresGrad_()
    let y = Functional.conv2d(x, weight: w, bias: nil, stride: (stride, stride), padding: (padH, padW))
    let up = Tensor.randn(y.shape)
    y.backward(gradient: up)
    let w64 = w.detach().double().requiresGrad_()
    let y64 = Functional.conv2d(x.double(), weight: w64, bias: nil, stride: (stride, stride), padding: (padH, padW))
    y64.backward(gradient: up.double())
    expectClose(y, y64.float(), rtol: 1e-4, atol: 1e-4)
    expectClose(w.grad!, w64.grad!.float(), rtol: 1e-4, atol: 1e-4)
  }
}
