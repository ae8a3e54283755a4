import NN
import TestSupport
import Testing

/// The direct kernels over 16-channel blocks (`Sources/CKernels/conv_direct.c`) against the
/// float64 convolution (which takes the composed path): every tile shape, forward and input
/// gradient. Rows 1 to 30 pixels wide give one to three tiles a row, the last running past
/// the row's end; 32 and 64 output channels give tiles of two and of four output blocks (the
/// input gradient swaps the two counts), and 40 a partial block.
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
}
