// Sorting and the order statistics built on it: sort, argsort, topk, kthvalue, median,
// quantile, unique. One routine computes the sorting permutation of each row; values are then
// picked with `gather`, so gradients flow through `gather`'s formula. A backend that sorts
// (CUDA: a bitonic network) computes the permutation on its device; otherwise it is computed
// on the host (a host copy for the test device) and moved back.

extension Tensor {
  /// The permutation that sorts each row along `dim` (stable: equal elements keep their
  /// order; NaN sorts above every number, as in PyTorch), as int64 indices.
  private func sortingPermutation(dim axis: Int, descending: Bool) -> Tensor {
    if device != .cpu {
      let onDevice = Tensor.unrecorded { movedim(axis, -1).contiguous() }
      let width = onDevice.shape.last ?? 1
      if let permutation = backend.sortPermutation(onDevice.reshape(-1, Swift.max(width, 1)), descending: descending) {
        return permutation.reshape(onDevice.shape).movedim(-1, axis)
      }
    }
    let rows = movedim(axis, -1).contiguous().movedTo(.cpu)
    let width = rows.shape.last ?? 1
    let count = rows.numel / Swift.max(width, 1)
    var permutation = [Int64](repeating: 0, count: rows.numel)
    if dtype.isFloatingPoint {
      let keys = rows.toArray(Double.self)
      // Ascending: a before b when a < b, or b is NaN and a is not; descending mirrors it.
      let before: (Double, Double) -> Bool =
        descending ? { a, b in a > b || (a.isNaN && !b.isNaN) } : { a, b in a < b || (b.isNaN && !a.isNaN) }
      Tensor.sortRows(keys, width: width, count: count, into: &permutation, before: before)
    } else {
      let keys = rows.toArray(Int64.self)
      Tensor.sortRows(
        keys, width: width, count: count, into: &permutation, before: descending ? { $0 > $1 } : { $0 < $1 })
    }
    let indices = Tensor(permutation, shape: rows.shape).movedTo(device)
    return indices.movedim(-1, axis)
  }

  /// Sorts each row of `width` keys; ties keep their original order.
  private static func sortRows<Key>(
    _ keys: [Key], width: Int, count: Int, into permutation: inout [Int64], before: (Key, Key) -> Bool
  ) {
    keys.withUnsafeBufferPointer { keys in
      permutation.withUnsafeMutableBufferPointer { out in
        for row in 0..<count {
          let base = row * width
          var order = Array(0..<width)
          order.sort { i, j in
            let (a, b) = (keys[base + i], keys[base + j])
            return before(a, b) || (!before(b, a) && i < j)
          }
          for (k, i) in order.enumerated() { out[base + k] = Int64(i) }
        }
      }
    }
  }

  /// The elements sorted along `dim`, and where each came from (PyTorch: `torch.sort`).
  /// The sort is stable whatever `stable` says (PyTorch allows either for `stable: false`).
  public func sort(
    dim d: Int = -1, descending: Bool = false, stable: Bool = false, out: (values: Tensor, indices: Tensor)? = nil
  ) -> (values: Tensor, indices: Tensor) {
    Tensor.writing(into: out.map { ($0.0, $0.1) }, op: "sort") {
      if dim == 0 { return (clone(), Tensor.zeros([], dtype: .int64, device: device)) }
      let axis = normalizedDim(d)
      let indices = sortingPermutation(dim: axis, descending: descending)
      return (gather(dim: axis, index: indices), indices)
    }
  }

  /// The indices that sort along `dim` (PyTorch: `torch.argsort`).
  public func argsort(dim d: Int = -1, descending: Bool = false, stable: Bool = false) -> Tensor {
    sort(dim: d, descending: descending, stable: stable).indices
  }

  /// The tensor sorted along its first dim (PyTorch: `torch.msort`).
  public func msort(out: Tensor? = nil) -> Tensor { Tensor.writing(into: out, op: "msort") { sort(dim: 0).values } }

  /// The `k` largest (or smallest) elements along `dim` and their indices, in sorted order
  /// (PyTorch: `torch.topk`; `sorted: false` also returns them sorted).
  public func topk(
    _ k: Int, dim d: Int = -1, largest: Bool = true, sorted: Bool = true, out: (values: Tensor, indices: Tensor)? = nil
  ) -> (values: Tensor, indices: Tensor) {
    Tensor.writing(into: out.map { ($0.0, $0.1) }, op: "topk") {
      let axis = dim == 0 ? 0 : normalizedDim(d)
      let size = dim == 0 ? 1 : shape[axis]
      usageCheck(k >= 0 && k <= size, "topk: selected index k out of range (k = \(k), size of dim \(axis) = \(size))")
      if dim == 0 {
        return k == 1 ? sort() : (reshape(-1)[..<0].reshape(-1), Tensor.zeros(0, dtype: .int64, device: device))
      }
      let indices = sortingPermutation(dim: axis, descending: largest).narrow(dim: axis, start: 0, length: k)
      return (gather(dim: axis, index: indices), indices)
    }
  }

