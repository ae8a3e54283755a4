import Autograd

/// A batch of variable-length sequences packed time step by time step (PyTorch:
/// `nn.utils.rnn.PackedSequence`): `data` holds, for each step, the elements of the sequences
/// still running at it (longest first), and `batchSizes` how many there are per step.
public struct PackedSequence {
  /// `[sum of lengths, *]`.
  public let data: Tensor
  /// How many sequences each time step holds (int64, on the CPU).
  public let batchSizes: Tensor
  /// The order (longest first) the batch was sorted into, or nil if it came sorted.
  public let sortedIndices: Tensor?
  /// The inverse of `sortedIndices`.
  public let unsortedIndices: Tensor?

  /// The sequences as a zero-padded `[T, B, *]` tensor in sorted order, and their lengths.
  func paddedTimeMajor(paddingValue: Double = 0) -> (Tensor, [Int]) {
    let sizes = batchSizes.toArray(Int64.self).map(Int.init)
    let batch = sizes.first ?? 0
    var offset = 0
    var steps: [Tensor] = []
    for size in sizes {
      let rows = data.narrow(dim: 0, start: offset, length: size)
      offset += size
      if size == batch {
        steps.append(rows)
      } else {
        var fillShape = rows.shape
        fillShape[0] = batch - size
        steps.append(
          Tensor.cat([rows, Tensor.full(fillShape, paddingValue, dtype: data.dtype, device: data.device)], dim: 0))
      }
    }
    let lengths = (0..<batch).map { b in sizes.filter { $0 > b }.count }
    return (Tensor.stack(steps), lengths)
  }

  /// `padded` `[T, B, *]` (sorted order) packed with this sequence's step sizes.
  func repacking(_ padded: Tensor) -> PackedSequence {
    let sizes = batchSizes.toArray(Int64.self).map(Int.init)
    let rows = sizes.enumerated().map { t, size in padded[t].narrow(dim: 0, start: 0, length: size) }
    return PackedSequence(
      data: Tensor.cat(rows, dim: 0), batchSizes: batchSizes, sortedIndices: sortedIndices,
      unsortedIndices: unsortedIndices)
  }

  /// A state `[*, B, *]` in the caller's batch order, put in sorted order.
  func sorted(_ state: Tensor) -> Tensor { sortedIndices.map { state.indexSelect(dim: 1, index: $0) } ?? state }
  /// A state in sorted order, put back in the caller's batch order.
  func unsorted(_ state: Tensor) -> Tensor { unsortedIndices.map { state.indexSelect(dim: 1, index: $0) } ?? state }
}

/// Packs a padded batch `[T, B, *]` (`[B, T, *]` with `batchFirst`) of sequences of `lengths`
/// (PyTorch: `nn.utils.rnn.pack_padded_sequence`). With `enforceSorted` the lengths must be
/// decreasing; otherwise the batch is sorted and the order remembered.
public func packPaddedSequence(_ input: Tensor, lengths: [Int], batchFirst: Bool = false, enforceSorted: Bool = true)
  -> PackedSequence
{
  let timeMajor = batchFirst ? input.transpose(0, 1) : input
  usageCheck(
    timeMajor.dim >= 2 && lengths.count == timeMajor.shape[1],
    "pack_padded_sequence: expected \(timeMajor.dim >= 2 ? timeMajor.shape[1] : 0) lengths, got \(lengths.count)")
  usageCheck(
    lengths.allSatisfy { $0 > 0 },
    "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0")
  usageCheck(
    lengths.allSatisfy { $0 <= timeMajor.shape[0] },
    "pack_padded_sequence: a length exceeds the sequence dim \(timeMajor.shape[0])")
  var order = Array(lengths.indices)
  var sortedIndices: Tensor?
  var unsortedIndices: Tensor?
  if enforceSorted {
    usageCheck(
      zip(lengths, lengths.dropFirst()).allSatisfy { $0 >= $1 },
      "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement if you do not need ONNX exportability."
    )
  } else {
    order = lengths.indices.sorted { lengths[$0] > lengths[$1] || (lengths[$0] == lengths[$1] && $0 < $1) }
    var inverse = [Int](repeating: 0, count: order.count)
    for (position, index) in order.enumerated() { inverse[index] = position }
    sortedIndices = Tensor(order, shape: [order.count]).movedTo(input.device)
    unsortedIndices = Tensor(inverse, shape: [inverse.count]).movedTo(input.device)
  }
  let sortedLengths = order.map { lengths[$0] }
  let sortedInput = sortedIndices.map { timeMajor.indexSelect(dim: 1, index: $0) } ?? timeMajor
  let steps = sortedLengths.first ?? 0
  let sizes = (0..<steps).map { t in sortedLengths.filter { $0 > t }.count }
  let rows = sizes.enumerated().map { t, size in sortedInput[t].narrow(dim: 0, start: 0, length: size) }
  return PackedSequence(
    data: Tensor.cat(rows, dim: 0), batchSizes: Tensor(sizes, shape: [sizes.count]), sortedIndices: sortedIndices,
    unsortedIndices: unsortedIndices)
}

