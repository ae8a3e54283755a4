import Foundation
import TestSupport
import Testing

@testable import CUDABackend
@testable import Tensor

/// The CUDA kernels whose threads are independent, run on the host (`HostKernelEmulator`):
/// the Philox random kernels against the host reference the test device uses, the dense and
/// strided elementwise kernels against the CPU, and atomic accumulation in narrow types.
@Suite struct EmulatedKernelTests {
  @Test func randomKernelsDrawThePhiloxStream() throws {
    let cases: [(DType, String, RandomDistribution)] = [
      (.float32, "uniform", .uniform(from: -1, to: 3)), (.float64, "uniform", .uniform(from: 0, to: 2)),
      (.float16, "uniform", .uniform(from: 0, to: 1)), (.bfloat16, "uniform", .uniform(from: -2, to: 2)),
      (.float32, "normal", .normal(mean: 0.5, std: 2)), (.float64, "normal", .normal(mean: 0, std: 1)),
      (.float32, "bernoulli", .bernoulli(p: 0.3)), (.float64, "bernoulli", .bernoulli(p: 0.6)),
      (.int8, "bernoulli", .bernoulli(p: 0.5)),
    ]
    let names = cases.map { KernelSource.kernelName("random", $0.1, $0.0) }
    let emulator = try HostKernelEmulator(KernelSource.module(.random), kernels: names)
    let count = 1031
    for ((dtype, _, distribution), name) in zip(cases, names) {
      let out = Tensor.zeros([count], dtype: dtype)
      let (a, b): (Double, Double) =
        switch distribution {
        case .uniform(let from, let to): (from, to)
        case .normal(let mean, let std): (mean, std)
        case .bernoulli(let p): (p, 0)
        }
      let perBlock = Philox.elementsPerBlock(dtype)
      try emulator.launch(name, threads: (count + perBlock - 1) / perBlock, tensors: [out]) { pointer in
        [.int64(count), .pointer(pointer(out)), .uint64(0xDEAD_BEEF_0000_0042), .uint64(9), .double(a), .double(b)]
      }
      let reference = Tensor(
        Philox.values(count: count, dtype: dtype, distribution, seed: 0xDEAD_BEEF_0000_0042, offset: 9), shape: [count]
      ).to(dtype)
      if case .normal = distribution {
        expectClose(out.to(.float64), reference.to(.float64), rtol: 1e-6, atol: 1e-6)
      } else {
        #expect(out.to(.float64).toArray(Double.self) == reference.to(.float64).toArray(Double.self), "\(name)")
      }
    }
  }

