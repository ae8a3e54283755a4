// PyTorch's in-place suffix `_` (`add_`, `uniform_`) is part of the API's names.
// swift-format-ignore-file: AlwaysUseLowerCamelCase
// Random functions beyond rand/randn/randint, each drawing from a `Generator` (the default
// one unless given) in PyTorch's order, so a seed gives torch's numbers where the draws match.

extension Tensor {
  /// A random permutation of `0..<n` (PyTorch: `torch.randperm`; on the CPU the same
  /// Fisher-Yates swaps as PyTorch's CPU generator, so the same seed gives the same
  /// permutation). On a device the permutation ranks random keys drawn from the device's
  /// generator, with the device's sort where it has one (CUDA).
  public static func randperm(
    _ n: Int, dtype: DType = .int64, device: Device = .cpu, generator: Generator? = nil, out: Tensor? = nil
  ) -> Tensor {
    Tensor.writing(into: out, op: "randperm") {
      usageCheck(n >= 0, "randperm: n must be non-negative, got \(n)")
      if device != .cpu, generator?.device != .cpu,
        let keys = Tensor.empty([n], dtype: .float64, device: device).drawnOnDevice(
          .uniform(from: 0, to: 1), generator: generator)
      {
        return keys.argsort(stable: true).to(dtype)
      }
      var values = Array(0..<n)
      let g = Generator.host(generator)
      g.lock.withLock {
        let small = n < Int(UInt32.max / 20)
        for i in 0..<Swift.max(n - 1, 0) {
          let draw = small ? UInt64(g.next32()) : g.next64()
          values.swapAt(i, i + Int(draw % UInt64(n - i)))
        }
      }
      return Tensor(values, shape: [n]).to(dtype).movedTo(device)
    }
  }

