// PyTorch's in-place suffix `_` (`add_`, `uniform_`) is part of the API's names.
// swift-format-ignore-file: AlwaysUseLowerCamelCase
import Autograd

/// Why `clipGradNorm_` refused to clip.
public struct NonFiniteGradientNormError: Error, CustomStringConvertible {
  /// PyTorch's message.
  public let description: String
}

/// Scales the gradients of `parameters` together so that their joint `normType`-norm is at
/// most `maxNorm` (by `maxNorm / (norm + 1e-6)`, when below 1), and returns that norm before
/// clipping (PyTorch: `torch.nn.utils.clip_grad_norm_`). `normType` may be `.infinity`. With
/// `errorIfNonfinite`, a NaN or infinite norm throws and leaves the gradients alone.
@discardableResult
public func clipGradNorm_(_ parameters: [Tensor], maxNorm: Double, normType: Double = 2, errorIfNonfinite: Bool = false)
  throws -> Tensor
{
  let grads = parameters.compactMap(\.grad)
  guard !grads.isEmpty else { return Tensor(0.0, dtype: .float32) }
  let total = withNoGrad { () -> Tensor in
    let norms = grads.map { Linalg.vectorNorm($0.detach(), ord: normType) }
    return Linalg.vectorNorm(Tensor.stack(norms.map { $0.to(grads[0].dtype).movedTo(grads[0].device) }), ord: normType)
  }
  let value = total.double().item()
  if errorIfNonfinite && !value.isFinite {
    throw NonFiniteGradientNormError(
      description:
        "The total norm of order \(normType) for gradients from `parameters` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
    )
  }
  let coefficient = Swift.min(maxNorm / (value + 1e-6), 1)
  withNoGrad {
    for g in grads { _ = g.detach().mul_(coefficient) }
  }
  return total
}

/// Clamps every gradient of `parameters` to `[-clipValue, clipValue]` in place (PyTorch:
/// `torch.nn.utils.clip_grad_value_`).
public func clipGradValue_(_ parameters: [Tensor], clipValue: Double) {
  withNoGrad {
    for g in parameters.compactMap(\.grad) { _ = g.detach().clamp_(min: .double(-clipValue), max: .double(clipValue)) }
  }
}
