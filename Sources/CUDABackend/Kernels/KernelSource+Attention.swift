import Tensor

// Fused attention: softmax(scale Q Kᵀ + mask) V without the L x S score matrix.
extension KernelSource {
  /// Head sizes with kernels of their own (query and value heads both this size): their
  /// per-thread vectors live in registers. Other sizes up to `attentionMaxHead` take the
  /// generic kernels (`_d0`), whose vectors spill to local memory.
  package static let attentionHeadSizes = [32, 64, 128]
  /// The largest head the kernels take; larger ones use the composed path.
  package static let attentionMaxHead = 256

  /// The argument struct of the forward kernel (geometry over the batch dims; operands q, k,
  /// v, mask, out, lse).
  static func attentionForwardFields(_ t: CType, _ lse: String) -> [(String, KernelArguments.Kind)] {
    [
      ("g", .geometry(operands: 6)), ("q", .pointer("const \(t.storage)*")), ("k", .pointer("const \(t.storage)*")),
      ("v", .pointer("const \(t.storage)*")), ("mask", .pointer("const \(t.storage)*")),
      ("out", .pointer("\(t.storage)*")),
      ("lse", .pointer("\(lse)*")),
    ] + attentionShapeFields
  }

  /// The argument struct of the backward kernels (operands q, k, v, mask, out, dout, lse, dq,
  /// dk, dv; `delta` is the backward's scratch row of `dout · out`, contiguous per slice).
  static func attentionBackwardFields(_ t: CType, _ lse: String) -> [(String, KernelArguments.Kind)] {
    [
      ("g", .geometry(operands: 10)), ("q", .pointer("const \(t.storage)*")), ("k", .pointer("const \(t.storage)*")),
      ("v", .pointer("const \(t.storage)*")), ("mask", .pointer("const \(t.storage)*")),
      ("out", .pointer("const \(t.storage)*")),
      ("dout", .pointer("const \(t.storage)*")), ("lse", .pointer("const \(lse)*")), ("dq", .pointer("\(t.storage)*")),
      ("dk", .pointer("\(t.storage)*")), ("dv", .pointer("\(t.storage)*")), ("delta", .pointer("\(lse)*")),
      ("lddo", .int64), ("lddq", .int64), ("lddk", .int64), ("lddv", .int64),
    ] + attentionShapeFields
  }

  static let attentionShapeFields: [(String, KernelArguments.Kind)] = [
    ("L", .int64), ("S", .int64), ("E", .int64), ("Ev", .int64), ("ldq", .int64), ("ldk", .int64), ("ldv", .int64),
    ("ldo", .int64), ("maskRow", .int64), ("maskCol", .int64), ("causal", .int64), ("scale", .double),
  ]

  /// The type the log-sum-exp (and the backward's scratch) is kept in: float64 for float64
  /// operands, float32 for the rest.
  package static func attentionStatisticsType(_ dtype: DType) -> DType { dtype == .float64 ? .float64 : .float32 }

  /// The kernels' head-size variant for a problem (0: the generic kernels), or nil when the
  /// heads are too large or the slices too many for the grid's y axis.
  package static func attentionHead(_ problem: AttentionProblem) -> Int? {
    let (e, ev) = (problem.query.shape[problem.query.dim - 1], problem.value.shape[problem.value.dim - 1])
    guard max(e, ev) <= attentionMaxHead, problem.slices <= 65_535 else { return nil }
    return e == ev && attentionHeadSizes.contains(e) ? e : 0
  }

  /// The row stride of a matrix-shaped operand (its last two dims).
  static func rowStride(_ t: Tensor) -> Int { t.stride(t.dim - 2) }

  /// The geometry over the batch dims of `operands` (each slice's first element; a missing
  /// operand has stride and offset 0).
  static func sliceGeometry(_ problem: AttentionProblem, _ operands: [Tensor?]) -> KernelArguments.Value {
    let batch = problem.batch.isEmpty ? [1] : problem.batch
    let strides = operands.map { t in
      problem.batch.isEmpty
        ? [0] : (t.map { Array($0.stride().prefix(batch.count)) } ?? Array(repeating: 0, count: batch.count))
    }
    return .geometry(
      KernelArguments.geometryWords(
        shape: batch, strides: strides, offsets: operands.map { $0?.storageOffset ?? 0 }, operands: operands.count))
  }