  @Test func elementwiseKernelsDenseAndStrided() throws {
    let names = ["unary_exp_float32", "unary_exp_float32_dense"]
    let unary = try HostKernelEmulator(KernelSource.module(.unary(.float32)), kernels: names)
    let x = Tensor.randn([1003], generator: Generator(seed: 5))
    // Dense: 1003 = 250 packs of 4 and a tail of 3; starting one element in misaligns the packs.
    for start in [0, 1] {
      let input = x[start...]
      let out = Tensor.zeros([input.numel])
      try unary.launch(names[1], threads: (input.numel + 3) / 4, tensors: [input, out]) { pointer in
        [.int64(input.numel), .pointer(pointer(input)! + input.storageOffset * 4), .pointer(pointer(out))]
      }
      expectClose(out, input.exp(), rtol: 1e-6, atol: 0)
    }
    // Strided: a transposed view.
    let matrix = Tensor.randn([7, 9], generator: Generator(seed: 6))
    let view = matrix.t()
    let out = Tensor.zeros([9, 7])
    let loop = StridedLoop(shape: out.shape, layouts: [out.layout, view.layout])
    try unary.launch(names[0], threads: loop.count, tensors: [matrix, out]) { pointer in
      [KernelArguments.geometry(loop, operands: 2), .pointer(pointer(matrix)), .pointer(pointer(out))]
    }
    expectClose(out, view.exp(), rtol: 1e-6, atol: 0)

    let data = try HostKernelEmulator(
      KernelSource.module(.data),
      kernels: ["where_where_float16_dense", "put_accumulate_int8", "put_accumulate_float16"])
    let condition = Tensor.rand([11], generator: Generator(seed: 7)) .> 0.5
    let (a, b) = (Tensor.randn([11]).to(.float16), Tensor.randn([11]).to(.float16))
    let selected = Tensor.zeros([11], dtype: .float16)
    try data.launch("where_where_float16_dense", threads: 3, tensors: [condition, a, b, selected]) { pointer in
      [
        .int64(11), .pointer(pointer(condition)), .pointer(pointer(a)), .pointer(pointer(b)),
        .pointer(pointer(selected)),
      ]
    }
    #expect(selected.toArray(Float.self) == Tensor.where(condition, a, b).toArray(Float.self))

    // Repeated offsets add up (int8 wraps), in neighbouring bytes of one 32-bit word.
    for dtype in [DType.int8, .float16] {
      let target = Tensor.zeros([6], dtype: dtype)
      let offsets = Tensor([0, 1, 1, 2, 3, 3, 3, 5, 1, 0] as [Int64], shape: [10])
      let values = Tensor([100, 100, 100, 1, 2, 3, 4, 5, 60, 27] as [Float], shape: [10]).to(dtype)
      let loop = StridedLoop(shape: offsets.shape, layouts: [offsets.layout, values.layout])
      try data.launch("put_accumulate_\(dtype.name)", threads: 10, tensors: [target, offsets, values]) { pointer in
        [
          KernelArguments.geometry(loop, operands: 2), .pointer(pointer(target)), .pointer(pointer(offsets)),
          .pointer(pointer(values)),
        ]
      }
      let expected: [Double] =
        dtype == .int8 ? [127, Double(Int8(truncatingIfNeeded: 260)), 1, 9, 0, 5] : [127, 260, 1, 9, 0, 5]
      #expect(target.to(.float64).toArray(Double.self) == expected, "\(dtype)")
    }
  }
}

/// The bitonic sort kernels, run on the host stage by stage, against the CPU's stable sort.
@Suite struct EmulatedSortTests {
  @Test(arguments: [false, true])
  func sortKernelsGiveTheStablePermutation(descending: Bool) throws {
    let nan = Double.nan
    let floats = Tensor([[3, nan, 1, 3, -2], [0, 0, 0, nan, nan], [5, 4, 3, 2, 1]] as [[Double]]).to(.float32)
    let integers = Tensor([[4, 1, 4, 1, 9, 0, 4], [7, 7, 7, 7, 7, 7, 7]] as [[Int64]])
    for rows in [floats, integers] {
      let (count, width) = (rows.shape[0], rows.shape[1])
      let padded = 1 << (Int.bitWidth - (width - 1).leadingZeroBitCount)
      let key = KernelSource.sortKeyType(rows.dtype)
      let initName = KernelSource.kernelName("sort", "init", rows.dtype)
      let emulator = try HostKernelEmulator(
        KernelSource.module(.sort), kernels: [initName, "sort_step_\(key)", "sort_gather"])
      let keys = Tensor.zeros([count * padded], dtype: rows.dtype.isFloatingPoint ? .float64 : .int64)
      let indices = Tensor.zeros([count * padded], dtype: .int64)
      let out = Tensor.zeros([count, width], dtype: .int64)
      func values(_ pointer: (Tensor?) -> UnsafeMutableRawPointer?, block: Int, distance: Int) -> [KernelArguments
        .Value]
      {
        [
          .pointer(pointer(rows)), .pointer(pointer(keys)), .pointer(pointer(indices)), .pointer(pointer(out)),
          .int64(count),
          .int64(width), .int64(padded), .int64(block), .int64(distance), .int64(descending ? 1 : 0),
        ]
      }
      let tensors = [rows, keys, indices, out]
      try emulator.launch(initName, threads: count * padded, tensors: tensors) { values($0, block: 0, distance: 0) }
      for stage in KernelSource.bitonicStages(padded: padded) {
        try emulator.launch("sort_step_\(key)", threads: count * padded / 2, tensors: tensors) {
          values($0, block: stage.block, distance: stage.distance)
        }
      }
      try emulator.launch("sort_gather", threads: count * width, tensors: tensors) { values($0, block: 0, distance: 0) }
      #expect(
        out.toArray(Int64.self) == rows.argsort(dim: 1, descending: descending, stable: true).toArray(Int64.self),
        "\(rows.dtype)")
    }
    #expect(
      KernelSource.bitonicStages(padded: 8).map { [$0.block, $0.distance] } == [
        [2, 1], [4, 2], [4, 1], [8, 4], [8, 2], [8, 1],
      ])
  }
}

