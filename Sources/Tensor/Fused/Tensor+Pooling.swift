/// One 2-D pooling as the backends see it: `input` `[N, C, H, W]` with any strides; `out`
/// `[N, C, outputSize.0, outputSize.1]` (and, for max pooling, `indices`, int64, laid out as
/// `out`) in the input's suggested memory format. The NN layer has checked the arguments and
/// computed the output size.
package struct Pool2dProblem {
  /// Which windows and which reduction.
  package enum Kind: Equatable {
    /// The maximum of `kernel` taps `dilation` apart (padding never wins).
    case max
    /// The mean; padding counts toward the divisor when `countIncludePad`, and
    /// `divisorOverride` replaces the divisor.
    case average(countIncludePad: Bool, divisorOverride: Int?)
    /// The mean over windows from floor(o * in / out) to ceil((o + 1) * in / out).
    case adaptiveAverage
  }

  package let kind: Kind
  package let input: Tensor
  package let kernel: (Int, Int)
  package let stride: (Int, Int)
  package let padding: (Int, Int)
  package let dilation: (Int, Int)
  package let outputSize: (Int, Int)
  package let out: Tensor
  package let indices: Tensor?
}

extension Tensor {
  /// A 2-D pooling by the backend's fused kernel, without recording: the output and, for
  /// `.max`, the indices (into each channel's flattened H x W). A channels-last input gives
  /// channels-last results, as PyTorch's. Nil when the backend has no kernel for the input
  /// (the caller then composes the pooling). Adaptive pooling ignores `kernel`, `stride`,
  /// `padding` and `dilation`.
  package static func fusedPool2d(
    _ x: Tensor, kind: Pool2dProblem.Kind, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
    dilation: (Int, Int),
    outputSize: (Int, Int)
  ) -> (out: Tensor, indices: Tensor?)? {
    guard x.dtype == .float32, x.dim == 4, x.numel > 0 else { return nil }
    let shape = [x.shape[0], x.shape[1], outputSize.0, outputSize.1]
    let allocate = { (dtype: DType) in
      Tensor.uninitialized(shape, dtype: dtype, device: x.device, memoryFormat: x.suggestedMemoryFormat)
    }
    let problem = Pool2dProblem(
      kind: kind, input: x, kernel: kernel, stride: stride, padding: padding, dilation: dilation,
      outputSize: outputSize,
      out: allocate(x.dtype), indices: kind == .max ? allocate(.int64) : nil)
    guard x.backend.fusedPool2d(problem) else { return nil }
    problem.out.markWritten()
    problem.indices?.markWritten()
    return (problem.out, problem.indices)
  }

  /// The input gradient of a fused pooling (`fusedPool2d` with the same arguments, `indices`
  /// its indices for `.max`), by the backend's kernel, laid out as `x`'s suggested format.
  package static func fusedPool2dGradient(
    _ x: Tensor, kind: Pool2dProblem.Kind, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
    dilation: (Int, Int),
    outputSize: (Int, Int), indices: Tensor?, gradOut: Tensor
  ) -> Tensor {
    // The kernel addresses the gradient and the indices with one set of strides: both are
    // laid out in the input's format.
    let format = x.suggestedMemoryFormat
    let gradInput = Tensor.uninitialized(x.shape, dtype: x.dtype, device: x.device, memoryFormat: format)
    let problem = Pool2dProblem(
      kind: kind, input: gradInput, kernel: kernel, stride: stride, padding: padding, dilation: dilation,
      outputSize: outputSize,
      out: gradOut.to(x.dtype).contiguous(memoryFormat: format), indices: indices?.contiguous(memoryFormat: format))
    usageCheck(x.backend.fusedPool2dBackward(problem), "pooling: the backward kernel could not run on \(x.device)")
    gradInput.markWritten()
    return gradInput
  }
}
