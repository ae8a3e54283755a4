import Foundation
import Tensor

/// CUDA C sources of the backend's kernels, generated per op family and element type.
///
/// Every kernel takes one struct by value (`KernelArguments`): its declaration and the host's
/// packing come from the same description. Strided kernels address their operands through a
/// `Geometry<N>` (shape, per-operand strides and offsets, up to `maxRank` dims after
/// coalescing), so strided and broadcast operands need no copy; elementwise kernels also come
/// as `_dense` variants for contiguous operands, four elements a thread with vector loads.
/// 16-bit floats are stored as raw bits and computed in `float`, as on the CPU. Sources need
/// no headers, so NVRTC compiles them anywhere, a GPU or not.
package enum KernelSource {
  /// The most dims a kernel's geometry holds (after dims are merged).
  package static let maxRank = 8
  /// Threads per block of every launch.
  package static let blockSize = 256
  /// Elements each thread of a `_dense` kernel handles.
  package static let elementsPerDenseThread = 4

  /// One translation unit: a name, the CUDA C source of its kernels, and each kernel's
  /// argument struct.
  package struct Module: Sendable {
    package let name: String
    package let source: String
    package let arguments: [String: KernelArguments]
    /// The kernels' names in a fixed order: a kernel's position is its integer key in
    /// `KernelTable`.
    package let kernelNames: [String]
    /// Each kernel's position in `kernelNames`.
    package let kernelIndices: [String: Int]

    /// A module from hand-written source (kernels without arguments).
    package init(name: String, source: String, arguments: [String: KernelArguments] = [:]) {
      self.name = name
      self.source = source
      self.arguments = arguments
      kernelNames = arguments.keys.sorted()
      kernelIndices = Dictionary(uniqueKeysWithValues: kernelNames.enumerated().map { ($0.element, $0.offset) })
    }
  }

  /// The modules the backend loads: one per op family and element type.
  package enum Family: Hashable, Sendable, CaseIterable {
    case unary(DType)
    case binary(DType)
    case copy(from: DType)
    case data
    case reduce(DType)
    case integerGemm
    case random
    case attention
    case sort

    /// Every family (what the NVRTC tests compile), in `slot` order.
    package static var allCases: [Family] {
      DType.allCases.flatMap { [Family.unary($0), .binary($0), .copy(from: $0), .reduce($0)] } + [
        .data, .integerGemm, .random, .attention, .sort,
      ]
    }

    /// The number of families: every `slot` is below it.
    package static let count = 4 * DType.allCases.count + 5

    /// The family's integer key, `0..<count` (its position in `allCases`): module and kernel
    /// caches are arrays indexed by it, not dictionaries keyed by names.
    package var slot: Int {
      let dtypes = DType.allCases.count
      switch self {
      case .unary(let dtype): return 4 * dtype.ordinal
      case .binary(let dtype): return 4 * dtype.ordinal + 1
      case .copy(let dtype): return 4 * dtype.ordinal + 2
      case .reduce(let dtype): return 4 * dtype.ordinal + 3
      case .data: return 4 * dtypes
      case .integerGemm: return 4 * dtypes + 1
      case .random: return 4 * dtypes + 2
      case .attention: return 4 * dtypes + 3
      case .sort: return 4 * dtypes + 4
      }
    }
  }

  private static let lock = NSLock()
  nonisolated(unsafe) private static var built = [Module?](repeating: nil, count: Family.count)

  /// The module of `family`, generated once per process.
  package static func module(_ family: Family) -> Module {
    if let cached = lock.withLock({ built[family.slot] }) { return cached }
    let made: Module
    switch family {
    case .unary(let dtype): made = unaryModule(dtype)
    case .binary(let dtype): made = binaryModule(dtype)
    case .copy(let dtype): made = copyModule(from: dtype)
    case .data: made = dataModule()
    case .reduce(let dtype): made = reduceModule(dtype)
    case .integerGemm: made = integerGemmModule()
    case .random: made = randomModule()
    case .attention: made = attentionModule()
    case .sort: made = sortModule()
    }
    lock.withLock { built[family.slot] = made }
    return made
  }

  /// Every module the backend can load.
  package static var allModules: [Module] { Family.allCases.map(module) }

  /// What every module starts with: the types, geometry and conversions the kernels use.
  static let prelude = preludeTypes + preludeConversions

  /// Types, the geometry and its addressing: plain C++ that a host compiler also accepts (the
  /// host emulation of thread-independent kernels in the tests uses it).
  static let preludeTypes = """
    typedef long long i64;
    typedef unsigned long long u64;
    typedef unsigned short f16raw;
    typedef unsigned short bf16raw;
    #define MAXRANK \(maxRank)
    template <int N> struct Geometry { i64 rank; i64 count; i64 shape[MAXRANK]; i64 strides[N][MAXRANK]; i64 offsets[N]; };
    template <int N> __device__ __forceinline__ i64 offsetOf(const Geometry<N>& g, int op, i64 linear) {
      i64 off = g.offsets[op];
      for (int d = (int)g.rank - 1; d >= 0; --d) {
        i64 s = g.shape[d];
        i64 idx = linear % s;
        linear /= s;
        off += idx * g.strides[op][d];
      }
      return off;
    }
    template <typename T> struct alignas(4 * sizeof(T)) Pack4 { T v[4]; };
    template <typename T> __device__ __forceinline__ bool packAligned(const T* p) { return ((u64)p % sizeof(Pack4<T>)) == 0; }
    #define THREAD_INDEX ((i64)blockIdx.x * blockDim.x + threadIdx.x)

    """

  /// 16-bit float conversions in PTX and the device's bit casts.
  static let preludeConversions = """
    __device__ __forceinline__ float h2f(f16raw h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
    __device__ __forceinline__ f16raw f2h(float f) { f16raw h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h; }
    __device__ __forceinline__ float bf2f(bf16raw b) { return __uint_as_float(((unsigned int)b) << 16); }
    __device__ __forceinline__ bf16raw f2bf(float f) {
      unsigned int u = __float_as_uint(f);
      if ((u & 0x7fffffffu) > 0x7f800000u) return (bf16raw)0x7fc0;
      u += 0x7fffu + ((u >> 16) & 1u);
      return (bf16raw)(u >> 16);
    }

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

  /// The element type as stored, moved without conversion (`where` passes bits through).
  static func rawType(_ dtype: DType) -> CType {
    let storage = ctype(dtype).storage
    return CType(storage: storage, compute: storage, load: { $0 }, store: { $0 })
  }

  /// The kernel's name for an op on a dtype.
  package static func kernelName(_ family: String, _ op: String, _ dtype: DType) -> String {
    "\(family)_\(op)_\(dtype.name)"
  }

  /// The name of the contiguous variant of an elementwise kernel.
  package static func denseName(_ kernel: String) -> String { kernel + "_dense" }

  /// Collects a module's kernels with their argument structs, declaring each distinct struct
  /// once.
  struct ModuleBuilder {
    let name: String
    var source = KernelSource.prelude
    var arguments: [String: KernelArguments] = [:]
    private var declared: [[KernelArguments.Field]: String] = [:]

    init(_ name: String) { self.name = name }

    /// Adds the source text of helpers.
    mutating func add(_ text: String) { source += text }

    /// Adds kernel `kernel` taking `fields` as `const <struct> args`, with `body`.
    mutating func kernel(_ kernel: String, _ fields: [(String, KernelArguments.Kind)], body: String) {
      let fieldList = fields.map { KernelArguments.Field(name: $0.0, kind: $0.1) }
      let structName: String
      if let existing = declared[fieldList] {
        structName = existing
      } else {
        structName = "Args\(declared.count)"
        declared[fieldList] = structName
        source += KernelArguments(structName, fields).declaration
      }
      arguments[kernel] = KernelArguments(structName, fields)
      source += "extern \"C\" __global__ void \(kernel)(const \(structName) args) {\n\(body)\n}\n\n"
    }

    var module: Module { Module(name: name, source: source, arguments: arguments) }

    /// An elementwise kernel `name` and its `_dense` variant: `out = expression`, where
    /// input `k` is named `inputs[k].0` in the expression (loaded into its compute type) and is
    /// geometry operand `k + 1` (the output is operand 0); `extra` fields follow the pointers
    /// (the expression reads them as `args.<name>`).
    mutating func elementwise(
      _ name: String, inputs: [(String, CType)], output: CType, extra: [(String, KernelArguments.Kind)] = [],
      expression: String
    ) {
      let pointers =
        inputs.enumerated().map { ("in\($0.offset)", KernelArguments.Kind.pointer("const \($0.element.1.storage)*")) }
        + [("out", .pointer("\(output.storage)*"))]
      let result = output.store("(\(output.compute))(\(expression))")
      let strided = inputs.enumerated().map { k, input in
        "  \(input.1.compute) \(input.0) = \(input.1.load("args.in\(k)[offsetOf(args.g, \(k + 1), i)]"));"
      }
      kernel(
        name, [("g", .geometry(operands: inputs.count + 1))] + pointers + extra,
        body: """
            i64 i = THREAD_INDEX;
            if (i >= args.g.count) return;
          \(strided.joined(separator: "\n"))
            args.out[offsetOf(args.g, 0, i)] = \(result);
          """)
      let aligned = (inputs.indices.map { "packAligned(args.in\($0))" } + ["packAligned(args.out)"]).joined(
        separator: " && ")
      let packs = inputs.enumerated().map { k, input in
        "    Pack4<\(input.1.storage)> p\(k) = *(const Pack4<\(input.1.storage)>*)(args.in\(k) + base);"
      }
      let packed = inputs.enumerated().map { k, input in
        "      \(input.1.compute) \(input.0) = \(input.1.load("p\(k).v[e]"));"
      }
      let single = inputs.enumerated().map { k, input in
        "      \(input.1.compute) \(input.0) = \(input.1.load("args.in\(k)[e]"));"
      }
      kernel(
        denseName(name), [("count", .int64)] + pointers + extra,
        body: """
            i64 base = \(elementsPerDenseThread) * THREAD_INDEX;
            if (base >= args.count) return;
            if (base + 4 <= args.count && \(aligned)) {
          \(packs.joined(separator: "\n"))
              Pack4<\(output.storage)> r;
              #pragma unroll
              for (int e = 0; e < 4; ++e) {
          \(packed.joined(separator: "\n"))
                r.v[e] = \(result);
              }
              *(Pack4<\(output.storage)>*)(args.out + base) = r;
            } else {
              for (i64 e = base; e < args.count && e < base + 4; ++e) {
          \(single.joined(separator: "\n"))
                args.out[e] = \(result);
              }
            }
          """)
    }
  }
}
