import Foundation
import TestSupport
import Testing

@testable import NN

private let fixtures = Fixtures(named: "GradGradFixtures")
/// The cases PyTorch cannot differentiate twice, with PyTorch's reason.
private let excludedByPyTorch = fixtures.strings("excluded")
private let ceTarget = Tensor([1, 0, 4, 2])
private let ceWeight = Tensor([0.5, 1.0, 1.5, 2.0, 0.8], dtype: .float64)
private let posWeight = Tensor([0.5, 1.0, 2.0, 3.0], dtype: .float64)

/// One layer, one direction of a recurrence through the fused op, flattened as the fixture
/// script's `recurrent`: outputs, final h (and c).
@Sendable private func recurrent(_ kind: RecurrentKind, reverse: Bool = false) -> @Sendable ([Tensor]) -> Tensor {
  { x in
    let weights = RecurrentWeights(
      inputHidden: x[1], hiddenHidden: x[2], inputBias: x[3], hiddenBias: x[4], projection: nil)
    let r = recurrentDirection(
      kind, x[0], weights, h0: x[5], c0: x.count > 6 ? x[6] : nil, lengths: nil, reverse: reverse)
    return Tensor.cat([r.output.flatten(), r.h.flatten()] + (r.c.map { [$0.flatten()] } ?? []))
  }
}