  /// The `k`-th smallest element (1-based) along `dim` and its index (PyTorch: `torch.kthvalue`).
  public func kthvalue(_ k: Int, dim d: Int = -1, keepdim: Bool = false, out: (values: Tensor, indices: Tensor)? = nil)
    -> (values: Tensor, indices: Tensor)
  {
    Tensor.writing(into: out.map { ($0.0, $0.1) }, op: "kthvalue") {
      let source = atleast1d()
      let axis = source.normalizedDim(d)
      usageCheck(k >= 1 && k <= source.shape[axis], "kthvalue(): selected number k out of range for dimension \(axis)")
      let indices = source.sortingPermutation(dim: axis, descending: false).narrow(dim: axis, start: k - 1, length: 1)
      return source.orderStatistic(indices, dim: axis, keepdim: keepdim, scalar: dim == 0)
    }
  }

  /// Picks `indices` (size 1 along `axis`) and shapes values and indices as a reduction's.
  private func orderStatistic(_ indices: Tensor, dim axis: Int, keepdim: Bool, scalar: Bool) -> (
    values: Tensor, indices: Tensor
  ) {
    var values = gather(dim: axis, index: indices)
    var picked = indices
    if !keepdim || scalar {
      values = values.squeeze(dim: axis)
      picked = picked.squeeze(dim: axis)
    }
    return (values, picked)
  }

  /// The lower median along `dim` and its index; NaN if the row has one (PyTorch: `torch.median(dim)`).
  public func median(dim d: Int, keepdim: Bool = false, out: (values: Tensor, indices: Tensor)? = nil) -> (
    values: Tensor, indices: Tensor
  ) {
    Tensor.writing(into: out.map { ($0.0, $0.1) }, op: "median") {
      medianAlong(dim: d, keepdim: keepdim, ignoringNaN: false)
    }
  }

  /// The lower median of all elements; NaN if there is one (PyTorch: `torch.median()`).
  public func median() -> Tensor {
    usageCheck(numel > 0, "median() input tensor cannot be empty")
    return reshape(-1).median(dim: 0).values
  }

  /// The lower median along `dim` of the non-NaN elements (PyTorch: `torch.nanmedian(dim)`).
  public func nanmedian(dim d: Int, keepdim: Bool = false, out: (values: Tensor, indices: Tensor)? = nil) -> (
    values: Tensor, indices: Tensor
  ) {
    Tensor.writing(into: out.map { ($0.0, $0.1) }, op: "nanmedian") {
      medianAlong(dim: d, keepdim: keepdim, ignoringNaN: true)
    }
  }

  /// The lower median of the non-NaN elements (PyTorch: `torch.nanmedian()`).
  public func nanmedian() -> Tensor {
    usageCheck(numel > 0, "nanmedian() input tensor cannot be empty")
    return reshape(-1).nanmedian(dim: 0).values
  }

  private func medianAlong(dim d: Int, keepdim: Bool, ignoringNaN: Bool) -> (values: Tensor, indices: Tensor) {
    let source = atleast1d()
    let axis = source.normalizedDim(d)
    let size = source.shape[axis]
    usageCheck(size > 0, "median(): Expected reduction dim \(axis) to have non-zero size.")
    let order = source.sortingPermutation(dim: axis, descending: false)
    // Position of the lower median in each sorted row: among all elements, or among the
    // non-NaN ones (NaN sorts last); a row with NaN has NaN as its median unless ignored.
    let position: Tensor
    if source.dtype.isFloatingPoint {
      let nans = source.isnan().sum(dim: axis, keepdim: true)
      let counted =
        ignoringNaN ? (nans.neg() + size).clamp(min: 1) : Tensor.full(nans.shape, size, dtype: .int64, device: device)
      let lower = (counted - 1).floorDivide(2)
      // A row with NaN gives its first NaN (they sort last, in their original order).
      position = ignoringNaN ? lower : Tensor.where(nans .> 0, nans.neg() + size, lower)
    } else {
      position = Tensor.full(source.keptShapeAlong(axis), (size - 1) / 2, dtype: .int64, device: device)
    }
    return source.orderStatistic(
      order.gather(dim: axis, index: position), dim: axis, keepdim: keepdim, scalar: dim == 0)
  }