  /// `numSamples` category indices drawn from each row of non-negative weights (1-D `[C]` or
  /// 2-D `[N, C]`; rows need not sum to 1), as int64 `[numSamples]` or `[N, numSamples]`
  /// (PyTorch: `torch.multinomial`). With `replacement`, each draw is a uniform double
  /// located in the row's normalised cumulative sum; without, the categories with the
  /// largest `p / q`, `q` exponential (the Gumbel top-k trick PyTorch uses), so a seed gives
  /// torch's samples. On the CPU (and with a host generator) the draws are made on the host;
  /// on a device from its Philox stream: with replacement each draw is located by comparing
  /// with the row's cumulative sum there, without, the keys `p / q` are made there and ranked.
  public func multinomial(numSamples: Int, replacement: Bool = false, generator: Generator? = nil) -> Tensor {
    usageCheck(dim == 1 || dim == 2, "prob_dist must be 1 or 2 dim")
    usageCheck(
      dtype.isFloatingPoint, "multinomial only supports floating-point dtypes for input, got: \(dtype.scalarTypeName)")
    usageCheck(numSamples > 0, "cannot sample n_sample <= 0 samples")
    let categories = shape[dim - 1]
    usageCheck(
      replacement || numSamples <= categories, "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
    )
    if device != .cpu && generator?.device != .cpu {
      return multinomialOnDevice(numSamples: numSamples, replacement: replacement, generator: generator)
    }
    let rows = dim == 2 ? shape[0] : 1
    let weights = movedTo(.cpu).to(.float64).contiguous().toArray(Double.self)
    usageCheck(
      weights.allSatisfy { $0.isFinite && $0 >= 0 }, "probability tensor contains either `inf`, `nan` or element < 0")
    for r in 0..<rows {
      usageCheck(
        weights[(r * categories)..<((r + 1) * categories)].reduce(0, +) > 0,
        "invalid multinomial distribution (sum of probabilities <= 0)")
    }
    let outShape = dim == 2 ? [rows, numSamples] : [numSamples]
    guard replacement else {
      let q = Tensor.empty(shape, dtype: dtype).exponential_(generator: generator)
      return (movedTo(.cpu) / q).topk(numSamples, dim: -1).indices.movedTo(device)
    }
    var samples = [Int](repeating: 0, count: rows * numSamples)
    let g = Generator.host(generator)
    g.lock.withLock {
      for r in 0..<rows {
        var cumulative = [Double](repeating: 0, count: categories)
        var sum = 0.0
        for c in 0..<categories {
          sum += weights[r * categories + c]
          cumulative[c] = sum
        }
        for c in 0..<categories { cumulative[c] /= sum }
        for j in 0..<numSamples {
          let u = g.uniformDouble()
          // The first slot whose cumulative probability reaches u.
          var (low, high) = (0, categories)
          while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] < u { low = mid + 1 } else { high = mid }
          }
          samples[r * numSamples + j] = Swift.min(low, categories - 1)
        }
      }
    }
    return Tensor(samples, shape: outShape).movedTo(device)
  }

  /// `multinomial` drawn on this tensor's device: the checks run as one reduction there, the
  /// uniforms (or exponentials) come from the device's generator.
  private func multinomialOnDevice(numSamples: Int, replacement: Bool, generator: Generator?) -> Tensor {
    let rows = dim == 2 ? self : unsqueeze(0)
    let weights = rows.to(dtype == .float64 ? .float64 : .float32)
    let total = weights.sum(dim: [1], keepdim: true)
    let invalid = weights.lt(0).logicalOr(weights.isfinite().logicalNot()).any().logicalOr(total.le(0).any())
    if invalid.item() != 0 {
      usageCheck(
        weights.isfinite().all().item() != 0 && weights.ge(0).all().item() != 0,
        "probability tensor contains either `inf`, `nan` or element < 0")
      usageFailure("invalid multinomial distribution (sum of probabilities <= 0)")
    }
    let samples: Tensor
    if replacement {
      // The first category whose normalised cumulative probability reaches u: the count of
      // categories below u (clamped for rounding at the top).
      let cumulative = weights.cumsum(dim: 1) / total
      let u = Tensor.empty([rows.shape[0], numSamples], dtype: weights.dtype, device: device).uniform_(
        generator: generator)
      samples = cumulative.unsqueeze(1).lt(u.unsqueeze(2)).sum(dim: [2]).clamp(max: .int(Int64(shape[dim - 1] - 1)))
    } else {
      let q = Tensor.empty(weights.shape, dtype: weights.dtype, device: device).exponential_(generator: generator)
      samples = (weights / q).topk(numSamples, dim: -1).indices
    }
    return dim == 2 ? samples.to(.int64) : samples.to(.int64).squeeze(dim: 0)
  }

  /// 1 with the probability each element gives, else 0, as this tensor's dtype
  /// (PyTorch: `torch.bernoulli(p)`).
  public func bernoulli(generator: Generator? = nil, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "bernoulli") {
      usageCheck(
        dtype.isFloatingPoint,
        "bernoulli: expected a floating point tensor of probabilities, got \(dtype.scalarTypeName)")
      // On a device: uniforms drawn there, compared with the probabilities there.
      if let u = Tensor.empty(shape, dtype: dtype == .float64 ? .float64 : .float32, device: device)
        .drawnOnDevice(.uniform(from: 0, to: 1), generator: generator)
      {
        let p = to(u.dtype)
        usageCheck(
          p.ge(0).logicalAnd(p.le(1)).all().item() != 0, "bernoulli: expected all probabilities to be in [0, 1]")
        return u.lt(p).to(dtype)
      }
      let p = movedTo(.cpu).to(.float64).contiguous().toArray(Double.self)
      usageCheck(p.allSatisfy { $0 >= 0 && $0 <= 1 }, "bernoulli: expected all probabilities to be in [0, 1]")
      // PyTorch draws a uniform of the tensor's precision: 53 bits for double, 24 for the rest.
      let wide = dtype == .float64
      var k = 0
      let draws = Tensor.randomCPU(shape, dtype: .float64, generator: generator) { g in
        defer { k += 1 }
        let hit = wide ? g.uniformDouble() < p[k] : g.uniformFloat() < Float(p[k])
        return hit ? 1 : 0
      }
      return draws.to(dtype).movedTo(device)
    }
  }

  /// 1 with probability `p`, else 0, shaped like this tensor (PyTorch: `torch.bernoulli(x, p)`).
  public func bernoulli(p: Double, generator: Generator? = nil) -> Tensor {
    usageCheck(p >= 0 && p <= 1, "bernoulli_ expects p to be in [0, 1], but got p=\(p)")
    if let drawn = drawnOnDevice(.bernoulli(p: p), generator: generator) { return drawn }
    return Tensor.randomCPU(shape, dtype: .float64, generator: generator) { g in g.uniformDouble() < p ? 1 : 0 }
      .to(dtype).movedTo(device)
  }

  /// Fills with 1 (probability `p`) or 0 in place (PyTorch: `x.bernoulli_(p)`).
  @discardableResult
  public func bernoulli_(p: Double, generator: Generator? = nil) -> Tensor {
    copy_(bernoulli(p: p, generator: generator))
    return self
  }

  /// Normal samples with elementwise `mean` and `std` (broadcast together)
  /// (PyTorch: `torch.normal(mean, std)`: standard draws, scaled and shifted).
  public static func normal(mean: Tensor, std: Tensor, generator: Generator? = nil, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "normal") {
      usageCheck(std.min().item() >= 0 || std.numel == 0, "normal expects all elements of std >= 0.0")
      let shape = broadcastShape([mean.shape, std.shape], op: "normal")
      let dtype = resultType([.tensor(mean), .tensor(std)])
      return randn(shape, dtype: dtype, device: mean.device, generator: generator) * std + mean
    }
  }

  /// Normal samples with elementwise `mean` and one `std` (PyTorch: `torch.normal(mean, std=1.0)`).
  public static func normal(mean: Tensor, std: Double = 1, generator: Generator? = nil, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "normal") {
      normal(mean: mean, std: Tensor.full([], std, dtype: mean.dtype, device: mean.device), generator: generator)
    }
  }

  /// Normal samples of `shape` with one `mean` and `std` (PyTorch: `torch.normal(mean, std, size)`).
  public static func normal(
    mean: Double, std: Double, _ shape: [Int], dtype: DType = .float32, device: Device = .cpu,
    generator: Generator? = nil, out: Tensor? = nil
  ) -> Tensor {
    Tensor.writing(into: out, op: "normal") {
      Tensor.empty(shape, dtype: dtype, device: device).normal_(mean: mean, std: std, generator: generator)
    }
  }

  /// Integers from `[low, high)` shaped like `other` (PyTorch: `torch.randint_like`).
  public static func randint(
    _ low: Int, _ high: Int, like other: Tensor, dtype: DType? = nil, generator: Generator? = nil
  ) -> Tensor {
    randint(low, high, other.shape, dtype: dtype ?? other.dtype, device: other.device, generator: generator)
  }

  /// `count` values from `base^start` to `base^end`, evenly spaced in the exponent
  /// (PyTorch: `torch.logspace`).
  public static func logspace(
    _ start: Double, _ end: Double, count: Int, base: Double = 10, dtype: DType = .float32, device: Device = .cpu,
    out: Tensor? = nil
  ) -> Tensor {
    Tensor.writing(into: out, op: "logspace") {
      Tensor.full([], base, dtype: .float64).pow(linspace(start, end, count: count, dtype: .float64)).to(dtype).movedTo(
        device)
    }
  }
}
