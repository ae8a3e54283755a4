import Foundation

/// The library's generator, named so inside `Sequence` types (whose `Generator` is their
/// iterator).
public typealias RandomGenerator = Generator

/// Batches of a dataset, in the order a sampler chooses (PyTorch:
/// `torch.utils.data.DataLoader`):
///
///     let loader = DataLoader(TensorDataset(images, labels), batchSize: 64, shuffle: true, numWorkers: 2)
///     for epoch in 0..<10 {
///       for batch in loader { let (x, y) = (batch[0], batch[1]); ... }
///     }
///
/// **Order and randomness.** Each pass (`for batch in loader`) draws one seed from
/// `generator` (the default generator unless given), as PyTorch draws its base seed. The
/// sampler's order comes from a generator seeded with it, and batch `i` is loaded with a
/// default generator seeded with `seed + 1 + i` (`Generator.withDefault`), so random
/// transforms give the same batches whatever `numWorkers` is, and a resumed loader
/// (`loadStateDict`) gives the same batches as one never stopped.
///
/// **Pinned memory.** With `pinMemory: true`, the tensors the built-in collation makes are
/// copied into page-locked host memory for `pinMemoryDevice` (PyTorch: `pin_memory=True`),
/// on the loading thread, so that moving a batch to the device copies by DMA. When that
/// device cannot be used (no GPU), batches are left unpinned, as PyTorch warns and does.
///
/// **Workers.** With `numWorkers > 0`, batches are loaded on that many background threads,
/// batch `i` by worker `i % numWorkers`, at most `prefetchFactor * numWorkers` ahead of the
/// consumer, and handed out in order. An error thrown while loading a batch surfaces in the
/// consumer at that batch: `try iterator.nextBatch()` rethrows it; `for batch in loader` stops
/// the program with it (as an uncaught exception stops a PyTorch loop).
public final class DataLoader<D: Dataset, Batch>: Sequence {
  /// The dataset the samples come from.
  public let dataset: D
  /// What groups the indices into batches.
  public let batchSampler: any BatchSampling
  /// The number of background threads loading batches (0: load on the consumer's thread).
  public let numWorkers: Int
  /// How many batches each worker may load ahead.
  public let prefetchFactor: Int
  /// Where each pass's seed is drawn from (`nil`: the default generator).
  public let generator: RandomGenerator?
  let collate: ([D.Element]) throws -> Batch
  /// The device batches are pinned for, or nil (`pinMemory` off, or its device unusable).
  public let pinMemoryDevice: Device?
  private var resumeAt: (seed: UInt64, done: Int)?
  private var progress: Progress?

  /// Where the latest pass stands: its seed and the batches handed out.
  final class Progress: @unchecked Sendable {
    let seed: UInt64
    var done: Int
    init(seed: UInt64, done: Int) {
      self.seed = seed
      self.done = done
    }
  }

  /// A loader that batches `dataset` with `collate`, its arguments in the order
  /// `DataLoader(ds, batchSize:, shuffle:, dropLast:, numWorkers:, sampler:)`. Give
  /// `batchSize`, `shuffle`, `dropLast` and `sampler`, or a `batchSampler` alone (PyTorch's
  /// rules for which go together).
  public init(
    _ dataset: D, batchSize: Int = 1, shuffle: Bool = false, dropLast: Bool = false, numWorkers: Int = 0,
    sampler: (any Sampler)? = nil,
    batchSampler: (any BatchSampling)? = nil, prefetchFactor: Int = 2, generator: RandomGenerator? = nil,
    pinMemory: Bool = false,
    pinMemoryDevice: Device = .cuda(0), collate: @escaping ([D.Element]) throws -> Batch
  ) {
    usageCheck(
      numWorkers >= 0,
      "DataLoader: num_workers option should be non-negative; use num_workers=0 to disable workers, got \(numWorkers)")
    usageCheck(prefetchFactor > 0, "DataLoader: prefetch_factor should be positive, got \(prefetchFactor)")
    usageCheck(!(shuffle && sampler != nil), "DataLoader: sampler option is mutually exclusive with shuffle")
    if let batchSampler {
      usageCheck(
        batchSize == 1 && !shuffle && sampler == nil && !dropLast,
        "DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last")
      self.batchSampler = batchSampler
    } else {
      usageCheck(
        batchSize > 0, "DataLoader: batch_size should be a positive integer value, but got batch_size=\(batchSize)")
      let chosen: any Sampler =
        sampler ?? (shuffle ? RandomSampler(dataCount: dataset.count) : SequentialSampler(count: dataset.count))
      self.batchSampler = BatchSampler(chosen, batchSize: batchSize, dropLast: dropLast)
    }
    self.dataset = dataset
    self.numWorkers = numWorkers
    self.prefetchFactor = prefetchFactor
    self.generator = generator
    self.collate = collate
    self.pinMemoryDevice = pinMemory ? Self.pinnable(pinMemoryDevice) : nil
  }

