/// How a loss combines per-element values (PyTorch's `reduction=`).
public enum Reduction: Sendable {
  /// The mean (the default).
  case mean
  /// The sum.
  case sum
  /// No reduction: one value per element.
  case none
}

extension Reduction {
  func apply(_ loss: Tensor) -> Tensor {
    switch self {
    case .mean: loss.mean()
    case .sum: loss.sum()
    case .none: loss
    }
  }
}

/// Negative log-likelihood of log-probabilities `input` `[N, C, ...]` at class indices
/// `target` `[N, ...]` (PyTorch: `F.nll_loss`); `ignoreIndex` targets count for nothing,
/// and a weighted mean divides by the weights of the counted targets.
public func nllLoss(
  _ input: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100, reduction: Reduction = .mean
) -> Tensor {
  if let cast = Autocast.run(
    .float32, [input, target, weight],
    { c in nllLoss(c[0]!, c[1]!, weight: c[2], ignoreIndex: ignoreIndex, reduction: reduction) })
  {
    return cast
  }
  usageCheck(input.dim >= 1, "nll_loss: expected input with at least 1 dim, got \(input.shape)")
  usageCheck(
    target.dtype == .int64 || target.dtype == .int32,
    "nll_loss: expected target of class indices (int64), got \(target.dtype); for probabilities use crossEntropy")
  let batched = input.dim == 1 ? input.unsqueeze(0) : input
  let labels = input.dim == 1 ? target.view(1) : target.long()
  usageCheck(
    Array(batched.shape.enumerated().filter { $0.offset != 1 }.map(\.element)) == labels.shape,
    "nll_loss: expected target of shape \(batched.shape.enumerated().filter { $0.offset != 1 }.map(\.element)), got \(target.shape)"
  )
  let counted = labels .!= ignoreIndex
  let safe = Tensor.where(counted, labels, 0)
  if safe.numel > 0 {
    let (lo, hi) = safe.integerRange()
    usageCheck(
      hi < batched.shape[1] && lo >= 0,
      "nll_loss: Target \(lo < 0 ? lo : hi) is out of bounds for \(batched.shape[1]) classes")
  }
  let picked = batched.gather(dim: 1, index: safe.unsqueeze(1)).squeeze(dim: 1)
  let w = (weight.map { $0[safe] } ?? Tensor.ones(like: picked)) * counted.to(input.dtype)
  var loss = -picked * w
  switch reduction {
  case .mean: loss = loss.sum() / w.sum()
  case .sum: loss = loss.sum()
  case .none: if input.dim == 1 { loss = loss.squeeze(dim: 0) }
  }
  return loss
}

/// Cross-entropy of logits `input` `[N, C, ...]` against class indices (int64 `[N, ...]`)
/// or class probabilities (float, shaped like `input`), with optional class weights,
/// `ignoreIndex` and label smoothing (PyTorch: `F.cross_entropy`).
public func crossEntropy(
  _ input: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100, reduction: Reduction = .mean,
  labelSmoothing: Double = 0
) -> Tensor {
  if let cast = Autocast.run(
    .float32, [input, target, weight],
    { c in
      crossEntropy(
        c[0]!, c[1]!, weight: c[2], ignoreIndex: ignoreIndex, reduction: reduction, labelSmoothing: labelSmoothing)
    })
  {
    return cast
  }
  usageCheck(
    labelSmoothing >= 0 && labelSmoothing <= 1, "label_smoothing must be between 0.0 and 1.0. Got: \(labelSmoothing)")
  let classDim = input.dim == 1 ? 0 : 1
  let classes = input.shape[classDim]
  let logp = input.logSoftmax(dim: classDim)
  var weightShape = [Int](repeating: 1, count: input.dim)
  weightShape[classDim] = classes
  if target.dtype.isFloatingPoint {
    usageCheck(
      target.shape == input.shape,
      "cross_entropy: probability targets must have the input's shape \(input.shape), got \(target.shape)")
    let smoothed = labelSmoothing > 0 ? target * (1 - labelSmoothing) + labelSmoothing / Double(classes) : target
    var perClass = logp * smoothed
    if let weight { perClass = perClass * weight.view(weightShape) }
    let loss = -perClass.sum(dim: classDim)
    switch reduction {
    case .mean: return input.dim == 1 ? loss : loss.sum() / (input.numel / classes)
    case .sum: return loss.sum()
    case .none: return loss
    }
  }
  let nll = nllLoss(logp, target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction)
  guard labelSmoothing > 0 else { return nll }
  let ignored = target .== ignoreIndex
  var smooth = -(weight.map { logp * $0.view(weightShape) } ?? logp).sum(dim: classDim)
  smooth = smooth.maskedFill(ignored, 0)
  let reduced: Tensor
  switch reduction {
  case .mean:
    if let weight {
      reduced = smooth.sum() / weight[target.maskedSelect(ignored.logicalNot())].sum()
    } else {
      reduced = smooth.sum() / ignored.logicalNot().sum().to(input.dtype)
    }
  case .sum: reduced = smooth.sum()
  case .none: reduced = smooth
  }
  return nll * (1 - labelSmoothing) + reduced * (labelSmoothing / Double(classes))
}

