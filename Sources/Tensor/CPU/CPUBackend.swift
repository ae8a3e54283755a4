import Foundation

/// Host memory, 64-byte aligned (room for AVX-512 loads). Blocks of 64 KiB or more are
/// cached when freed and reused for the same size: a fresh large allocation pays for page
/// faults on first touch, which at 10^7 elements costs more than the arithmetic.
final class CPUAllocator: StorageAllocator, @unchecked Sendable {
  var device: Device { .cpu }
  private let lock = NSLock()
  private var cached: [Int: [UnsafeMutableRawPointer]] = [:]
  private var cachedBytes = 0
  /// Blocks at least this large are cached.
  static let cachedThreshold = 1 << 16
  /// The most bytes kept in the cache.
  static let cacheLimit = 1 << 30

  /// Stops with PyTorch's message when the memory cannot be had (ops cannot throw);
  /// readers of files call `allocateOrNil` and throw instead.
  func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
    guard let pointer = allocateOrNil(byteCount: byteCount) else {
      usageFailure("DefaultCPUAllocator: not enough memory: you tried to allocate \(byteCount) bytes.")
    }
    return pointer
  }

  func allocateOrThrow(byteCount: Int) throws -> UnsafeMutableRawPointer {
    guard let pointer = allocateOrNil(byteCount: byteCount) else {
      throw DeviceError.outOfMemory("DefaultCPUAllocator: not enough memory: you tried to allocate \(byteCount) bytes.")
    }
    return pointer
  }

  /// A block of `byteCount` bytes, or `nil` when the system has no memory for it even after
  /// the cache is released.
  @inline(__always)
  func allocateOrNil(byteCount: Int) -> UnsafeMutableRawPointer? {
    if byteCount >= CPUAllocator.cachedThreshold {
      let reused: UnsafeMutableRawPointer? = lock.withLock {
        guard let block = cached[byteCount]?.popLast() else { return nil }
        cachedBytes -= byteCount
        return block
      }
      if let reused { return reused }
    }
    if let fresh = CPUAllocator.systemAllocate(byteCount) { return fresh }
    emptyCache()
    return CPUAllocator.systemAllocate(byteCount)
  }

  /// 64-byte-aligned host memory from the system, or nil (also the test devices' allocators).
  static func systemAllocate(_ byteCount: Int) -> UnsafeMutableRawPointer? {
    var pointer: UnsafeMutableRawPointer?
    guard posix_memalign(&pointer, 64, max(byteCount, 1)) == 0 else { return nil }
    return pointer
  }

  /// Frees every cached block.
  func emptyCache() {
    let blocks: [UnsafeMutableRawPointer] = lock.withLock {
      defer {
        cached = [:]
        cachedBytes = 0
      }
      return cached.values.flatMap { $0 }
    }
    for block in blocks { free(block) }
  }

  func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
    if byteCount >= CPUAllocator.cachedThreshold {
      let kept: Bool = lock.withLock {
        guard cachedBytes + byteCount <= CPUAllocator.cacheLimit else { return false }
        cached[byteCount, default: []].append(pointer)
        cachedBytes += byteCount
        return true
      }
      if kept { return }
    }
    free(pointer)
  }
  func copy(from: UnsafeRawPointer, to: UnsafeMutableRawPointer, byteCount: Int) {
    to.copyMemory(from: from, byteCount: byteCount)
  }
}

/// The reference backend: every primitive as a strided loop over host memory. The test
/// devices (`Device.test`) run it too, over host memory from their own allocators.
struct CPUBackend: Backend {
  /// The first element of float32 tensor `t` (the C kernels' operand).
  static func floats(_ t: Tensor) -> UnsafeMutablePointer<Float> {
    t.storage.data.assumingMemoryBound(to: Float.self) + t.storageOffset
  }

  static let shared = CPUBackend(allocator: CPUBackend.hostAllocator, pinnedHostAllocator: nil)
  /// The host allocator (also used directly by file readers, which must throw when memory
  /// runs out).
  static let hostAllocator = CPUAllocator()
  let allocator: any StorageAllocator
  /// The test devices' pinned memory (host memory marked pinned); nil for the CPU itself.
  let pinnedHostAllocator: (any StorageAllocator)?

