/// One 2-D convolution as the backends see it: `input` `[N, C, H, W]`, `weight` `[O, C /
/// groups, kh, kw]` and `bias` `[O]`, all contiguous and of one dtype; the output is `[N, O,
/// outputSize.0, outputSize.1]`, contiguous.
package struct Convolution2dProblem {
  package let input: Tensor
  package let weight: Tensor
  package let bias: Tensor?
  package let stride: (Int, Int)
  package let padding: (Int, Int)
  package let dilation: (Int, Int)
  package let groups: Int
  package let outputSize: (Int, Int)
  /// The same convolution composed from differentiable ops (im2col and matmuls), for
  /// gradients that must themselves be differentiable (`createGraph: true`) and for backends
  /// without the fused kernel.
  package let composed: (Tensor, Tensor, Tensor?) -> Tensor
}

extension Tensor {
  /// `conv2d` by the backend's fused kernel, recorded as one op (`ConvolutionBackward0`)
  /// whose backward runs the backend's gradient kernels; nil when the backend has no kernel
  /// for these operands (the caller then uses `composed`). The NN layer checks the caller's
  /// arguments (shapes, groups) and pads nothing: `padding` is part of the problem.
  package static func convolution2d(
    _ input: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int,
    outputSize: (Int, Int), composed: @escaping (Tensor, Tensor, Tensor?) -> Tensor
  ) -> Tensor? {
    guard input.dtype == .float32, weight.dtype == .float32, bias.map({ $0.dtype == .float32 }) ?? true,
      weight.device == input.device, bias.map({ $0.device == input.device }) ?? true, input.numel > 0
    else { return nil }
    let problem = Convolution2dProblem(
      input: input.contiguous(), weight: weight.contiguous(), bias: bias?.contiguous(), stride: stride, padding: padding,
      dilation: dilation, groups: groups, outputSize: outputSize, composed: composed)
    let shape = [input.shape[0], weight.shape[0], outputSize.0, outputSize.1]
    var out = Tensor(uninitializedShape: shape, dtype: input.dtype, device: input.device)
    guard input.backend.fusedConvolution2d(problem, into: out) else { return nil }
    out.markWritten()
    if input.suggestedMemoryFormat == .channelsLast {
      // A channels-last input gives a channels-last output (as PyTorch's), the kernels' NCHW
      // result transposed once.
      let last = Tensor.uninitialized(shape, dtype: input.dtype, device: input.device, memoryFormat: .channelsLast)
      input.backend.copy(out, into: last)
      last.markWritten()
      out = last
    }
    return out.recorded(.convolution2d(problem), [input, weight] + (bias.map { [$0] } ?? []), out)
  }

  /// The gradients of a fused convolution with respect to input, weight and bias (nil where
  /// `needed` says no), by the backend's kernels.
  package static func convolution2dGradients(_ problem: Convolution2dProblem, gradOut: Tensor, needed: [Bool]) -> [Tensor?] {
    let (x, w) = (problem.input, problem.weight)
    let upstream = gradOut.contiguous()
    let gradInput = needed[0] ? Tensor(uninitializedShape: x.shape, dtype: x.dtype, device: x.device) : nil
    let gradWeight = needed[1] ? Tensor(uninitializedShape: w.shape, dtype: w.dtype, device: w.device) : nil
    usageCheck(
      x.backend.fusedConvolution2dBackward(problem, gradOut: upstream, gradInput: gradInput, gradWeight: gradWeight),
      "conv2d: the backward kernel could not run on \(x.device)")
    gradInput?.markWritten()
    gradWeight?.markWritten()
    let gradBias = problem.bias != nil && needed.count > 2 && needed[2] ? upstream.sum(dim: [0, 2, 3]) : nil
    return [gradInput, gradWeight] + (problem.bias != nil ? [gradBias] : [])
  }
}
