/// Stateless forms of the layers (PyTorch: `torch.nn.functional`), built from differentiable
/// tensor ops so autograd covers them.
public enum Functional {
  /// `x @ weight.T + bias` (PyTorch: `F.linear`).
  public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    if let cast = Autocast.run(.lowerPrecision, [x, weight, bias], { c in linear(c[0]!, weight: c[1]!, bias: c[2]) }) {
      return cast
    }
    if let bias, let fused = fusedLinear(x, weight: weight, bias: bias) { return fused }
    let y = x.matmul(weight.t())
    return bias.map { y + $0 } ?? y
  }

  /// `linear` with a bias through the backend's fused product, recorded as one node
  /// (PyTorch's `AddmmBackward0`): a product and then an add had cost a second pass over the
  /// result (2% of the GPT step). Nil when the operands or the backend do not suit it.
  private static func fusedLinear(_ x: Tensor, weight: Tensor, bias: Tensor) -> Tensor? {
    guard x.dim >= 2, x.isContiguous, weight.dim == 2, x.shape.last == weight.shape[1], bias.shape == [weight.shape[0]]
    else { return nil }
    // Rows counted, not inferred: `-1` is ambiguous when a dimension is 0.
    let count = x.shape.dropLast().reduce(1, *)
    let rows = x.detach().reshape(count, weight.shape[1])
    guard let out = Tensor.fusedLinear(rows, weight: weight.detach(), bias: bias.detach()) else { return nil }
    let result = out.view(Array(x.shape.dropLast()) + [weight.shape[0]])
    let needed = [x.requiresGrad, weight.requiresGrad, bias.requiresGrad]
    return Autograd.record(
      result, from: [x, weight, bias], name: "AddmmBackward0", composed: { v in v[0].matmul(v[1].t()) + v[2] },
      backward: { g in
        withNoGrad {
          let upstream = g.reshape(count, weight.shape[0])
          return [
            needed[0] ? upstream.matmul(weight.detach()).view(x.shape) : nil,
            needed[1] ? upstream.t().matmul(rows) : nil, needed[2] ? upstream.sum(dim: [0]) : nil,
          ]
        }
      })
  }

  /// Pads the last two dims of an NCHW tensor with `value` (PyTorch: `F.pad` with a
  /// constant).
  public static func pad2d(_ x: Tensor, _ padding: (Int, Int), value: Double = 0) -> Tensor {
    padding == (0, 0) ? x : pad(x, [padding.1, padding.1, padding.0, padding.0], value: value)
  }

  /// The number of window positions along H and W.
  static func windowCount(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int)) -> (Int, Int) {
    let ho = (x.shape[2] - dilation.0 * (kernel.0 - 1) - 1) / stride.0 + 1
    let wo = (x.shape[3] - dilation.1 * (kernel.1 - 1) - 1) / stride.1 + 1
    usageCheck(
      ho > 0 && wo > 0,
      "Calculated output size (\(x.shape[1])x\(ho)x\(wo)) is too small for input of size \(x.shape) and kernel \(kernel)"
    )
    return (ho, wo)
  }

  /// The sliding windows of an NCHW tensor as a view `[N, C, Ho, Wo, kh, kw]`.
  static func windows(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int)) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let ho = (h - dilation.0 * (kernel.0 - 1) - 1) / stride.0 + 1
    let wo = (w - dilation.1 * (kernel.1 - 1) - 1) / stride.1 + 1
    usageCheck(
      ho > 0 && wo > 0,
      "Calculated output size (\(c)x\(ho)x\(wo)) is too small for input of size \(x.shape) and kernel \(kernel)")
    let s = x.stride()
    return x.asStrided(
      size: [n, c, ho, wo, kernel.0, kernel.1],
      stride: [s[0], s[1], s[2] * stride.0, s[3] * stride.1, s[2] * dilation.0, s[3] * dilation.1],
      storageOffset: x.storageOffset)
  }

  /// Runs a 2-D op on `[N, C, H, W]` input, or on an unbatched `[C, H, W]` one as a batch of
  /// one (as PyTorch's 2-D layers accept both); other ranks stop with `message`.
  static func acceptingUnbatched(_ x: Tensor, _ message: @autoclosure () -> String, _ body: (Tensor) -> Tensor)
    -> Tensor
  {
    usageCheck(x.dim == 3 || x.dim == 4, message())
    return x.dim == 3 ? body(x.unsqueeze(0)).squeeze(dim: 0) : body(x)
  }

  /// 2-D convolution over NCHW (or unbatched CHW) input (PyTorch: `F.conv2d`). float32 on the
  /// CPU runs one fused op (implicit-GEMM kernels, see ARCHITECTURE); other dtypes and
  /// devices compose it from im2col and matrix products. A channels-last input gives a
  /// channels-last output.
  public static func conv2d(
    _ x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
    dilation: (Int, Int) = (1, 1), groups: Int = 1
  ) -> Tensor {
    if let cast = Autocast.run(
      .lowerPrecision, [x, weight, bias],
      { c in
        conv2d(c[0]!, weight: c[1]!, bias: c[2], stride: stride, padding: padding, dilation: dilation, groups: groups)
      })
    {
      return cast
    }
    return acceptingUnbatched(
      x, "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: \(x.shape)"
    ) { x in
      batchedConv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
  }

  private static func batchedConv2d(
    _ x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int),
    groups: Int
  ) -> Tensor {
    let (groupChannels, kh, kw) = (weight.shape[1], weight.shape[2], weight.shape[3])
    usageCheck(
      x.shape[1] == groupChannels * groups,
      "Given groups=\(groups), weight of size \(weight.shape), expected input\(x.shape) to have \(groupChannels * groups) channels, but got \(x.shape[1]) channels instead"
    )
    let padded = [x.shape[0], x.shape[1], x.shape[2] + 2 * padding.0, x.shape[3] + 2 * padding.1]
    let ho = (padded[2] - dilation.0 * (kh - 1) - 1) / stride.0 + 1
    let wo = (padded[3] - dilation.1 * (kw - 1) - 1) / stride.1 + 1
    usageCheck(
      ho > 0 && wo > 0,
      "Calculated output size (\(x.shape[1])x\(ho)x\(wo)) is too small for input of size \(padded) and kernel \((kh, kw))"
    )
    let composed = { (x: Tensor, weight: Tensor, bias: Tensor?) in
      composedConv2d(
        x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
    guard
      let fused = Tensor.fusedConvolution2d(
        x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups,
        outputSize: (ho, wo))
    else { return composed(x, weight, bias) }
    // One node (PyTorch's `ConvolutionBackward0`): the backend's kernels give the input and
    // weight gradients, the bias gradient is the upstream sum.
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    let needed = inputs.map(\.requiresGrad)
    return Autograd.record(
      fused.out, from: inputs, name: "ConvolutionBackward0",
      composed: { v in composed(v[0], v[1], v.count > 2 ? v[2] : nil) },
      backward: { g in
        withNoGrad { Tensor.convolution2dGradients(fused.problem, gradOut: g.detach(), needed: needed) }
      })
  }

  /// conv2d composed from padding, im2col and a matrix product per group (the path of other
  /// dtypes and devices, and of differentiable gradients).
  static func composedConv2d(
    _ x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int),
    groups: Int
  ) -> Tensor {
    let (outChannels, groupChannels, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
    let n = x.shape[0]
    let padded = pad2d(x, padding)
    let (ho, wo) = windowCount(padded, kernel: (kh, kw), stride: stride, dilation: dilation)
    // [N, C*kh*kw, Ho*Wo] (PyTorch's unfold layout): channel blocks are contiguous for groups,
    // and the product lands in NCHW order with no permute.
    let columns = Im2Col.apply(padded, kernel: (kh, kw), stride: stride, dilation: dilation)
    let perGroup = groupChannels * kh * kw
    let outPerGroup = outChannels / groups
    var outputs: [Tensor] = []
    for g in 0..<groups {
      let cols = groups == 1 ? columns : columns.narrow(dim: 1, start: g * perGroup, length: perGroup)
      let w = (groups == 1 ? weight : weight.narrow(dim: 0, start: g * outPerGroup, length: outPerGroup)).reshape(
        outPerGroup, perGroup)
      outputs.append(w.matmul(cols))
    }
    var y = groups == 1 ? outputs[0] : Tensor.cat(outputs, dim: 1)
    if let bias { y = y + bias.view(1, outChannels, 1) }
    return y.reshape(n, outChannels, ho, wo)
  }

  /// Batch normalization over dim 1 (PyTorch: `F.batch_norm`): batch statistics in training
  /// (updating the running ones), running statistics in evaluation.
  public static func batchNorm(
    _ x: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?, training: Bool,
    momentum: Double = 0.1, eps: Double = 1e-5
  ) -> Tensor {
    usageCheck(x.dim >= 2, "batch_norm: expected an input of shape [N, C, ...] (at least 2-D), got \(x.shape)")
    let channels = x.shape[1]
    for (name, t) in [("running_mean", runningMean), ("running_var", runningVar), ("weight", weight), ("bias", bias)] {
      if let t {
        usageCheck(t.numel == channels, "batch_norm: \(name) should contain \(channels) elements not \(t.numel)")
      }
    }
    if x.numel == 0 {
      // PyTorch's empty-batch path: no statistics, running ones untouched, and the output
      // stays in the graph.
      var y = x.clone()
      if let weight, weight.numel > 0 { y = y * weight[0] }
      if let bias, bias.numel > 0 { y = y + bias[0] }
      return y
    }
    let dims = [0] + Array(2..<x.dim)
    let count = dims.reduce(1) { $0 * x.shape[$1] }
    if training || runningMean == nil {
      usageCheck(count != 1, "Expected more than 1 value per channel when training, got input size \(x.shape)")
    }
    if let fused = fusedBatchNorm(
      x, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias, training: training,
      momentum: momentum, eps: eps)
    {
      return fused
    }
    return composedBatchNorm(
      x, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias, training: training,
      momentum: momentum, eps: eps)
  }

  /// Batch normalization composed from reductions and elementwise ops (other dtypes and
  /// devices, evaluation with a graph, and differentiable gradients).
  private static func composedBatchNorm(
    _ x: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?, training: Bool,
    momentum: Double, eps: Double
  ) -> Tensor {
    let channels = x.shape[1]
    let dims = [0] + Array(2..<x.dim)
    let count = dims.reduce(1) { $0 * x.shape[$1] }
    var shape = [Int](repeating: 1, count: x.dim)
    shape[1] = channels
    let mean: Tensor
    let variance: Tensor
    if training || runningMean == nil {
      mean = x.mean(dim: dims)
      variance = x.var(dim: dims, correction: 0)
      if training, let runningMean, let runningVar {
        withNoGrad {
          runningMean.mul_(1 - momentum).add_(mean * momentum)
          runningVar.mul_(1 - momentum).add_(variance * (momentum * Double(count) / Double(count - 1)))
        }
      }
    } else {
      mean = runningMean!
      variance = runningVar!
    }
    var y = (x - mean.view(shape)) * (variance.view(shape) + eps).rsqrt()
    if let weight { y = y * weight.view(shape) }
    if let bias { y = y + bias.view(shape) }
    return y
  }

  /// Batch normalization by the backend's fused kernel (one pass for the statistics, one for
  /// the output; two for the backward), recorded as one node (`NativeBatchNormBackward0`); nil
  /// when there is no kernel for the operands, or in evaluation with a graph to record (whose
  /// gradient is the composed path's). With `createGraph: true` the backward re-derives the
  /// gradients from the composed normalization so that they are differentiable again.
  private static func fusedBatchNorm(
    _ x: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?, training: Bool,
    momentum: Double, eps: Double
  ) -> Tensor? {
    let inputs = [x, weight, bias].compactMap { $0 }
    let recording = Autograd.isGradEnabled && inputs.contains(where: \.requiresGrad)
    let batchStatistics = training || runningMean == nil || runningVar == nil
    guard batchStatistics || !recording,
      let result = Tensor.fusedBatchNorm(
        x.detach(), weight: weight?.detach(), bias: bias?.detach(), runningMean: runningMean, runningVar: runningVar,
        training: training,
        eps: eps)
    else { return nil }
    if training, let runningMean, let runningVar {
      let count = Double(x.numel / x.shape[1])
      withNoGrad {
        runningMean.mul_(1 - momentum).add_(result.mean.to(runningMean.dtype) * momentum)
        runningVar.mul_(1 - momentum).add_(result.variance.to(runningVar.dtype) * (momentum * count / (count - 1)))
      }
    }
    guard recording else { return result.out }
    let needed = (input: x.requiresGrad, weight: weight?.requiresGrad ?? false, bias: bias?.requiresGrad ?? false)
    // The composed normalization gives differentiable gradients (createGraph: true).
    let composed: ([Tensor]) -> Tensor = { v in
      var rest = v.dropFirst().makeIterator()
      return composedBatchNorm(
        v[0], runningMean: nil, runningVar: nil, weight: weight == nil ? nil : rest.next(),
        bias: bias == nil ? nil : rest.next(),
        training: true, momentum: 0, eps: eps)
    }
    return Autograd.record(result.out, from: inputs, name: "NativeBatchNormBackward0", composed: composed) { gradient in
      let grads = Tensor.fusedBatchNormGradients(
        x.detach(), weight: weight?.detach(), mean: result.mean, variance: result.variance, eps: eps, gradOut: gradient,
        needed: needed)
      return [grads.input] + (weight != nil ? [grads.weight] : []) + (bias != nil ? [grads.bias] : [])
    }
  }

  /// Normalization over the trailing `normalizedShape` dims (PyTorch: `F.layer_norm`).
  public static func layerNorm(_ x: Tensor, normalizedShape: [Int], weight: Tensor?, bias: Tensor?, eps: Double = 1e-5)
    -> Tensor
  {
    if let cast = Autocast.run(
      .float32OnDevices, [x, weight, bias],
      { c in
        layerNorm(c[0]!, normalizedShape: normalizedShape, weight: c[1], bias: c[2], eps: eps)
      })
    {
      return cast
    }
    usageCheck(
      Array(x.shape.suffix(normalizedShape.count)) == normalizedShape,
      "layer_norm: normalized_shape \(normalizedShape) does not match the trailing dims of input of shape \(x.shape)")
    return fusedLayerNorm(x, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
      ?? composedLayerNorm(x, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
  }

  /// Layer normalization composed from reductions and elementwise ops (other dtypes and
  /// devices, and differentiable gradients).
  private static func composedLayerNorm(
    _ x: Tensor, normalizedShape: [Int], weight: Tensor?, bias: Tensor?, eps: Double
  ) -> Tensor {
    let dims = Array((x.dim - normalizedShape.count)..<x.dim)
    let mean = x.mean(dim: dims, keepdim: true)
    let variance = x.var(dim: dims, correction: 0, keepdim: true)
    var y = (x - mean) * (variance + eps).rsqrt()
    if let weight { y = y * weight }
    if let bias { y = y + bias }
    return y
  }

  /// Layer normalization by the backend's fused kernel (one pass per row for the statistics
  /// and the output, one for the input gradient), recorded as one node
  /// (`NativeLayerNormBackward0`); nil when there is no kernel for the operands. With
  /// `createGraph: true` the backward re-derives the gradients from the composed normalization
  /// so that they are differentiable again.
  private static func fusedLayerNorm(
    _ x: Tensor, normalizedShape: [Int], weight: Tensor?, bias: Tensor?, eps: Double
  ) -> Tensor? {
    let shapesMatch = [weight, bias].allSatisfy { $0 == nil || $0!.shape == normalizedShape }
    guard shapesMatch,
      let result = Tensor.fusedLayerNorm(
        x.detach(), normalizedDims: normalizedShape.count, weight: weight?.detach(), bias: bias?.detach(), eps: eps)
    else { return nil }
    let inputs = [x, weight, bias].compactMap { $0 }
    guard Autograd.isGradEnabled && inputs.contains(where: \.requiresGrad) else { return result.out }
    let needed = (input: x.requiresGrad, weight: weight?.requiresGrad ?? false, bias: bias?.requiresGrad ?? false)
    let composed: ([Tensor]) -> Tensor = { v in
      var rest = v.dropFirst().makeIterator()
      return composedLayerNorm(
        v[0], normalizedShape: normalizedShape, weight: weight == nil ? nil : rest.next(),
        bias: bias == nil ? nil : rest.next(), eps: eps)
    }
    return Autograd.record(
      result.out, from: inputs, name: "NativeLayerNormBackward0", composed: composed,
      backward: { gradient in
        let grads = Tensor.fusedLayerNormGradients(
          x.detach(), weight: weight?.detach(), mean: result.mean, rstd: result.rstd, gradOut: gradient,
          needed: needed)
        return [grads.input] + (weight != nil ? [grads.weight] : []) + (bias != nil ? [grads.bias] : [])
      })
  }

  /// Zeroes elements with probability `p` and scales the rest by `1 / (1 - p)` in training
  /// (PyTorch: `F.dropout`).
  public static func dropout(_ x: Tensor, p: Double, training: Bool) -> Tensor {
    usageCheck(p >= 0 && p <= 1, "dropout probability has to be between 0 and 1, but got \(p)")
    guard training, p > 0 else { return x }
    if p == 1 { return x * 0 }
    let keep = Tensor.rand(x.shape, dtype: x.dtype, device: x.device) .>= p
    return x * keep.to(x.dtype) / (1 - p)
  }
}

/// im2col as one differentiable op (PyTorch: `F.unfold`, laid out as `[N, C*kh*kw, Ho*Wo]`):
/// the forward copies the windows out; the backward adds the column gradients back into
/// place with one strided add per kernel tap (col2im), instead of a scatter per element.
enum Im2Col: CustomFunction {
  struct Geometry {
    let kernel: (Int, Int)
    let stride: (Int, Int)
    let dilation: (Int, Int)
    let inputShape: [Int]
  }

  static func apply(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int)) -> Tensor {
    let geometry = Geometry(kernel: kernel, stride: stride, dilation: dilation, inputShape: x.shape)
    return withGeometry(geometry) { Im2Col.apply(x) }
  }

  /// Hands the geometry to `forward` (which only receives tensors) for this call.
  @TaskLocal static var current: Geometry?

  private static func withGeometry<T>(_ g: Geometry, _ body: () -> T) -> T { $current.withValue(g) { body() } }

  static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor {
    guard let g = current else { usageFailure("Im2Col.forward called outside Im2Col.apply") }
    ctx.values["geometry"] = g
    let x = inputs[0]
    let win = Functional.windows(x, kernel: g.kernel, stride: g.stride, dilation: g.dilation)
    let (n, c, ho, wo) = (x.shape[0], x.shape[1], win.shape[2], win.shape[3])
    return win.permute(0, 1, 4, 5, 2, 3).reshape(n, c * g.kernel.0 * g.kernel.1, ho * wo)
  }

  static func backward(_ ctx: FunctionContext, _ grad: Tensor) throws -> [Tensor?] {
    guard let g = ctx.values["geometry"] as? Geometry else { usageFailure("Im2Col.backward: missing geometry") }
    let (n, c, h, w) = (g.inputShape[0], g.inputShape[1], g.inputShape[2], g.inputShape[3])
    let ho = (h - g.dilation.0 * (g.kernel.0 - 1) - 1) / g.stride.0 + 1
    let wo = (w - g.dilation.1 * (g.kernel.1 - 1) - 1) / g.stride.1 + 1
    let taps = grad.reshape(n, c, g.kernel.0, g.kernel.1, ho, wo)
    let dx = Tensor.zeros([n, c, h, w], dtype: grad.dtype, device: grad.device)
    for i in 0..<g.kernel.0 {
      for j in 0..<g.kernel.1 {
        let rows = TensorIndex.slice(i * g.dilation.0, i * g.dilation.0 + g.stride.0 * (ho - 1) + 1, g.stride.0)
        let cols = TensorIndex.slice(j * g.dilation.1, j * g.dilation.1 + g.stride.1 * (wo - 1) + 1, g.stride.1)
        dx[.all, .all, rows, cols].add_(taps[.all, .all, i, j])
      }
    }
    return [dx]
  }
}

extension Functional {
  /// Class indices as one-hot rows: a new last dim of `numClasses` (one more than the largest
  /// index when -1) with 1 at each index, int64 (PyTorch: `F.one_hot`).
  public static func oneHot(_ tensor: Tensor, numClasses: Int = -1) -> Tensor {
    usageCheck(
      tensor.dtype == .int64,
      "one_hot is only applicable to index tensor of type LongTensor, got \(tensor.dtype.scalarTypeName)")
    if tensor.numel > 0 { usageCheck(tensor.min().item() >= 0, "Class values must be non-negative.") }
    let classes = numClasses == -1 ? (tensor.numel == 0 ? 0 : Int(tensor.max().item()) + 1) : numClasses
    if tensor.numel > 0 {
      usageCheck(Int(tensor.max().item()) < classes, "Class values must be smaller than num_classes.")
    }
    return (tensor.unsqueeze(-1) .== Tensor.arange(classes, device: tensor.device)).long()
  }
}
