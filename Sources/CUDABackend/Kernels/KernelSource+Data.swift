import Tensor

// Fill, where, take and put for every dtype.
extension KernelSource {
  /// The atomic `+=` (`||` for bool) of `value` (compute type) into `address` (storage type),
  /// as CUDA C: the hardware's `atomicAdd` for 32- and 64-bit types, a compare-and-swap loop
  /// on the aligned 32-bit word around a 16- or 8-bit element.
  static func atomicAccumulate(_ dtype: DType, address: String, value: String) -> String {
    let t = ctype(dtype)
    switch dtype {
    case .float32, .float64, .int32: return "atomicAdd(\(address), \(value));"
    case .int64: return "atomicAdd((u64*)(\(address)), (u64)(\(value)));"
    default:
      let unsigned = dtype.itemSize == 2 ? "unsigned short" : "unsigned char"
      let combined = dtype == .bool ? "(current || \(value))" : "(\(t.compute))(current + \(value))"
      return """
        {
              \(t.storage)* address = \(address);
              unsigned int* word = (unsigned int*)((u64)address & ~(u64)3);
              unsigned int shift = (unsigned int)((u64)address & 3) * 8;
              unsigned int mask = (unsigned int)((1u << (8 * \(dtype.itemSize))) - 1u) << shift;
              unsigned int old = *word, assumed;
              do {
                assumed = old;
                \(t.compute) current = \(t.load("(\(t.storage))(\(unsigned))((assumed & mask) >> shift)"));
                \(t.storage) next = \(t.store(combined));
                old = atomicCAS(word, assumed, (assumed & ~mask) | (((unsigned int)(\(unsigned))next << shift) & mask));
              } while (assumed != old);
            }
        """
    }
  }

  /// `fill_fill_<dtype>`, `where_where_<dtype>` (both with `_dense` variants),
  /// `take_take_<dtype>`, `put_put_<dtype>` and `put_accumulate_<dtype>` for every dtype.
  /// `put` runs a thread per value: plain stores (which of several writes to one element wins
  /// is unspecified, as in PyTorch) or atomic accumulation (the order of float additions to
  /// one element varies from run to run, as with PyTorch's atomics).
  static func dataModule() -> Module {
    var builder = ModuleBuilder("data")
    for dtype in DType.allCases {
      let t = ctype(dtype)
      let fillValue = t.isFloat ? "args.value" : (dtype == .bool ? "(args.ivalue != 0)" : "args.ivalue")
      builder.elementwise(
        kernelName("fill", "fill", dtype), inputs: [], output: t, extra: [("value", .double), ("ivalue", .int64)],
        expression: fillValue)
      let raw = rawType(dtype)
      builder.elementwise(
        kernelName("where", "where", dtype), inputs: [("c", ctype(.bool)), ("a", raw), ("b", raw)], output: raw,
        expression: "(c ? a : b)")
      builder.kernel(
        kernelName("take", "take", dtype),
        [
          ("g", .geometry(operands: 2)), ("src", .pointer("const \(t.storage)*")), ("offsets", .pointer("const i64*")),
          ("out", .pointer("\(t.storage)*")),
        ],
        body: """
            i64 i = THREAD_INDEX;
            if (i >= args.g.count) return;
            args.out[offsetOf(args.g, 0, i)] = args.src[args.offsets[offsetOf(args.g, 1, i)]];
          """)
      let putFields: [(String, KernelArguments.Kind)] = [
        ("g", .geometry(operands: 2)), ("dst", .pointer("\(t.storage)*")), ("offsets", .pointer("const i64*")),
        ("values", .pointer("const \(t.storage)*")),
      ]
      builder.kernel(
        kernelName("put", "put", dtype), putFields,
        body: """
            i64 i = THREAD_INDEX;
            if (i >= args.g.count) return;
            args.dst[args.offsets[offsetOf(args.g, 0, i)]] = args.values[offsetOf(args.g, 1, i)];
          """)
      builder.kernel(
        kernelName("put", "accumulate", dtype), putFields,
        body: """
            i64 i = THREAD_INDEX;
            if (i >= args.g.count) return;
            \(t.compute) v = \(t.load("args.values[offsetOf(args.g, 1, i)]"));
            \(atomicAccumulate(dtype, address: "args.dst + args.offsets[offsetOf(args.g, 0, i)]", value: "v"))
          """)
    }
    return builder.module
  }
}
