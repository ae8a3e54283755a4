import CKernels
import Foundation

/// An accumulator for one output element of a reduction.
protocol Accumulator {
  associatedtype Element: KernelElement
  init()
  mutating func add(_ x: Element)
  var result: Element { get }
}

struct FloatSum<T: FloatElement>: Accumulator {
  var total: Double = 0
  mutating func add(_ x: T) { total += x.elementDouble }
  var result: T { T(elementFrom: total) }
}

struct FloatProduct<T: FloatElement>: Accumulator {
  var total: Double = 1
  mutating func add(_ x: T) { total *= x.elementDouble }
  var result: T { T(elementFrom: total) }
}

struct IntSum<T: IntElement>: Accumulator {
  var total: T = 0
  mutating func add(_ x: T) { total = total &+ x }
  var result: T { total }
}

struct IntProduct<T: IntElement>: Accumulator {
  var total: T = 1
  mutating func add(_ x: T) { total = total &* x }
  var result: T { total }
}

/// Max (or min, with `Min`) that propagates NaN.
struct Extreme<T: KernelElement, Direction: ExtremeDirection>: Accumulator {
  var best: T? = nil
  var sawNaN = false
  mutating func add(_ x: T) {
    if x != x {
      if !sawNaN { best = x }
      sawNaN = true
      return
    }
    if sawNaN { return }
    if let b = best {
      if Direction.isMax ? T.isLess(b, x) : T.isLess(x, b) { best = x }
    } else {
      best = x
    }
  }
  var result: T {
    guard let best else { usageFailure("reduction over an empty dimension has no identity") }
    return best
  }
}

protocol ExtremeDirection { static var isMax: Bool { get } }
enum MaxDirection: ExtremeDirection { static var isMax: Bool { true } }
enum MinDirection: ExtremeDirection { static var isMax: Bool { false } }

struct AllTrue: Accumulator {
  var value = true
  mutating func add(_ x: Bool) { value = value && x }
  var result: Bool { value }
}

struct AnyTrue: Accumulator {
  var value = false
  mutating func add(_ x: Bool) { value = value || x }
  var result: Bool { value }
}

extension CPUBackend {
  func reduce(_ op: ReduceOp, _ x: Tensor, dims: [Int], into out: Tensor) {
    if op == .sum && x.dtype == .float32 && out.dtype == .float32 && out.isContiguous,
      dims.contains(where: { x.layout.strides[$0] == 0 && x.shape[$0] > 1 })
    {
      // A broadcast (stride-0) dim sums to its one value times its size: reduce a single
      // slice and scale (gradients of sum/mean arrive expanded like this).
      var layout = x.layout
      var factor: Float = 1
      for d in dims where layout.strides[d] == 0 {
        factor *= Float(layout.shape[d])
        layout.shape[d] = 1
      }
      reduce(op, x.aliased(as: layout), dims: dims, into: out)
      let sums = out.storage.data.assumingMemoryBound(to: Float.self) + out.storageOffset
      for i in 0..<out.numel { sums[i] *= factor }
      return
    }
    if op == .sum && x.dtype == .float32 && CPUBackend.sumFloat32Contiguous(x, dims: dims, into: out) { return }
    switch op {
    case .all: CPUBackend.reduceLoop(x, dims, out, AllTrue.self)
    case .any: CPUBackend.reduceLoop(x, dims, out, AnyTrue.self)
    case .sum:
      switch x.dtype {
      case .float32: CPUBackend.reduceLoop(x, dims, out, FloatSum<Float>.self)
      case .float64: CPUBackend.reduceLoop(x, dims, out, FloatSum<Double>.self)
      case .float16: CPUBackend.reduceLoop(x, dims, out, FloatSum<Float16>.self)
      case .bfloat16: CPUBackend.reduceLoop(x, dims, out, FloatSum<BFloat16>.self)
      case .int64: CPUBackend.reduceLoop(x, dims, out, IntSum<Int64>.self)
      default: usageFailure("sum kernel: convert \(x.dtype) to int64 first")
      }
    case .prod:
      switch x.dtype {
      case .float32: CPUBackend.reduceLoop(x, dims, out, FloatProduct<Float>.self)
      case .float64: CPUBackend.reduceLoop(x, dims, out, FloatProduct<Double>.self)
      case .float16: CPUBackend.reduceLoop(x, dims, out, FloatProduct<Float16>.self)
      case .bfloat16: CPUBackend.reduceLoop(x, dims, out, FloatProduct<BFloat16>.self)
      case .int64: CPUBackend.reduceLoop(x, dims, out, IntProduct<Int64>.self)
      default: usageFailure("prod kernel: convert \(x.dtype) to int64 first")
      }
    case .amax: extremeLoop(x, dims, out, MaxDirection.self)
    case .amin: extremeLoop(x, dims, out, MinDirection.self)
    }
  }

