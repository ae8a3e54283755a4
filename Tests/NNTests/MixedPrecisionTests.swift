import Foundation
import NN
import Optim
import TestSupport
import Testing

private let fixtures = Fixtures()

/// `GradScaler` and autocast against PyTorch (`Scripts/make_amp_fixtures.py`).
@Suite struct MixedPrecisionTests {
  /// Seven SGD steps of a linear model under a scaler that grows every 2 clean steps: step 2's
  /// loss overflows and step 4's is NaN (both skipped, scale halved), step 5 unscales first and
  /// clips; scale, growth tracker, skips and parameters after every step match PyTorch's.
  @Test func gradScalerMatchesPyTorchStepByStep() throws {
    let steps = try JSONSerialization.jsonObject(with: Data(fixtures.strings("amp_scaler")["steps"]!.utf8)) as! [[String: Any]]
    let model = Linear(3, 2)
    try model.loadStateDict(["weight": fixtures.tensor("amp_scaler_w0"), "bias": fixtures.tensor("amp_scaler_b0")])
    let optimizer = SGD(model.parameters(), lr: 0.1, momentum: 0.9)
    let scaler = GradScaler(device: .cpu, initScale: 1024, growthInterval: 2)
    for (i, expected) in steps.enumerated() {
      optimizer.zeroGrad()
      var loss = model(fixtures.tensor("amp_scaler_x\(i)")).pow(2).mean()
      if i == 2 { loss = loss * Double.infinity }
      if i == 4 { loss = loss * Double.nan }
      scaler.scale(loss).backward()
      if i == 5 {
        scaler.unscale_(optimizer)
        _ = try clipGradNorm_(model.parameters(), maxNorm: 0.5)
      }
      let stepped = scaler.step(optimizer)
      scaler.update()
      #expect(stepped == expected["stepped"] as! Bool, "step \(i)")
      #expect(scaler.scale == expected["scale"] as! Double, "step \(i)")
      #expect(scaler.stateDict().growthTracker == expected["growth_tracker"] as! Int, "step \(i)")
      expectClose(model.weight, fixtures.tensor("amp_scaler_w\(i + 1)"), rtol: 1e-6, atol: 1e-7)
      expectClose(model.bias!, fixtures.tensor("amp_scaler_b\(i + 1)"), rtol: 1e-6, atol: 1e-7)
    }
    let restored = GradScaler(device: .cpu, growthInterval: 2)
    restored.loadStateDict(scaler.stateDict())
    #expect(restored.stateDict() == GradScaler.State(scale: 1024, growthTracker: 0))
  }

  @Test func aDisabledScalerPassesThrough() {
    let scaler = GradScaler(device: .cpu, enabled: false)
    let loss = Tensor(3.0)
    #expect(scaler.scale(loss) === loss && scaler.scale == 1)
    let w = Tensor([1.0], requiresGrad: true)
    let optimizer = SGD([w], lr: 1)
    (w * 2).sum().backward()
    #expect(scaler.step(optimizer))
    scaler.update()
    #expect(w.toArray(Float.self) == [-1])
  }

  @Test func misuseStopsWithPyTorchsMessages() async {
    let twice = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let w = Tensor([1.0], requiresGrad: true)
      let optimizer = SGD([w], lr: 1)
      let scaler = GradScaler(device: .cpu)
      scaler.scale((w * 2).sum()).backward()
      scaler.unscale_(optimizer)
      scaler.unscale_(optimizer)
    }
    #expect(standardError(of: twice).contains("unscale_() has already been called on this optimizer since the last update()."))
    let noChecks = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      GradScaler(device: .cpu).update()
    }
    #expect(standardError(of: noChecks).contains("No inf checks were recorded prior to update."))
  }
}
