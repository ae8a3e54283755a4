import Foundation
import NN
import Optim
import TestSupport
import Testing

private let fixtures = Fixtures()

private let optimizers: [String: @Sendable ([Tensor]) -> Optimizer] = [
  "sgd": { SGD($0, lr: 0.1) },
  "sgd_momentum": { SGD($0, lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01) },
  "sgd_nesterov": { SGD($0, lr: 0.05, momentum: 0.9, nesterov: true) },
  "adam": { Adam($0, lr: 0.01) },
  "adam_amsgrad_decay": { Adam($0, lr: 0.01, weightDecay: 0.1, amsgrad: true) },
  "adamw": { AdamW($0, lr: 0.01) },
  "rmsprop": { RMSprop($0, lr: 0.01) },
  "rmsprop_centered_momentum": { RMSprop($0, lr: 0.01, weightDecay: 0.1, momentum: 0.5, centered: true) },
  "sgd_groups": { SGD([ParamGroup([$0[0]]), ParamGroup([$0[1]], lr: 0.5)], lr: 0.1, momentum: 0.9) },
]

@Suite struct OptimizerTests {
  @Test(arguments: optimizers.keys.sorted())
  func trajectoriesMatchPyTorch(name: String) {
    let w = fixtures.tensor("optim_w0").requiresGrad_()
    let b = fixtures.tensor("optim_b0").requiresGrad_()
    let x = fixtures.tensor("optim_x")
    let y = fixtures.tensor("optim_y")
    let optimizer = optimizers[name]!([w, b])
    let expected = fixtures.tensor("optim_\(name)")
    for step in 0..<5 {
      optimizer.zeroGrad()
      let loss = (x.matmul(w) + b - y).pow(2).mean()
      loss.backward()
      optimizer.step()
      expectClose(Tensor.cat([w.detach().flatten(), b.detach().flatten()]), expected[step], rtol: 1e-5, atol: 1e-6)
    }
  }

  @Test func zeroGradClearsAndStateRoundTrips() {
    let w = Tensor([1.0, 2.0, 3.0]).requiresGrad_()
    let optimizer = SGD([w], lr: 0.1, momentum: 0.9)
    (w * w).sum().backward()
    optimizer.step()
    optimizer.zeroGrad()
    #expect(w.grad == nil)
    let saved = optimizer.stateDict()
    #expect(saved.state[0]?["momentum_buffer"] != nil)
    let w2 = w.detach().clone().requiresGrad_()
    let restored = SGD([w2], lr: 0.5, momentum: 0.9)
    restored.loadStateDict(saved)
    #expect(restored.paramGroups[0].lr == 0.1)
    (w * w).sum().backward()
    optimizer.step()
    (w2 * w2).sum().backward()
    restored.step()
    // Equal only because the momentum buffer came back with the state.
    #expect(w2.equal(w))
  }

  @Test func schedulersMatchPyTorch() {
    let schedules = fixtures.strings("schedules")
    let expectedStep = schedules["step"]!.split(separator: ",").map { Double($0)! }
    let expectedCosine = schedules["cosine"]!.split(separator: ",").map { Double($0)! }
    let stepOptimizer = SGD([Tensor.zeros(1).requiresGrad_()], lr: 0.1)
    let stepLR = StepLR(stepOptimizer, stepSize: 3, gamma: 0.5)
    var lrs: [Double] = []
    for _ in 0..<10 {
      stepLR.step()
      lrs.append(stepLR.lastLR[0])
    }
    #expect(zip(lrs, expectedStep).allSatisfy { abs($0 - $1) < 1e-12 })
    let cosineOptimizer = SGD([Tensor.zeros(1).requiresGrad_()], lr: 0.1)
    let cosine = CosineAnnealingLR(cosineOptimizer, tMax: 4, etaMin: 0.01)
    lrs = []
    for _ in 0..<12 {
      cosine.step()
      lrs.append(cosine.lastLR[0])
    }
    #expect(zip(lrs, expectedCosine).allSatisfy { abs($0 - $1) < 1e-12 })
  }

  @Test func nonLeafParametersStop() async {
    await #expect(processExitsWith: .failure) { _ = SGD([Tensor.ones(2).requiresGrad_() * 2], lr: 0.1) }
  }
}
