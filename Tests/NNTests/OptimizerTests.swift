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
  "adamw_decay_groups": {
    AdamW(
      [
        ParamGroup([$0[0]], weightDecay: 0.1),
        ParamGroup([$0[1]], lr: 0.02, weightDecay: 0, betas: (0.8, 0.95), eps: 1e-6),
      ],
      lr: 0.01, betas: (0.9, 0.99))
  },
  "sgd_hyper_groups": {
    SGD(
      [ParamGroup([$0[0]], momentum: 0.8, nesterov: true), ParamGroup([$0[1]], weightDecay: 0.05, dampening: 0.3)],
      lr: 0.05, momentum: 0.9)
  },
  "rmsprop_hyper_groups": {
    RMSprop([ParamGroup([$0[0]], alpha: 0.9, centered: true), ParamGroup([$0[1]], momentum: 0.5, eps: 1e-4)], lr: 0.01)
  },
  "adam_amsgrad_group": {
    Adam([ParamGroup([$0[0]], amsgrad: true), ParamGroup([$0[1]])], lr: 0.01, weightDecay: 0.01)
  },
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

  /// Dense float32 parameters take the fused one-pass update; a transposed (non-contiguous)
  /// parameter takes the composed one. Both follow the same trajectory.
  @Test(arguments: ["adam_amsgrad_decay", "adamw_decay_groups", "adam"])
  func fusedAndComposedAdamAgree(name: String) {
    let x = fixtures.tensor("optim_x")
    let y = fixtures.tensor("optim_y")
    func run(_ w: Tensor) -> [Tensor] {
      let b = fixtures.tensor("optim_b0").requiresGrad_()
      let optimizer = optimizers[name]!([w, b])
      return (0..<5).map { _ in
        optimizer.zeroGrad()
        (x.matmul(w) + b - y).pow(2).mean().backward()
        optimizer.step()
        return w.detach().clone()
      }
    }
    let dense = fixtures.tensor("optim_w0").requiresGrad_()
    let transposed = fixtures.tensor("optim_w0").t().contiguous().t().requiresGrad_()
    #expect(!transposed.isContiguous)
    for (a, b) in zip(run(dense), run(transposed)) { expectClose(a, b, rtol: 1e-6, atol: 1e-7) }
  }

  /// A 0-d parameter takes the fused update and follows float64's composed one; an empty
  /// parameter steps without work.
  @Test func adamStepsZeroDimensionalAndEmptyParameters() {
    func run(_ dtype: DType) -> Tensor {
      let scalar = Tensor(1.5, dtype: dtype).requiresGrad_()
      let empty = Tensor.zeros([0, 3], dtype: dtype).requiresGrad_()
      let optimizer = AdamW([scalar, empty], lr: 0.1, weightDecay: 0.1)
      for _ in 0..<4 {
        optimizer.zeroGrad()
        ((scalar - 3).pow(2) + empty.sum()).backward()
        optimizer.step()
      }
      #expect(scalar.dim == 0 && empty.shape == [0, 3])
      return scalar.detach()
    }
    expectClose(run(.float32).double(), run(.float64), rtol: 1e-6, atol: 1e-6)
  }

  @Test func zeroGradClearsAndStateRoundTrips() throws {
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
    try restored.loadStateDict(saved)
    #expect(restored.paramGroups[0].lr == 0.1)
    (w * w).sum().backward()
    optimizer.step()
    (w2 * w2).sum().backward()
    restored.step()
    // Equal only because the momentum buffer came back with the state.
    #expect(w2.equal(w))
  }

  /// An Adam state goes through a `.pt` file in PyTorch's layout and continues bit for bit;
  /// mismatched groups throw PyTorch's message and change nothing.
  @Test func stateSavesAsPyTorchsLayoutAndResumesExactly() throws {
    let w = Tensor([1.0, -2.0, 3.0]).requiresGrad_()
    let b = Tensor([0.5]).requiresGrad_()
    let optimizer = Adam([ParamGroup([w]), ParamGroup([b], lr: 0.01)], lr: 0.1, betas: (0.8, 0.9), amsgrad: true)
    func step(_ o: Optimizer, _ w: Tensor, _ b: Tensor) {
      o.zeroGrad()
      ((w * w).sum() + (b * w).sum()).backward()
      o.step()
    }
    for _ in 0..<3 { step(optimizer, w, b) }
    let tree = try Tensor.loadObject(pt: try Tensor.ptData(optimizer.stateDict().savedValue))
    #expect(tree["param_groups"]?.elements?[1]["lr"]?.double == 0.01)
    #expect(tree["param_groups"]?.elements?[0]["betas"]?.elements?.compactMap(\.double) == [0.8, 0.9])
    #expect(tree["param_groups"]?.elements?[1]["params"]?.elements?.compactMap(\.int) == [1])
    #expect(tree["state"]?[intKey: 0]?["step"]?.tensor?.item() == 3)
    let w2 = w.detach().clone().requiresGrad_()
    let b2 = b.detach().clone().requiresGrad_()
    let restored = Adam([ParamGroup([w2]), ParamGroup([b2])], lr: 0.5)
    try restored.loadStateDict(OptimizerState(tree))
    #expect(restored.paramGroups[1].lr == 0.01 && restored.paramGroups[0].amsgrad == true && restored.stepCount == 3)
    for _ in 0..<3 {
      step(optimizer, w, b)
      step(restored, w2, b2)
    }
    #expect(w2.equal(w) && b2.equal(b))
    let single = Adam([w2, b2], lr: 0.1)
    #expect {
      try single.loadStateDict(OptimizerState(tree))
    } throws: {
      "\($0)".contains("loaded state dict has a different number of parameter groups (2 vs 1)")
    }
    #expect(single.paramGroups[0].lr == 0.1)
  }

  /// Schedulers save their position (PyTorch's names) and a restored chain continues the
  /// same rates.
  @Test func schedulerStateRoundTrips() throws {
    func make() -> (SGD, SequentialLR) {
      let o = SGD([Tensor([1.0]).requiresGrad_()], lr: 0.1, momentum: 0.9)
      let s = SequentialLR(
        o, schedulers: [LinearLR(o, startFactor: 0.1, totalIters: 3), CosineAnnealingLR(o, tMax: 10)], milestones: [3])
      return (o, s)
    }
    let (o1, s1) = make()
    for _ in 0..<5 { s1.step() }
    let saved = try Tensor.loadObject(pt: try Tensor.ptData(["s": s1.stateDict(), "o": o1.stateDict().savedValue]))
    #expect(saved["s"]?["last_epoch"]?.int == 5)
    let (o2, s2) = make()
    try o2.loadStateDict(OptimizerState(saved["o"]!))
    try s2.loadStateDict(saved["s"]!)
    for _ in 0..<6 {
      s1.step()
      s2.step()
      #expect(o1.paramGroups[0].lr == o2.paramGroups[0].lr)
    }
  }

  /// The schedules of `record_schedule` in the fixture script: 100 steps of an SGD (momentum
  /// 0.9, lr 0.1) or Adam (lr 0.1) optimizer, comparing the rate and momentum after each.
  @Test(arguments: [
    "lambda", "linear", "warmup_cosine", "three_stages", "multistep", "exponential", "onecycle",
    "onecycle_three_phase_linear_adam",
    "plateau", "plateau_max_abs",
  ])
  func scheduleSequencesMatchPyTorch(name: String) {
    let schedules = fixtures.strings("schedules")
    func values(_ key: String) -> [Double] { schedules[key]!.split(separator: ",").map { Double($0)! } }
    let adam = name.hasSuffix("adam")
    let optimizer: Optimizer =
      adam
      ? Adam([Tensor.zeros(1).requiresGrad_()], lr: 0.1)
      : SGD([Tensor.zeros(1).requiresGrad_()], lr: 0.1, momentum: 0.9)
    var step: (Int) -> Void
    switch name {
    case "lambda":
      let s = LambdaLR(optimizer) { e in Foundation.pow(0.95, Double(e)) + 0.01 * Double(e % 7) }
      step = { _ in s.step() }
    case "linear":
      let s = LinearLR(optimizer, startFactor: 0.25, endFactor: 0.9, totalIters: 40)
      step = { _ in s.step() }
    case "warmup_cosine":
      let s = SequentialLR(
        optimizer,
        schedulers: [
          LinearLR(optimizer, startFactor: 0.01, totalIters: 10), CosineAnnealingLR(optimizer, tMax: 90, etaMin: 1e-3),
        ],
        milestones: [10])
      step = { _ in s.step() }
    case "three_stages":
      let s = SequentialLR(
        optimizer,
        schedulers: [
          ExponentialLR(optimizer, gamma: 0.9), StepLR(optimizer, stepSize: 7, gamma: 0.5),
          CosineAnnealingLR(optimizer, tMax: 20),
        ],
        milestones: [30, 60])
      step = { _ in s.step() }
    case "multistep":
      let s = MultiStepLR(optimizer, milestones: [10, 30, 30, 75], gamma: 0.5)
      step = { _ in s.step() }
    case "exponential":
      let s = ExponentialLR(optimizer, gamma: 0.97)
      step = { _ in s.step() }
    case "onecycle":
      let s = OneCycleLR(optimizer, maxLR: 0.5, totalSteps: 100)
      step = { _ in s.step() }
    case "onecycle_three_phase_linear_adam":
      let s = OneCycleLR(
        optimizer, maxLR: 0.02, totalSteps: 120, pctStart: 0.25, annealStrategy: .linear, divFactor: 10,
        finalDivFactor: 100, threePhase: true)
      step = { _ in s.step() }
    case "plateau":
      let s = ReduceLROnPlateau(optimizer, factor: 0.5, patience: 3, cooldown: 2, minLR: 0.005)
      let metrics = values("plateau_metrics")
      step = { s.step(metrics[$0]) }
    default:
      let s = ReduceLROnPlateau(optimizer, mode: .max, patience: 2, threshold: 0.01, thresholdMode: .abs)
      let metrics = values("plateau_metrics")
      step = { s.step(-metrics[$0]) }
    }
    let (expectedLR, expectedMomentum) = (values(name), values(name + "_momentum"))
    for i in 0..<100 {
      step(i)
      let group = optimizer.paramGroups[0]
      #expect(
        abs(group.lr - expectedLR[i]) <= 1e-12 * Swift.max(1, abs(expectedLR[i])),
        "\(name) step \(i): lr \(group.lr) vs \(expectedLR[i])")
      let momentum = adam ? group.betas!.0 : group.momentum!
      #expect(
        abs(momentum - expectedMomentum[i]) <= 1e-12,
        "\(name) step \(i): momentum \(momentum) vs \(expectedMomentum[i])")
    }
  }

  @Test func zeroGradCanKeepZeroedGradients() {
    let w = Tensor([1.0, 2.0]).requiresGrad_()
    let optimizer = SGD([w], lr: 0.1)
    (w * w).sum().backward()
    let grad = w.grad!
    optimizer.zeroGrad(setToNone: false)
    #expect(w.grad === grad && grad == Tensor([0.0, 0.0]))
    optimizer.zeroGrad()
    #expect(w.grad == nil)
  }

  @Test func aUserScheduleSubclassesLRScheduler() {
    /// Halves the rate every other epoch, through the public base class.
    final class Halving: LRScheduler {
      override func getLR() -> [Double] { lastLR.map { lastEpoch > 0 && lastEpoch % 2 == 0 ? $0 / 2 : $0 } }
    }
    let optimizer = SGD([Tensor.zeros(1).requiresGrad_()], lr: 0.8)
    let schedule = Halving(optimizer)
    var rates: [Double] = []
    for _ in 0..<5 {
      schedule.step()
      rates.append(schedule.lastLR[0])
    }
    #expect(rates == [0.8, 0.4, 0.4, 0.2, 0.2])
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
