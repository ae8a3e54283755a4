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
    let x = fixtures.tensor("loss_logits").requiresGrad_()
    let out = lossCases[name]!(x)
    expectClose(out, fixtures.tensor("loss_\(name)_out"), rtol: 1e-5, atol: 1e-6)
    out.sum().backward()
    expectClose(x.grad!, fixtures.tensor("loss_\(name)_grad"), rtol: 1e-4, atol: 1e-6)
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