  /// Both sides are host memory (the CPU's or a test device's): the bytes are copied.
  func transfer(_ src: Tensor, into dst: Tensor, nonBlocking: Bool) throws {
    let size = src.dtype.itemSize
    (dst.storage.data + dst.storageOffset * size).copyMemory(
      from: src.storage.data + src.storageOffset * size, byteCount: src.numel * size)
  }

  func copy(_ src: Tensor, into dst: Tensor) {
    if src.dtype == dst.dtype, src.isContiguous, dst.isContiguous {
      let size = src.dtype.itemSize
      (dst.storage.data + dst.storageOffset * size).copyMemory(
        from: src.storage.data + src.storageOffset * size, byteCount: src.numel * size)
      return
    }
    if src.dtype == dst.dtype {
      if !CPUBackend.transposeCopy(src, dst) { CPUBackend.rowCopy(src, dst) }
      return
    }
    src.dtype.visit(ConvertFrom(src: src, dst: dst))
  }

  /// Same-type copies row by row: `memcpy` for rows that are dense on both sides, else a
  /// typed loop by element size (no per-element conversion).
  private static func rowCopy(_ src: Tensor, _ dst: Tensor) {
    let size = src.dtype.itemSize
    let d = dst.storage.data
    let s = src.storage.data
    func rows<T>(_: T.Type) {
      let dp = d.assumingMemoryBound(to: T.self)
      let sp = s.assumingMemoryBound(to: T.self)
      StridedLoop(shape: dst.shape, layouts: [dst.layout, src.layout]).forEachRow { offs, n, st in
        if st[0] == 1 && st[1] == 1 {
          (dp + offs[0]).update(from: sp + offs[1], count: n)
        } else if st[0] == 1 && st[1] == 0 {
          // A broadcast row (an expanded gradient, say) is a fill.
          (dp + offs[0]).update(repeating: sp[offs[1]], count: n)
        } else {
          for k in 0..<n { dp[offs[0] + k * st[0]] = sp[offs[1] + k * st[1]] }
        }
      }
    }
    switch size {
    case 8: rows(UInt64.self)
    case 4: rows(UInt32.self)
    case 2: rows(UInt16.self)
    default: rows(UInt8.self)
    }
  }

  /// Copies whose loop is a 2-D transpose (the output walks one operand's columns) in
  /// 32 × 32 tiles, so both sides stay in cache; returns false for other patterns.
  private static func transposeCopy(_ src: Tensor, _ dst: Tensor) -> Bool {
    let loop = StridedLoop(shape: dst.shape, layouts: [dst.layout, src.layout])
    guard loop.shape.count == 2, loop.count >= 4096 else { return false }
    let (rows, cols) = (loop.shape[0], loop.shape[1])
    let (dRow, dCol) = (loop.strides[0][0], loop.strides[0][1])
    let (sRow, sCol) = (loop.strides[1][0], loop.strides[1][1])
    guard dCol == 1, sRow == 1, sCol != 1 else { return false }
    let size = src.dtype.itemSize
    let d = dst.storage.data + loop.bases[0] * size
    let s = src.storage.data + loop.bases[1] * size
    let threads = StridedLoop.threads(forElements: loop.count)
    func tiled<T>(_: T.Type) {
      let dp = d.assumingMemoryBound(to: T.self)
      let sp = s.assumingMemoryBound(to: T.self)
      let tile = 32
      let rowTiles = (rows + tile - 1) / tile
      parallelFor(threads) { t in
        for rt in stride(from: t, to: rowTiles, by: threads) {
          let r1 = Swift.min(rows, rt * tile + tile)
          for c0 in stride(from: 0, to: cols, by: tile) {
            let c1 = Swift.min(cols, c0 + tile)
            for r in (rt * tile)..<r1 {
              let out = dp + r * dRow
              let from = sp + r * sRow
              for c in c0..<c1 { out[c] = from[c * sCol] }
            }
          }
        }
      }
    }
    switch size {
    case 8: tiled(UInt64.self)
    case 4: tiled(UInt32.self)
    case 2: tiled(UInt16.self)
    default: tiled(UInt8.self)
    }
    return true
  }

  private struct ConvertFrom: AnyDTypeVisitor {
    let src: Tensor
    let dst: Tensor
    func any<S: KernelElement>(_: S.Type) { dst.dtype.visit(ConvertTo<S>(src: src, dst: dst)) }
  }

