import Tensor
import Testing

/// Expects equal shapes and elementwise `|a - e| <= atol + rtol * |e|` (NaN matches NaN,
/// infinities match by sign), reporting the first mismatch.
public func expectClose(
  _ actual: Tensor, _ expected: Tensor, rtol: Double = 1e-5, atol: Double = 1e-6,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(
    actual.shape == expected.shape, "shape \(actual.shape) != expected \(expected.shape)",
    sourceLocation: sourceLocation)
  guard actual.shape == expected.shape else { return }
  let a = actual.toArray(Double.self)
  let e = expected.toArray(Double.self)
  for i in 0..<a.count {
    let ok: Bool
    if e[i].isNaN {
      ok = a[i].isNaN
    } else if e[i].isInfinite {
      ok = a[i] == e[i]
    } else {
      ok = abs(a[i] - e[i]) <= atol + rtol * abs(e[i])
    }
    if !ok {
      Issue.record("element \(i) (of \(a.count)): \(a[i]) != expected \(e[i])", sourceLocation: sourceLocation)
      return
    }
  }
}

/// Expects exactly these elements (row-major) and shape.
public func expectValues<T: TensorElement & Equatable>(
  _ actual: Tensor, _ values: [T], shape: [Int]? = nil, sourceLocation: SourceLocation = #_sourceLocation
) {
  if let shape { #expect(actual.shape == shape, sourceLocation: sourceLocation) }
  #expect(actual.toArray(T.self) == values, sourceLocation: sourceLocation)
}

/// What an exit test's child process wrote to standard error, as text ("" when the exit
/// test did not run or did not observe it).
public func standardError(of result: ExitTest.Result?) -> String {
  String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
}
