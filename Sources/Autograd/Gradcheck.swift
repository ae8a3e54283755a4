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
    // Analytical Jacobian, one row per output element. An output outside the graph is
    // constant to autograd: its Jacobian is zero, and the finite differences must agree.
    var analytical: [[Double]] = differentiable.map { [Double](repeating: 0, count: outputCount * $0.element.numel) }
    if output.requiresGrad { analytical = differentiable.map { _ in [] } }
    for j in 0..<(output.requiresGrad ? outputCount : 0) {
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

extension Autograd {
  /// Compares the second derivatives of `function` with finite differences of its first
  /// derivatives (PyTorch: `torch.autograd.gradgradcheck`): `gradcheck` of the map from the
  /// inputs and an upstream gradient `gradOutput` to the input gradients of
  /// `sum(function(inputs) * gradOutput)`, computed with `createGraph: true`. So both the
  /// derivative of the gradient with respect to the inputs and with respect to the upstream
  /// gradient are checked. `gradOutput` defaults to a random float64 tensor of the output's
  /// shape. Returns `true`, or throws a `GradcheckError` naming the first mismatch.
  @discardableResult
  public static func gradgradcheck(
    _ function: @escaping ([Tensor]) -> Tensor, inputs: [Tensor], gradOutput: Tensor? = nil, eps: Double = 1e-6,
    atol: Double = 1e-5, rtol: Double = 1e-3
  ) throws -> Bool {
    let upstream = (gradOutput ?? Tensor.randn(like: withNoGrad { function(inputs) })).detach().requiresGrad_()
    let differentiable = inputs.filter(\.requiresGrad)
    var failure: Error?
    let firstDerivatives: ([Tensor]) -> Tensor = { values in
      withGradEnabled(true) {
        let (xs, w) = (Array(values.dropLast()), values[values.count - 1])
        let wanted = xs.filter(\.requiresGrad)
        do {
          let grads = try grad(of: [(function(xs) * w).sum()], wrt: wanted, createGraph: true, allowUnused: true)
          return Tensor.cat(zip(wanted, grads).map { ($1 ?? Tensor.zeros(like: $0)).reshape(-1) })
        } catch {
          failure = error
          return Tensor.zeros([differentiable.reduce(0) { $0 + $1.numel }], dtype: w.dtype)
        }
      }
    }
    let passed = try gradcheck(firstDerivatives, inputs: inputs + [upstream], eps: eps, atol: atol, rtol: rtol)
    if let failure { throw failure }
    return passed
  }
}
