/// Chooses the order of a dataset's samples for one epoch (PyTorch: `Sampler`). Randomness
/// comes from the epoch's generator, which the `DataLoader` seeds once per epoch, so a
/// resumed loader draws the same order again.
public protocol Sampler {
  /// How many indices an epoch yields.
  var count: Int { get }
  /// The indices of one epoch, in order.
  func indices(generator: Generator) -> [Int]
}

/// `0, 1, ..., count - 1` (PyTorch: `SequentialSampler`).
public struct SequentialSampler: Sampler {
  /// The number of samples.
  public let count: Int
  /// A sampler over `count` samples.
  public init(count: Int) { self.count = count }
  /// The indices in order.
  public func indices(generator: Generator) -> [Int] { Array(0..<count) }
}

/// A random order (PyTorch: `RandomSampler`): a permutation of all samples, or with
/// `replacement` `numSamples` independent uniform draws.
public struct RandomSampler: Sampler {
  /// The dataset's size.
  public let dataCount: Int
  /// Whether samples are drawn with replacement.
  public let replacement: Bool
  /// How many indices an epoch yields (`dataCount` unless given).
  public let count: Int

  /// A random sampler over `dataCount` samples.
  public init(dataCount: Int, replacement: Bool = false, numSamples: Int? = nil) {
    usageCheck(
      numSamples.map { $0 > 0 } ?? true,
      "num_samples should be a positive integer value, but got num_samples=\(numSamples ?? 0)")
    self.dataCount = dataCount
    self.replacement = replacement
    count = numSamples ?? dataCount
  }

  /// A permutation (repeated and cut to `count` when `numSamples` asks for more or fewer),
  /// or uniform draws with replacement.
  public func indices(generator: Generator) -> [Int] {
    guard dataCount > 0 else { return [] }
    if replacement {
      return Tensor.randint(0, dataCount, like: Tensor.zeros(count, dtype: .int64), generator: generator).toArray(
        Int64.self
      ).map(Int.init)
    }
    var result: [Int] = []
    while result.count < count {
      result += Tensor.randperm(dataCount, generator: generator).toArray(Int64.self).map(Int.init)
    }
    return Array(result.prefix(count))
  }
}

/// A random order of the given indices (PyTorch: `SubsetRandomSampler`).
public struct SubsetRandomSampler: Sampler {
  /// The indices to permute.
  public let subset: [Int]
  /// A sampler over `indices`.
  public init(indices: [Int]) { subset = indices }
  /// The number of indices.
  public var count: Int { subset.count }
  /// The indices in a random order.
  public func indices(generator: Generator) -> [Int] {
    Tensor.randperm(subset.count, generator: generator).toArray(Int64.self).map { subset[Int($0)] }
  }
}

/// Indices drawn with probabilities proportional to `weights` (PyTorch:
/// `WeightedRandomSampler`), as `torch.multinomial` draws them.
public struct WeightedRandomSampler: Sampler {
  /// One non-negative weight per sample.
  public let weights: [Double]
  /// How many indices an epoch yields.
  public let count: Int
  /// Whether a sample can be drawn more than once.
  public let replacement: Bool

  /// A sampler drawing `numSamples` indices by `weights`.
  public init(weights: [Double], numSamples: Int, replacement: Bool = true) {
    usageCheck(numSamples > 0, "num_samples should be a positive integer value, but got num_samples=\(numSamples)")
    usageCheck(
      replacement || numSamples <= weights.count,
      "WeightedRandomSampler: cannot draw \(numSamples) samples without replacement from \(weights.count) weights")
    self.weights = weights
    count = numSamples
    self.replacement = replacement
  }

  /// `count` draws.
  public func indices(generator: Generator) -> [Int] {
    Tensor(weights, dtype: .float64).multinomial(numSamples: count, replacement: replacement, generator: generator)
      .toArray(Int64.self).map(Int.init)
  }
}

