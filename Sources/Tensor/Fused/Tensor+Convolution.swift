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
}

extension Tensor {
  /// `conv2d` by the backend's fused kernel, not recorded (the NN layer records it, with its
  /// backward, as one node); nil when the backend has no kernel for these operands. The NN
  /// layer checks the caller's arguments (shapes, groups) and pads nothing: `padding` is part
  /// of the problem.
  package static func fusedConvolution2d(
    _ input: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int),
    groups: Int,
    outputSize: (Int, Int)
  ) -> (out: Tensor, problem: Convolution2dProblem)? {
    guard input.dtype == .float32, weight.dtype == .float32, bias.map({ $0.dtype == .float32 }) ?? true,
      weight.device == input.device, bias.map({ $0.device == input.device }) ?? true, input.numel > 0
    else { return nil }
    return unrecorded {
      let problem = Convolution2dProblem(
        input: input.contiguous(), weight: weight.contiguous(), bias: bias?.contiguous(), stride: stride,
        padding: padding,
        dilation: dilation, groups: groups, outputSize: outputSize)
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
      return (out, problem)
    }
  }

  /// The gradients of a fused convolution with respect to input, weight and bias (nil where
  /// `needed` says no), by the backend's kernels.
  package static func convolution2dGradients(_ problem: Convolution2dProblem, gradOut: Tensor, needed: [Bool])
    -> [Tensor?]
  {
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