/// The block reductions (a block per output row: strided shares, warp shuffles, shared
/// memory), run on the host with each block's threads together, against the CPU.
@Suite struct EmulatedReductionTests {
  @Test func blockReductionsMatchTheCPU() throws {
    // Rows longer than a block, a NaN in one row, and the rows of a transposed view.
    let x = Tensor.randn([3, 700], generator: Generator(seed: 12))
    x[1, 333] = Tensor(Float.nan)
    let cases: [(DType, String, Tensor, (Tensor) -> Tensor)] = [
      (.float32, "sum", x, { $0.sum(dim: [1], keepdim: true) }),
      (.float32, "amax", x, { $0.amax(dim: [1], keepdim: true) }),
      (.float32, "amin", x.t().contiguous().t(), { $0.amin(dim: [1], keepdim: true) }),
      (.int64, "sum", (x.nanToNum() * 100).long(), { $0.sum(dim: [1], keepdim: true) }),
      (.bool, "any", x .> 2.5, { $0.any(dim: [1], keepdim: true) }),
      (.bool, "all", x .> -3.5, { $0.all(dim: [1], keepdim: true) }),
      (.float16, "sum", (x.nanToNum() * 0.01).to(.float16), { $0.sum(dim: [1], keepdim: true) }),
    ]
    for (dtype, op, input, reference) in cases {
      let name = KernelSource.kernelName("reduce", op, dtype) + "_block"
      let emulator = try HostKernelEmulator(KernelSource.module(.reduce(dtype)), kernels: [name])
      let out = Tensor.zeros([3, 1], dtype: dtype)
      let outer = StridedLoop(
        shape: [3],
        layouts: [
          Layout(shape: [3], strides: [out.stride(0)], offset: 0),
          Layout(shape: [3], strides: [input.stride(0)], offset: input.storageOffset),
        ])
      let inner = StridedLoop(shape: [700], layouts: [Layout(shape: [700], strides: [input.stride(1)])])
      try emulator.launch(name, blocks: 3, cooperative: true, tensors: [input, out]) { pointer in
        [
          KernelArguments.geometry(outer, operands: 2), KernelArguments.geometry(inner, operands: 1),
          .pointer(pointer(input)), .pointer(pointer(out)),
        ]
      }
      let tolerance = dtype == .float16 ? 1e-2 : 1e-5
      expectClose(out.to(.float64), reference(input).to(.float64), rtol: tolerance, atol: tolerance)
    }
  }
}