/// The share of one rank in data-parallel training (PyTorch: `DistributedSampler`): every
/// rank permutes the dataset the same way (seeded by `seed + epoch`, so call `setEpoch` at the
/// start of each epoch), pads it by repeating indices until it divides evenly (or drops the
/// tail with `dropLast`), and takes every `numReplicas`-th index from `rank` on.
public final class DistributedSampler: Sampler {
  /// The dataset's size.
  public let dataCount: Int
  /// The number of ranks.
  public let numReplicas: Int
  /// This rank.
  public let rank: Int
  /// Whether each epoch permutes the dataset.
  public let shuffle: Bool
  /// The seed all ranks share.
  public let seed: UInt64
  /// Whether the tail that does not divide evenly is dropped instead of padded.
  public let dropLast: Bool
  /// The epoch, which `setEpoch` sets.
  public private(set) var epoch = 0

  /// The sampler of `rank` among `numReplicas`.
  public init(
    dataCount: Int, numReplicas: Int, rank: Int, shuffle: Bool = true, seed: UInt64 = 0, dropLast: Bool = false
  ) {
    usageCheck(numReplicas > 0, "DistributedSampler: num_replicas must be positive, got \(numReplicas)")
    usageCheck(
      rank >= 0 && rank < numReplicas, "Invalid rank \(rank), rank should be in the interval [0, \(numReplicas - 1)]")
    self.dataCount = dataCount
    self.numReplicas = numReplicas
    self.rank = rank
    self.shuffle = shuffle
    self.seed = seed
    self.dropLast = dropLast
  }

  /// The indices each rank gets: `ceil(count / numReplicas)`, or the floor with `dropLast`.
  public var count: Int {
    dropLast && dataCount % numReplicas != 0
      ? max(0, Int((Double(dataCount - numReplicas) / Double(numReplicas)).rounded(.up)))
      : (dataCount + numReplicas - 1) / numReplicas
  }

  /// Sets the epoch, which reseeds the permutation (PyTorch: `set_epoch`).
  public func setEpoch(_ epoch: Int) { self.epoch = epoch }

  /// This rank's indices for the current epoch (the loader's generator is not used: every
  /// rank must draw the same permutation).
  public func indices(generator: Generator) -> [Int] {
    var all =
      shuffle
      ? Tensor.randperm(dataCount, generator: Generator(seed: seed &+ UInt64(epoch))).toArray(Int64.self).map(Int.init)
      : Array(0..<dataCount)
    let total = count * numReplicas
    if dropLast {
      all = Array(all.prefix(total))
    } else if !all.isEmpty {
      while all.count < total { all += all.prefix(total - all.count) }
    }
    return stride(from: rank, to: total, by: numReplicas).map { all[$0] }
  }
}

/// Groups the indices of one epoch into batches.
public protocol BatchSampling {
  /// The number of batches an epoch yields.
  var count: Int { get }
  /// The batches of one epoch.
  func batches(generator: Generator) -> [[Int]]
}

/// Batches of `batchSize` consecutive indices of a sampler, the last one smaller unless
/// `dropLast` (PyTorch: `BatchSampler`).
public struct BatchSampler: BatchSampling {
  /// Where the indices come from.
  public let sampler: any Sampler
  /// The size of each batch.
  public let batchSize: Int
  /// Whether a last, smaller batch is dropped.
  public let dropLast: Bool

  /// Batches of `sampler`'s indices.
  public init(_ sampler: any Sampler, batchSize: Int, dropLast: Bool) {
    usageCheck(batchSize > 0, "batch_size should be a positive integer value, but got batch_size=\(batchSize)")
    self.sampler = sampler
    self.batchSize = batchSize
    self.dropLast = dropLast
  }

  /// The number of batches.
  public var count: Int { dropLast ? sampler.count / batchSize : (sampler.count + batchSize - 1) / batchSize }

  /// The epoch's batches.
  public func batches(generator: Generator) -> [[Int]] {
    let indices = sampler.indices(generator: generator)
    var result = stride(from: 0, to: indices.count, by: batchSize).map {
      Array(indices[$0..<min($0 + batchSize, indices.count)])
    }
    if dropLast, let last = result.last, last.count < batchSize { result.removeLast() }
    return result
  }
}
