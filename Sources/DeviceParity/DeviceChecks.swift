import Autograd
import CUDABackend
import Foundation
import NN

extension DeviceParity {
  /// The device's random numbers against the host reference of the same Philox stream
  /// (`Philox.values`): uniform and Bernoulli values bit for bit in every float type, normal
  /// values within the last bits of `log`/`sin`/`cos`; the generator's offset advancing per
  /// fill; and dropout's keep rate.
  public static func randomStreams(on device: Device) -> [Outcome] {
    var outcomes: [Outcome] = []
    func check(_ name: String, _ failure: @autoclosure () -> String?) {
      outcomes.append(Outcome(name: "random \(name)", failure: failure()))
    }
    func compare(_ got: [Double], _ want: [Double], tolerance: Double) -> String? {
      guard got.count == want.count else { return "\(got.count) values, expected \(want.count)" }
      for i in got.indices where !(abs(got[i] - want[i]) <= tolerance * (1 + abs(want[i]))) {
        return "element \(i): \(got[i]) vs reference \(want[i])"
      }
      return nil
    }
    let count = 4099  // not a multiple of 4: the last Philox block is partial
    for dtype in [DType.float32, .float64, .float16, .bfloat16] {
      let g = Generator(device: device).manualSeed(2024)
      do {
        let uniform = try Tensor.empty([count], dtype: dtype, device: device).uniform_(from: -2, to: 5, generator: g)
          .cpu()
        check(
          "uniform \(dtype.name)",
          compare(
            uniform.toArray(Double.self),
            Philox.values(count: count, dtype: dtype, .uniform(from: -2, to: 5), seed: 2024, offset: 0), tolerance: 0))
        let normal = try Tensor.empty([count], dtype: dtype, device: device).normal_(mean: 1, std: 3, generator: g)
          .cpu()
        let reference = Tensor(
          Philox.values(count: count, dtype: dtype, .normal(mean: 1, std: 3), seed: 2024, offset: 1), shape: [count])
        let tolerance = dtype == .float64 ? 1e-12 : (dtype == .float32 ? 1e-5 : 1e-2)
        check(
          "normal \(dtype.name)",
          compare(normal.toArray(Double.self), reference.to(dtype).toArray(Double.self), tolerance: tolerance))
        let coins = try Tensor.zeros([count], dtype: dtype, device: device).bernoulli(p: 0.3, generator: g).cpu()
        check(
          "bernoulli \(dtype.name)",
          compare(
            coins.toArray(Double.self),
            Philox.values(count: count, dtype: dtype, .bernoulli(p: 0.3), seed: 2024, offset: 2), tolerance: 0))
        check(
          "offset \(dtype.name)",
          g.getState().toArray(UInt8.self)[8] == 3
            ? nil : "the offset is \(g.getState().toArray(UInt8.self)[8]) after three fills, expected 3")
      } catch {
        check(dtype.name, "\(error)")
      }
    }
    do {
      Generator.default(for: device).manualSeed(5)
      let x = try Tensor.ones([1 << 16]).to(device)
      let kept = try (Functional.dropout(x, p: 0.25, training: true) .!= 0).float().mean().cpu().item()
      check("dropout keep rate", abs(kept - 0.75) < 0.01 ? nil : "kept \(kept) of the elements, expected about 0.75")
    } catch {
      check("dropout keep rate", "\(error)")
    }
    return outcomes
  }

  /// Streams, events and asynchronous copies on a CUDA device: a pinned tensor copied there
  /// and back without blocking on a stream of its own, a kernel timed with events, and a
  /// tensor freed after `recordStream` on another stream (its block waits for that stream).
  public static func streamChecks(on device: Device) -> [Outcome] {
    guard case .cuda(let index) = device else { return [] }
    var outcomes: [Outcome] = []
    func check(_ name: String, _ body: () throws -> String?) {
      do {
        outcomes.append(Outcome(name: "stream \(name)", failure: try body()))
      } catch {
        outcomes.append(Outcome(name: "stream \(name)", failure: "\(error)"))
      }
    }
    check("non-blocking round trip") {
      let host = try Tensor.arange(0, 1 << 20, dtype: .float32).pinMemory(device: device)
      let stream = try CUDA.Stream(device: index)
      let back = try CUDA.withStream(stream) { () throws -> Tensor in
        let there = try host.to(device, nonBlocking: true)
        let doubled = there * 2
        return try doubled.to(.cpu, nonBlocking: true)
      }
      try stream.synchronize()
      return back.toArray(Float.self) == host.toArray(Float.self).map { $0 * 2 }
        ? nil : "the values did not survive the round trip"
    }
    check("event timing") {
      let a = try Tensor.randn(2048, 2048).to(device)
      let start = try CUDA.Event(enableTiming: true)
      let end = try CUDA.Event(enableTiming: true)
      try start.record()
      _ = a.mm(a)
      try end.record()
      try end.synchronize()
      let milliseconds = try start.elapsedTime(to: end)
      return milliseconds > 0 && milliseconds < 1000 ? nil : "elapsed \(milliseconds) ms"
    }
    check("recordStream and wait") {
      let side = try CUDA.Stream(device: index)
      let x = try Tensor.randn(1 << 20).to(device)
      let y = try CUDA.withStream(side) { () throws -> Tensor in
        try side.wait(CUDA.Stream.current(device: index))
        x.recordStream(side)
        return x.exp()
      }
      try CUDA.Stream.current(device: index).wait(side)
      let expected = try x.cpu().exp()
      let got = try y.cpu()
      try side.synchronize()
      return (got - expected).abs().max().item() < 1e-5 ? nil : "exp on the side stream differs"
    }
    return outcomes
  }

  /// float32 matmul with TF32 allowed against the float32 product: TF32 keeps 10 mantissa
  /// bits, so the results agree to about 1e-3 relative; the switch is restored afterwards.
  public static func tf32Check(on device: Device) -> [Outcome] {
    guard device.isCUDA else { return [] }
    do {
      let a = try Tensor.randn(256, 256).to(device)
      let b = try Tensor.randn(256, 256).to(device)
      let exact = try a.mm(b).cpu()
      CUDA.allowTF32 = true
      defer { CUDA.allowTF32 = false }
      let fast = try a.mm(b).cpu()
      let relative = ((fast - exact).abs().max() / exact.abs().max()).item()
      return [
        Outcome(
          name: "matmul TF32 close to float32", failure: relative < 5e-3 ? nil : "relative difference \(relative)")
      ]
    } catch {
      return [Outcome(name: "matmul TF32 close to float32", failure: "\(error)")]
    }
  }
}