/// Mean squared error (PyTorch: `F.mse_loss`).
public func mseLoss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
  if let cast = Autocast.run(.float32, [input, target], { c in mseLoss(c[0]!, c[1]!, reduction: reduction) }) {
    return cast
  }
  let d = input - target
  return reduction.apply(d * d)
}

/// Mean absolute error (PyTorch: `F.l1_loss`).
public func l1Loss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
  if let cast = Autocast.run(.float32, [input, target], { c in l1Loss(c[0]!, c[1]!, reduction: reduction) }) {
    return cast
  }
  return reduction.apply((input - target).abs())
}

/// Binary cross-entropy of probabilities; logs are clamped at -100 as in PyTorch
/// (PyTorch: `F.binary_cross_entropy`).
public func binaryCrossEntropy(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil, reduction: Reduction = .mean)
  -> Tensor
{
  usageCheck(
    input.shape == target.shape,
    "Using a target size (\(target.shape)) that is different to the input size (\(input.shape)) is deprecated. Please ensure they have the same size."
  )
  // NaN fails the check too, as in PyTorch.
  usageCheck(
    withNoGrad { ((input .>= 0) & (input .<= 1)).all().item(Bool.self) },
    "binary_cross_entropy: all elements of input should be between 0 and 1")
  usageCheck(
    withNoGrad { ((target .>= 0) & (target .<= 1)).all().item(Bool.self) },
    "binary_cross_entropy: all elements of target should be between 0 and 1")
  let logX = input.log().clamp(min: -100)
  let log1mX = (1 - input).log().clamp(min: -100)
  var loss = -(target * logX + (1 - target) * log1mX)
  if let weight { loss = loss * weight }
  return reduction.apply(loss)
}

/// Binary cross-entropy on logits, computed stably, with optional `posWeight` for the
/// positive class (PyTorch: `F.binary_cross_entropy_with_logits`).
public func binaryCrossEntropyWithLogits(
  _ input: Tensor, _ target: Tensor, weight: Tensor? = nil, posWeight: Tensor? = nil, reduction: Reduction = .mean
) -> Tensor {
  if let cast = Autocast.run(
    .float32, [input, target, weight, posWeight],
    { c in binaryCrossEntropyWithLogits(c[0]!, c[1]!, weight: c[2], posWeight: c[3], reduction: reduction) })
  {
    return cast
  }
  usageCheck(
    input.shape == target.shape,
    "Target size (\(target.shape)) must be the same as input size (\(input.shape))")
  let maxVal = (-input).clamp(min: 0)
  let logTerm = ((-maxVal).exp() + (-input - maxVal).exp()).log() + maxVal
  var loss: Tensor
  if let posWeight {
    let logWeight = (posWeight - 1) * target + 1
    loss = (1 - target) * input + logWeight * logTerm
  } else {
    loss = (1 - target) * input + logTerm
  }
  if let weight { loss = loss * weight }
  return reduction.apply(loss)
}

/// Squared error below `delta`, linear above (PyTorch: `F.huber_loss`).
public func huberLoss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean, delta: Double = 1) -> Tensor {
  if let cast = Autocast.run(
    .float32, [input, target], { c in huberLoss(c[0]!, c[1]!, reduction: reduction, delta: delta) })
  {
    return cast
  }
  let d = (input - target).abs()
  return reduction.apply(Tensor.where(d .< delta, d * d * 0.5, (d - 0.5 * delta) * delta))
}

/// `huberLoss / beta`: squared error below `beta`, linear above (PyTorch: `F.smooth_l1_loss`).
public func smoothL1Loss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean, beta: Double = 1) -> Tensor {
  if let cast = Autocast.run(
    .float32, [input, target], { c in smoothL1Loss(c[0]!, c[1]!, reduction: reduction, beta: beta) })
  {
    return cast
  }
  let d = (input - target).abs()
  if beta == 0 { return reduction.apply(d) }
  return reduction.apply(Tensor.where(d .< beta, d * d * (0.5 / beta), d - 0.5 * beta))
}

