extension Tensor {
  /// `x @ weight.T + bias` by the backend's fused product (the bias added as the product
  /// forms, one pass over the result), for `x` `[M, K]`, `weight` `[N, K]` and `bias` `[N]` on
  /// one device; nil when the backend declines. Not recorded: `Functional.linear` records it.
  package static func fusedLinear(_ x: Tensor, weight: Tensor, bias: Tensor) -> Tensor? {
    guard x.dim == 2, weight.dim == 2, bias.dim == 1, x.shape[1] == weight.shape[1], bias.shape[0] == weight.shape[0],
      weight.device == x.device, bias.device == x.device, x.dtype == weight.dtype, bias.dtype == x.dtype
    else { return nil }
    let out = Tensor(uninitializedShape: [x.shape[0], weight.shape[0]], dtype: x.dtype, device: x.device)
    guard x.backend.fusedLinear(x, weight: weight, bias: bias, into: out) else { return nil }
    out.markWritten()
    return out
  }
}
