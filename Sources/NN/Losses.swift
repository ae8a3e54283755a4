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
public func nllLoss(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100, reduction: Reduction = .mean) -> Tensor {
  usageCheck(input.dim >= 1, "nll_loss: expected input with at least 1 dim, got \(input.shape)")
  usageCheck(
    target.dtype == .int64 || target.dtype == .int32,
    "nll_loss: expected target of class indices (int64), got \(target.dtype); for probabilities use crossEntropy")
  let batched = input.dim == 1 ? input.unsqueeze(0) : input
  let labels = input.dim == 1 ? target.view(1) : target.long()
  usageCheck(
    Array(batched.shape.enumerated().filter { $0.offset != 1 }.map(\.element)) == labels.shape,
    "nll_loss: expected target of shape \(batched.shape.enumerated().filter { $0.offset != 1 }.map(\.element)), got \(target.shape)")
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
  usageCheck(labelSmoothing >= 0 && labelSmoothing <= 1, "label_smoothing must be between 0.0 and 1.0. Got: \(labelSmoothing)")
  let classDim = input.dim == 1 ? 0 : 1
  let classes = input.shape[classDim]
  let logp = input.logSoftmax(dim: classDim)
  var weightShape = [Int](repeating: 1, count: input.dim)
  weightShape[classDim] = classes
  if target.dtype.isFloatingPoint {
    usageCheck(target.shape == input.shape, "cross_entropy: probability targets must have the input's shape \(input.shape), got \(target.shape)")
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
  let d = input - target
  return reduction.apply(d * d)
}

/// Mean absolute error (PyTorch: `F.l1_loss`).
public func l1Loss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
  reduction.apply((input - target).abs())
}

/// Binary cross-entropy of probabilities; logs are clamped at -100 as in PyTorch
/// (PyTorch: `F.binary_cross_entropy`).
public func binaryCrossEntropy(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil, reduction: Reduction = .mean) -> Tensor {
  usageCheck(
    input.shape == target.shape,
    "Using a target size (\(target.shape)) that is different to the input size (\(input.shape)) is deprecated. Please ensure they have the same size.")
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
