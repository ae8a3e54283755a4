import NN
import TestSupport
import Testing

/// Runs `f` on the fixture `input` (requiring grad) and compares its output and the input's
/// gradient with PyTorch's: the gradient of `sum(out * upstream)`, or of `sum(out)` without one.
func expectMatchesPyTorch(
  _ f: (Tensor) -> Tensor, _ fixtures: Fixtures, input: String, output: String, gradient: String,
  upstream: String? = nil,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  let x = fixtures.tensor(input).requiresGrad_()
  let out = f(x)
  expectClose(out, fixtures.tensor(output), rtol: 1e-5, atol: 1e-5, sourceLocation: sourceLocation)
  (upstream.map { out * fixtures.tensor($0) } ?? out).sum().backward()
  expectClose(x.grad!, fixtures.tensor(gradient), rtol: 1e-4, atol: 1e-5, sourceLocation: sourceLocation)
}
