import Data
import Foundation
import TestSupport
import Testing

/// A dataset whose samples record the thread-independent facts the tests check: the index,
/// a draw from the default generator (as a random transform makes), and optionally an error.
struct ProbeDataset: Dataset {
  var count: Int
  var failAt: Int? = nil
  var loaded: Counter? = nil

  final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() { lock.withLock { value += 1 } }
    var current: Int { lock.withLock { value } }
  }

  func sample(at index: Int) throws -> (Tensor, Int) {
    if index == failAt { throw DatasetError("sample \(index) is corrupt") }
    loaded?.increment()
    return (Tensor.rand(2), index)
  }
}

private func labels(_ loader: DataLoader<ProbeDataset, (Tensor, Tensor)>) -> [[Int64]] {
  loader.map { $0.1.toArray(Int64.self) }
}

@Suite struct DataLoaderTests {
  @Test func batchesInOrderWithTheLastOneSmaller() {
    let data = TensorDataset(Tensor.arange(10).float().view(10, 1), Tensor.arange(10) * 10)
    let loader = DataLoader(data, batchSize: 4)
    #expect(loader.count == 3)
    let batches = Array(loader)
    #expect(batches.map { $0[0].shape } == [[4, 1], [4, 1], [2, 1]])
    #expect(batches.map { $0[1].toArray(Int64.self) } == [[0, 10, 20, 30], [40, 50, 60, 70], [80, 90]])
    let dropping = DataLoader(data, batchSize: 4, dropLast: true)
    #expect(dropping.count == 2 && Array(dropping).count == 2)
  }

  @Test func collatesPairsDictsAndNumbers() throws {
    let loader = DataLoader(ProbeDataset(count: 5), batchSize: 2)
    let first = try #require(Array(loader).first)
    #expect(first.0.shape == [2, 2] && first.0.dtype == .float32)
    #expect(first.1.dtype == .int64 && first.1.toArray(Int64.self) == [0, 1])
    let dicts = try [String: Tensor].collate([["x": Tensor([1, 2] as [Float])], ["x": Tensor([3, 4] as [Float])]])
    #expect(dicts["x"]?.toArray(Float.self) == [1, 2, 3, 4] && dicts["x"]?.shape == [2, 2])
    #expect(try Double.collate([0.5, 1]).dtype == .float64)
    #expect(throws: CollateError.self) { try Tensor.collate([Tensor.zeros(2), Tensor.zeros(3)]) }
  }

  /// Each loader gets its own generator: the default one is shared with suites running in
  /// parallel (`Generator.withDefault` in the loader's workers is per batch, not global).
  @Test func shuffleIsReproducibleAndTheSameWithWorkers() {
    let plain = labels(DataLoader(ProbeDataset(count: 23), batchSize: 5, shuffle: true, generator: Generator(seed: 7)))
    #expect(plain.flatMap { $0 }.sorted() == (0..<23).map(Int64.init))
    #expect(plain.flatMap { $0 } != (0..<23).map(Int64.init))
    for workers in [1, 2, 3] {
      let loader = DataLoader(
        ProbeDataset(count: 23), batchSize: 5, shuffle: true, numWorkers: workers, generator: Generator(seed: 7))
      #expect(labels(loader) == plain, "numWorkers \(workers)")
    }
    // The random transform's draws (made in the dataset, on the default generator) match too.
    let draws0 = DataLoader(ProbeDataset(count: 9), batchSize: 2, shuffle: true, generator: Generator(seed: 7)).map {
      $0.0.toArray(Float.self)
    }
    let draws2 = DataLoader(
      ProbeDataset(count: 9), batchSize: 2, shuffle: true, numWorkers: 2, generator: Generator(seed: 7)
    )
    .map { $0.0.toArray(Float.self) }
    #expect(draws0 == draws2)
    // A second pass draws a new order.
    let loader = DataLoader(ProbeDataset(count: 23), batchSize: 5, shuffle: true, generator: Generator(seed: 8))
    #expect(labels(loader) != labels(loader))
  }

