import NN
import TestSupport
import Testing

private let fixtures = Fixtures()

private let lossCases: [String: @Sendable (Tensor) -> Tensor] = {
  let labels = fixtures.tensor("loss_labels")
  let ignored = fixtures.tensor("loss_labels_ignored")
  let probs = fixtures.tensor("loss_probs")
  let weight = fixtures.tensor("loss_class_weight")
  return [
    "ce": { crossEntropy($0, labels) },
    "ce_sum": { crossEntropy($0, labels, reduction: .sum) },
    "ce_none": { crossEntropy($0, labels, reduction: .none) },
    "ce_weight": { crossEntropy($0, labels, weight: weight) },
    "ce_ignore": { crossEntropy($0, ignored) },
    "ce_smooth": { crossEntropy($0, labels, labelSmoothing: 0.1) },
    "ce_smooth_weight_ignore": { crossEntropy($0, ignored, weight: weight, labelSmoothing: 0.2) },
    "ce_probs": { crossEntropy($0, probs) },
    "ce_probs_smooth": { crossEntropy($0, probs, weight: weight, labelSmoothing: 0.1) },
    "nll": { nllLoss($0.logSoftmax(dim: 1), labels, weight: weight) },
    "mse": { mseLoss($0, probs) },
    "mse_sum": { mseLoss($0, probs, reduction: .sum) },
    "l1": { l1Loss($0, probs) },
    "l1_none": { l1Loss($0, probs, reduction: .none) },
  ]
}()

@Suite struct LossTests {
  @Test(arguments: lossCases.keys.sorted())
  func lossesMatchPyTorch(name: String) {
    expectMatchesPyTorch(
      lossCases[name]!, fixtures, input: "loss_logits", output: "loss_\(name)_out", gradient: "loss_\(name)_grad")
  }

  @Test func crossEntropyOverSpatialDims() {
    let x = fixtures.tensor("loss_seg_logits").requiresGrad_()
    let out = crossEntropy(x, fixtures.tensor("loss_seg_labels"))
    expectClose(out, fixtures.tensor("loss_ce_seg_out"), rtol: 1e-5)
    out.backward()
    expectClose(x.grad!, fixtures.tensor("loss_ce_seg_grad"), rtol: 1e-4, atol: 1e-6)
  }

  @Test(arguments: ["bce", "bce_weight_sum", "bce_logits", "bce_logits_pos"])
  func binaryLossesMatchPyTorch(name: String) {
    let t = fixtures.tensor("loss_t01")
    let x = fixtures.tensor("loss_\(name)_in").requiresGrad_()
    let out: Tensor =
      switch name {
      case "bce": binaryCrossEntropy(x, t)
      case "bce_weight_sum": binaryCrossEntropy(x, t, weight: Tensor.linspace(0.5, 1.5, count: 6), reduction: .sum)
      case "bce_logits": binaryCrossEntropyWithLogits(x, t)
      default: binaryCrossEntropyWithLogits(x, t, posWeight: Tensor(2.5), reduction: .none)
      }
    expectClose(out, fixtures.tensor("loss_\(name)_out"), rtol: 1e-5, atol: 1e-6)
    out.sum().backward()
    expectClose(x.grad!, fixtures.tensor("loss_\(name)_grad"), rtol: 1e-4, atol: 1e-6)
  }

  @Test func targetOutOfRangeStops() async {
    await #expect(processExitsWith: .failure) { _ = crossEntropy(Tensor.zeros(2, 3), Tensor([0, 3])) }
  }
}

/// The losses added after cross-entropy and friends, each rebuilt from the saved inputs.
private let moreLossCases: [String: @Sendable (Tensor) -> Tensor] = {
  func load(_ name: String) -> Tensor { fixtures.tensor("loss2_\(name)") }
  let (t, signs, counts, variance) = (load("t"), load("signs"), load("counts"), load("variance"))
  let (targets01, classes, weight, logTarget) = (
    load("targets01"), load("classes"), load("class_weight"), load("log_target")
  )
  return [
    "huber": { huberLoss($0, t, delta: 0.7) },
    "smooth_l1": { smoothL1Loss($0, t, reduction: .sum, beta: 0.5) },
    "kl_div": { klDiv($0.logSoftmax(dim: 1), t.softmax(dim: 1), reduction: .batchMean) },
    "kl_div_log": { klDiv($0.logSoftmax(dim: 1), logTarget, reduction: .sum, logTarget: true) },
    "poisson_nll": { poissonNLLLoss($0, counts) },
    "poisson_nll_full": { poissonNLLLoss($0.abs() + 0.5, counts, logInput: false, full: true) },
    "gaussian_nll": { gaussianNLLLoss($0, t, variance: variance, full: true) },
    "margin_ranking": { marginRankingLoss($0[.all, 0], $0[.all, 1], signs, margin: 0.2) },
    "hinge_embedding": { hingeEmbeddingLoss($0[.all, 0], signs, margin: 0.5) },
    "soft_margin": { softMarginLoss($0[.all, 0], signs) },
    "multilabel_soft_margin": { multilabelSoftMarginLoss($0, targets01, weight: weight) },
    "triplet_margin": { tripletMarginLoss($0, t, $0.flip(0), margin: 0.5, swap: true) },
    "cosine_embedding": { cosineEmbeddingLoss($0, t, signs, margin: 0.1) },
    "multi_margin": { multiMarginLoss($0, classes, weight: weight) },
    "multi_margin_p2": { multiMarginLoss($0, classes, p: 2, margin: 0.5, reduction: .none) },
  ]
}()

@Suite struct MoreLossTests {
  @Test(arguments: moreLossCases.keys.sorted())
  func lossesMatchPyTorch(name: String) {
    expectMatchesPyTorch(
      moreLossCases[name]!, fixtures, input: "loss2_x", output: "loss2_\(name)_out", gradient: "loss2_\(name)_grad")
  }
}

@Suite struct OneHotTests {
  @Test func oneHotRowsMatchPyTorch() {
    #expect(
      Functional.oneHot(Tensor([0, 2, 1]), numClasses: 4) == Tensor([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]]))
    #expect(Functional.oneHot(Tensor([[1], [0]])) == Tensor([[[0, 1]], [[1, 0]]]))
  }
}

/// CTC cases, as the fixture script calls `F.ctc_loss`.
private let ctcCases: [String: @Sendable (Tensor) -> Tensor] = {
  let targets = fixtures.tensor("ctc_targets")
  let (inputs, lengths) = ([12, 10, 7], [4, 2, 3])
  return [
    "mean": { ctcLoss($0.logSoftmax(dim: 2), targets, inputLengths: inputs, targetLengths: lengths) },
    "sum": { ctcLoss($0.logSoftmax(dim: 2), targets, inputLengths: inputs, targetLengths: lengths, reduction: .sum) },
    "none_blank4": {
      ctcLoss(
        $0.logSoftmax(dim: 2), targets.clamp(max: 3), inputLengths: inputs, targetLengths: lengths, blank: 4,
        reduction: .none)
    },
    "impossible_zero_infinity": {
      ctcLoss(
        $0.logSoftmax(dim: 2), targets, inputLengths: [12, 10, 4], targetLengths: lengths, reduction: .none,
        zeroInfinity: true)
    },
  ]
}()

@Suite struct CTCLossTests {
  @Test(arguments: ctcCases.keys.sorted())
  func matchesPyTorch(name: String) {
    expectMatchesPyTorch(
      ctcCases[name]!, fixtures, input: "ctc_logits", output: "ctc_\(name)_out", gradient: "ctc_\(name)_grad")
  }
}