/// The reductions `klDiv` takes: `Reduction`'s, and the sum over the batch size.
public enum KLDivReduction: Sendable {
  /// The mean over every element (PyTorch's default, which it warns about).
  case mean
  /// The sum.
  case sum
  /// One value per element.
  case none
  /// The sum divided by the batch size: the mathematical KL divergence (PyTorch: `'batchmean'`).
  case batchMean
}

/// The Kullback-Leibler divergence of `target` from `input` (log-probabilities); `target`
/// is probabilities, or log-probabilities with `logTarget` (PyTorch: `F.kl_div`).
public func klDiv(_ input: Tensor, _ target: Tensor, reduction: KLDivReduction = .mean, logTarget: Bool = false)
  -> Tensor
{
  if let cast = Autocast.run(
    .float32, [input, target], { c in klDiv(c[0]!, c[1]!, reduction: reduction, logTarget: logTarget) })
  {
    return cast
  }
  let pointwise = logTarget ? target.exp() * (target - input) : target.xlogy(target) - target * input
  switch reduction {
  case .mean: return pointwise.mean()
  case .sum: return pointwise.sum()
  case .none: return pointwise
  case .batchMean: return pointwise.sum() / Double(input.dim == 0 ? 1 : input.shape[0])
  }
}

/// Negative log-likelihood of a Poisson distribution with rate `exp(input)` (or `input` when
/// `logInput` is false), with Stirling's term for targets above 1 when `full`
/// (PyTorch: `F.poisson_nll_loss`).
public func poissonNLLLoss(
  _ input: Tensor, _ target: Tensor, logInput: Bool = true, full: Bool = false, eps: Double = 1e-8,
  reduction: Reduction = .mean
) -> Tensor {
  if let cast = Autocast.run(
    .float32, [input, target],
    { c in poissonNLLLoss(c[0]!, c[1]!, logInput: logInput, full: full, eps: eps, reduction: reduction) })
  {
    return cast
  }
  var loss = logInput ? input.exp() - target * input : input - target * (input + eps).log()
  if full {
    let stirling = target * target.log() - target + (target * (2 * Double.pi)).log() * 0.5
    loss = loss + Tensor.where(target .> 1, stirling, 0.0)
  }
  return reduction.apply(loss)
}

/// Negative log-likelihood of a Gaussian with mean `input` and variance `variance` (clamped
/// to at least `eps` without blocking its gradient, as PyTorch does) (PyTorch: `F.gaussian_nll_loss`).
public func gaussianNLLLoss(
  _ input: Tensor, _ target: Tensor, variance: Tensor, full: Bool = false, eps: Double = 1e-6,
  reduction: Reduction = .mean
) -> Tensor {
  let clamped = variance + (variance.clamp(min: .double(eps)) - variance).detach()
  var loss = (clamped.log() + (input - target).pow(2) / clamped) * 0.5
  if full { loss = loss + 0.9189385332046727 }  // log(2 pi) / 2
  return reduction.apply(loss)
}

/// `max(0, -y * (x1 - x2) + margin)` for `y` in {1, -1} (PyTorch: `F.margin_ranking_loss`).
public func marginRankingLoss(
  _ x1: Tensor, _ x2: Tensor, _ target: Tensor, margin: Double = 0, reduction: Reduction = .mean
) -> Tensor {
  if let cast = Autocast.run(
    .float32, [x1, x2, target], { c in marginRankingLoss(c[0]!, c[1]!, c[2]!, margin: margin, reduction: reduction) })
  {
    return cast
  }
  return reduction.apply((-target * (x1 - x2) + margin).clamp(min: .double(0)))
}

/// `x` where `y` is 1, `max(0, margin - x)` where it is -1 (PyTorch: `F.hinge_embedding_loss`).
public func hingeEmbeddingLoss(_ input: Tensor, _ target: Tensor, margin: Double = 1, reduction: Reduction = .mean)
  -> Tensor
{
  if let cast = Autocast.run(
    .float32, [input, target], { c in hingeEmbeddingLoss(c[0]!, c[1]!, margin: margin, reduction: reduction) })
  {
    return cast
  }
  let marginTerm = Tensor.where(target .!= 1, (margin - input).clamp(min: .double(0)), 0.0)
  let selfTerm = Tensor.where(target .!= -1, input, 0.0)
  return reduction.apply(marginTerm + selfTerm)
}

/// `log(1 + exp(-y * x))` (PyTorch: `F.soft_margin_loss`).
public func softMarginLoss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
  if let cast = Autocast.run(.float32, [input, target], { c in softMarginLoss(c[0]!, c[1]!, reduction: reduction) }) {
    return cast
  }
  return reduction.apply((-target * input).exp().log1p())
}