  /// The shape and stride fields every attention kernel ends with.
  static func attentionShape(_ problem: AttentionProblem) -> [KernelArguments.Value] {
    let (q, k, v) = (problem.query, problem.key, problem.value)
    return [
      .int64(q.shape[q.dim - 2]), .int64(k.shape[k.dim - 2]), .int64(q.shape[q.dim - 1]), .int64(v.shape[v.dim - 1]),
      .int64(rowStride(q)), .int64(rowStride(k)), .int64(rowStride(v)), .int64(rowStride(problem.out)),
      .int64(problem.mask.map(rowStride) ?? 0), .int64(problem.mask.map { $0.stride($0.dim - 1) } ?? 0),
      .int64(problem.causal ? 1 : 0), .double(problem.scale),
    ]
  }

  /// The forward kernel's arguments; `pointer` gives each tensor's storage address (nil for
  /// no mask).
  package static func attentionForwardValues(_ p: AttentionProblem, pointer: (Tensor?) -> UnsafeMutableRawPointer?)
    -> [KernelArguments.Value]
  {
    let operands: [Tensor?] = [p.query, p.key, p.value, p.mask, p.out, p.logsumexp]
    return [sliceGeometry(p, operands)] + operands.map { .pointer(pointer($0)) } + attentionShape(p)
  }

  /// The backward kernels' arguments (both take the same struct); `delta` is a scratch
  /// vector of `slices * L` elements of the statistics type.
  package static func attentionBackwardValues(
    _ p: AttentionProblem, gradOut: Tensor, gradQuery: Tensor, gradKey: Tensor, gradValue: Tensor, delta: Tensor,
    pointer: (Tensor?) -> UnsafeMutableRawPointer?
  ) -> [KernelArguments.Value] {
    let operands: [Tensor?] = [
      p.query, p.key, p.value, p.mask, p.out, gradOut, p.logsumexp, gradQuery, gradKey, gradValue,
    ]
    return [sliceGeometry(p, operands)] + (operands + [delta]).map { .pointer(pointer($0)) }
      + [gradOut, gradQuery, gradKey, gradValue].map { .int64(rowStride($0)) } + attentionShape(p)
  }

  /// The kernels' name for `stage` (`forward`, `dq`, `dkdv`) on `dtype` with head size `head`
  /// (0: the generic kernels).
  package static func attentionKernel(_ stage: String, _ dtype: DType, head: Int) -> String {
    "attention_\(stage)_\(dtype.name)_d\(head)"
  }

  /// The statements that make the scaled, masked score `s` of one (query, key) pair from the
  /// expressions of their `e`-th elements, skipping (`continue`) a masked-out pair.
  static func score(_ t: CType, query: String, key: String, mask: String) -> String {
    """
        \(t.compute) s = 0;
        #pragma unroll
        for (i64 e = 0; e < E; ++e) s += \(query) * \(key);
        s *= scale;
        if (mask) s += \(t.load(mask));
        if (s == negInf<\(t.compute)>()) continue;
    """
  }

