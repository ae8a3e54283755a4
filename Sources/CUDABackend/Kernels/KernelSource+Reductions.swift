import Tensor

// Reductions, arg-reductions, scans, and the integer matrix product.
extension KernelSource {
  /// A reduction's accumulator type, start value and combining statement (of `acc` and `v`).
  struct Reduction {
    let name: String
    let accumulator: String
    let initial: String
    let combine: String
  }

  /// The reductions of one dtype: sum and prod (all and any for bool), amax and amin (NaN
  /// wins, as in PyTorch).
  static func reductions(_ dtype: DType) -> [Reduction] {
    let t = ctype(dtype)
    // Warp shuffles move 32- and 64-bit values: narrow types accumulate wider.
    let wide = t.isFloat ? "double" : (dtype == .bool ? "int" : "i64")
    var list: [Reduction]
    if dtype == .bool {
      list = [
        Reduction(name: "all", accumulator: wide, initial: "1", combine: "acc = acc && v;"),
        Reduction(name: "any", accumulator: wide, initial: "0", combine: "acc = acc || v;"),
      ]
    } else {
      list = [
        Reduction(name: "sum", accumulator: wide, initial: "0", combine: "acc += v;"),
        Reduction(name: "prod", accumulator: wide, initial: "1", combine: "acc *= v;"),
      ]
    }
    let extreme = t.isFloat ? t.compute : wide
    let (lowest, highest): (String, String) =
      switch dtype {
      case .float32, .float16, .bfloat16: ("(-__int_as_float(0x7f800000))", "__int_as_float(0x7f800000)")
      case .float64: ("(-__longlong_as_double(0x7ff0000000000000LL))", "__longlong_as_double(0x7ff0000000000000LL)")
      case .bool: ("0", "1")
      default: ("(i64)(-0x7fffffffffffffffLL - 1)", "(i64)0x7fffffffffffffffLL")
      }
    let nan = t.isFloat ? "v != v || " : ""
    list.append(Reduction(name: "amax", accumulator: extreme, initial: lowest, combine: "if (\(nan)v > acc) acc = v;"))
    list.append(Reduction(name: "amin", accumulator: extreme, initial: highest, combine: "if (\(nan)v < acc) acc = v;"))
    return list
  }