/// Binary cross-entropy of logits `[N, C]` against 0/1 targets, averaged over classes
/// (PyTorch: `F.multilabel_soft_margin_loss`).
public func multilabelSoftMarginLoss(
  _ input: Tensor, _ target: Tensor, weight: Tensor? = nil, reduction: Reduction = .mean
) -> Tensor {
  var loss = -(target * Functional.logsigmoid(input) + (1 - target) * Functional.logsigmoid(-input))
  if let weight { loss = loss * weight }
  return reduction.apply(loss.mean(dim: input.dim - 1))
}

/// `max(d(a, p) - d(a, n) + margin, 0)` with `pairwiseDistance`; with `swap`, the negative's
/// distance is the smaller of `d(a, n)` and `d(p, n)` (PyTorch: `F.triplet_margin_loss`).
public func tripletMarginLoss(
  _ anchor: Tensor, _ positive: Tensor, _ negative: Tensor, margin: Double = 1, p: Double = 2, eps: Double = 1e-6,
  swap: Bool = false, reduction: Reduction = .mean
) -> Tensor {
  if let cast = Autocast.run(
    .float32, [anchor, positive, negative],
    { c in tripletMarginLoss(c[0]!, c[1]!, c[2]!, margin: margin, p: p, eps: eps, swap: swap, reduction: reduction) })
  {
    return cast
  }
  let toPositive = Tensor.pairwiseDistance(anchor, positive, p: p, eps: eps)
  var toNegative = Tensor.pairwiseDistance(anchor, negative, p: p, eps: eps)
  if swap { toNegative = toNegative.minimum(Tensor.pairwiseDistance(positive, negative, p: p, eps: eps)) }
  return reduction.apply((toPositive - toNegative + margin).clamp(min: .double(0)))
}

/// `1 - cos(x1, x2)` where `y` is 1, `max(0, cos - margin)` where it is -1, with PyTorch's
/// cosine (`sum(x1 x2) / sqrt((|x1|² + 1e-12)(|x2|² + 1e-12))`) (PyTorch: `F.cosine_embedding_loss`).
public func cosineEmbeddingLoss(
  _ x1: Tensor, _ x2: Tensor, _ target: Tensor, margin: Double = 0, reduction: Reduction = .mean
) -> Tensor {
  if let cast = Autocast.run(
    .float32, [x1, x2, target], { c in cosineEmbeddingLoss(c[0]!, c[1]!, c[2]!, margin: margin, reduction: reduction) })
  {
    return cast
  }
  let last = x1.dim - 1
  let products = (x1 * x2).sum(dim: last)
  let magnitudes = ((x1 * x1).sum(dim: last) + 1e-12) * ((x2 * x2).sum(dim: last) + 1e-12)
  let cosine = products / magnitudes.sqrt()
  let loss =
    Tensor.where(target .== 1, 1 - cosine, 0.0)
    + Tensor.where(target .== -1, (cosine - margin).clamp(min: .double(0)), 0.0)
  return reduction.apply(loss)
}

/// The multi-class hinge loss: for each sample, `sum over i != y of max(0, margin - x[y] +
/// x[i])^p / C`, scaled by `weight[y]` (PyTorch: `F.multi_margin_loss`).
public func multiMarginLoss(
  _ input: Tensor, _ target: Tensor, p: Int = 1, margin: Double = 1, weight: Tensor? = nil, reduction: Reduction = .mean
) -> Tensor {
  if let cast = Autocast.run(
    .float32, [input, target, weight],
    { c in multiMarginLoss(c[0]!, c[1]!, p: p, margin: margin, weight: c[2], reduction: reduction) })
  {
    return cast
  }
  usageCheck(p == 1 || p == 2, "multi_margin_loss: only p == 1 and p == 2 supported, got \(p)")
  let x = input.atleast2d()
  let y = target.reshape(-1, 1)
  let classes = x.shape[1]
  var terms = (x - x.gather(dim: 1, index: y) + margin).clamp(min: .double(0))
  if p == 2 { terms = terms * terms }
  if let weight { terms = terms * weight.gather(dim: 0, index: y.reshape(-1)).view(-1, 1) }
  // The true class's own term (margin) is left out.
  let notTarget = Tensor.arange(classes, device: x.device).view(1, -1) .!= y
  let loss = Tensor.where(notTarget, terms, 0.0).sum(dim: 1) / Double(classes)
  return reduction.apply(input.dim == 1 ? loss.squeeze(dim: 0) : loss)
}