  /// Forward and backward attention for the float types, a thread per query row (forward,
  /// dQ) or key row (dK, dV): each thread walks the other sequence once with an online
  /// softmax (forward) or the saved log-sum-exp (backward, FlashAttention-2's scheme), so
  /// memory is O(L + S) and no thread writes another's output (no atomics; deterministic).
  /// A query whose keys are all masked gives zeros and a log-sum-exp of -inf, as on the CPU.
  static func attentionModule() -> Module {
    var builder = ModuleBuilder("attention")
    builder.add(
      """
      template <typename C> __device__ __forceinline__ C negInf();
      template <> __device__ __forceinline__ float negInf<float>() { return -__int_as_float(0x7f800000); }
      template <> __device__ __forceinline__ double negInf<double>() { return -__longlong_as_double(0x7ff0000000000000LL); }
      __device__ __forceinline__ float expC(float x) { return expf(x); }
      __device__ __forceinline__ double expC(double x) { return exp(x); }
      __device__ __forceinline__ float logC(float x) { return logf(x); }
      __device__ __forceinline__ double logC(double x) { return log(x); }
      #define HEAD(D, runtime) ((D) > 0 ? (i64)(D) : (runtime))
      #define VEC(D) ((D) > 0 ? (D) : \(attentionMaxHead))

      """)
    for dtype in [DType.float32, .float64, .float16, .bfloat16] {
      let t = ctype(dtype)
      let c = t.compute
      let lse = ctype(attentionStatisticsType(dtype)).storage
      for head in attentionHeadSizes + [0] {
        // A thread per query row: its slice, its query, and the slice's keys, values and mask row.
        let queryRow = """
            const int D = \(head);
            i64 slice = blockIdx.y, i = THREAD_INDEX;
            if (i >= args.L) return;
            const i64 E = HEAD(D, args.E), Ev = HEAD(D, args.Ev);
            const \(t.storage)* q = args.q + offsetOf(args.g, 0, slice) + i * args.ldq;
            const \(t.storage)* k = args.k + offsetOf(args.g, 1, slice);
            const \(t.storage)* v = args.v + offsetOf(args.g, 2, slice);
            const \(t.storage)* mask = args.mask ? args.mask + offsetOf(args.g, 3, slice) + i * args.maskRow : 0;
          """
        let forward = attentionKernel("forward", dtype, head: head)
        builder.kernel(
          forward, attentionForwardFields(t, lse),
          body: """
            \(queryRow)
              \(c) qv[VEC(D)], acc[VEC(D)];
              #pragma unroll
              for (i64 e = 0; e < E; ++e) qv[e] = \(t.load("q[e]"));
              #pragma unroll
              for (i64 e = 0; e < Ev; ++e) acc[e] = 0;
              \(c) m = negInf<\(c)>(), l = 0, scale = (\(c))args.scale;
              i64 end = args.causal ? (i + 1 < args.S ? i + 1 : args.S) : args.S;
              for (i64 j = 0; j < end; ++j) {
            \(score(t, query: "qv[e]", key: t.load("k[j * args.ldk + e]"), mask: "mask[j * args.maskCol]"))
                if (s > m) {
                  \(c) correction = expC(m - s);
                  l *= correction;
                  #pragma unroll
                  for (i64 e = 0; e < Ev; ++e) acc[e] *= correction;
                  m = s;
                }
                \(c) p = expC(s - m);
                l += p;
                #pragma unroll
                for (i64 e = 0; e < Ev; ++e) acc[e] += p * \(t.load("v[j * args.ldv + e]"));
              }
              \(t.storage)* out = args.out + offsetOf(args.g, 4, slice) + i * args.ldo;
              \(c) inverse = l > 0 ? (\(c))1 / l : (\(c))0;
              #pragma unroll
              for (i64 e = 0; e < Ev; ++e) out[e] = \(t.store("acc[e] * inverse"));
              args.lse[offsetOf(args.g, 5, slice) + i] = l > 0 ? (\(lse))(m + logC(l)) : (\(lse))negInf<\(c)>();
            """)
        builder.kernel(
          attentionKernel("dq", dtype, head: head), attentionBackwardFields(t, lse),
          body: """
            \(queryRow)
              const \(t.storage)* o = args.out + offsetOf(args.g, 4, slice) + i * args.ldo;
              const \(t.storage)* dout = args.dout + offsetOf(args.g, 5, slice) + i * args.lddo;
              \(c) qv[VEC(D)], dov[VEC(D)], dq[VEC(D)];
              \(c) delta = 0;
              #pragma unroll
              for (i64 e = 0; e < Ev; ++e) {
                dov[e] = \(t.load("dout[e]"));
                delta += dov[e] * \(t.load("o[e]"));
              }
              args.delta[slice * args.L + i] = (\(lse))delta;
              #pragma unroll
              for (i64 e = 0; e < E; ++e) { qv[e] = \(t.load("q[e]")); dq[e] = 0; }
              \(c) rowLse = (\(c))args.lse[offsetOf(args.g, 6, slice) + i], scale = (\(c))args.scale;
              i64 end = rowLse == negInf<\(c)>() ? 0 : (args.causal ? (i + 1 < args.S ? i + 1 : args.S) : args.S);
              for (i64 j = 0; j < end; ++j) {
            \(score(t, query: "qv[e]", key: t.load("k[j * args.ldk + e]"), mask: "mask[j * args.maskCol]"))
                \(c) p = expC(s - rowLse), dp = 0;
                #pragma unroll
                for (i64 e = 0; e < Ev; ++e) dp += dov[e] * \(t.load("v[j * args.ldv + e]"));
                \(c) ds = p * (dp - delta);
                #pragma unroll
                for (i64 e = 0; e < E; ++e) dq[e] += ds * \(t.load("k[j * args.ldk + e]"));
              }
              \(t.storage)* g = args.dq + offsetOf(args.g, 7, slice) + i * args.lddq;
              #pragma unroll
              for (i64 e = 0; e < E; ++e) g[e] = \(t.store("dq[e] * scale"));
            """)
        builder.kernel(
          attentionKernel("dkdv", dtype, head: head), attentionBackwardFields(t, lse),
          body: """
              // Runs after the dq kernel, whose delta row it reads.
              const int D = \(head);
              i64 slice = blockIdx.y, j = THREAD_INDEX;
              if (j >= args.S) return;
              const i64 E = HEAD(D, args.E), Ev = HEAD(D, args.Ev);
              const \(t.storage)* q = args.q + offsetOf(args.g, 0, slice);
              const \(t.storage)* k = args.k + offsetOf(args.g, 1, slice) + j * args.ldk;
              const \(t.storage)* v = args.v + offsetOf(args.g, 2, slice) + j * args.ldv;
              const \(t.storage)* mask = args.mask ? args.mask + offsetOf(args.g, 3, slice) + j * args.maskCol : 0;
              const \(t.storage)* dout = args.dout + offsetOf(args.g, 5, slice);
              const \(lse)* rowLse = args.lse + offsetOf(args.g, 6, slice);
              const \(lse)* delta = args.delta + slice * args.L;
              \(c) kv[VEC(D)], vv[VEC(D)], dk[VEC(D)], dv[VEC(D)];
              #pragma unroll
              for (i64 e = 0; e < E; ++e) { kv[e] = \(t.load("k[e]")); dk[e] = 0; }
              #pragma unroll
              for (i64 e = 0; e < Ev; ++e) { vv[e] = \(t.load("v[e]")); dv[e] = 0; }
              \(c) scale = (\(c))args.scale;
              for (i64 i = args.causal ? j : 0; i < args.L; ++i) {
                \(c) lse = (\(c))rowLse[i];
                if (lse == negInf<\(c)>()) continue;
            \(score(t, query: t.load("q[i * args.ldq + e]"), key: "kv[e]", mask: "mask[i * args.maskRow]"))
                \(c) p = expC(s - lse), dp = 0;
                #pragma unroll
                for (i64 e = 0; e < Ev; ++e) {
                  \(c) g = \(t.load("dout[i * args.lddo + e]"));
                  dv[e] += p * g;
                  dp += g * vv[e];
                }
                \(c) ds = p * (dp - (\(c))delta[i]);
                #pragma unroll
                for (i64 e = 0; e < E; ++e) dk[e] += ds * \(t.load("q[i * args.ldq + e]"));
              }
              \(t.storage)* gk = args.dk + offsetOf(args.g, 8, slice) + j * args.lddk;
              \(t.storage)* gv = args.dv + offsetOf(args.g, 9, slice) + j * args.lddv;
              #pragma unroll
              for (i64 e = 0; e < E; ++e) gk[e] = \(t.store("dk[e] * scale"));
              #pragma unroll
              for (i64 e = 0; e < Ev; ++e) gv[e] = \(t.store("dv[e]"));
            """)
      }
    }
    return builder.module
  }
}