/// The fused ops of the NN module (convolutions, norms, attention, pooling, interpolation,
/// embedding, the losses, the recurrent layers) and the activations built on them, as
/// `Scripts/make_gradgrad_fixtures.py` spells them in PyTorch.
let nnGradGradCases: [String: @Sendable ([Tensor]) -> Tensor] = [
  "conv1d_grouped": {
    Functional.conv1d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: .explicit(1, 1), groups: 2)
  },
  "conv2d": { Functional.conv2d($0[0], weight: $0[1], bias: $0[2], padding: (1, 1)) },
  "conv2d_strided_dilated": {
    Functional.conv2d($0[0], weight: $0[1], bias: nil, stride: (2, 2), dilation: (2, 2), groups: 2)
  },
  "conv3d": { Functional.conv3d($0[0], weight: $0[1], bias: $0[2], padding: [1, 1, 1]) },
  "conv_transpose1d": { Functional.convTranspose1d($0[0], weight: $0[1], bias: $0[2], stride: 2) },
  "conv_transpose2d_grouped": {
    Functional.convTranspose2d($0[0], weight: $0[1], bias: $0[2], stride: (2, 2), outputPadding: (1, 1), groups: 2)
  },
  "batch_norm": {
    Functional.batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true)
  },
  "batch_norm_2d": {
    Functional.batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true)
  },
  "layer_norm": { Functional.layerNorm($0[0], normalizedShape: [5], weight: $0[1], bias: $0[2]) },
  "group_norm": { Functional.groupNorm($0[0], numGroups: 2, weight: $0[1], bias: $0[2]) },
  "instance_norm": { Functional.instanceNorm($0[0], weight: $0[1], bias: $0[2]) },
  "sdpa": { Functional.scaledDotProductAttention($0[0], $0[1], $0[2]) },
  "sdpa_causal": { Functional.scaledDotProductAttention($0[0], $0[1], $0[2], isCausal: true) },
  "sdpa_mask": { Functional.scaledDotProductAttention($0[0], $0[1], $0[2], attnMask: $0[3]) },
  "max_pool2d": { Functional.maxPool2d($0[0], kernel: (2, 2), stride: (2, 2)) },
  "avg_pool2d": { Functional.avgPool2d($0[0], kernel: (3, 3), stride: (2, 2), padding: (1, 1)) },
  "adaptive_avg_pool2d": { Functional.adaptiveAvgPool2d($0[0], outputSize: (2, 3)) },
  "interpolate_bilinear": { Functional.interpolate($0[0], size: [5, 6], mode: .bilinear, alignCorners: false) },
  "interpolate_nearest": { Functional.interpolate($0[0], scaleFactor: [2, 2], mode: .nearest) },
  "embedding": { Functional.embedding(Tensor([[0, 2, 2], [5, 1, 0]]), weight: $0[0]) },
  "cross_entropy": { crossEntropy($0[0], ceTarget) },
  "cross_entropy_smoothing": { crossEntropy($0[0], ceTarget, weight: ceWeight, labelSmoothing: 0.1) },
  "cross_entropy_probabilities": { crossEntropy($0[0], $0[1]) },
  "nll_loss": { nllLoss($0[0].logSoftmax(dim: 1), ceTarget, reduction: .sum) },
  "mse_loss": { mseLoss($0[0], $0[1]) },
  "binary_cross_entropy": { binaryCrossEntropy($0[0], $0[1]) },
  "binary_cross_entropy_with_logits": { binaryCrossEntropyWithLogits($0[0], $0[1], posWeight: posWeight) },
  "huber_loss": { huberLoss($0[0], $0[1], delta: 0.8) },
  "smooth_l1_loss": { smoothL1Loss($0[0], $0[1], beta: 0.7) },
  "kl_div": { klDiv($0[0].logSoftmax(dim: 1), $0[1], reduction: .batchMean) },
  "poisson_nll_loss": { poissonNLLLoss($0[0], $0[1]) },
  "gaussian_nll_loss": { gaussianNLLLoss($0[0], $0[1], variance: $0[2]) },
  "soft_margin_loss": { softMarginLoss($0[0], Tensor([[1.0, -1.0, 1.0, 1.0]]).expand(3, 4).double()) },
  "glu": { Functional.glu($0[0], dim: 1) },
  "softplus": { Functional.softplus($0[0], beta: 2) },
  "logsigmoid": { Functional.logsigmoid($0[0]) },
  "elu": { Functional.elu($0[0]) },
  "selu": { Functional.selu($0[0]) },
  "celu": { Functional.celu($0[0], alpha: 0.7) },
  "mish": { Functional.mish($0[0]) },
  "tanhshrink": { Functional.tanhshrink($0[0]) },
  "leaky_relu": { Functional.leakyRelu($0[0], negativeSlope: 0.2) },
  "pad_reflect": { Functional.pad($0[0], [1, 2, 2, 1], mode: .reflect) },
  "pad_replicate": { Functional.pad($0[0], [1, 2, 2, 1], mode: .replicate) },
  "pad_circular": { Functional.pad($0[0], [1, 2, 2, 1], mode: .circular) },
  "pixel_shuffle": { Functional.pixelShuffle($0[0], upscaleFactor: 2) },
  "unfold": { Functional.unfold($0[0], kernelSize: (2, 3), padding: (1, 0), stride: (1, 2)) },
  "fold": { Functional.fold($0[0], outputSize: (3, 4), kernelSize: (2, 2)) },
  "local_response_norm": { Functional.localResponseNorm($0[0], size: 3, alpha: 0.5) },
  "max_pool1d": { Functional.maxPool1d($0[0], kernel: 3, stride: 2) },
  "avg_pool1d": { Functional.avgPool1d($0[0], kernel: 3, stride: 2, padding: 1) },
  "max_pool3d": { Functional.maxPool3d($0[0], kernel: [2, 2, 2]) },
  "avg_pool3d": { Functional.avgPool3d($0[0], kernel: [3, 3, 3], stride: [2, 2, 2], padding: [1, 1, 1]) },
  "conv_transpose3d": { Functional.convTranspose3d($0[0], weight: $0[1], bias: $0[2], stride: [2, 2, 2]) },
  "interpolate_bicubic": { Functional.interpolate($0[0], size: [6, 5], mode: .bicubic, alignCorners: true) },
  "grid_sample": { Functional.gridSample($0[0], grid: $0[1], alignCorners: false) },
  "affine_grid": { Functional.affineGrid($0[0], size: [2, 1, 3, 4], alignCorners: false) },
  "margin_ranking_loss": {
    marginRankingLoss($0[0], $0[1], Tensor([1.0, -1, 1, -1, 1], dtype: .float64), margin: 0.1)
  },
  "hinge_embedding_loss": { hingeEmbeddingLoss($0[0], Tensor([[1.0, -1, -1], [-1, 1, -1]], dtype: .float64)) },
  "multilabel_soft_margin_loss": {
    multilabelSoftMarginLoss($0[0], Tensor([[1.0, 0, 1, 0]], dtype: .float64).expand(3, 4))
  },
  "cosine_embedding_loss": { cosineEmbeddingLoss($0[0], $0[1], Tensor([1.0, -1, 1], dtype: .float64)) },
  "triplet_margin_loss": { tripletMarginLoss($0[0], $0[1], $0[2], margin: 2) },
  "multi_margin_loss": { multiMarginLoss($0[0], Tensor([1, 0, 3])) },
  "ctc_loss": { ctcLoss($0[0].logSoftmax(dim: 2), Tensor([[1, 2]]), inputLengths: [5], targetLengths: [2]) },
  "lstm_cell": { x in
    let cell = LSTMCell(3, 4)
    (cell.weightIh, cell.weightHh, cell.biasIh, cell.biasHh) = (x[1], x[2], x[3], x[4])
    let next = cell(x[0], (x[5], x[6]))
    return Tensor.cat([next.h.flatten(), next.c.flatten()])
  },
  "gru_cell": { x in
    let cell = GRUCell(3, 4)
    (cell.weightIh, cell.weightHh, cell.biasIh, cell.biasHh) = (x[1], x[2], x[3], x[4])
    return cell(x[0], x[5])
  },
  "lstm": recurrent(.lstm), "lstm_reverse": recurrent(.lstm, reverse: true), "gru": recurrent(.gru),
  "rnn_tanh": recurrent(.rnnTanh),
]