  /// `device` when it can pin host memory here; else nil, after PyTorch's warning.
  private static func pinnable(_ device: Device) -> Device? {
    if let backend = try? BackendRegistry.backend(for: device), backend.pinnedHostAllocator != nil {
      return device
    }
    FileHandle.standardError.write(
      Data("DataLoader: pinMemory is true but \(device) cannot be used here, so pinned memory won't be used.\n".utf8))
    return nil
  }

  /// The number of batches in a pass (PyTorch: `len(loader)`).
  public var count: Int { batchSampler.count }

  /// Starts a pass over the dataset (or resumes the one `loadStateDict` describes).
  public func makeIterator() -> Iterator {
    let seed = resumeAt?.seed ?? (generator ?? Tensor.defaultGenerator).drawSeed()
    let done = resumeAt?.done ?? 0
    resumeAt = nil
    let epochGenerator = RandomGenerator(seed: seed)
    let batches = Array(batchSampler.batches(generator: epochGenerator).dropFirst(done))
    let progress = Progress(seed: seed, done: done)
    self.progress = progress
    let load = Loader(
      dataset: dataset, collate: collate, batches: batches, firstBatch: done, seed: seed, pinDevice: pinMemoryDevice)
    return Iterator(Pass(load, workers: numWorkers, prefetch: prefetchFactor, progress: progress))
  }

  /// Where the current pass stands (its seed and how many batches it has handed out), to
  /// save in a checkpoint; `loadStateDict` makes the next pass continue from there.
  public func stateDict() -> [String: Tensor] {
    let seed = progress?.seed ?? 0
    let done = progress.map { $0.done < count ? $0.done : -1 } ?? -1
    return [
      "epoch_seed": Tensor([Int64(bitPattern: seed)], shape: [1]), "batches_done": Tensor([Int64(done)], shape: [1]),
    ]
  }

  /// Makes the next pass resume a pass saved by `stateDict()`: the same order, starting after
  /// the batches it had handed out (a pass saved after its last batch starts a new one).
  public func loadStateDict(_ state: [String: Tensor]) {
    guard let seed = state["epoch_seed"], let done = state["batches_done"], seed.dtype == .int64, done.dtype == .int64,
      seed.numel == 1, done.numel == 1
    else {
      usageFailure(
        "DataLoader.loadStateDict: expected int64 'epoch_seed' and 'batches_done' from stateDict(), got keys \(state.keys.sorted())"
      )
    }
    let batches = Int(done.item(Int64.self))
    resumeAt = batches < 0 ? nil : (UInt64(bitPattern: seed.item(Int64.self)), batches)
  }

  /// Hands out one pass's batches in order.
  public typealias Iterator = BatchIterator<Pass>

  /// What a worker needs to load batch `i` of a pass.
  struct Loader: @unchecked Sendable {
    let dataset: D
    let collate: ([D.Element]) throws -> Batch
    let batches: [[Int]]
    let firstBatch: Int
    let seed: UInt64
    let pinDevice: Device?

    /// Loads the `position`-th remaining batch under its own default generator.
    func load(_ position: Int) throws -> Batch {
      let indices = batches[position]
      return try RandomGenerator.withDefault(RandomGenerator(seed: seed &+ 1 &+ UInt64(firstBatch + position))) {
        let samples = try indices.map { try dataset.sample(at: $0) }
        return try Collation.$pinDevice.withValue(pinDevice) { try collate(samples) }
      }
    }
  }

  /// One pass: loads on the caller's thread, or on worker threads ahead of it.
  public final class Pass: BatchSource, @unchecked Sendable {
    let loader: Loader
    let progress: Progress
    private let workers: Int
    /// How far ahead of the consumer the workers may load.
    private let window: Int
    private let condition = NSCondition()
    private var position = 0
    private var results: [Int: Result<Batch, Error>] = [:]
    private var cancelled = false

    init(_ loader: Loader, workers: Int, prefetch: Int, progress: Progress) {
      self.loader = loader
      self.progress = progress
      self.workers = workers
      window = workers * prefetch
      for worker in 0..<Swift.min(workers, loader.batches.count) {
        let thread = Thread { [self] in self.work(from: worker) }
        thread.name = "DataLoader worker \(worker)"
        thread.start()
      }
    }

    /// A worker's loop: batches `first`, `first + workers`, ..., each once the consumer is
    /// within the prefetch window of it; it ends early when the pass is dropped.
    private func work(from first: Int) {
      for i in stride(from: first, to: loader.batches.count, by: workers) {
        condition.lock()
        while !cancelled && i - position >= window { condition.wait() }
        let stop = cancelled
        condition.unlock()
        if stop { return }
        let result = Result { try loader.load(i) }
        condition.broadcasting { results[i] = result }
      }
    }