  /// float32 sums of a contiguous tensor over trailing dims (each output sums one
  /// contiguous run, with the SIMD kernel) or over leading dims (rows are added into the
  /// output vector); other cases return false.
  fileprivate static func sumFloat32Contiguous(_ x: Tensor, dims: [Int], into out: Tensor) -> Bool {
    guard x.isContiguous, out.isContiguous, !dims.isEmpty else { return false }
    let sorted = dims.sorted()
    let count = x.numel
    let xp = x.storage.data.assumingMemoryBound(to: Float.self) + x.storageOffset
    let op = out.storage.data.assumingMemoryBound(to: Float.self) + out.storageOffset
    let threads = StridedLoop.threads(forElements: count)
    if sorted == Array((x.dim - dims.count)..<x.dim) {
      // [kept, reduced]: one contiguous run per output.
      let run = sorted.reduce(1) { $0 * x.shape[$1] }
      let outputs = run == 0 ? out.numel : count / run
      if outputs == 1 {
        // One long run: split it, add the partial sums in double.
        var partial = [Double](repeating: 0, count: threads)
        partial.withUnsafeMutableBufferPointer { totals in
          parallelRanges(run, threads: threads) { t, range in
            totals[t] = ck_sum_f32(Int64(range.count), xp + range.lowerBound)
          }
        }
        op[0] = Float(partial.reduce(0, +))
        return true
      }
      parallelRanges(outputs, threads: threads) { _, range in
        for o in range { op[o] = Float(ck_sum_f32(Int64(run), xp + o * run)) }
      }
      return true
    }
    if sorted == Array(0..<dims.count) {
      // [reduced, kept]: each thread sums every row over its own block of columns, in
      // registers (one store per column).
      let rows = sorted.reduce(1) { $0 * x.shape[$1] }
      let width = rows == 0 ? out.numel : count / rows
      parallelRanges(width, threads: threads, alignment: 64) { _, range in
        ck_sum_rows_f32(Int64(rows), Int64(range.count), xp + range.lowerBound, Int64(width), op + range.lowerBound)
      }
      return true
    }
    // Leading and trailing dims together (a bias gradient: [N, C, HW] summed over N and HW):
    // the trailing runs first, then the leading rows of that.
    let leading = sorted.enumerated().prefix { $0.offset == $0.element }.count
    let trailing = sorted.reversed().enumerated().prefix { x.dim - 1 - $0.offset == $0.element }.count
    if leading > 0 && trailing > 0 && leading + trailing == sorted.count {
      var partialShape = x.shape
      for d in sorted.suffix(trailing) { partialShape[d] = 1 }
      let partial = Tensor(uninitializedShape: partialShape, dtype: .float32, device: out.device)
      return sumFloat32Contiguous(x, dims: Array(sorted.suffix(trailing)), into: partial)
        && sumFloat32Contiguous(partial, dims: Array(sorted.prefix(leading)), into: out)
    }
    return false
  }

  private func extremeLoop<D: ExtremeDirection>(_ x: Tensor, _ dims: [Int], _ out: Tensor, _: D.Type) {
    x.dtype.visit(ExtremeKernel<D>(x: x, dims: dims, out: out))
  }

  private struct ExtremeKernel<D: ExtremeDirection>: AnyDTypeVisitor {
    let x: Tensor
    let dims: [Int]
    let out: Tensor
    func any<T: KernelElement>(_: T.Type) { CPUBackend.reduceLoop(x, dims, out, Extreme<T, D>.self) }
  }

  /// Splits `x` into the kept dimensions (one output element each, run in parallel) and
  /// the reduced ones (walked row by row for each output element).
  fileprivate static func reduceLoop<A: Accumulator>(_ x: Tensor, _ dims: [Int], _ out: Tensor, _: A.Type) {
    let reduced = Set(dims)
    var keptShape: [Int] = []
    var keptX: [Int] = []
    var keptOut: [Int] = []
    var reducedShape: [Int] = []
    var reducedX: [Int] = []
    for d in 0..<x.dim {
      if reduced.contains(d) {
        reducedShape.append(x.shape[d])
        reducedX.append(x.layout.strides[d])
      } else {
        keptShape.append(x.shape[d])
        keptX.append(x.layout.strides[d])
        keptOut.append(out.layout.strides[d])
      }
    }
    // The rows of the reduced sub-space, relative to an output element's first input.
    var rows: [Int] = []
    var rowLength = 0
    var rowStride = 0
    StridedLoop(shape: reducedShape, layouts: [Layout(shape: reducedShape, strides: reducedX)])
      .forEachRow(parallel: false) { offs, n, st in
        rows.append(offs[0])
        rowLength = n
        rowStride = st[0]
      }
    if reducedShape.reduce(1, *) == 0 { rows = [] }
    let xp = x.storage.data.assumingMemoryBound(to: A.Element.self)
    let op = out.storage.data.assumingMemoryBound(to: A.Element.self)
    let outer = StridedLoop(
      shape: keptShape,
      layouts: [
        Layout(shape: keptShape, strides: keptOut, offset: out.storageOffset),
        Layout(shape: keptShape, strides: keptX, offset: x.storageOffset),
      ])
    rows.withUnsafeBufferPointer { rowOffsets in
      outer.forEachRow(parallel: rowOffsets.count * rowLength * outer.count >= StridedLoop.parallelThreshold) {
        offs, n, st in
        for k in 0..<n {
          var acc = A()
          let base = xp + offs[1] + k * st[1]
          for r in rowOffsets {
            let row = base + r
            if rowStride == 1 {
              for i in 0..<rowLength { acc.add(row[i]) }
            } else {
              for i in 0..<rowLength { acc.add(row[i * rowStride]) }
            }
          }
          op[offs[0] + k * st[0]] = acc.result
        }
      }
    }
  }

