/// The shape, strides (in elements) and storage offset that map a tensor's indices to
/// its storage. Pure value code: contiguity, broadcasting and view arithmetic live here.
public struct Layout: Hashable, Sendable {
  /// The size of each dimension.
  public var shape: [Int]
  /// The step in storage elements along each dimension (0 for broadcast dimensions).
  public var strides: [Int]
  /// Where element `[0, 0, ...]` sits in the storage, in elements.
  public var offset: Int

  /// A layout with explicit strides.
  public init(shape: [Int], strides: [Int], offset: Int = 0) {
    usageCheck(shape.count == strides.count, "Layout: shape \(shape) and strides \(strides) differ in rank")
    self.shape = shape
    self.strides = strides
    self.offset = offset
  }

  /// The row-major (C-contiguous) layout of `shape`.
  public init(contiguous shape: [Int], offset: Int = 0) {
    self.init(shape: shape, strides: Layout.contiguousStrides(shape), offset: offset)
  }

  /// Whether this is exactly `Layout(contiguous: shape)` (row-major strides, offset 0),
  /// checked without building the strides.
  var isExactlyRowMajor: Bool {
    guard offset == 0 else { return false }
    var running = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
      if strides[d] != running { return false }
      running *= shape[d]
    }
    return true
  }

  /// Row-major strides for `shape`.
  /// Stops with PyTorch's message when a stride does not fit in `Int`; readers of files
  /// check shapes with `byteCount(ofContiguous:itemSize:)` first and throw instead.
  public static func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var running = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
      strides[d] = running
      let (next, overflow) = running.multipliedReportingOverflow(by: max(shape[d], 1))
      if _slowPath(overflow) { usageFailure("Storage size calculation overflowed with sizes=\(shapeString(shape))") }
      running = next
    }
    return strides
  }

  /// The bytes a row-major tensor of `shape` with `itemSize`-byte elements takes, or `nil`
  /// when a size is negative or the element count, a stride or the byte count does not fit
  /// in `Int` (overflow-safe: a shape such as `(0, 2^62, 4)` holds no elements, but its
  /// strides overflow). Readers of files call this before building a layout.
  public static func byteCount(ofContiguous shape: [Int], itemSize: Int) -> Int? {
    var running = itemSize
    var empty = false
    for size in shape {
      guard size >= 0 else { return nil }
      if size == 0 { empty = true }
      let (next, overflow) = running.multipliedReportingOverflow(by: max(size, 1))
      guard !overflow else { return nil }
      running = next
    }
    return empty ? 0 : running
  }

  /// The number of dimensions.
  public var rank: Int { shape.count }

  /// The number of elements; stops with PyTorch's message when the count does not fit in
  /// `Int` (an expand to huge sizes, say).
  public var numel: Int { Layout.numel(of: shape) }

  /// The number of elements of `shape`, with `numel`'s overflow check.
  @inline(__always)
  public static func numel(of shape: [Int]) -> Int {
    var count = 1
    for size in shape {
      let (next, overflow) = count.multipliedReportingOverflow(by: size)
      if _slowPath(overflow) { usageFailure("numel: integer multiplication overflow for sizes=\(shapeString(shape))") }
      count = next
    }
    return count
  }

  /// Whether the elements are laid out in row-major order without gaps (PyTorch's
  /// `is_contiguous`: strides of size-1 dimensions do not matter).
  public var isContiguous: Bool {
    if shape.contains(0) { return true }
    var expected = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
      if shape[d] != 1 && strides[d] != expected { return false }
      expected *= shape[d]
    }
    return true
  }

  /// The smallest and one-past-largest storage element this layout touches (for a
  /// non-empty layout); used to check that storage is large enough.
  public var storageSpan: (lower: Int, upper: Int) {
    if numel == 0 { return (offset, offset) }
    var lower = offset
    var upper = offset
    for (size, stride) in zip(shape, strides) {
      if stride > 0 { upper += (size - 1) * stride } else { lower += (size - 1) * stride }
    }
    return (lower, upper + 1)
  }

  /// Whether two different indices certainly map to the same storage element: a dimension
  /// longer than 1 with stride 0 (an expanded layout). Like PyTorch's `has_internal_overlap`,
  /// layouts whose overlap would take more than that to prove (irregular strides) answer
  /// `false`, and writes through them go ahead.
  public var hasInternalOverlap: Bool {
    var stretched = false
    for (size, stride) in zip(shape, strides) {
      if size == 0 { return false }
      if size > 1 && stride == 0 { stretched = true }
    }
    return stretched
  }

  /// Whether the elements cover a gap-free block of storage with each element once, in some
  /// order of dimensions (PyTorch's `is_non_overlapping_and_dense`): row-major, column-major
  /// or any permutation of a contiguous layout.
  public var isNonOverlappingAndDense: Bool {
    let dims = (0..<rank).filter { shape[$0] >= 2 }.sorted { strides[$0] < strides[$1] }
    if shape.contains(0) { return true }
    var required = 1
    for d in dims {
      guard strides[d] == required else { return false }
      required *= shape[d]
    }
    return true
  }

  /// The broadcast shape of `a` and `b` (NumPy/PyTorch rules), or `nil` with the first
  /// dimension (counted from the right of `a`) that does not match.
  public static func broadcastShapes(_ a: [Int], _ b: [Int]) -> Result<[Int], BroadcastMismatch> {
    let rank = max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
      let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
      let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
      if da == db || db == 1 {
        out[i] = da
      } else if da == 1 {
        out[i] = db
      } else {
        return .failure(BroadcastMismatch(sizeA: da, sizeB: db, dim: i))
      }
    }
    return .success(out)
  }

  /// Describes where two shapes fail to broadcast.
  public struct BroadcastMismatch: Error, Sendable {
    /// The size in the first shape.
    public let sizeA: Int
    /// The size in the second shape.
    public let sizeB: Int
    /// The dimension, in the broadcast result.
    public let dim: Int
  }

  /// This layout broadcast to `target` with zero strides for the new and stretched
  /// dimensions, or `nil` when a dimension is neither equal nor 1.
  public func expanded(to target: [Int]) -> Layout? {
    guard target.count >= rank else { return nil }
    let lead = target.count - rank
    var newStrides = [Int](repeating: 0, count: target.count)
    for i in 0..<target.count {
      if i < lead { continue }
      let size = shape[i - lead]
      if size == target[i] {
        newStrides[i] = strides[i - lead]
      } else if size == 1 {
        newStrides[i] = 0
      } else {
        return nil
      }
    }
    return Layout(shape: target, strides: newStrides, offset: offset)
  }

  /// Strides that let this layout be viewed as `newShape` without copying (PyTorch's
  /// `computeStride`), or `nil` when no such strides exist.
  public func viewStrides(for newShape: [Int]) -> [Int]? {
    if shape.isEmpty { return [Int](repeating: 1, count: newShape.count) }
    let count = numel
    if count == 0 && shape == newShape { return strides }
    var newStrides = [Int](repeating: 0, count: newShape.count)
    if count == 0 {
      for d in stride(from: newShape.count - 1, through: 0, by: -1) {
        newStrides[d] = d == newShape.count - 1 ? 1 : max(newShape[d + 1], 1) * newStrides[d + 1]
      }
      return newStrides
    }
    var viewDim = newShape.count - 1
    var chunkBaseStride = strides.last!
    var tensorNumel = 1
    var viewNumel = 1
    for tensorDim in stride(from: rank - 1, through: 0, by: -1) {
      tensorNumel *= shape[tensorDim]
      if tensorDim == 0
        || (shape[tensorDim - 1] != 1 && strides[tensorDim - 1] != tensorNumel * chunkBaseStride)
      {
        while viewDim >= 0 && (viewNumel < tensorNumel || newShape[viewDim] == 1) {
          newStrides[viewDim] = viewNumel * chunkBaseStride
          viewNumel *= newShape[viewDim]
          viewDim -= 1
        }
        if viewNumel != tensorNumel { return nil }
        if tensorDim > 0 {
          chunkBaseStride = strides[tensorDim - 1]
          tensorNumel = 1
          viewNumel = 1
        }
      }
    }
    return viewDim == -1 ? newStrides : nil
  }

  /// The storage offset of the element at `index` (one entry per dimension).
  public func storageIndex(_ index: [Int]) -> Int {
    var position = offset
    for (i, s) in zip(index, strides) { position += i * s }
    return position
  }
}

/// Formats a shape as PyTorch does in messages: `[2, 3]`.
func shapeString(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
