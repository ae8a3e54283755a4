extension CPUBackend {
  func take(_ src: Tensor, offsets: Tensor, into out: Tensor) {
    src.dtype.visit(Take(src: src, offsets: offsets, out: out))
  }

  private struct Take: AnyDTypeVisitor {
    let src: Tensor
    let offsets: Tensor
    let out: Tensor
    func any<T: KernelElement>(_: T.Type) {
      let sp = src.storage.data.assumingMemoryBound(to: T.self) + src.storageOffset
      map(offsets, out) { (o: Int64) in sp[Int(o)] }
    }
  }

  func put(_ dst: Tensor, offsets: Tensor, values: Tensor, accumulate: Bool) {
    dst.dtype.visit(Put(dst: dst, offsets: offsets, values: values, accumulate: accumulate))
  }

  private struct Put: DTypeVisitor {
    let dst: Tensor
    let offsets: Tensor
    let values: Tensor
    let accumulate: Bool
    func float<T: FloatElement>(_: T.Type) {
      CPUBackend.putTyped(dst, offsets, values, accumulate, T.self) { T(math: $0.math + $1.math) }
    }
    func integer<T: IntElement>(_: T.Type) {
      CPUBackend.putTyped(dst, offsets, values, accumulate, T.self) { $0 &+ $1 }
    }
    func bool() { CPUBackend.putTyped(dst, offsets, values, accumulate, Bool.self) { $0 || $1 } }
  }

  /// Sequential, so repeated offsets accumulate deterministically (the last write wins
  /// without `accumulate`).
  fileprivate static func putTyped<T: KernelElement>(
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