  /// Reductions, arg-reductions and scans for one dtype.
  ///
  /// `reduce_<op>_<dtype>` runs a thread per output element (many outputs, short rows);
  /// `reduce_<op>_<dtype>_block` a block per output element: each thread folds a strided
  /// share of the row, warps combine with shuffles, then the warps' results through shared
  /// memory (long rows). The outer geometry walks the kept dims (operand 0: out, 1: x), the
  /// inner one the reduced dims of x.
  static func reduceModule(_ dtype: DType) -> Module {
    let t = ctype(dtype)
    var builder = ModuleBuilder("reduce_\(dtype.name)")
    let fields: [(String, KernelArguments.Kind)] = [
      ("g", .geometry(operands: 2)), ("inner", .geometry(operands: 1)), ("x", .pointer("const \(t.storage)*")),
      ("out", .pointer("\(t.storage)*")),
    ]
    for r in reductions(dtype) {
      let load = "(\(r.accumulator))\(t.load("args.x[base + offsetOf(args.inner, 0, j)]"))"
      let store = t.store("(\(t.compute))acc")
      builder.kernel(
        kernelName("reduce", r.name, dtype), fields,
        body: """
            i64 i = THREAD_INDEX;
            if (i >= args.g.count) return;
            i64 base = offsetOf(args.g, 1, i);
            \(r.accumulator) acc = \(r.initial);
            for (i64 j = 0; j < args.inner.count; ++j) {
              \(r.accumulator) v = \(load);
              \(r.combine)
            }
            args.out[offsetOf(args.g, 0, i)] = \(store);
          """)
      builder.kernel(
        kernelName("reduce", r.name, dtype) + "_block", fields,
        body: """
            __shared__ \(r.accumulator) partial[32];
            int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
            for (i64 o = blockIdx.x; o < args.g.count; o += gridDim.x) {
              i64 base = offsetOf(args.g, 1, o);
              \(r.accumulator) acc = \(r.initial);
              for (i64 j = threadIdx.x; j < args.inner.count; j += blockDim.x) {
                \(r.accumulator) v = \(load);
                \(r.combine)
              }
              #pragma unroll
              for (int step = 16; step > 0; step >>= 1) {
                \(r.accumulator) v = __shfl_down_sync(0xffffffffu, acc, step);
                \(r.combine)
              }
              if (lane == 0) partial[warp] = acc;
              __syncthreads();
              if (warp == 0) {
                acc = lane < (int)(blockDim.x >> 5) ? partial[lane] : (\(r.accumulator))(\(r.initial));
                #pragma unroll
                for (int step = 16; step > 0; step >>= 1) {
                  \(r.accumulator) v = __shfl_down_sync(0xffffffffu, acc, step);
                  \(r.combine)
                }
                if (lane == 0) args.out[offsetOf(args.g, 0, o)] = \(store);
              }
              __syncthreads();
            }
          """)
    }
    for (name, better) in [("max", ">"), ("min", "<")] {
      builder.kernel(
        kernelName("argreduce", name, dtype),
        [
          ("g", .geometry(operands: 3)), ("n", .int64), ("stride", .int64), ("x", .pointer("const \(t.storage)*")),
          ("values", .pointer("\(t.storage)*")), ("indices", .pointer("i64*")),
        ],
        body: """
            // g walks the output positions: operand 0 values, 1 indices, 2 the row start in x.
            i64 i = THREAD_INDEX;
            if (i >= args.g.count) return;
            const \(t.storage)* row = args.x + offsetOf(args.g, 2, i);
            \(t.compute) best = \(t.load("row[0]"));
            i64 where = 0;
            if (best == best) {
              for (i64 j = 1; j < args.n; ++j) {
                \(t.compute) v = \(t.load("row[j * args.stride]"));
                \(t.isFloat ? "if (v != v) { best = v; where = j; break; }" : "")
                if (v \(better) best) { best = v; where = j; }
              }
            }
            args.values[offsetOf(args.g, 0, i)] = \(t.store("best"));
            args.indices[offsetOf(args.g, 1, i)] = where;
          """)
    }
    if dtype.isFloatingPoint || dtype == .int64 {
      let accumulator = t.isFloat ? "double" : "i64"
      for (name, initial, combine) in [("cumsum", "0", "acc += v;"), ("cumprod", "1", "acc *= v;")] {
        builder.kernel(
          kernelName("scan", name, dtype),
          [
            ("g", .geometry(operands: 2)), ("n", .int64), ("strideIn", .int64), ("strideOut", .int64),
            ("x", .pointer("const \(t.storage)*")), ("out", .pointer("\(t.storage)*")),
          ],
          body: """
              // g walks the rows: operand 0 the row start in out, 1 in x.
              i64 i = THREAD_INDEX;
              if (i >= args.g.count) return;
              const \(t.storage)* src = args.x + offsetOf(args.g, 1, i);
              \(t.storage)* dst = args.out + offsetOf(args.g, 0, i);
              \(accumulator) acc = \(initial);
              for (i64 j = 0; j < args.n; ++j) {
                \(accumulator) v = (\(accumulator))\(t.load("src[j * args.strideIn]"));
                \(combine)
                dst[j * args.strideOut] = \(t.store("(\(t.compute))acc"));
              }
            """)
      }
    }
    return builder.module
  }

  /// A plain batched matrix product for the integer types (cuBLAS covers the floats):
  /// `gemm_int_<dtype>`, a thread per output element.
  static func integerGemmModule() -> Module {
    var builder = ModuleBuilder("gemm_int")
    for dtype in DType.allCases where dtype.isIntegral {
      let t = ctype(dtype)
      let operand: (String, Bool) -> [(String, KernelArguments.Kind)] = { name, isOutput in
        [
          (name, .pointer(isOutput ? "\(t.storage)*" : "const \(t.storage)*")), ("s\(name)0", .int64),
          ("s\(name)1", .int64), ("s\(name)2", .int64),
        ]
      }
      builder.kernel(
        kernelName("gemm", "int", dtype),
        [("batch", .int64), ("m", .int64), ("n", .int64), ("k", .int64)] + operand("a", false) + operand("b", false)
          + operand("c", true),
        body: """
            i64 i = THREAD_INDEX;
            if (i >= args.batch * args.m * args.n) return;
            i64 bi = i / (args.m * args.n), r = (i / args.n) % args.m, col = i % args.n;
            i64 acc = 0;
            for (i64 kk = 0; kk < args.k; ++kk)
              acc += (i64)args.a[bi * args.sa0 + r * args.sa1 + kk * args.sa2] * (i64)args.b[bi * args.sb0 + kk * args.sb1 + col * args.sb2];
            args.c[bi * args.sc0 + r * args.sc1 + col * args.sc2] = (\(t.storage))acc;
          """)
    }
    return builder.module
  }
}