  func argReduce(_ op: ArgReduceOp, _ x: Tensor, dim: Int, values: Tensor, indices: Tensor) {
    x.dtype.visit(ArgKernel(op: op, x: x, dim: dim, values: values, indices: indices))
  }

  private struct ArgKernel: AnyDTypeVisitor {
    let op: ArgReduceOp
    let x: Tensor
    let dim: Int
    let values: Tensor
    let indices: Tensor
    func any<T: KernelElement>(_: T.Type) { CPUBackend.argLoop(op, x, dim, values, indices, T.self) }
  }

  fileprivate static func argLoop<T: KernelElement>(
    _ op: ArgReduceOp, _ x: Tensor, _ dim: Int, _ values: Tensor, _ indices: Tensor, _: T.Type
  ) {
    let n = x.shape[dim]
    let s = x.layout.strides[dim]
    let isMax = op == .max
    let xp = x.storage.data.assumingMemoryBound(to: T.self)
    let vp = values.storage.data.assumingMemoryBound(to: T.self)
    let ip = indices.storage.data.assumingMemoryBound(to: Int64.self)
    var shape = x.shape
    shape[dim] = 1
    StridedLoop(shape: shape, layouts: [values.layout, indices.layout, x.layout]).forEachRow(parallel: false) {
      offs, count, st in
      for k in 0..<count {
        let row = xp + offs[2] + k * st[2]
        var best = row[0]
        var bestIndex = 0
        if best == best {
          for i in 1..<max(n, 1) {
            let v = row[i * s]
            if v != v {
              best = v
              bestIndex = i
              break
            }
            if isMax ? T.isLess(best, v) : T.isLess(v, best) {
              best = v
              bestIndex = i
            }
          }
        }
        vp[offs[0] + k * st[0]] = best
        ip[offs[1] + k * st[1]] = Int64(bestIndex)
      }
    }
  }

  func scan(_ op: ScanOp, _ x: Tensor, dim: Int, into out: Tensor) {
    switch x.dtype {
    case .float32: scanLoop(op, x, dim, out, Float.self)
    case .float64: scanLoop(op, x, dim, out, Double.self)
    case .float16: scanLoop(op, x, dim, out, Float16.self)
    case .bfloat16: scanLoop(op, x, dim, out, BFloat16.self)
    case .int64: scanLoop(op, x, dim, out, Int64.self)
    default: usageFailure("\(op.rawValue) kernel: convert \(x.dtype) to int64 first")
    }
  }

  private func scanLoop<T: KernelElement>(_ op: ScanOp, _ x: Tensor, _ dim: Int, _ out: Tensor, _: T.Type) {
    let n = x.shape[dim]
    if n == 0 { return }
    let sx = x.layout.strides[dim]
    let so = out.layout.strides[dim]
    let xp = x.storage.data.assumingMemoryBound(to: T.self)
    let op2 = out.storage.data.assumingMemoryBound(to: T.self)
    var shape = x.shape
    shape[dim] = 1
    let isSum = op == .cumsum
    StridedLoop(shape: shape, layouts: [out.layout, x.layout]).forEachRow(parallel: false) { offs, count, st in
      for k in 0..<count {
        let src = xp + offs[1] + k * st[1]
        let dst = op2 + offs[0] + k * st[0]
        if T.isFloatingPointElement {
          var acc: Double = isSum ? 0 : 1
          for i in 0..<n {
            acc = isSum ? acc + src[i * sx].elementDouble : acc * src[i * sx].elementDouble
            dst[i * so] = T(elementFrom: acc)
          }
        } else {
          var acc: Int64 = isSum ? 0 : 1
          for i in 0..<n {
            acc = isSum ? acc &+ src[i * sx].elementInt64 : acc &* src[i * sx].elementInt64
            dst[i * so] = T(elementFrom: acc)
          }
        }
      }
    }
  }
}