    /// The next batch in order, waiting for its worker; `nil` after the last.
    public func next() throws -> Batch? {
      guard position < loader.batches.count else { return nil }
      let result: Result<Batch, Error>
      if workers == 0 {
        result = Result { try loader.load(position) }
        position += 1
      } else {
        result = condition.broadcasting {
          while results[position] == nil { condition.wait() }
          defer { position += 1 }
          return results.removeValue(forKey: position)!
        }
      }
      let batch = try result.get()
      progress.done += 1
      return batch
    }

    /// Lets the workers go when the consumer drops the pass.
    public func cancel() { condition.broadcasting { cancelled = true } }
  }
}

extension DataLoader where D.Element: Collatable, Batch == D.Element.Batch {
  /// A loader with the default collation (`Collatable`: tensors stacked, numbers made
  /// tensors, arrays and dicts batched entry by entry).
  public convenience init(
    _ dataset: D, batchSize: Int = 1, shuffle: Bool = false, dropLast: Bool = false, numWorkers: Int = 0,
    sampler: (any Sampler)? = nil,
    batchSampler: (any BatchSampling)? = nil, prefetchFactor: Int = 2, generator: RandomGenerator? = nil,
    pinMemory: Bool = false,
    pinMemoryDevice: Device = .cuda(0)
  ) {
    self.init(
      dataset, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, numWorkers: numWorkers, sampler: sampler,
      batchSampler: batchSampler, prefetchFactor: prefetchFactor, generator: generator, pinMemory: pinMemory,
      pinMemoryDevice: pinMemoryDevice, collate: D.Element.collate)
  }
}

extension DataLoader {
  /// A loader over a dataset of pairs, batched entry by entry (an image and its label).
  public convenience init<A: Collatable, B: Collatable>(
    _ dataset: D, batchSize: Int = 1, shuffle: Bool = false, dropLast: Bool = false, numWorkers: Int = 0,
    sampler: (any Sampler)? = nil,
    batchSampler: (any BatchSampling)? = nil, prefetchFactor: Int = 2, generator: RandomGenerator? = nil,
    pinMemory: Bool = false,
    pinMemoryDevice: Device = .cuda(0)
  ) where D.Element == (A, B), Batch == (A.Batch, B.Batch) {
    self.init(
      dataset, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, numWorkers: numWorkers, sampler: sampler,
      batchSampler: batchSampler, prefetchFactor: prefetchFactor, generator: generator, pinMemory: pinMemory,
      pinMemoryDevice: pinMemoryDevice, collate: collatePairs)
  }

  /// A loader over a dataset of triples, batched entry by entry.
  public convenience init<A: Collatable, B: Collatable, C: Collatable>(
    _ dataset: D, batchSize: Int = 1, shuffle: Bool = false, dropLast: Bool = false, numWorkers: Int = 0,
    sampler: (any Sampler)? = nil,
    batchSampler: (any BatchSampling)? = nil, prefetchFactor: Int = 2, generator: RandomGenerator? = nil,
    pinMemory: Bool = false,
    pinMemoryDevice: Device = .cuda(0)
  ) where D.Element == (A, B, C), Batch == (A.Batch, B.Batch, C.Batch) {
    self.init(
      dataset, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, numWorkers: numWorkers, sampler: sampler,
      batchSampler: batchSampler, prefetchFactor: prefetchFactor, generator: generator, pinMemory: pinMemory,
      pinMemoryDevice: pinMemoryDevice, collate: collateTriples)
  }
}

/// Where an iterator of a loader takes its batches from: one pass, loaded in order.
public protocol BatchSource: AnyObject {
  /// What a batch is.
  associatedtype Batch
  /// The next batch, `nil` at the end; throws what loading it threw.
  func next() throws -> Batch?
  /// Stops any background loading (the iterator was dropped).
  func cancel()
}

/// The iterator of `DataLoader` and `IterableDataLoader`: hands out a pass's batches in order.
public struct BatchIterator<Source: BatchSource>: IteratorProtocol {
  private let owner: Owner

  /// Held only by iterators: when the last copy goes, the source's background loading
  /// stops (its threads hold the source itself, whose own deinit would never run).
  private final class Owner {
    let source: Source
    init(_ source: Source) { self.source = source }
    deinit { source.cancel() }
  }

  init(_ source: Source) { owner = Owner(source) }

  /// The next batch; stops the program with the error if loading it failed (use
  /// `nextBatch()` to handle errors).
  public mutating func next() -> Source.Batch? {
    do {
      return try owner.source.next()
    } catch {
      usageFailure(
        "DataLoader: loading a batch failed: \(error). Iterate with `try iterator.nextBatch()` to handle errors")
    }
  }

  /// The next batch, or `nil` at the end of the pass; rethrows an error from loading it.
  public mutating func nextBatch() throws -> Source.Batch? { try owner.source.next() }
}

extension NSCondition {
  /// Runs `body` under the lock, then wakes every waiter.
  func broadcasting<R>(_ body: () throws -> R) rethrows -> R {
    lock()
    defer {
      broadcast()
      unlock()
    }
    return try body()
  }
}