  @Test func workersStayWithinThePrefetchWindow() {
    let counter = ProbeDataset.Counter()
    let loader = DataLoader(ProbeDataset(count: 100, loaded: counter), batchSize: 2, numWorkers: 2, prefetchFactor: 2)
    var iterator = loader.makeIterator()
    _ = iterator.next()
    Thread.sleep(forTimeInterval: 0.2)
    // One batch consumed; the workers may be at most 2 x 2 batches ahead (2 samples each).
    #expect(counter.current <= (1 + 4) * 2 + 2 * 2, "\(counter.current) samples loaded")
    var seen = 1
    while iterator.next() != nil { seen += 1 }
    #expect(seen == 50 && counter.current == 100)
  }

  @Test func aWorkersErrorSurfacesAtItsBatch() throws {
    for workers in [0, 2] {
      let loader = DataLoader(ProbeDataset(count: 10, failAt: 5), batchSize: 2, numWorkers: workers)
      var iterator = loader.makeIterator()
      #expect(try iterator.nextBatch()?.1.toArray(Int64.self) == [0, 1])
      #expect(try iterator.nextBatch()?.1.toArray(Int64.self) == [2, 3])
      #expect {
        try iterator.nextBatch()
      } throws: {
        "\($0)" == "sample 5 is corrupt"
      }
      #expect(try iterator.nextBatch()?.1.toArray(Int64.self) == [6, 7])
    }
  }

  @Test func forInStopsWithTheLoadingError() async {
    await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      for _ in DataLoader(ProbeDataset(count: 4, failAt: 3), batchSize: 2, numWorkers: 1) {}
    }.map { result in
      let text = standardError(of: result)
      #expect(text.contains("DataLoader: loading a batch failed: sample 3 is corrupt"), "\(text)")
    }
  }

  @Test func resumesAPassWhereItsStateWasSaved() {
    let loader = DataLoader(
      ProbeDataset(count: 20), batchSize: 3, shuffle: true, numWorkers: 2, generator: Generator(seed: 3))
    var iterator = loader.makeIterator()
    var before: [[Int64]] = []
    for _ in 0..<3 { before.append(iterator.next()!.1.toArray(Int64.self)) }
    let state = loader.stateDict()
    let rest = Array(IteratorSequence(iterator)).map { $0.1.toArray(Int64.self) }
    let fresh = DataLoader(ProbeDataset(count: 20), batchSize: 3, shuffle: true)
    fresh.loadStateDict(state)
    #expect(labels(fresh) == rest)
    #expect(before.count + rest.count == 7)
  }

  @Test func optionsFollowPyTorchsRules() async {
    await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = DataLoader(ProbeDataset(count: 4), shuffle: true, sampler: SequentialSampler(count: 4))
    }.map { #expect(standardError(of: $0).contains("sampler option is mutually exclusive with shuffle")) }
    await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = DataLoader(
        ProbeDataset(count: 4), batchSize: 2,
        batchSampler: BatchSampler(SequentialSampler(count: 4), batchSize: 2, dropLast: false))
    }.map { #expect(standardError(of: $0).contains("batch_sampler option is mutually exclusive with batch_size")) }
  }
}

