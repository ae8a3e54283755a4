/// A sample type the `DataLoader` knows how to batch (PyTorch: `default_collate`): tensors
/// are stacked along a new first dimension, numbers become a tensor, and arrays and
/// dictionaries are batched entry by entry.
public protocol Collatable {
  /// What a batch of these is.
  associatedtype Batch
  /// Batches `samples` (all of one structure).
  static func collate(_ samples: [Self]) throws -> Batch
}

/// Where the built-in collation puts the tensors it makes.
enum Collation {
  /// The device to pin batches for while a `DataLoader(pinMemory: true)` loads one.
  @TaskLocal static var pinDevice: Device?

  /// `batch`, copied into pinned host memory when the loader asks for it.
  static func finished(_ batch: Tensor) throws -> Tensor {
    guard let device = pinDevice, batch.device == .cpu else { return batch }
    return try batch.pinned(for: device)
  }
}

/// Why samples could not be batched.
public struct CollateError: Error, CustomStringConvertible {
  /// What went wrong.
  public var description: String
}

extension Tensor: Collatable {
  /// The samples stacked along a new dimension 0; they must share shape and dtype.
  public static func collate(_ samples: [Tensor]) throws -> Tensor {
    guard let first = samples.first else { throw CollateError(description: "default_collate: no samples to batch") }
    if let other = samples.first(where: {
      $0.shape != first.shape || $0.dtype != first.dtype || $0.device != first.device
    }) {
      throw CollateError(
        description:
          "default_collate: stack expects each tensor to be equal size and dtype, but got \(first.shape) \(first.dtype) "
          + "and \(other.shape) \(other.dtype); pad the samples or pass a collate function")
    }
    return try Collation.finished(Tensor.stack(samples))
  }
}

extension Int: Collatable {
  /// An int64 tensor of the samples.
  public static func collate(_ samples: [Int]) throws -> Tensor {
    try Collation.finished(Tensor(samples.map(Int64.init), shape: [samples.count]))
  }
}

extension Double: Collatable {
  /// A float64 tensor of the samples (PyTorch turns Python floats into float64).
  public static func collate(_ samples: [Double]) throws -> Tensor {
    try Collation.finished(Tensor(samples, dtype: .float64))
  }
}

extension Float: Collatable {
  /// A float32 tensor of the samples.
  public static func collate(_ samples: [Float]) throws -> Tensor {
    try Collation.finished(Tensor(samples, shape: [samples.count]))
  }
}

extension Bool: Collatable {
  /// A bool tensor of the samples.
  public static func collate(_ samples: [Bool]) throws -> Tensor {
    try Collation.finished(Tensor(samples, shape: [samples.count]))
  }
}

extension String: Collatable {
  /// The strings as a list, as PyTorch leaves them.
  public static func collate(_ samples: [String]) throws -> [String] { samples }
}

extension Array: Collatable where Element: Collatable {
  /// Position by position: batch `k` holds the `k`-th entries of all samples, which must
  /// have the same length.
  public static func collate(_ samples: [[Element]]) throws -> [Element.Batch] {
    guard let first = samples.first else { return [] }
    guard samples.allSatisfy({ $0.count == first.count }) else {
      throw CollateError(description: "default_collate: each element in list of batch should be of equal size")
    }
    return try (0..<first.count).map { k in try Element.collate(samples.map { $0[k] }) }
  }
}

extension Dictionary: Collatable where Value: Collatable {
  /// Key by key; every sample must have the same keys.
  public static func collate(_ samples: [[Key: Value]]) throws -> [Key: Value.Batch] {
    guard let first = samples.first else { return [:] }
    var result: [Key: Value.Batch] = [:]
    for key in first.keys {
      result[key] = try Value.collate(
        samples.map { sample in
          guard let v = sample[key] else {
            throw CollateError(description: "default_collate: a sample lacks the key '\(key)'")
          }
          return v
        })
    }
    return result
  }
}

/// Batches pairs entry by entry (PyTorch: a tuple sample).
public func collatePairs<A: Collatable, B: Collatable>(_ samples: [(A, B)]) throws -> (A.Batch, B.Batch) {
  (try A.collate(samples.map(\.0)), try B.collate(samples.map(\.1)))
}

/// Batches triples entry by entry.
public func collateTriples<A: Collatable, B: Collatable, C: Collatable>(_ samples: [(A, B, C)]) throws -> (
  A.Batch, B.Batch, C.Batch
) {
  (try A.collate(samples.map(\.0)), try B.collate(samples.map(\.1)), try C.collate(samples.map(\.2)))
}