  private struct ConvertTo<S: KernelElement>: AnyDTypeVisitor {
    let src: Tensor
    let dst: Tensor
    func any<D: KernelElement>(_: D.Type) { map(src, dst) { (v: S) in D.converting(v) } }
  }

  func fill(_ dst: Tensor, with value: Scalar) { dst.dtype.visit(Fill(dst: dst, value: value)) }

  private struct Fill: AnyDTypeVisitor {
    let dst: Tensor
    let value: Scalar
    func any<T: KernelElement>(_: T.Type) {
      let v: T =
        switch value {
        case .double(let d): T(elementFrom: d)
        default: T(elementFrom: value.int64Value)
        }
      let p = dst.storage.data.assumingMemoryBound(to: T.self)
      StridedLoop(shape: dst.shape, layouts: [dst.layout]).forEachRow { offs, n, st in
        let o = p + offs[0]
        let s = st[0]
        if s == 1 {
          o.update(repeating: v, count: n)
        } else {
          for k in 0..<n { o[k * s] = v }
        }
      }
    }
  }

  func nonzero(_ x: Tensor) -> Tensor {
    usageCheck(x.dtype == .bool, "nonzero kernel expects bool input")
    let p = x.storage.data.assumingMemoryBound(to: Bool.self)
    var coords: [Int64] = []
    let rank = x.dim
    var index = [Int](repeating: 0, count: rank)
    let total = x.numel
    var found = 0
    for _ in 0..<total {
      if p[x.layout.storageIndex(index)] {
        coords.append(contentsOf: index.map { Int64($0) })
        found += 1
      }
      var d = rank - 1
      while d >= 0 {
        index[d] += 1
        if index[d] < x.shape[d] { break }
        index[d] = 0
        d -= 1
      }
    }
    let out = Tensor(uninitializedShape: [found, rank], dtype: .int64, device: x.device)
    coords.withUnsafeBytes { raw in
      if raw.count > 0 { out.storage.data.copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
    }
    return out
  }
}

/// `out[i] = f(x[i])` over any strides.
@inline(never)
func map<A: KernelElement, R: KernelElement>(_ x: Tensor, _ out: Tensor, _ f: (A) -> R) {
  let xp = x.storage.data.assumingMemoryBound(to: A.self)
  let op = out.storage.data.assumingMemoryBound(to: R.self)
  StridedLoop(shape: out.shape, layouts: [out.layout, x.layout]).forEachRow { offs, n, st in
    let o = op + offs[0]
    let i = xp + offs[1]
    let so = st[0]
    let si = st[1]
    if so == 1 && si == 1 {
      for k in 0..<n { o[k] = f(i[k]) }
    } else {
      for k in 0..<n { o[k * so] = f(i[k * si]) }
    }
  }
}

/// `out[i] = f(a[i], b[i])` over any strides, with fast paths for contiguous and
/// scalar-broadcast operands.
@inline(never)
func zipMap<A: KernelElement, B: KernelElement, R: KernelElement>(
  _ a: Tensor, _ b: Tensor, _ out: Tensor, _ f: (A, B) -> R
) {
  let ap = a.storage.data.assumingMemoryBound(to: A.self)
  let bp = b.storage.data.assumingMemoryBound(to: B.self)
  let op = out.storage.data.assumingMemoryBound(to: R.self)
  StridedLoop(shape: out.shape, layouts: [out.layout, a.layout, b.layout]).forEachRow { offs, n, st in
    let o = op + offs[0]
    let x = ap + offs[1]
    let y = bp + offs[2]
    let so = st[0]
    let sa = st[1]
    let sb = st[2]
    if so == 1 && sa == 1 && sb == 1 {
      for k in 0..<n { o[k] = f(x[k], y[k]) }
    } else if so == 1 && sa == 1 && sb == 0 {
      let c = y[0]
      for k in 0..<n { o[k] = f(x[k], c) }
    } else if so == 1 && sa == 0 && sb == 1 {
      let c = x[0]
      for k in 0..<n { o[k] = f(c, y[k]) }
    } else {
      for k in 0..<n { o[k * so] = f(x[k * sa], y[k * sb]) }
    }
  }
}
