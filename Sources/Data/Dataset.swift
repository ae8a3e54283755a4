@_exported import NN

/// A collection of samples that can be read by index (PyTorch: `torch.utils.data.Dataset`
/// with `__len__` and `__getitem__`). Reading may throw (a missing file, a corrupt record);
/// the `DataLoader` hands such errors to the loop that consumes its batches.
///
/// A `DataLoader` with workers reads a dataset from several threads at once (as PyTorch reads
/// it from several processes): `sample(at:)` must not mutate shared state unguarded.
public protocol Dataset<Element> {
  /// What one sample is: a tensor, an array or dict of tensors, a pair of them, ...
  associatedtype Element
  /// The number of samples (PyTorch: `__len__`).
  var count: Int { get }
  /// The sample at `index` in `0..<count` (PyTorch: `__getitem__`).
  func sample(at index: Int) throws -> Element
}

/// A stream of samples with no random access (PyTorch: `IterableDataset`); a `DataLoader`
/// batches consecutive samples.
public protocol IterableDataset<Element>: Sequence {}

/// Why a dataset could not produce a sample.
public struct DatasetError: Error, CustomStringConvertible {
  /// What went wrong.
  public var description: String
  /// An error with a message.
  public init(_ description: String) { self.description = description }
}

/// Rows of tensors that share their first dimension: sample `i` is `[t[i] for t in tensors]`
/// (PyTorch: `TensorDataset(*tensors)`, whose samples are tuples).
public struct TensorDataset: Dataset {
  /// The tensors, all of the same length along dimension 0.
  public let tensors: [Tensor]

  /// A dataset over `tensors`; stops when their first dimensions differ.
  public init(_ tensors: Tensor...) { self.init(tensors) }

  /// A dataset over `tensors`; stops when their first dimensions differ.
  public init(_ tensors: [Tensor]) {
    usageCheck(!tensors.isEmpty, "TensorDataset needs at least one tensor")
    usageCheck(
      tensors.allSatisfy { $0.dim > 0 && $0.shape[0] == tensors[0].shape[0] },
      "Size mismatch between tensors: TensorDataset needs tensors with the same size of dimension 0, got shapes "
        + tensors.map { "\($0.shape)" }.joined(separator: ", "))
    self.tensors = tensors
  }

  /// The length of the tensors' first dimension.
  public var count: Int { tensors[0].shape[0] }

  /// Row `index` of every tensor.
  public func sample(at index: Int) throws -> [Tensor] {
    try checkIndex(index, count: count, of: "TensorDataset")
    return tensors.map { $0.select(dim: 0, index: index) }
  }
}

/// The samples of `dataset` at `indices`, in that order (PyTorch: `Subset`).
public struct Subset<Base: Dataset>: Dataset {
  /// The dataset the samples come from.
  public let dataset: Base
  /// Which of its samples this subset holds.
  public let indices: [Int]

  /// The samples of `dataset` at `indices`.
  public init(_ dataset: Base, indices: [Int]) {
    self.dataset = dataset
    self.indices = indices
  }

  /// The number of indices.
  public var count: Int { indices.count }

  /// The base dataset's sample at `indices[index]`.
  public func sample(at index: Int) throws -> Base.Element {
    try checkIndex(index, count: count, of: "Subset")
    return try dataset.sample(at: indices[index])
  }
}

/// Several datasets one after the other (PyTorch: `ConcatDataset`).
public struct ConcatDataset<Element>: Dataset {
  /// The datasets, in order.
  public let datasets: [any Dataset<Element>]
  /// The running totals of their counts (PyTorch: `cumulative_sizes`).
  public let cumulativeSizes: [Int]

  /// The samples of `datasets` in order.
  public init(_ datasets: [any Dataset<Element>]) {
    usageCheck(!datasets.isEmpty, "ConcatDataset: datasets should not be an empty iterable")
    self.datasets = datasets
    var total = 0
    cumulativeSizes = datasets.map {
      total += $0.count
      return total
    }
  }

  /// The sum of the datasets' counts.
  public var count: Int { cumulativeSizes.last ?? 0 }

  /// Sample `index` of the concatenation (negative indices count from the end, as PyTorch).
  public func sample(at index: Int) throws -> Element {
    let i = index < 0 ? index + count : index
    try checkIndex(i, count: count, of: "ConcatDataset")
    let which = cumulativeSizes.firstIndex { i < $0 }!
    return try datasets[which].sample(at: i - (which == 0 ? 0 : cumulativeSizes[which - 1]))
  }
}

func checkIndex(_ index: Int, count: Int, of name: String) throws {
  guard index >= 0, index < count else {
    throw DatasetError("\(name): index \(index) is out of range for a dataset of \(count) samples")
  }
}

/// Splits `dataset` into non-overlapping random subsets of the given lengths (PyTorch:
/// `random_split`); the lengths must sum to the dataset's count. The permutation comes from
/// `generator` (the default one if `nil`).
public func randomSplit<D: Dataset>(_ dataset: D, lengths: [Int], generator: Generator? = nil) -> [Subset<D>] {
  usageCheck(lengths.allSatisfy { $0 >= 0 }, "random_split: lengths must be non-negative, got \(lengths)")
  usageCheck(
    lengths.reduce(0, +) == dataset.count,
    "Sum of input lengths (\(lengths.reduce(0, +))) does not equal the length of the input dataset (\(dataset.count))!")
  let order = Tensor.randperm(dataset.count, generator: generator).toArray(Int64.self).map(Int.init)
  var start = 0
  return lengths.map { length in
    defer { start += length }
    return Subset(dataset, indices: Array(order[start..<(start + length)]))
  }
}

/// Splits `dataset` by fractions that sum to 1 (PyTorch: `random_split` with fractions):
/// each length is `floor(count * fraction)`, and what is left over goes one by one to the
/// subsets in order.
public func randomSplit<D: Dataset>(_ dataset: D, fractions: [Double], generator: Generator? = nil) -> [Subset<D>] {
  usageCheck(
    abs(fractions.reduce(0, +) - 1) < 1e-9 && fractions.allSatisfy { (0...1).contains($0) },
    "random_split: fractions must be in [0, 1] and sum to 1, got \(fractions)")
  var lengths = fractions.map { Int((Double(dataset.count) * $0).rounded(.down)) }
  let remainder = dataset.count - lengths.reduce(0, +)
  for i in 0..<remainder { lengths[i % lengths.count] += 1 }
  return randomSplit(dataset, lengths: lengths, generator: generator)
}
