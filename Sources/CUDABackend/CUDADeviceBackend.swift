#if CUDA
  import CCUDA
  import Foundation
  import Tensor

  /// The `Backend` of one CUDA device: every primitive is an NVRTC-compiled kernel, except
  /// floating-point matmul (cuBLAS) and `nonzero` (which runs on the host).
  struct CUDADeviceBackend: Backend {
    let index: Int
    var allocator: any StorageAllocator { DeviceAllocator.forDevice(index) }
    var pinnedHostAllocator: (any StorageAllocator)? { PinnedHostAllocator.shared }

    /// A kernel argument, passed by address as `cudaLaunchKernel` wants.
    enum Argument {
      case geometry(StridedLoop)
      case pointer(Tensor)
      case int64(Int)
      case int32(Int32)
      case double(Double)
    }

    /// The `Geometry` struct of the kernels: rank, count, shape, 4×8 strides, 4 offsets.
    static func geometry(_ loop: StridedLoop) -> [Int64] {
      usageCheck(
        loop.shape.count <= KernelSource.maxRank,
        "CUDA kernels take at most \(KernelSource.maxRank) dims after merging; got shape \(loop.shape); make the tensor contiguous first")
      var g = [Int64](repeating: 0, count: 2 + 8 + 32 + 4)
      g[0] = Int64(loop.shape.count)
      g[1] = Int64(loop.count)
      for (d, s) in loop.shape.enumerated() { g[2 + d] = Int64(s) }
      for (op, strides) in loop.strides.enumerated() {
        for (d, s) in strides.enumerated() { g[10 + op * 8 + d] = Int64(s) }
      }
      for (op, base) in loop.bases.enumerated() { g[42 + op] = Int64(base) }
      return g
    }

    /// Launches `name` from `module` over `count` threads (or one thread).
    func launch(_ module: KernelSource.Module, _ name: String, count: Int, singleThread: Bool = false, _ arguments: [Argument]) {
      guard count > 0 else { return }
      let kernel = KernelCompiler.kernel(name, in: module, device: index)
      Runtime.setDevice(index)
      var storage: [UnsafeMutableRawPointer] = []
      defer { storage.forEach { $0.deallocate() } }
      func store<T>(_ value: T) {
        let p = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<T>.size, alignment: 16)
        p.storeBytes(of: value, as: T.self)
        storage.append(p)
      }
      for argument in arguments {
        switch argument {
        case .geometry(let loop):
          let g = CUDADeviceBackend.geometry(loop)
          let p = UnsafeMutableRawPointer.allocate(byteCount: g.count * 8, alignment: 16)
          g.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
          storage.append(p)
        case .pointer(let t): store(t.storage.data)
        case .int64(let v): store(Int64(v))
        case .int32(let v): store(v)
        case .double(let v): store(v)
        }
      }
      var pointers: [UnsafeMutableRawPointer?] = storage.map { $0 }
      let threads = 256
      let blocks = singleThread ? 1 : (count + threads - 1) / threads
      Runtime.require(
        cudaLaunchKernel(UnsafeRawPointer(kernel), dim3(x: UInt32(blocks), y: 1, z: 1), dim3(x: UInt32(singleThread ? 1 : threads), y: 1, z: 1), &pointers, 0, nil),
        "cudaLaunchKernel(\(name))")
      Runtime.require(cudaGetLastError(), "kernel \(name)")
    }

    func transfer(_ src: Tensor, into dst: Tensor) throws {
      Runtime.setDevice(index)
      try Runtime.copyBytes(from: src, to: dst)
    }

    func copy(_ src: Tensor, into dst: Tensor) {
      if src.dtype == dst.dtype, src.isContiguous, dst.isContiguous {
        let size = src.dtype.itemSize
        Runtime.setDevice(index)
        Runtime.require(
          cudaMemcpy(dst.storage.data + dst.storageOffset * size, src.storage.data + src.storageOffset * size, src.numel * size, cudaMemcpyDeviceToDevice),
          "cudaMemcpy (device to device)")
        return
      }
      let loop = StridedLoop(shape: dst.shape, layouts: [dst.layout, src.layout])
      launch(KernelSource.copyModule(from: src.dtype), KernelSource.kernelName("copy", dst.dtype.name, src.dtype), count: loop.count,
        [.geometry(loop), .pointer(src), .pointer(dst)])
    }

    func fill(_ dst: Tensor, with value: Scalar) {
      let loop = StridedLoop(shape: dst.shape, layouts: [dst.layout])
      launch(KernelSource.dataModule(), KernelSource.kernelName("fill", "fill", dst.dtype), count: loop.count,
        [.geometry(loop), .pointer(dst), .double(value.doubleValue), .int64(Int(value.int64Value))])
    }

    func unary(_ op: UnaryOp, _ x: Tensor, into out: Tensor) {
      let loop = StridedLoop(shape: out.shape, layouts: [out.layout, x.layout])
      launch(KernelSource.unaryModule(x.dtype), KernelSource.kernelName("unary", op.rawValue, x.dtype), count: loop.count,
        [.geometry(loop), .pointer(x), .pointer(out)])
    }

    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor) {
      let loop = StridedLoop(shape: out.shape, layouts: [out.layout, a.layout, b.layout])
      launch(KernelSource.binaryModule(a.dtype), KernelSource.kernelName("binary", op.rawValue, a.dtype), count: loop.count,
        [.geometry(loop), .pointer(a), .pointer(b), .pointer(out)])
    }

    func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor) {
      let loop = StridedLoop(shape: out.shape, layouts: [out.layout, condition.layout, a.layout, b.layout])
      launch(KernelSource.dataModule(), KernelSource.kernelName("where", "where", a.dtype), count: loop.count,
        [.geometry(loop), .pointer(condition), .pointer(a), .pointer(b), .pointer(out)])
    }

    func reduce(_ op: ReduceOp, _ x: Tensor, dims: [Int], into out: Tensor) {
      let reduced = Set(dims)
      let kept = (0..<x.dim).filter { !reduced.contains($0) }
      let keptShape = kept.map { x.shape[$0] }
      let outer = StridedLoop(
        shape: keptShape,
        layouts: [Layout(shape: keptShape, strides: kept.map { out.layout.strides[$0] }, offset: out.storageOffset),
                  Layout(shape: keptShape, strides: kept.map { x.layout.strides[$0] }, offset: x.storageOffset)])
      let reducedShape = dims.map { x.shape[$0] }
      let inner = Layout(shape: reducedShape, strides: dims.map { x.layout.strides[$0] })
      let innerLoop = StridedLoop(shape: reducedShape, layouts: [inner, inner])
      let count = reducedShape.reduce(1, *) == 0 ? 0 : innerLoop.count
      var innerGeometry = innerLoop
      if count == 0 { innerGeometry = StridedLoop(shape: [0], layouts: [Layout(contiguous: [0]), Layout(contiguous: [0])]) }
      launch(KernelSource.reduceModule(x.dtype), KernelSource.kernelName("reduce", op.rawValue, x.dtype), count: outer.count,
        [.geometry(outer), .geometry(innerGeometry), .pointer(x), .pointer(out)])
    }

    func argReduce(_ op: ArgReduceOp, _ x: Tensor, dim: Int, values: Tensor, indices: Tensor) {
      var rows = x.layout
      rows.shape[dim] = 1
      let loop = StridedLoop(shape: rows.shape, layouts: [values.layout, indices.layout, rows])
      launch(KernelSource.reduceModule(x.dtype), KernelSource.kernelName("argreduce", op.rawValue, x.dtype), count: loop.count,
        [.geometry(loop), .int64(x.shape[dim]), .int64(x.layout.strides[dim]), .pointer(x), .pointer(values), .pointer(indices)])
    }

    func scan(_ op: ScanOp, _ x: Tensor, dim: Int, into out: Tensor) {
      var rowsIn = x.layout
      rowsIn.shape[dim] = 1
      var rowsOut = out.layout
      rowsOut.shape[dim] = 1
      let loop = StridedLoop(shape: rowsIn.shape, layouts: [rowsOut, rowsIn])
      launch(KernelSource.reduceModule(x.dtype), KernelSource.kernelName("scan", op.rawValue, x.dtype), count: loop.count,
        [.geometry(loop), .int64(x.shape[dim]), .int64(x.layout.strides[dim]), .int64(out.layout.strides[dim]), .pointer(x), .pointer(out)])
    }

    func take(_ src: Tensor, offsets: Tensor, into out: Tensor) {
      let loop = StridedLoop(shape: out.shape, layouts: [out.layout, offsets.layout])
      let base = src.aliasedAtOffset()
      launch(KernelSource.dataModule(), KernelSource.kernelName("take", "take", src.dtype), count: loop.count,
        [.geometry(loop), .pointer(base), .pointer(offsets), .pointer(out)])
    }

    func put(_ dst: Tensor, offsets: Tensor, values: Tensor, accumulate: Bool) {
      let loop = StridedLoop(shape: offsets.shape, layouts: [offsets.layout, values.layout])
      let base = dst.aliasedAtOffset()
      launch(KernelSource.dataModule(), KernelSource.kernelName("put", "put", dst.dtype), count: loop.count, singleThread: true,
        [.geometry(loop), .pointer(base), .pointer(offsets), .pointer(values), .int32(accumulate ? 1 : 0)])
    }

    func nonzero(_ x: Tensor) -> Tensor {
      // Data-dependent output size: done on the host.
      let host = x.movedTo(.cpu)
      return Tensor.backend(for: .cpu).nonzero(host).movedTo(.cuda(index))
    }

    func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor) {
      if a.dtype.isFloatingPoint {
        CUBLAS.gemm(a, b, into: out, device: index)
      } else {
        let (sa, sb, so) = (a.stride(), b.stride(), out.stride())
        launch(KernelSource.integerGemmModule(), KernelSource.kernelName("gemm", "int", a.dtype), count: out.numel,
          [.int64(out.shape[0]), .int64(out.shape[1]), .int64(out.shape[2]), .int64(a.shape[2]),
           .pointer(a.aliasedAtOffset()), .int64(sa[0]), .int64(sa[1]), .int64(sa[2]),
           .pointer(b.aliasedAtOffset()), .int64(sb[0]), .int64(sb[1]), .int64(sb[2]),
           .pointer(out.aliasedAtOffset()), .int64(so[0]), .int64(so[1]), .int64(so[2])])
      }
    }
  }

  extension Tensor {
    /// A tensor whose storage pointer starts at this tensor's first element (for kernels that
    /// take a base pointer and relative offsets).
    func aliasedAtOffset() -> Tensor {
      let shifted = Storage(wrapping: storage.data + storageOffset * dtype.itemSize, byteCount: storage.byteCount - storageOffset * dtype.itemSize, device: device, release: nil)
      return Tensor(storage: shifted, layout: Layout(shape: shape, strides: stride(), offset: 0), dtype: dtype)
    }
  }
#endif
