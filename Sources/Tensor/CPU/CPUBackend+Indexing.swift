extension CPUBackend {
  func take(_ src: Tensor, offsets: Tensor, into out: Tensor) {
    switch src.dtype {
    case .float32: takeTyped(src, offsets, out, Float.self)
    case .float64: takeTyped(src, offsets, out, Double.self)
    case .float16: takeTyped(src, offsets, out, Float16.self)
    case .bfloat16: takeTyped(src, offsets, out, BFloat16.self)
    case .int64: takeTyped(src, offsets, out, Int64.self)
    case .int32: takeTyped(src, offsets, out, Int32.self)
    case .int16: takeTyped(src, offsets, out, Int16.self)
    case .int8: takeTyped(src, offsets, out, Int8.self)
    case .uint8: takeTyped(src, offsets, out, UInt8.self)
    case .bool: takeTyped(src, offsets, out, Bool.self)
    }
  }

  private func takeTyped<T: KernelElement>(_ src: Tensor, _ offsets: Tensor, _ out: Tensor, _: T.Type) {
    let sp = src.storage.data.assumingMemoryBound(to: T.self) + src.storageOffset
    map(offsets, out) { (o: Int64) in sp[Int(o)] }
  }

  func put(_ dst: Tensor, offsets: Tensor, values: Tensor, accumulate: Bool) {
    switch dst.dtype {
    case .float32: putTyped(dst, offsets, values, accumulate, Float.self) { $0 + $1 }
    case .float64: putTyped(dst, offsets, values, accumulate, Double.self) { $0 + $1 }
    case .float16: putTyped(dst, offsets, values, accumulate, Float16.self) { a, b in Float16(math: a.math + b.math) }
    case .bfloat16: putTyped(dst, offsets, values, accumulate, BFloat16.self) { a, b in BFloat16(math: a.math + b.math) }
    case .int64: putTyped(dst, offsets, values, accumulate, Int64.self) { $0 &+ $1 }
    case .int32: putTyped(dst, offsets, values, accumulate, Int32.self) { $0 &+ $1 }
    case .int16: putTyped(dst, offsets, values, accumulate, Int16.self) { $0 &+ $1 }
    case .int8: putTyped(dst, offsets, values, accumulate, Int8.self) { $0 &+ $1 }
    case .uint8: putTyped(dst, offsets, values, accumulate, UInt8.self) { $0 &+ $1 }
    case .bool: putTyped(dst, offsets, values, accumulate, Bool.self) { $0 || $1 }
    }
  }

  /// Sequential, so repeated offsets accumulate deterministically (the last write wins
  /// without `accumulate`).
  private func putTyped<T: KernelElement>(
    _ dst: Tensor, _ offsets: Tensor, _ values: Tensor, _ accumulate: Bool, _: T.Type, _ add: (T, T) -> T
  ) {
    let dp = dst.storage.data.assumingMemoryBound(to: T.self) + dst.storageOffset
    let op = offsets.storage.data.assumingMemoryBound(to: Int64.self)
    let vp = values.storage.data.assumingMemoryBound(to: T.self)
    StridedLoop(shape: offsets.shape, layouts: [offsets.layout, values.layout]).forEachRow(parallel: false) {
      offs, n, st in
      for k in 0..<n {
        let target = Int(op[offs[0] + k * st[0]])
        let v = vp[offs[1] + k * st[1]]
        dp[target] = accumulate ? add(dp[target], v) : v
      }
    }
  }
}