/// The thread-per-row kernels (arg-reductions, scans, the integer matrix product) and
/// conversions, run on the host against the CPU.
@Suite struct EmulatedRowKernelTests {
  @Test func argReductionsScansAndIntegerProducts() throws {
    let x = Tensor([[3, 1, 3, -2], [0, .nan, 5, .nan], [-1, -1, -4, -4]] as [[Float]])
    let reduce = try HostKernelEmulator(
      KernelSource.module(.reduce(.float32)),
      kernels: ["argreduce_max_float32", "argreduce_min_float32", "scan_cumsum_float32", "scan_cumprod_float32"])
    for op in ["max", "min"] {
      let values = Tensor.zeros([3, 1])
      let indices = Tensor.zeros([3, 1], dtype: .int64)
      var rows = x.layout
      rows.shape[1] = 1
      let loop = StridedLoop(shape: rows.shape, layouts: [values.layout, indices.layout, rows])
      try reduce.launch("argreduce_\(op)_float32", threads: loop.count, tensors: [x, values, indices]) { pointer in
        [
          KernelArguments.geometry(loop, operands: 3), .int64(4), .int64(1), .pointer(pointer(x)),
          .pointer(pointer(values)), .pointer(pointer(indices)),
        ]
      }
      let expected = op == "max" ? x.max(dim: 1, keepdim: true) : x.min(dim: 1, keepdim: true)
      #expect(indices.toArray(Int64.self) == expected.indices.toArray(Int64.self), "\(op)")
      expectClose(values, expected.values)
    }
    // Scans along dim 0 of a [3, 4] tensor: rows are the columns (stride 4).
    let finite = x.nanToNum(nan: 0.5)
    for op in ["cumsum", "cumprod"] {
      let out = Tensor.zeros([3, 4])
      var rowsIn = finite.layout
      rowsIn.shape[0] = 1
      var rowsOut = out.layout
      rowsOut.shape[0] = 1
      let loop = StridedLoop(shape: rowsIn.shape, layouts: [rowsOut, rowsIn])
      try reduce.launch("scan_\(op)_float32", threads: loop.count, tensors: [finite, out]) { pointer in
        [
          KernelArguments.geometry(loop, operands: 2), .int64(3), .int64(4), .int64(4), .pointer(pointer(finite)),
          .pointer(pointer(out)),
        ]
      }
      expectClose(out, op == "cumsum" ? finite.cumsum(dim: 0) : finite.cumprod(dim: 0))
    }

    let gemm = try HostKernelEmulator(KernelSource.module(.integerGemm), kernels: ["gemm_int_int32"])
    let a = Tensor.randint(-9, 9, [2, 3, 5], generator: Generator(seed: 4)).to(.int32)
    let b = Tensor.randint(-9, 9, [2, 4, 5], generator: Generator(seed: 5)).to(.int32).mT  // a transposed operand
    let c = Tensor.zeros([2, 3, 4], dtype: .int32)
    try gemm.launch("gemm_int_int32", threads: c.numel, tensors: [a, b, c]) { pointer in
      [.int64(2), .int64(3), .int64(4), .int64(5)]
        + [(a, a.stride()), (b, b.stride()), (c, c.stride())].flatMap { t, s in
          [KernelArguments.Value.pointer(pointer(t)! + t.storageOffset * 4), .int64(s[0]), .int64(s[1]), .int64(s[2])]
        }
    }
    #expect(c.toArray(Int32.self) == a.bmm(b).toArray(Int32.self))

    let convert = try HostKernelEmulator(
      KernelSource.module(.copy(from: .float32)), kernels: ["copy_float16_float32_dense", "copy_bool_float32_dense"])
    let values = Tensor([0, 1.5, -0.0, 65520, 1e-8, .nan, .infinity] as [Float])
    for (target, name) in [(DType.float16, "copy_float16_float32_dense"), (.bool, "copy_bool_float32_dense")] {
      let out = Tensor.zeros([7], dtype: target)
      try convert.launch(name, threads: 2, tensors: [values, out]) { pointer in
        [.int64(7), .pointer(pointer(values)), .pointer(pointer(out))]
      }
      #expect(
        out.to(.float64).toArray(Double.self).map { $0.isNaN ? -1 : $0 }
          == values.to(target).to(.float64).toArray(Double.self).map { $0.isNaN ? -1 : $0 }, "\(target)")
    }
  }
}
