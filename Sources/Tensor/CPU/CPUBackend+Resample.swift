/// A sparse linear map along one axis: output sample `o` is the weighted sum of the input
/// samples `rows[o]` names. Interpolation builds one per resized axis (a few taps per
/// output), and its gradient is the transposed map, itself sparse.
package struct AxisResampling: Sendable {
  /// The axis's length in the input.
  package let inputSize: Int
  /// For each output sample, its input samples and their weights.
  package let rows: [[Tap]]

  /// One input sample's share of an output sample.
  package struct Tap: Sendable {
    package var index: Int
    package var weight: Double
    package init(index: Int, weight: Double) {
      self.index = index
      self.weight = weight
    }
  }

  /// A map from an axis of `inputSize` samples to `rows.count`.
  package init(inputSize: Int, rows: [[Tap]]) {
    self.inputSize = inputSize
    self.rows = rows
  }

  /// The adjoint map (from the output axis back to the input axis).
  package var transposed: AxisResampling {
    var back = [[Tap]](repeating: [], count: inputSize)
    for (o, row) in rows.enumerated() {
      for tap in row { back[tap.index].append(Tap(index: o, weight: tap.weight)) }
    }
    return AxisResampling(inputSize: rows.count, rows: back)
  }
}

extension Tensor {
  /// Applies `map` along `dim` of a CPU float32 or float64 tensor, in parallel over the
  /// other dims: only the taps are visited, so a resize costs a few multiply-adds per output
  /// sample.
  package func resampled(along dim: Int, by map: AxisResampling) -> Tensor {
    usageCheck(
      device == .cpu && (dtype == .float32 || dtype == .float64),
      "resampled: CPU float32/float64 only, got \(dtype) on \(device)")
    usageCheck(
      shape[dim] == map.inputSize, "resampled: dim \(dim) has \(shape[dim]) samples, the map expects \(map.inputSize)")
    let x = contiguous()
    let outer = shape[..<dim].reduce(1, *)
    let inner = shape[(dim + 1)...].reduce(1, *)
    var outShape = shape
    outShape[dim] = map.rows.count
    let out = Tensor.zeros(outShape, dtype: dtype)
    switch dtype {
    case .float32: Tensor.resample(Float.self, x, into: out, map: map, outer: outer, inner: inner)
    default: Tensor.resample(Double.self, x, into: out, map: map, outer: outer, inner: inner)
    }
    return out
  }

  private static func resample<T: BinaryFloatingPoint>(
    _: T.Type, _ x: Tensor, into out: Tensor, map: AxisResampling, outer: Int, inner: Int
  ) {
    let source = UnsafePointer((x.storage.data + x.storageOffset * x.dtype.itemSize).assumingMemoryBound(to: T.self))
    let target = out.storage.data.assumingMemoryBound(to: T.self)
    let (inLength, outLength) = (map.inputSize, map.rows.count)
    // The taps flattened (CSR): output o's are offsets[o]..<offsets[o + 1].
    var offsets = [0]
    var indices: [Int] = []
    var weights: [T] = []
    for row in map.rows {
      for tap in row {
        indices.append(tap.index)
        weights.append(T(tap.weight))
      }
      offsets.append(indices.count)
    }
    offsets.withUnsafeBufferPointer { offsets in
      indices.withUnsafeBufferPointer { indices in
        weights.withUnsafeBufferPointer { weights in
          if inner == 1 {
            // Along the last dim: each output is a short dot product over its taps.
            parallelRanges(outer, threads: StridedLoop.threadCount) { _, range in
              for n in range {
                let from = source + n * inLength
                let to = target + n * outLength
                for o in 0..<outLength {
                  var sum: T = 0
                  for t in offsets[o]..<offsets[o + 1] { sum += weights[t] * from[indices[t]] }
                  to[o] = sum
                }
              }
            }
          } else {
            // Along an inner dim: each tap adds a scaled row of `inner` contiguous values.
            parallelRanges(outer * outLength, threads: StridedLoop.threadCount) { _, range in
              for task in range {
                let (n, o) = task.quotientAndRemainder(dividingBy: outLength)
                let to = target + task * inner
                for t in offsets[o]..<offsets[o + 1] {
                  let from = source + (n * inLength + indices[t]) * inner
                  let w = weights[t]
                  for k in 0..<inner { to[k] += w * from[k] }
                }
              }
            }
          }
        }
      }
    }
  }
}
