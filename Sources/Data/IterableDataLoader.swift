import Foundation

/// Batches of consecutive samples of a stream (PyTorch: a `DataLoader` over an
/// `IterableDataset`). With `numWorkers > 0` one background thread reads the stream and
/// collates up to `prefetchFactor` batches ahead of the consumer: a Swift iterator is one
/// stream, so unlike PyTorch's workers it is never read twice (PyTorch gives each worker a
/// copy of the dataset, which must shard itself).
public final class IterableDataLoader<S: IterableDataset, Batch>: Sequence {
  /// The stream of samples.
  public let dataset: S
  /// Samples per batch.
  public let batchSize: Int
  /// Whether a last, smaller batch is dropped.
  public let dropLast: Bool
  /// Whether a background thread reads ahead.
  public let numWorkers: Int
  /// How many batches the background thread may read ahead.
  public let prefetchFactor: Int
  let collate: ([S.Element]) throws -> Batch

  /// A loader batching `dataset` with `collate`.
  public init(
    _ dataset: S, batchSize: Int = 1, dropLast: Bool = false, numWorkers: Int = 0, prefetchFactor: Int = 2,
    collate: @escaping ([S.Element]) throws -> Batch
  ) {
    usageCheck(
      batchSize > 0, "DataLoader: batch_size should be a positive integer value, but got batch_size=\(batchSize)")
    usageCheck(numWorkers >= 0, "DataLoader: num_workers option should be non-negative, got \(numWorkers)")
    usageCheck(prefetchFactor > 0, "DataLoader: prefetch_factor should be positive, got \(prefetchFactor)")
    self.dataset = dataset
    self.batchSize = batchSize
    self.dropLast = dropLast
    self.numWorkers = numWorkers
    self.prefetchFactor = prefetchFactor
    self.collate = collate
  }

  /// Reads the stream from its start.
  public func makeIterator() -> Iterator {
    let source = Source(iterator: dataset.makeIterator(), batchSize: batchSize, dropLast: dropLast, collate: collate)
    return Iterator(Stream(source, prefetch: numWorkers > 0 ? prefetchFactor : 0))
  }

  /// Hands out the batches in order.
  public typealias Iterator = BatchIterator<Stream>

  /// Reads batches off the dataset's iterator.
  final class Source: @unchecked Sendable {
    var iterator: S.Iterator
    let batchSize: Int
    let dropLast: Bool
    let collate: ([S.Element]) throws -> Batch

    init(iterator: S.Iterator, batchSize: Int, dropLast: Bool, collate: @escaping ([S.Element]) throws -> Batch) {
      self.iterator = iterator
      self.batchSize = batchSize
      self.dropLast = dropLast
      self.collate = collate
    }

    /// The next batch, `nil` at the end.
    func read() -> Result<Batch, Error>? {
      var samples: [S.Element] = []
      while samples.count < batchSize, let sample = iterator.next() { samples.append(sample) }
      if samples.isEmpty || (dropLast && samples.count < batchSize) { return nil }
      return Result { try collate(samples) }
    }
  }

  /// The batches of one pass: read on demand, or by a thread ahead of the consumer.
  public final class Stream: BatchSource, @unchecked Sendable {
    let source: Source
    private let prefetch: Int
    private let condition = NSCondition()
    private var queue: [Result<Batch, Error>] = []
    private var finished = false
    private var cancelled = false

    init(_ source: Source, prefetch: Int) {
      self.source = source
      self.prefetch = prefetch
      if prefetch > 0 {
        Thread { [self] in self.readAhead() }.start()
      }
    }

    private func readAhead() {
      while true {
        condition.lock()
        while !cancelled && queue.count >= prefetch { condition.wait() }
        let stop = cancelled
        condition.unlock()
        if stop { return }
        let batch = source.read()
        condition.broadcasting { if let batch { queue.append(batch) } else { finished = true } }
        if batch == nil { return }
      }
    }

    /// The next batch, `nil` at the end of the stream.
    public func next() throws -> Batch? {
      guard prefetch > 0 else { return try source.read()?.get() }
      let batch = condition.broadcasting {
        while queue.isEmpty && !finished { condition.wait() }
        return queue.isEmpty ? nil : queue.removeFirst()
      }
      return try batch?.get()
    }

    /// Stops the read-ahead thread.
    public func cancel() { condition.broadcasting { cancelled = true } }
  }
}

extension IterableDataLoader where S.Element: Collatable, Batch == S.Element.Batch {
  /// A loader with the default collation.
  public convenience init(
    _ dataset: S, batchSize: Int = 1, dropLast: Bool = false, numWorkers: Int = 0, prefetchFactor: Int = 2
  ) {
    self.init(
      dataset, batchSize: batchSize, dropLast: dropLast, numWorkers: numWorkers, prefetchFactor: prefetchFactor,
      collate: S.Element.collate)
  }
}
