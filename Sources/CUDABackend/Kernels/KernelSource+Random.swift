import Tensor

// Random numbers drawn on the device: the Philox stream that `Philox` (in Tensor) documents
// and computes on the host.
extension KernelSource {
  /// `random_uniform_<dtype>` and `random_normal_<dtype>` for the float types,
  /// `random_bernoulli_<dtype>` for every type: a thread per Philox block, writing the block's
  /// 4 elements (2 for float64) of a contiguous output. Arguments: `count`, `out`, `seed`,
  /// `offset`, and the distribution's two parameters (`from`/`to`, `mean`/`std`, `p`).
  static func randomModule() -> Module {
    var builder = ModuleBuilder("random")
    builder.add(
      """
      __device__ __forceinline__ void philoxBlock(i64 block, u64 seed, u64 offset, unsigned int w[4]) {
        unsigned int c0 = (unsigned int)block, c1 = (unsigned int)((u64)block >> 32);
        unsigned int c2 = (unsigned int)offset, c3 = (unsigned int)(offset >> 32);
        unsigned int k0 = (unsigned int)seed, k1 = (unsigned int)(seed >> 32);
        #pragma unroll
        for (int round = 0; round < 10; ++round) {
          if (round > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
          unsigned int hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
          unsigned int hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
          unsigned int n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
          c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
        }
        w[0] = c0; w[1] = c1; w[2] = c2; w[3] = c3;
      }
      __device__ __forceinline__ float unit24(unsigned int w) { return (float)(w & 0xFFFFFFu) * 5.9604644775390625e-08f; }
      __device__ __forceinline__ double unit53(unsigned int lo, unsigned int hi) {
        return (double)((((u64)hi << 32) | lo) & ((1ULL << 53) - 1ULL)) * 1.1102230246251565404e-16;
      }

      """)
    let fields: (CType) -> [(String, KernelArguments.Kind)] = { t in
      [
        ("count", .int64), ("out", .pointer("\(t.storage)*")), ("seed", .uint64), ("offset", .uint64), ("a", .double),
        ("b", .double),
      ]
    }
    for dtype in DType.allCases {
      let t = ctype(dtype)
      let wide = dtype == .float64
      let perBlock = Philox.elementsPerBlock(dtype)
      let head = """
          i64 block = THREAD_INDEX;
          i64 first = \(perBlock) * block;
          if (first >= args.count) return;
          unsigned int w[4];
          philoxBlock(block, args.seed, args.offset, w);
        """
      let uniforms =
        wide
        ? "  double u[2] = { unit53(w[0], w[1]), unit53(w[2], w[3]) };"
        : "  float u[4] = { unit24(w[0]), unit24(w[1]), unit24(w[2]), unit24(w[3]) };"
      let write = { (value: String) in "    if (first + k < args.count) args.out[first + k] = \(value);" }
      builder.kernel(
        kernelName("random", "bernoulli", dtype), fields(t),
        body: """
          \(head)
          \(uniforms)
            for (int k = 0; k < \(perBlock); ++k) {
          \(write(t.store("(\(t.compute))(((double)u[k] < args.a) ? 1 : 0)")))
            }
          """)
      guard dtype.isFloatingPoint else { continue }
      let real = wide ? "double" : "float"
      builder.kernel(
        kernelName("random", "uniform", dtype), fields(t),
        body: """
          \(head)
          \(uniforms)
            \(real) low = (\(real))args.a, high = (\(real))args.b, span = (\(real))(args.b - args.a);
            for (int k = 0; k < \(perBlock); ++k) {
              \(t.storage) s = \(t.store(wide ? "fma(u[k], span, low)" : "fmaf(u[k], span, low)"));
              if (\(t.load("s")) >= high) s = \(t.store("low"));
          \(write("s"))
            }
          """)
      let normals =
        wide
        ? """
          double z[2];
          {
            double r = sqrt(-2.0 * log(1.0 - u[0])), theta = 6.283185307179586232 * u[1];
            z[0] = r * cos(theta); z[1] = r * sin(theta);
          }
        """
        : """
          float z[4];
          for (int pair = 0; pair < 2; ++pair) {
            float r = sqrtf(-2.0f * logf(1.0f - u[2 * pair])), theta = 6.2831853071795864769f * u[2 * pair + 1];
            z[2 * pair] = r * cosf(theta); z[2 * pair + 1] = r * sinf(theta);
          }
        """
      builder.kernel(
        kernelName("random", "normal", dtype), fields(t),
        body: """
          \(head)
          \(uniforms)
          \(normals)
            for (int k = 0; k < \(perBlock); ++k) {
          \(write(t.store(wide ? "fma(z[k], args.b, args.a)" : "fmaf(z[k], (float)args.b, (float)args.a)")))
            }
          """)
    }
    return builder.module
  }
}