  /// The shape with `axis` reduced to 1.
  private func keptShapeAlong(_ axis: Int) -> [Int] {
    var s = shape
    s[axis] = 1
    return s
  }

  /// How `quantile` interpolates between the two nearest order statistics.
  public enum QuantileInterpolation: Sendable {
    /// `lower + (higher - lower) * fraction`.
    case linear
    /// The lower of the two order statistics.
    case lower
    /// The higher of the two.
    case higher
    /// Their mean.
    case midpoint
    /// The nearer one (halves to the even index).
    case nearest
  }

  /// The `q`-quantiles (each in [0, 1]) along `dim`, or of all elements when `dim` is nil;
  /// a 1-d `q` adds a leading dim (PyTorch: `torch.quantile`). NaN in a row gives NaN.
  public func quantile(
    _ q: Tensor, dim d: Int? = nil, keepdim: Bool = false, interpolation: QuantileInterpolation = .linear,
    out: Tensor? = nil
  ) -> Tensor {
    Tensor.writing(into: out, op: "quantile") {
      quantiles(q, dim: d, keepdim: keepdim, interpolation: interpolation, ignoringNaN: false)
    }
  }

  /// `quantile` at one `q`.
  public func quantile(
    _ q: Double, dim d: Int? = nil, keepdim: Bool = false, interpolation: QuantileInterpolation = .linear,
    out: Tensor? = nil
  ) -> Tensor {
    quantile(Tensor(q, dtype: dtype, device: device), dim: d, keepdim: keepdim, interpolation: interpolation, out: out)
  }

  /// `quantile` of the non-NaN elements (PyTorch: `torch.nanquantile`).
  public func nanquantile(
    _ q: Tensor, dim d: Int? = nil, keepdim: Bool = false, interpolation: QuantileInterpolation = .linear,
    out: Tensor? = nil
  ) -> Tensor {
    Tensor.writing(into: out, op: "nanquantile") {
      quantiles(q, dim: d, keepdim: keepdim, interpolation: interpolation, ignoringNaN: true)
    }
  }

  /// `nanquantile` at one `q`.
  public func nanquantile(
    _ q: Double, dim d: Int? = nil, keepdim: Bool = false, interpolation: QuantileInterpolation = .linear,
    out: Tensor? = nil
  ) -> Tensor {
    nanquantile(
      Tensor(q, dtype: dtype, device: device), dim: d, keepdim: keepdim, interpolation: interpolation, out: out)
  }

