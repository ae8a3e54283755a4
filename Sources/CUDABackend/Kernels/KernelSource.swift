import Tensor

/// CUDA C sources of the backend's kernels, generated per op family and element type.
///
/// Every kernel addresses its operands through a `Geometry` (shape, per-operand strides and
/// offsets, up to 8 dims after coalescing), so strided and broadcast operands need no copy.
/// 16-bit floats are stored as raw bits and computed in `float`, as on the CPU. Sources
/// need no headers, so NVRTC compiles them anywhere, a GPU or not.
package enum KernelSource {
  /// The most dims a kernel's geometry holds (after dims are merged).
  package static let maxRank = 8
  /// The most operands a geometry describes.
  package static let maxOperands = 4

  /// One translation unit: a name and the CUDA C source of its kernels.
  package struct Module: Hashable, Sendable {
    package let name: String
    package let source: String
  }

  static let prelude = """
    typedef long long i64;
    typedef unsigned short f16raw;
    typedef unsigned short bf16raw;
    struct Geometry { i64 rank; i64 count; i64 shape[8]; i64 strides[4][8]; i64 offsets[4]; };
    __device__ __forceinline__ i64 offsetOf(const Geometry& g, int op, i64 linear) {
      i64 off = g.offsets[op];
      for (int d = (int)g.rank - 1; d >= 0; --d) {
        i64 s = g.shape[d];
        i64 idx = linear % s;
        linear /= s;
        off += idx * g.strides[op][d];
      }
      return off;
    }
    __device__ __forceinline__ float h2f(f16raw h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
    __device__ __forceinline__ f16raw f2h(float f) { f16raw h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h; }
    __device__ __forceinline__ float bf2f(bf16raw b) { return __uint_as_float(((unsigned int)b) << 16); }
    __device__ __forceinline__ bf16raw f2bf(float f) {
      unsigned int u = __float_as_uint(f);
      if ((u & 0x7fffffffu) > 0x7f800000u) return (bf16raw)0x7fc0;
      u += 0x7fffu + ((u >> 16) & 1u);
      return (bf16raw)(u >> 16);
    }
    #define INDEX i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; if (i >= g.count) return;

    """

  /// How an element type is stored and computed in CUDA C.
  package struct CType {
    package let storage: String
    package let compute: String
    let load: (String) -> String
    let store: (String) -> String
    package var isFloat: Bool { compute == "float" || compute == "double" }
  }

  package static func ctype(_ dtype: DType) -> CType {
    switch dtype {
    case .float32: CType(storage: "float", compute: "float", load: { $0 }, store: { $0 })
    case .float64: CType(storage: "double", compute: "double", load: { $0 }, store: { $0 })
    case .float16: CType(storage: "f16raw", compute: "float", load: { "h2f(\($0))" }, store: { "f2h(\($0))" })
    case .bfloat16: CType(storage: "bf16raw", compute: "float", load: { "bf2f(\($0))" }, store: { "f2bf(\($0))" })
    case .int64: CType(storage: "i64", compute: "i64", load: { $0 }, store: { $0 })
    case .int32: CType(storage: "int", compute: "int", load: { $0 }, store: { $0 })
    case .int16: CType(storage: "short", compute: "short", load: { $0 }, store: { $0 })
    case .int8: CType(storage: "signed char", compute: "signed char", load: { $0 }, store: { $0 })
    case .uint8: CType(storage: "unsigned char", compute: "unsigned char", load: { $0 }, store: { $0 })
    case .bool: CType(storage: "bool", compute: "bool", load: { $0 }, store: { $0 })
    }
  }

  /// The kernel's name for an op on a dtype.
  package static func kernelName(_ family: String, _ op: String, _ dtype: DType) -> String { "\(family)_\(op)_\(dtype.name)" }

  // MARK: Elementwise

  /// The CUDA C expression of a unary op on `x` (of compute type `t`), or `nil` when the op
  /// does not apply to the type.
  static func unaryExpression(_ op: UnaryOp, _ t: CType, _ dtype: DType) -> String? {
    let c = t.compute
    if dtype == .bool {
      switch op {
      case .abs, .floor, .ceil, .round, .trunc, .sign, .relu: return "x"
      case .logicalNot, .bitwiseNot: return "!x"
      case .isnan: return "false"
      case .isfinite: return "true"
      default: return nil
      }
    }
    if !t.isFloat {
      switch op {
      case .abs: return "(x < 0 ? (\(c))(0 - x) : x)"
      case .neg: return "(\(c))(0 - x)"
      case .sign: return "(\(c))((x > 0) - (x < 0))"
      case .floor, .ceil, .round, .trunc: return "x"
      case .relu: return "(x > 0 ? x : (\(c))0)"
      case .logicalNot: return "(x == 0)"
      case .isnan: return "false"
      case .isfinite: return "true"
      case .bitwiseNot: return "(\(c))(~x)"
      default: return nil
      }
    }
    switch op {
    case .abs: return "fabs(x)"
    case .neg: return "-x"
    case .sign: return "(\(c))((x > 0) - (x < 0))"  // NaN gives 0, as in PyTorch
    case .floor: return "floor(x)"
    case .ceil: return "ceil(x)"
    case .round: return "rint(x)"
    case .trunc: return "trunc(x)"
    case .exp: return "exp(x)"
    case .expm1: return "expm1(x)"
    case .log: return "log(x)"
    case .log1p: return "log1p(x)"
    case .log2: return "log2(x)"
    case .sqrt: return "sqrt(x)"
    case .rsqrt: return "((\(c))1 / sqrt(x))"
    case .sin: return "sin(x)"
    case .cos: return "cos(x)"
    case .tan: return "tan(x)"
    case .tanh: return "tanh(x)"
    case .sigmoid: return "((\(c))1 / ((\(c))1 + exp(-x)))"
    case .relu: return "((x > 0 || x != x) ? x : (\(c))0)"
    case .gelu: return "(x * (\(c))0.5 * ((\(c))1 + erf(x * (\(c))0.7071067811865476)))"
    case .silu: return "(x / ((\(c))1 + exp(-x)))"
    case .erf: return "erf(x)"
    case .reciprocal: return "((\(c))1 / x)"
    case .logicalNot: return "(x == 0)"
    case .isnan: return "(x != x)"
    case .isfinite: return "isfinite(x)"
    case .bitwiseNot: return nil
    case .exp2: return "exp2(x)"
    case .log10: return "log10(x)"
    case .asin: return "asin(x)"
    case .acos: return "acos(x)"
    case .atan: return "atan(x)"
    case .sinh: return "sinh(x)"
    case .cosh: return "cosh(x)"
    case .asinh: return "asinh(x)"
    case .acosh: return "acosh(x)"
    case .atanh: return "atanh(x)"
    case .erfc: return "erfc(x)"
    case .erfinv: return "erfinv(x)"
    case .lgamma: return "lgamma(x)"
    }
  }

  /// Unary kernels for one input dtype: `unary_<op>_<dtype>(Geometry g, const T* x, R* out)`.
  package static func unaryModule(_ dtype: DType) -> Module {
    let t = ctype(dtype)
    var body = prelude
    for op in UnaryOp.allCases {
      guard let expression = unaryExpression(op, t, dtype) else { continue }
      let result = op.producesBool ? ctype(.bool) : t
      body += """
        extern "C" __global__ void \(kernelName("unary", op.rawValue, dtype))(Geometry g, const \(t.storage)* in, \(result.storage)* out) {
          INDEX
          \(t.compute) x = \(t.load("in[offsetOf(g, 1, i)]"));
          out[offsetOf(g, 0, i)] = \(result.store("(\(result.compute))(\(expression))"));
        }

        """
    }
    return Module(name: "unary_\(dtype.name)", source: body)
  }

  static func binaryExpression(_ op: BinaryOp, _ t: CType, _ dtype: DType) -> String? {
    let c = t.compute
    switch op {
    case .eq: return "(a == b)"
    case .ne: return "(a != b)"
    case .lt: return dtype == .bool ? "(!a && b)" : "(a < b)"
    case .le: return dtype == .bool ? "(!a || b)" : "(a <= b)"
    case .gt: return dtype == .bool ? "(a && !b)" : "(a > b)"
    case .ge: return dtype == .bool ? "(a || !b)" : "(a >= b)"
    case .logicalAnd: return "(a != 0 && b != 0)"
    case .logicalOr: return "(a != 0 || b != 0)"
    case .logicalXor: return "((a != 0) != (b != 0))"
    default: break
    }
    if dtype == .bool {
      switch op {
      case .add, .maximum, .bitwiseOr: return "(a || b)"
      case .mul, .minimum, .bitwiseAnd: return "(a && b)"
      case .bitwiseXor: return "(a != b)"
      case .pow: return "(a || !b)"
      default: return nil
      }
    }
    if !t.isFloat {
      switch op {
      case .add: return "(\(c))(a + b)"
      case .sub: return "(\(c))(a - b)"
      case .mul: return "(\(c))(a * b)"
      case .remainder: return "(b == 0 ? (\(c))0 : (\(c))(((a % b) != 0 && ((a % b) < 0) != (b < 0)) ? (a % b) + b : (a % b)))"
      case .floorDivide:
        return "(b == 0 ? (\(c))0 : (\(c))((a % b != 0 && ((a % b) < 0) != (b < 0)) ? a / b - 1 : a / b))"
      case .pow: return "ipow(a, b)"
      case .maximum: return "(a > b ? a : b)"
      case .minimum: return "(a < b ? a : b)"
      case .bitwiseAnd: return "(\(c))(a & b)"
      case .bitwiseOr: return "(\(c))(a | b)"
      case .bitwiseXor: return "(\(c))(a ^ b)"
      case .fmod: return "(b == 0 ? (\(c))0 : (\(c))(a % b))"
      case .bitwiseLeftShift: return "((b < 0 || b >= (\(c))(8 * sizeof(\(c)))) ? (\(c))0 : (\(c))(a << b))"
      case .bitwiseRightShift:
        return "((b < 0 || b >= (\(c))(8 * sizeof(\(c)))) ? (\(c))(a < 0 ? -1 : 0) : (\(c))(a >> b))"
      default: return nil
      }
    }
    switch op {
    case .add: return "(a + b)"
    case .sub: return "(a - b)"
    case .mul: return "(a * b)"
    case .div: return "(a / b)"
    case .remainder: return "pyrem(a, b)"
    case .floorDivide: return "pyfloordiv(a, b)"
    case .pow: return "pow(a, b)"
    case .maximum: return "((a != a || b != b) ? (a + b) : (a >= b ? a : b))"
    case .minimum: return "((a != a || b != b) ? (a + b) : (a <= b ? a : b))"
    case .atan2: return "atan2(a, b)"
    case .fmod: return "fmod(a, b)"
    case .hypot: return "hypot(a, b)"
    case .copysign: return "copysign(a, b)"
    default: return nil
    }
  }

  /// Binary kernels for one operand dtype: `binary_<op>_<dtype>(Geometry g, const T* a, const T* b, R* out)`.
  package static func binaryModule(_ dtype: DType) -> Module {
    let t = ctype(dtype)
    var body = prelude
    if t.isFloat {
      body += """
        template <typename T> __device__ __forceinline__ T pyrem(T a, T b) { T r = fmod(a, b); if (r != 0 && ((r < 0) != (b < 0))) r += b; return r; }
        template <typename T> __device__ __forceinline__ T pyfloordiv(T a, T b) {
          if (b == 0) return a / b;
          T m = fmod(a, b); T d = (a - m) / b;
          if (m != 0 && ((b < 0) != (m < 0))) d -= 1;
          if (d == 0) return copysign((T)0, a / b);
          T f = floor(d); return (d - f > (T)0.5) ? f + 1 : f;
        }

        """
    } else if dtype != .bool {
      body += """
        template <typename T> __device__ __forceinline__ T ipow(T base, T e) {
          if (e < 0) { if (base == 1) return 1; if (base == (T)-1) return (e & 1) ? base : (T)1; return 0; }
          T r = 1; while (e > 0) { if (e & 1) r = (T)(r * base); base = (T)(base * base); e >>= 1; } return r;
        }

        """
    }
    for op in BinaryOp.allCases {
      guard let expression = binaryExpression(op, t, dtype) else { continue }
      let result = op.producesBool ? ctype(.bool) : t
      body += """
        extern "C" __global__ void \(kernelName("binary", op.rawValue, dtype))(Geometry g, const \(t.storage)* pa, const \(t.storage)* pb, \(result.storage)* out) {
          INDEX
          \(t.compute) a = \(t.load("pa[offsetOf(g, 1, i)]"));
          \(t.compute) b = \(t.load("pb[offsetOf(g, 2, i)]"));
          out[offsetOf(g, 0, i)] = \(result.store("(\(result.compute))(\(expression))"));
        }

        """
    }
    return Module(name: "binary_\(dtype.name)", source: body)
  }

  /// Conversions from one dtype to every dtype: `copy_<dst>_<src>(Geometry g, const S* in, D* out)`.
  package static func copyModule(from source: DType) -> Module {
    let s = ctype(source)
    var body = prelude
    for target in DType.allCases {
      let d = ctype(target)
      let value = target == .bool ? "(x != 0)" : "(\(d.compute))(x)"
      body += """
        extern "C" __global__ void \(kernelName("copy", target.name, source))(Geometry g, const \(s.storage)* in, \(d.storage)* out) {
          INDEX
          \(s.compute) x = \(s.load("in[offsetOf(g, 1, i)]"));
          out[offsetOf(g, 0, i)] = \(d.store(value));
        }

        """
    }
    return Module(name: "copy_\(source.name)", source: body)
  }

  /// Fill, where, take and put for every dtype.
  package static func dataModule() -> Module {
    var body = prelude
    for dtype in DType.allCases {
      let t = ctype(dtype)
      let fillValue = t.isFloat ? "(\(t.compute))value" : (dtype == .bool ? "(ivalue != 0)" : "(\(t.compute))ivalue")
      body += """
        extern "C" __global__ void \(kernelName("fill", "fill", dtype))(Geometry g, \(t.storage)* out, double value, i64 ivalue) {
          INDEX
          out[offsetOf(g, 0, i)] = \(t.store(fillValue));
        }
        extern "C" __global__ void \(kernelName("where", "where", dtype))(Geometry g, const bool* c, const \(t.storage)* a, const \(t.storage)* b, \(t.storage)* out) {
          INDEX
          out[offsetOf(g, 0, i)] = c[offsetOf(g, 1, i)] ? a[offsetOf(g, 2, i)] : b[offsetOf(g, 3, i)];
        }
        extern "C" __global__ void \(kernelName("take", "take", dtype))(Geometry g, const \(t.storage)* src, const i64* offsets, \(t.storage)* out) {
          INDEX
          out[offsetOf(g, 0, i)] = src[offsets[offsetOf(g, 1, i)]];
        }
        extern "C" __global__ void \(kernelName("put", "put", dtype))(Geometry g, \(t.storage)* dst, const i64* offsets, const \(t.storage)* values, int accumulate) {
          // One thread, in order: repeated offsets accumulate deterministically, as on the CPU.
          if (blockIdx.x != 0 || threadIdx.x != 0) return;
          for (i64 i = 0; i < g.count; ++i) {
            i64 target = offsets[offsetOf(g, 0, i)];
            \(t.compute) v = \(t.load("values[offsetOf(g, 1, i)]"));
            if (accumulate) { \(t.compute) old = \(t.load("dst[target]")); dst[target] = \(t.store(dtype == .bool ? "(old || v)" : "(\(t.compute))(old + v)")); }
            else dst[target] = \(t.store("v"));
          }
        }

        """
    }
    return Module(name: "data", source: body)
  }

  // MARK: Reductions

  /// Reductions for one dtype, one thread per output element: the outer geometry walks the
  /// kept dims (operand 0: out, 1: x), the inner one the reduced dims (operand 1: x).
  package static func reduceModule(_ dtype: DType) -> Module {
    let t = ctype(dtype)
    var body = prelude
    let accumulator = t.isFloat ? "double" : (dtype == .bool ? "bool" : "i64")
    var ops: [(String, String, String)] = []
    if dtype == .bool {
      ops = [("all", "true", "acc = acc && v;"), ("any", "false", "acc = acc || v;")]
    } else {
      ops = [("sum", "0", "acc += v;"), ("prod", "1", "acc *= v;")]
    }
    for (name, initial, combine) in ops {
      body += """
        extern "C" __global__ void \(kernelName("reduce", name, dtype))(Geometry g, Geometry inner, const \(t.storage)* x, \(t.storage)* out) {
          INDEX
          i64 base = offsetOf(g, 1, i);
          \(accumulator) acc = \(initial);
          for (i64 j = 0; j < inner.count; ++j) {
            \(accumulator) v = (\(accumulator))\(t.load("x[base + offsetOf(inner, 1, j)]"));
            \(combine)
          }
          out[offsetOf(g, 0, i)] = \(t.store("(\(t.compute))acc"));
        }

        """
    }
    for (name, better) in [("amax", ">"), ("amin", "<")] {
      let nanCheck = t.isFloat ? "if (v != v) { best = v; break; }" : ""
      body += """
        extern "C" __global__ void \(kernelName("reduce", name, dtype))(Geometry g, Geometry inner, const \(t.storage)* x, \(t.storage)* out) {
          INDEX
          i64 base = offsetOf(g, 1, i);
          \(t.compute) best = \(t.load("x[base + offsetOf(inner, 1, 0)]"));
          for (i64 j = 0; j < inner.count; ++j) {
            \(t.compute) v = \(t.load("x[base + offsetOf(inner, 1, j)]"));
            \(nanCheck)
            if (v \(better) best) best = v;
          }
          out[offsetOf(g, 0, i)] = \(t.store("best"));
        }
        extern "C" __global__ void \(kernelName("argreduce", name == "amax" ? "max" : "min", dtype))(Geometry g, i64 n, i64 stride, const \(t.storage)* x, \(t.storage)* values, i64* indices) {
          // g walks the output positions: operand 0 values, 1 indices, 2 the row start in x.
          INDEX
          const \(t.storage)* row = x + offsetOf(g, 2, i);
          \(t.compute) best = \(t.load("row[0]"));
          i64 where = 0;
          if (best == best) {
            for (i64 j = 1; j < n; ++j) {
              \(t.compute) v = \(t.load("row[j * stride]"));
              \(t.isFloat ? "if (v != v) { best = v; where = j; break; }" : "")
              if (v \(better) best) { best = v; where = j; }
            }
          }
          values[offsetOf(g, 0, i)] = \(t.store("best"));
          indices[offsetOf(g, 1, i)] = where;
        }

        """
    }
    if dtype.isFloatingPoint || dtype == .int64 {
      for (name, initial, combine) in [("cumsum", "0", "acc += v;"), ("cumprod", "1", "acc *= v;")] {
        body += """
          extern "C" __global__ void \(kernelName("scan", name, dtype))(Geometry g, i64 n, i64 strideIn, i64 strideOut, const \(t.storage)* x, \(t.storage)* out) {
            // g walks the rows: operand 0 the row start in out, 1 in x.
            INDEX
            const \(t.storage)* src = x + offsetOf(g, 1, i);
            \(t.storage)* dst = out + offsetOf(g, 0, i);
            \(accumulator) acc = \(initial);
            for (i64 j = 0; j < n; ++j) {
              \(accumulator) v = (\(accumulator))\(t.load("src[j * strideIn]"));
              \(combine)
              dst[j * strideOut] = \(t.store("(\(t.compute))acc"));
            }
          }

          """
      }
    }
    return Module(name: "reduce_\(dtype.name)", source: body)
  }

  /// A plain batched matrix product for the integer types (cuBLAS covers the floats).
  package static func integerGemmModule() -> Module {
    var body = prelude
    for dtype in DType.allCases where dtype.isIntegral {
      let t = ctype(dtype)
      body += """
        extern "C" __global__ void \(kernelName("gemm", "int", dtype))(i64 batch, i64 m, i64 n, i64 k, const \(t.storage)* a, i64 sab, i64 sam, i64 sak, const \(t.storage)* b, i64 sbb, i64 sbk, i64 sbn, \(t.storage)* c, i64 scb, i64 scm, i64 scn) {
          i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
          if (i >= batch * m * n) return;
          i64 bi = i / (m * n), r = (i / n) % m, col = i % n;
          i64 acc = 0;
          for (i64 kk = 0; kk < k; ++kk) acc += (i64)a[bi * sab + r * sam + kk * sak] * (i64)b[bi * sbb + kk * sbk + col * sbn];
          c[bi * scb + r * scm + col * scn] = (\(t.storage))acc;
        }

        """
    }
    return Module(name: "gemm_int", source: body)
  }

  /// Every module the backend can load (what the NVRTC tests compile).
  package static var allModules: [Module] {
    DType.allCases.flatMap { [unaryModule($0), binaryModule($0), copyModule(from: $0), reduceModule($0)] }
      + [dataModule(), integerGemmModule()]
  }
}
