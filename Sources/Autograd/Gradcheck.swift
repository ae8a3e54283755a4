/// Why `gradcheck` failed.
public struct GradcheckError: Error, CustomStringConvertible {
  /// Which input, output element and input element disagree, and by how much.
  public let description: String
}

extension Autograd {
  /// Compares the gradients that backward computes for `function` with central finite
  /// differences, element by element (PyTorch: `torch.autograd.gradcheck`). Inputs should be
  /// float64 tensors that require grad. Returns `true`, or throws a `GradcheckError` that
  /// names the first mismatch.
  @discardableResult
  public static func gradcheck(
    _ function: ([Tensor]) -> Tensor, inputs: [Tensor], eps: Double = 1e-6, atol: Double = 1e-5, rtol: Double = 1e-3
  ) throws -> Bool {
    let output = function(inputs)
    let outputCount = output.numel
    let differentiable = inputs.enumerated().filter { $0.element.requiresGrad }
    // Analytical Jacobian, one row per output element.
    var analytical: [[Double]] = differentiable.map { _ in [] }
    for j in 0..<outputCount {
      let seed = Tensor.zeros(like: output)
      seed.view(-1)[j] = Tensor(1.0, dtype: output.dtype)
      let grads = try grad(
        of: [output], wrt: differentiable.map(\.element), gradOutputs: [seed], retainGraph: true, allowUnused: true)
      for (k, g) in grads.enumerated() {
        let input = differentiable[k].element
        analytical[k].append(contentsOf: g?.toArray(Double.self) ?? [Double](repeating: 0, count: input.numel))
      }
    }
    // Numerical Jacobian by perturbing each input element.
    for (k, (index, input)) in differentiable.enumerated() {
      let flat = input.detach().view(-1)
      for e in 0..<input.numel {
        let original = flat[e].item()
        func evaluate(_ value: Double) -> [Double] {
          withNoGrad { flat[e] = Tensor(value, dtype: input.dtype) }
          return withNoGrad { function(inputs).toArray(Double.self) }
        }
        let plus = evaluate(original + eps)
        let minus = evaluate(original - eps)
        withNoGrad { flat[e] = Tensor(original, dtype: input.dtype) }
        for j in 0..<outputCount {
          let numerical = (plus[j] - minus[j]) / (2 * eps)
          let exact = analytical[k][j * input.numel + e]
          if !(abs(numerical - exact) <= atol + rtol * abs(numerical)) {
            throw GradcheckError(
              description:
                "Jacobian mismatch for output element \(j) with respect to input \(index), element \(e): numerical \(numerical), analytical \(exact)"
            )
          }
        }
      }
    }
    return true
  }
}