  private func quantiles(
    _ q: Tensor, dim d: Int?, keepdim: Bool, interpolation: QuantileInterpolation, ignoringNaN: Bool
  ) -> Tensor {
    let op = ignoringNaN ? "nanquantile" : "quantile"
    usageCheck(dtype == .float32 || dtype == .float64, "\(op)() input tensor must be either float or double dtype")
    usageCheck(q.dtype == dtype, "\(op)() q tensor must be same dtype as the input tensor")
    usageCheck(q.dim <= 1, "\(op)() q must be a scalar or 1D tensor")
    usageCheck(numel > 0, "\(op)() input tensor must be non-empty")
    let qs = q.toArray(Double.self)
    usageCheck(qs.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(op)() q values must be in the range [0, 1]")
    // Reduce along the last dim of a [..., n] view: all elements, or `dim` moved last.
    let axis = d.map { normalizedDim($0) }
    let rows = axis.map { atleast1d().movedim($0, -1) } ?? reshape(-1)
    let n = rows.shape.last!
    let sorted = rows.sort(dim: -1).values
    let nans = rows.isnan().sum(dim: -1, keepdim: true).to(dtype)
    let valid =
      ignoringNaN ? (nans.neg() + Double(n)) : Tensor.full(nans.shape, Double(n), dtype: dtype, device: device)
    var results: [Tensor] = []
    for value in qs {
      // The rank in the sorted row, between order statistics `below` and `below + 1`.
      let rank = ((valid - 1).clamp(min: 0.0)) * value
      var below = rank.floor()
      var above = rank.ceil()
      switch interpolation {
      case .lower: above = below
      case .higher: below = above
      case .nearest:
        below = rank.round()
        above = below
      case .linear, .midpoint: break
      }
      let lowValue = sorted.gather(dim: -1, index: below.long())
      let highValue = sorted.gather(dim: -1, index: above.long())
      let weight = interpolation == .midpoint ? Tensor.full([], 0.5, dtype: dtype, device: device) : rank - below
      var result = lowValue.lerp(highValue, weight: weight)
      // A NaN (unless ignored) or a row of nothing but NaN gives NaN.
      let undefined = ignoringNaN ? valid .== 0 : nans .> 0
      result = Tensor.where(undefined, Double.nan, result)
      results.append(result)
    }
    var out = Tensor.stack(results, dim: 0)  // [q, ..., 1]
    if let axis {
      out = out.movedim(-1, axis + 1)  // the kept dim back in place (after the q dim)
      if !keepdim || dim == 0 { out = out.squeeze(dim: axis + 1) }
    } else {
      out = out.squeeze(dim: -1)
      if keepdim { out = out.view([qs.count] + [Int](repeating: 1, count: dim)) }
    }
    return q.dim == 0 ? out.squeeze(dim: 0) : out
  }

  /// The distinct elements, sorted, with optionally where each element went (`inverse`,
  /// shaped like the input) and how often each value occurs (PyTorch: `torch.unique`; the
  /// result is sorted whatever `sorted` says, as PyTorch's CPU result is).
  /// With `dim`, the distinct slices along `dim`, in lexicographic order.
  public func unique(
    sorted: Bool = true, returnInverse: Bool = false, returnCounts: Bool = false, dim d: Int? = nil
  ) -> (values: Tensor, inverse: Tensor?, counts: Tensor?) {
    distinct(dim: d, sortFirst: true, returnInverse: returnInverse, returnCounts: returnCounts)
  }

  /// `unique` of runs of equal consecutive elements (or slices along `dim`), in their order
  /// (PyTorch: `torch.unique_consecutive`).
  public func uniqueConsecutive(
    returnInverse: Bool = false, returnCounts: Bool = false, dim d: Int? = nil
  ) -> (values: Tensor, inverse: Tensor?, counts: Tensor?) {
    distinct(dim: d, sortFirst: false, returnInverse: returnInverse, returnCounts: returnCounts)
  }

  private func distinct(dim d: Int?, sortFirst: Bool, returnInverse: Bool, returnCounts: Bool) -> (
    values: Tensor, inverse: Tensor?, counts: Tensor?
  ) {
    let axis = d.map { normalizedDim($0) }
    // Each slice along `axis` (or each element) as one row of keys, compared in order.
    let slices = axis.map { movedim($0, 0).reshape(shape[$0], -1) } ?? reshape(-1, 1)
    let order = sortFirst ? slices.lexicographicOrder() : Array(0..<slices.shape[0])
    let groups = Tensor.consecutiveGroups(ofSortedRows: slices, order: order)
    let picks = Tensor(groups.first, shape: [groups.first.count], device: device)
    let values = axis.map { indexSelect(dim: $0, index: picks) } ?? reshape(-1).indexSelect(dim: 0, index: picks)
    let inverse = returnInverse ? Tensor(groups.groupOf, shape: axis.map { [shape[$0]] } ?? shape, device: device) : nil
    let counts = returnCounts ? Tensor(groups.sizes, shape: [groups.sizes.count], device: device) : nil
    return (values, inverse, counts)
  }

  /// The order of the rows of a 2-d tensor, lexicographic by their elements (stable).
  private func lexicographicOrder() -> [Int] {
    let width = shape[1]
    let keys = movedTo(.cpu).to(.float64).toArray(Double.self)
    return Array(0..<shape[0]).sorted { i, j in
      for k in 0..<width {
        let (a, b) = (keys[i * width + k], keys[j * width + k])
        if a != b { return a < b || (b.isNaN && !a.isNaN) }
      }
      return i < j
    }
  }

  /// Runs of equal rows in `order`: the first row of each run, the run of each row, and the
  /// run sizes.
  private static func consecutiveGroups(ofSortedRows rows: Tensor, order: [Int]) -> (
    first: [Int], groupOf: [Int], sizes: [Int]
  ) {
    let width = rows.shape[1]
    let keys = rows.movedTo(.cpu).to(.float64).toArray(Double.self)
    var first: [Int] = []
    var sizes: [Int] = []
    var groupOf = [Int](repeating: 0, count: rows.shape[0])
    for (position, row) in order.enumerated() {
      let same =
        position > 0 && (0..<width).allSatisfy { keys[order[position - 1] * width + $0] == keys[row * width + $0] }
      if !same {
        first.append(row)
        sizes.append(0)
      }
      sizes[sizes.count - 1] += 1
      groupOf[row] = first.count - 1
    }
    return (first, groupOf, sizes)
  }
}