/// The connectionist temporal classification loss of `logProbs` `[T, N, C]` (log-softmax
/// outputs) for padded `targets` `[N, S]` of `targetLengths`, over `inputLengths` time steps
/// (PyTorch: `F.ctc_loss`). The forward recursion runs in log space, in double, with ordinary
/// tensor ops, so the gradient is autograd's. `.mean` divides each loss by its target length
/// first, as PyTorch does; impossible alignments give infinity, or 0 with `zeroInfinity`.
public func ctcLoss(
  _ logProbs: Tensor, _ targets: Tensor, inputLengths: [Int], targetLengths: [Int], blank: Int = 0,
  reduction: Reduction = .mean, zeroInfinity: Bool = false
) -> Tensor {
  usageCheck(logProbs.dim == 3, "ctc_loss: expected log_probs of shape [T, N, C], got \(logProbs.shape)")
  let (steps, batch) = (logProbs.shape[0], logProbs.shape[1])
  usageCheck(
    inputLengths.count == batch && targetLengths.count == batch, "ctc_loss: expected \(batch) input and target lengths")
  usageCheck(
    inputLengths.allSatisfy { $0 >= 0 && $0 <= steps },
    "ctc_loss: input lengths must be in [0, \(steps)], got \(inputLengths)")
  let longest = targets.dim == 2 ? targets.shape[1] : 0
  usageCheck(
    targetLengths.allSatisfy { $0 >= 0 && $0 <= longest },
    "ctc_loss: target lengths must be in [0, \(longest)], got \(targetLengths)")
  let device = logProbs.device
  let states = 2 * longest + 1
  // Extended targets: blank, t1, blank, t2, ..., blank.
  let padded = targets.long().movedTo(device)
  let blanks = Tensor.full([batch, longest + 1], blank, dtype: .int64, device: device)
  let extended =
    longest == 0
    ? blanks
    : Tensor.cat(
      [
        Tensor.stack([blanks[.all, ..<longest], padded], dim: 2).reshape(batch, 2 * longest), blanks[.all, longest...],
      ], dim: 1)
  // A state may also come from two back when it is a label differing from the one two back.
  let isLabel = Tensor.arange(states, device: device).remainder(2) .== 1
  let twoBack = Tensor.cat(
    [Tensor.full([batch, 2], blank, dtype: .int64, device: device), extended[.all, ..<(states - 2)]], dim: 1)
  let skips = isLabel.unsqueeze(0).logicalAnd(extended .!= twoBack)
  let never = -1e30  // a finite "log 0", so unreachable states carry no NaN gradients
  let lp = logProbs.to(.float64).gather(dim: 2, index: extended.unsqueeze(0).expand(steps, batch, states))  // [T, N, L]
  func shifted(_ a: Tensor, by k: Int) -> Tensor {
    Tensor.cat([Tensor.full([batch, k], never, dtype: .float64, device: device), a[.all, ..<(states - k)]], dim: 1)
  }
  let start = Tensor.arange(states, device: device) .< 2
  var alpha = Tensor.where(start.unsqueeze(0), lp[0], never)
  let lengths = Tensor(inputLengths, shape: [batch], device: device).view(batch, 1)
  for t in 1..<Swift.max(steps, 1) {
    let candidates = Tensor.stack(
      [alpha, shifted(alpha, by: 1), Tensor.where(skips, shifted(alpha, by: 2), never)], dim: 2)
    let next = candidates.logsumexp(dim: [2]) + lp[t]
    alpha = Tensor.where(lengths .> t, next, alpha)  // frozen after each sequence's end
  }
  // The last blank and the last label of each sequence end it.
  let ends = Tensor(targetLengths.map { Int64(2 * $0) }, shape: [batch, 1], device: device)
  let finals = Tensor.cat([ends, (ends - 1).clamp(min: .int(0))], dim: 1)
  let endScores = alpha.gather(dim: 1, index: finals)
  let single = Tensor(targetLengths.map { $0 == 0 }, shape: [batch, 1], device: device)
  var loss = -Tensor.where(single, endScores[.all, ..<1], endScores.logsumexp(dim: [1], keepdim: true)).squeeze(dim: 1)
  let impossible = loss .> 1e29
  loss = Tensor.where(impossible, zeroInfinity ? 0.0 : Double.infinity, loss).to(logProbs.dtype)
  switch reduction {
  case .none: return loss
  case .sum: return loss.sum()
  case .mean:
    let divisors = Tensor(targetLengths.map { Double(Swift.max($0, 1)) }, shape: [batch], device: device).to(
      logProbs.dtype)
    return (loss / divisors).mean()
  }
}