/// The padded batch `[T, B, *]` (`[B, T, *]` with `batchFirst`) of a packed one, in the
/// original batch order, and the lengths (PyTorch: `nn.utils.rnn.pad_packed_sequence`);
/// `totalLength` pads the time dim further.
public func padPackedSequence(
  _ sequence: PackedSequence, batchFirst: Bool = false, paddingValue: Double = 0, totalLength: Int? = nil
) -> (
  padded: Tensor, lengths: Tensor
) {
  var (padded, lengths) = sequence.paddedTimeMajor(paddingValue: paddingValue)
  if let totalLength {
    usageCheck(
      totalLength >= padded.shape[0],
      "Expected total_length to be at least the length of the longest sequence in input, but got total_length=\(totalLength) and max sequence length being \(padded.shape[0])"
    )
    if totalLength > padded.shape[0] {
      var fillShape = padded.shape
      fillShape[0] = totalLength - padded.shape[0]
      padded = Tensor.cat(
        [padded, Tensor.full(fillShape, paddingValue, dtype: padded.dtype, device: padded.device)], dim: 0)
    }
  }
  var lengthTensor = Tensor(lengths, shape: [lengths.count])
  if let unsorted = sequence.unsortedIndices {
    padded = padded.indexSelect(dim: 1, index: unsorted)
    lengthTensor = lengthTensor.indexSelect(dim: 0, index: unsorted.movedTo(.cpu))
  }
  return (batchFirst ? padded.transpose(0, 1) : padded, lengthTensor)
}

/// Stacks sequences `[L_i, *]` into one zero-padded `[T, B, *]` (`[B, T, *]` with
/// `batchFirst`) tensor (PyTorch: `nn.utils.rnn.pad_sequence`).
public func padSequence(_ sequences: [Tensor], batchFirst: Bool = false, paddingValue: Double = 0) -> Tensor {
  usageCheck(!sequences.isEmpty, "pad_sequence: received an empty list of sequences")
  let longest = sequences.map { $0.shape[0] }.max()!
  let padded = sequences.map { s -> Tensor in
    guard s.shape[0] < longest else { return s }
    var fillShape = s.shape
    fillShape[0] = longest - s.shape[0]
    return Tensor.cat([s, Tensor.full(fillShape, paddingValue, dtype: s.dtype, device: s.device)], dim: 0)
  }
  return Tensor.stack(padded, dim: batchFirst ? 0 : 1)
}

/// Packs a list of sequences `[L_i, *]` (PyTorch: `nn.utils.rnn.pack_sequence`).
public func packSequence(_ sequences: [Tensor], enforceSorted: Bool = true) -> PackedSequence {
  packPaddedSequence(padSequence(sequences), lengths: sequences.map { $0.shape[0] }, enforceSorted: enforceSorted)
}
