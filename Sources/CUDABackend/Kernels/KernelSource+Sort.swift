import Tensor

// Sorting rows on the device: a bitonic network over (key, index) pairs.
extension KernelSource {
  /// The type a dtype's sort keys are widened to: double for the floats (exact), i64 for the
  /// rest.
  static func sortKeyType(_ dtype: DType) -> String { dtype.isFloatingPoint ? "double" : "i64" }

  /// The fields of every sort kernel: `count` rows of `width` elements of `x` (contiguous),
  /// padded to `padded` (a power of two) in the `keys`/`indices` scratch; one network step
  /// compares elements `distance` apart within blocks of `block`; `out` receives the
  /// permutation.
  static func sortFields(_ input: String, _ key: String) -> [(String, KernelArguments.Kind)] {
    [
      ("x", .pointer("const \(input)*")), ("keys", .pointer("\(key)*")), ("indices", .pointer("i64*")),
      ("out", .pointer("i64*")),
      ("count", .int64), ("width", .int64), ("padded", .int64), ("block", .int64), ("distance", .int64),
      ("descending", .int64),
    ]
  }

  /// `sort_init_<dtype>` (widen the keys, number the positions, pad), `sort_step_<key>` (one
  /// compare-exchange stage of the bitonic network, a thread per pair) and `sort_gather`
  /// (the first `width` indices of each padded row). The order is PyTorch's stable sort:
  /// NaN above every number, equal keys (and NaNs) in their original order, padding last.
  /// Every thread of a launch works on elements of its own, so the host emulation in the
  /// tests runs them exactly.
  static func sortModule() -> Module {
    var builder = ModuleBuilder("sort")
    for key in ["double", "i64"] {
      let isNaN = key == "double" ? "(v != v)" : "false"
      builder.add(
        """
        // Whether (a, ia) goes before (b, ib) in ascending (or descending) order.
        __device__ __forceinline__ bool sortBefore(\(key) a, i64 ia, \(key) b, i64 ib, i64 width, bool descending) {
          bool padA = ia >= width, padB = ib >= width;
          if (padA != padB) return padB;
          if (padA) return ia < ib;
          \(key) v = a; bool nanA = \(isNaN); v = b; bool nanB = \(isNaN);
          if (nanA || nanB) {
            if (nanA && nanB) return ia < ib;
            return descending ? nanA : nanB;
          }
          if (a != b) return descending ? a > b : a < b;
          return ia < ib;
        }

        """)
      builder.kernel(
        "sort_step_\(key)", sortFields("void", key),
        body: """
            i64 pair = THREAD_INDEX;
            i64 half = args.padded / 2;
            if (pair >= args.count * half) return;
            i64 row = pair / half, p = pair % half;
            // The pair's lower element: p with a zero bit inserted at the distance's position.
            i64 i = (p / args.distance) * 2 * args.distance + p % args.distance, l = i + args.distance;
            bool ascending = ((i & args.block) == 0);
            \(key)* keys = args.keys + row * args.padded;
            i64* indices = args.indices + row * args.padded;
            bool outOfOrder = ascending
              ? sortBefore(keys[l], indices[l], keys[i], indices[i], args.width, args.descending != 0)
              : sortBefore(keys[i], indices[i], keys[l], indices[l], args.width, args.descending != 0);
            if (outOfOrder) {
              \(key) k = keys[i]; keys[i] = keys[l]; keys[l] = k;
              i64 t = indices[i]; indices[i] = indices[l]; indices[l] = t;
            }
          """)
    }
    for dtype in DType.allCases {
      let t = ctype(dtype)
      let key = sortKeyType(dtype)
      builder.kernel(
        kernelName("sort", "init", dtype), sortFields(t.storage, key),
        body: """
            i64 e = THREAD_INDEX;
            if (e >= args.count * args.padded) return;
            i64 row = e / args.padded, p = e % args.padded;
            args.keys[e] = p < args.width ? (\(key))\(t.load("args.x[row * args.width + p]")) : (\(key))0;
            args.indices[e] = p;
          """)
    }
    builder.kernel(
      "sort_gather", sortFields("void", "void"),
      body: """
          i64 e = THREAD_INDEX;
          if (e >= args.count * args.width) return;
          i64 row = e / args.width, p = e % args.width;
          args.out[e] = args.indices[row * args.padded + p];
        """)
    return builder.module
  }

  /// The stages of the bitonic network for rows padded to `padded`: (block, distance) pairs.
  package static func bitonicStages(padded: Int) -> [(block: Int, distance: Int)] {
    var stages: [(Int, Int)] = []
    var block = 2
    while block <= padded {
      var distance = block / 2
      while distance >= 1 {
        stages.append((block, distance))
        distance /= 2
      }
      block *= 2
    }
    return stages
  }
}
