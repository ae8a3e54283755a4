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

    /// Launches kernel `name` of `family` over `threads` threads (blocks of
    /// `KernelSource.blockSize`), or over `blocks` blocks, repeated `rows` times along the
    /// grid's y axis, with its argument struct packed from `values` in one buffer.
    func launch(
      _ family: KernelSource.Family, _ name: String, threads: Int = 0, blocks: Int? = nil, rows: Int = 1,
      _ values: [KernelArguments.Value]
    ) {
      let gridSize = blocks ?? (threads + KernelSource.blockSize - 1) / KernelSource.blockSize
      guard gridSize > 0 && rows > 0 else { return }
      let (kernel, arguments) = KernelCompiler.kernel(name, in: family, device: index)
      var packed = arguments.pack(values)
      Runtime.setDevice(index)
      packed.withUnsafeMutableBytes { raw in
        var parameters: [UnsafeMutableRawPointer?] = [raw.baseAddress]
        Runtime.require(
          cudaLaunchKernel(
            UnsafeRawPointer(kernel), dim3(x: UInt32(gridSize), y: UInt32(rows), z: 1),
            dim3(x: UInt32(KernelSource.blockSize), y: 1, z: 1),
            &parameters, 0, Runtime.currentStream(index)),
          "cudaLaunchKernel(\(name))")
      }
      Runtime.require(cudaGetLastError(), "kernel \(name)")
    }

    /// An elementwise kernel over `out` and `inputs`: the `_dense` variant (four elements a
    /// thread, vector loads) when every operand is contiguous in the same order, else the
    /// strided one.
    func elementwise(
      _ family: KernelSource.Family, _ name: String, out: Tensor, inputs: [Tensor], extra: [KernelArguments.Value] = []
    ) {
      let operands = [out] + inputs
      let loop = StridedLoop(shape: out.shape, layouts: operands.map(\.layout))
      let pointers = (inputs + [out]).map { KernelArguments.Value.pointer($0.storage.data) }
      if loop.shape.count == 1 && loop.strides.allSatisfy({ $0[0] == 1 }) {
        let firsts = (inputs + [out]).map {
          KernelArguments.Value.pointer($0.storage.data + $0.storageOffset * $0.dtype.itemSize)
        }
        let perThread = KernelSource.elementsPerDenseThread
        launch(
          family, KernelSource.denseName(name), threads: (loop.count + perThread - 1) / perThread,
          [.int64(loop.count)] + firsts + extra)
      } else {
        launch(
          family, name, threads: loop.count,
          [KernelArguments.geometry(loop, operands: operands.count)] + pointers + extra)
      }
    }

    func transfer(_ src: Tensor, into dst: Tensor, nonBlocking: Bool) throws {
      Runtime.setDevice(index)
      try Runtime.copyBytes(from: src, to: dst, device: index, nonBlocking: nonBlocking)
    }

    func copy(_ src: Tensor, into dst: Tensor) {
      if src.dtype == dst.dtype, src.isContiguous, dst.isContiguous {
        let size = src.dtype.itemSize
        Runtime.setDevice(index)
        Runtime.require(
          cudaMemcpyAsync(
            dst.storage.data + dst.storageOffset * size, src.storage.data + src.storageOffset * size, src.numel * size,
            cudaMemcpyDeviceToDevice, Runtime.currentStream(index)),
          "cudaMemcpyAsync (device to device)")
        return
      }
      elementwise(
        .copy(from: src.dtype), KernelSource.kernelName("copy", dst.dtype.name, src.dtype), out: dst, inputs: [src])
    }

    func fill(_ dst: Tensor, with value: Scalar) {
      elementwise(
        .data, KernelSource.kernelName("fill", "fill", dst.dtype), out: dst, inputs: [],
        extra: [.double(value.doubleValue), .int64(Int(value.int64Value))])
    }

    func unary(_ op: UnaryOp, _ x: Tensor, into out: Tensor) {
      elementwise(.unary(x.dtype), KernelSource.kernelName("unary", op.rawValue, x.dtype), out: out, inputs: [x])
    }

    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor) {
      elementwise(.binary(a.dtype), KernelSource.kernelName("binary", op.rawValue, a.dtype), out: out, inputs: [a, b])
    }

    func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor) {
      elementwise(.data, KernelSource.kernelName("where", "where", a.dtype), out: out, inputs: [condition, a, b])
    }

    func reduce(_ op: ReduceOp, _ x: Tensor, dims: [Int], into out: Tensor) {
      let reduced = Set(dims)
      let kept = (0..<x.dim).filter { !reduced.contains($0) }
      let keptShape = kept.map { x.shape[$0] }
      let outer = StridedLoop(
        shape: keptShape,
        layouts: [
          Layout(shape: keptShape, strides: kept.map { out.layout.strides[$0] }, offset: out.storageOffset),
          Layout(shape: keptShape, strides: kept.map { x.layout.strides[$0] }, offset: x.storageOffset),
        ])
      let reducedShape = dims.map { x.shape[$0] }
      let inner = Layout(shape: reducedShape, strides: dims.map { x.layout.strides[$0] })
      var innerLoop = StridedLoop(shape: reducedShape, layouts: [inner])
      if reducedShape.contains(0) { innerLoop = StridedLoop(shape: [0], layouts: [Layout(contiguous: [0])]) }
      let innerCount = reducedShape.reduce(1, *)
      let name = KernelSource.kernelName("reduce", op.rawValue, x.dtype)
      let values: [KernelArguments.Value] = [
        KernelArguments.geometry(outer, operands: 2), KernelArguments.geometry(innerLoop, operands: 1),
        .pointer(x.storage.data),
        .pointer(out.storage.data),
      ]
      // Long rows get a block each (shuffles combine the threads' shares); short ones a thread.
      if innerCount >= 32 && (innerCount >= 1024 || outer.count < 4096) {
        launch(.reduce(x.dtype), name + "_block", blocks: min(outer.count, 1 << 20), values)
      } else {
        launch(.reduce(x.dtype), name, threads: outer.count, values)
      }
    }

    func argReduce(_ op: ArgReduceOp, _ x: Tensor, dim: Int, values: Tensor, indices: Tensor) {
      var rows = x.layout
      rows.shape[dim] = 1
      let loop = StridedLoop(shape: rows.shape, layouts: [values.layout, indices.layout, rows])
      launch(
        .reduce(x.dtype), KernelSource.kernelName("argreduce", op.rawValue, x.dtype), threads: loop.count,
        [
          KernelArguments.geometry(loop, operands: 3), .int64(x.shape[dim]), .int64(x.layout.strides[dim]),
          .pointer(x.storage.data),
          .pointer(values.storage.data), .pointer(indices.storage.data),
        ])
    }

    func scan(_ op: ScanOp, _ x: Tensor, dim: Int, into out: Tensor) {
      var rowsIn = x.layout
      rowsIn.shape[dim] = 1
      var rowsOut = out.layout
      rowsOut.shape[dim] = 1
      let loop = StridedLoop(shape: rowsIn.shape, layouts: [rowsOut, rowsIn])
      launch(
        .reduce(x.dtype), KernelSource.kernelName("scan", op.rawValue, x.dtype), threads: loop.count,
        [
          KernelArguments.geometry(loop, operands: 2), .int64(x.shape[dim]), .int64(x.layout.strides[dim]),
          .int64(out.layout.strides[dim]), .pointer(x.storage.data), .pointer(out.storage.data),
        ])
    }

    func take(_ src: Tensor, offsets: Tensor, into out: Tensor) {
      let loop = StridedLoop(shape: out.shape, layouts: [out.layout, offsets.layout])
      launch(
        .data, KernelSource.kernelName("take", "take", src.dtype), threads: loop.count,
        [
          KernelArguments.geometry(loop, operands: 2), .pointer(src.firstElement), .pointer(offsets.storage.data),
          .pointer(out.storage.data),
        ])
    }

    func put(_ dst: Tensor, offsets: Tensor, values: Tensor, accumulate: Bool) {
      let loop = StridedLoop(shape: offsets.shape, layouts: [offsets.layout, values.layout])
      // A thread per value: atomic adds accumulate repeated offsets in parallel.
      launch(
        .data, KernelSource.kernelName("put", accumulate ? "accumulate" : "put", dst.dtype), threads: loop.count,
        [
          KernelArguments.geometry(loop, operands: 2), .pointer(dst.firstElement), .pointer(offsets.storage.data),
          .pointer(values.storage.data),
        ])
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
        launch(
          .integerGemm, KernelSource.kernelName("gemm", "int", a.dtype), threads: out.numel,
          [
            .int64(out.shape[0]), .int64(out.shape[1]), .int64(out.shape[2]), .int64(a.shape[2]),
            .pointer(a.firstElement), .int64(sa[0]), .int64(sa[1]), .int64(sa[2]),
            .pointer(b.firstElement), .int64(sb[0]), .int64(sb[1]), .int64(sb[2]),
            .pointer(out.firstElement), .int64(so[0]), .int64(so[1]), .int64(so[2]),
          ])
      }
    }

    func fillRandom(_ dst: Tensor, _ distribution: RandomDistribution, seed: UInt64, offset: UInt64) -> Bool {
      let (kind, a, b): (String, Double, Double) =
        switch distribution {
        case .uniform(let from, let to): ("uniform", from, to)
        case .normal(let mean, let std): ("normal", mean, std)
        case .bernoulli(let p): ("bernoulli", p, 0)
        }
      guard kind == "bernoulli" || dst.dtype.isFloatingPoint else { return false }
      let perBlock = Philox.elementsPerBlock(dst.dtype)
      launch(
        .random, KernelSource.kernelName("random", kind, dst.dtype), threads: (dst.numel + perBlock - 1) / perBlock,
        [.int64(dst.numel), .pointer(dst.firstElement), .uint64(seed), .uint64(offset), .double(a), .double(b)])
      return true
    }
  }

  extension Tensor {
    /// The address of this tensor's first element (for kernels that take a base pointer and
    /// offsets relative to it).
    var firstElement: UnsafeMutableRawPointer { storage.data + storageOffset * dtype.itemSize }
  }
#endif