/// A case's float64 inputs (or `dtype`), requiring grad, and its upstream gradient.
private func inputs(_ name: String, as dtype: DType = .float64) -> (inputs: [Tensor], upstream: Tensor) {
  var xs: [Tensor] = []
  while fixtures.has("\(name)_in\(xs.count)") {
    xs.append(fixtures.tensor("\(name)_in\(xs.count)").to(dtype).requiresGrad_())
  }
  return (xs, fixtures.tensor("\(name)_up").to(dtype).requiresGrad_())
}

/// `d/d(x, w) sum_i <grad_x_i sum(f(x) * w), v_i>` (the fixture script's quantity).
private func secondDerivatives(_ f: ([Tensor]) -> Tensor, _ xs: [Tensor], _ w: Tensor, _ vs: [Tensor]) throws
  -> [Tensor]
{
  let firsts = try Autograd.grad(of: [(f(xs) * w).sum()], wrt: xs, createGraph: true, allowUnused: true)
  let terms = zip(firsts, vs).compactMap { g, v in g.flatMap { $0.requiresGrad ? ($0 * v.to(g!.dtype)).sum() : nil } }
  let all = xs + [w]
  guard !terms.isEmpty else { return all.map { Tensor.zeros(like: $0) } }
  let grads = try Autograd.grad(of: [terms.dropFirst().reduce(terms[0], +)], wrt: all, allowUnused: true)
  return zip(all, grads).map { $1 ?? Tensor.zeros(like: $0) }
}

/// Double backward of the fused NN ops: every case's second derivatives equal PyTorch's
/// (float64, and float32 for the kernels that only run in float32) and finite differences of
/// its first derivatives (`gradgradcheck`).
@Suite struct NNGradGradTests {
  @Test(arguments: nnGradGradCases.keys.sorted())
  func secondDerivativesMatchPyTorch(name: String) throws {
    let (xs, w) = inputs(name)
    let f = nnGradGradCases[name]!
    expectClose(f(xs), fixtures.tensor("\(name)_out"), rtol: 1e-10, atol: 1e-12)
    let vs = xs.indices.map { fixtures.tensor("\(name)_v\($0)") }
    guard excludedByPyTorch[name] == nil else { return }
    let results = try secondDerivatives(f, xs, w, vs)
    for (i, actual) in results.enumerated() {
      let label = i < xs.count ? "gg\(i)" : "ggw"
      #expect(actual.allclose(fixtures.tensor("\(name)_\(label)"), rtol: 1e-7, atol: 1e-9), "\(name) \(label)")
    }
  }

  /// The fused float32 kernels (convolution, attention, batch norm, pooling, the LSTM
  /// recurrence) take the composed path for their double backward too.
  @Test(arguments: nnGradGradCases.keys.sorted())
  func float32SecondDerivativesMatchPyTorch(name: String) throws {
    guard excludedByPyTorch[name] == nil else { return }
    let (xs, w) = inputs(name, as: .float32)
    let vs = xs.indices.map { fixtures.tensor("\(name)_v\($0)").float() }
    let results = try secondDerivatives(nnGradGradCases[name]!, xs, w, vs)
    for (i, actual) in results.enumerated() {
      let label = i < xs.count ? "gg\(i)" : "ggw"
      #expect(
        actual.allclose(fixtures.tensor("\(name)_\(label)").float(), rtol: 1e-3, atol: 1e-4),
        "\(name) \(label) in float32")
    }
  }

  /// PyTorch's own exclusions are the only ones: these two still pass `gradgradcheck` here.
  @Test func onlyPyTorchsExclusionsAreSkipped() {
    #expect(
      excludedByPyTorch == [
        "ctc_loss": "derivative for aten::_ctc_loss_backward is not implemented",
        "multi_margin_loss": "derivative for aten::multi_margin_loss_backward is not implemented",
      ])
  }

  @Test(arguments: nnGradGradCases.keys.sorted())
  func secondDerivativesMatchFiniteDifferences(name: String) throws {
    let (xs, w) = inputs(name)
    #expect(
      try Autograd.gradgradcheck(nnGradGradCases[name]!, inputs: xs, gradOutput: w, eps: 1e-6, atol: 1e-5, rtol: 1e-3))
  }
}