@Suite struct SamplerTests {
  @Test func distributedSamplerPadsAndShardsAsPyTorch() {
    // Pinned from torch.utils.data.DistributedSampler(range(10), num_replicas=3, shuffle=False).
    let g = Generator(seed: 0)
    #expect(
      (0..<3).map { DistributedSampler(dataCount: 10, numReplicas: 3, rank: $0, shuffle: false).indices(generator: g) }
        == [
          [0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1],
        ])
    #expect(
      (0..<3).map {
        DistributedSampler(dataCount: 10, numReplicas: 3, rank: $0, shuffle: false, dropLast: true).indices(
          generator: g)
      } == [
        [0, 3, 6], [1, 4, 7], [2, 5, 8],
      ])
    #expect(
      (0..<5).map { DistributedSampler(dataCount: 2, numReplicas: 5, rank: $0, shuffle: false).indices(generator: g) }
        == [[0], [1], [0], [1], [0]])
    // Shuffled: every rank draws the same permutation, so the shards cover the data; the epoch reseeds it.
    let samplers = (0..<4).map { DistributedSampler(dataCount: 16, numReplicas: 4, rank: $0, seed: 5) }
    let epoch0 = samplers.map { $0.indices(generator: g) }
    #expect(epoch0.flatMap { $0 }.sorted() == Array(0..<16))
    for sampler in samplers { sampler.setEpoch(1) }
    let epoch1 = samplers.map { $0.indices(generator: g) }
    #expect(epoch1.flatMap { $0 }.sorted() == Array(0..<16) && epoch1 != epoch0)
  }

  @Test func weightedAndRandomSamplers() {
    let g = Generator(seed: 1)
    let weighted = WeightedRandomSampler(weights: [0, 1, 0, 3], numSamples: 200).indices(generator: g)
    #expect(weighted.count == 200 && Set(weighted).isSubset(of: [1, 3]))
    #expect(weighted.filter { $0 == 3 }.count > 120)
    let once = WeightedRandomSampler(weights: [1, 1, 1, 1], numSamples: 4, replacement: false).indices(generator: g)
    #expect(once.sorted() == [0, 1, 2, 3])
    let drawn = RandomSampler(dataCount: 5, replacement: true, numSamples: 50).indices(generator: g)
    #expect(drawn.count == 50 && drawn.allSatisfy { (0..<5).contains($0) })
    #expect(RandomSampler(dataCount: 3, numSamples: 7).indices(generator: g).count == 7)
    #expect(SubsetRandomSampler(indices: [10, 20, 30]).indices(generator: g).sorted() == [10, 20, 30])
  }

  @Test func splitsSubsetsAndConcatenations() throws {
    let data = TensorDataset(Tensor.arange(11))
    // Pinned from torch.utils.data.random_split(range(11), [0.5, 0.3, 0.2]) and range(10), [0.34, 0.33, 0.33].
    let parts = randomSplit(data, fractions: [0.5, 0.3, 0.2], generator: Generator(seed: 4))
    #expect(parts.map(\.count) == [6, 3, 2])
    #expect(randomSplit(TensorDataset(Tensor.arange(10)), fractions: [0.34, 0.33, 0.33]).map(\.count) == [4, 3, 3])
    #expect(parts.flatMap(\.indices).sorted() == Array(0..<11))
    let again = randomSplit(data, lengths: [6, 3, 2], generator: Generator(seed: 4))
    #expect(again.map(\.indices) == parts.map(\.indices))
    #expect(try parts[1].sample(at: 2)[0].item(Int64.self) == Int64(parts[1].indices[2]))
    let joined = ConcatDataset(
      [TensorDataset(Tensor.arange(3)), TensorDataset(Tensor.arange(2) + 100)] as [any Dataset<[Tensor]>])
    #expect(joined.count == 5 && joined.cumulativeSizes == [3, 5])
    #expect(try joined.sample(at: 3)[0].item(Int64.self) == 100)
    #expect(try joined.sample(at: -1)[0].item(Int64.self) == 101)
    #expect(throws: DatasetError.self) { try joined.sample(at: 5) }
  }
}

/// A stream of the numbers below a limit.
struct Countdown: IterableDataset {
  var limit: Int
  func makeIterator() -> AnyIterator<Int> {
    var next = 0
    return AnyIterator {
      defer { next += 1 }
      return next < limit ? next : nil
    }
  }
}

@Suite struct IterableDataLoaderTests {
  @Test func batchesConsecutiveSamplesWithOrWithoutReadAhead() {
    for workers in [0, 1] {
      let loader = IterableDataLoader(Countdown(limit: 7), batchSize: 3, numWorkers: workers)
      #expect(loader.map { $0.toArray(Int64.self) } == [[0, 1, 2], [3, 4, 5], [6]])
      let dropping = IterableDataLoader(Countdown(limit: 7), batchSize: 3, dropLast: true, numWorkers: workers)
      #expect(dropping.map { $0.toArray(Int64.self) } == [[0, 1, 2], [3, 4, 5]])
    }
    // Stopping early lets the read-ahead thread go.
    for batch in IterableDataLoader(Countdown(limit: 1000), batchSize: 2, numWorkers: 1)
    where batch.toArray(Int64.self)[0] >= 4 { break }
  }
}
