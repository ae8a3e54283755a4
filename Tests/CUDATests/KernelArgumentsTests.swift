import Foundation
import TestSupport
import Testing

@testable import CUDABackend

/// The packed kernel arguments and the generated kernel sources, which need no GPU (and no
/// CUDA trait): layouts, packing, and that every kernel a module declares has its struct.
@Suite struct KernelArgumentsTests {
  @Test func fieldsLieAtTheirNaturalAlignment() {
    let args = KernelArguments(
      "Probe",
      [
        ("g", .geometry(operands: 2)), ("x", .pointer("const float*")), ("flag", .int32), ("scale", .double),
        ("n", .int32),
      ])
    // Geometry<2>: rank, count, 8 shape words, 2 x 8 strides, 2 offsets = 28 words.
    #expect(KernelArguments.Kind.geometry(operands: 2).size == 224)
    #expect(args.offsets == [0, 224, 232, 240, 248])
    #expect(args.size == 256)
    let declaration = args.declaration
    #expect(
      declaration.contains(
        "struct Probe {\n  Geometry<2> g;\n  const float* x;\n  int flag;\n  double scale;\n  int n;\n};"))
    #expect(declaration.contains("static_assert(__builtin_offsetof(Probe, scale) == 240"))
    #expect(declaration.contains("static_assert(sizeof(Probe) == 256"))
  }

  @Test func packingWritesEachValueAtItsOffset() {
    let args = KernelArguments(
      "Probe", [("g", .geometry(operands: 1)), ("p", .pointer("float*")), ("k", .int32), ("seed", .uint64)])
    let words = KernelArguments.geometryWords(shape: [3, 5], strides: [[10, 2]], offsets: [7], operands: 1)
    // rank, count, shape[8], strides[1][8], offsets[1]
    #expect(words == [2, 15, 3, 5, 0, 0, 0, 0, 0, 0, 10, 2, 0, 0, 0, 0, 0, 0, 7])
    let pointer = UnsafeMutableRawPointer(bitPattern: 0x1234_5678)!
    let bytes = args.pack([.geometry(words), .pointer(pointer), .int32(-3), .uint64(.max)])
    #expect(bytes.count == args.size)
    func load<T>(_: T.Type, at offset: Int) -> T {
      bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }
    #expect(load(Int64.self, at: 0) == 2)
    #expect(load(Int64.self, at: 8 * 18) == 7)
    #expect(load(UInt.self, at: args.offsets[1]) == 0x1234_5678)
    #expect(load(Int32.self, at: args.offsets[2]) == -3)
    #expect(args.offsets[3] == args.offsets[2] + 8)  // the int32 is padded to the next 8 bytes
    #expect(load(UInt64.self, at: args.offsets[3]) == .max)
  }

  @Test func aValueOfTheWrongKindStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = KernelArguments("Probe", [("n", .int64)]).pack([.double(1)])
    }
    #expect(standardError(of: result).contains("kernel arguments Probe.n: a double(1.0) value for a int64 field"))
  }

  @Test func tooManyDimsStopWithAMessage() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = KernelArguments.geometryWords(shape: Array(repeating: 2, count: 9), strides: [], offsets: [], operands: 1)
    }
    #expect(standardError(of: result).contains("CUDA kernels take at most 8 dims after merging"))
  }

  /// Every `__global__` function of every module has its argument struct recorded, and every
  /// recorded struct belongs to a kernel that exists.
  @Test func everyKernelHasItsArguments() throws {
    let pattern = try NSRegularExpression(pattern: #"__global__ void (\w+)\(const (\w+) args\)"#)
    var kernelCount = 0
    for module in KernelSource.allModules {
      let text = module.source as NSString
      let matches = pattern.matches(in: module.source, range: NSRange(location: 0, length: text.length))
      let declared = Dictionary(
        uniqueKeysWithValues: matches.map {
          (text.substring(with: $0.range(at: 1)), text.substring(with: $0.range(at: 2)))
        })
      #expect(Set(declared.keys) == Set(module.arguments.keys), "\(module.name)")
      for (kernel, structName) in declared { #expect(module.arguments[kernel]?.name == structName, "\(kernel)") }
      kernelCount += declared.count
    }
    #expect(KernelSource.allModules.count == 45)
    #expect(kernelCount > 1000)
  }

  @Test func elementwiseKernelsComeWithDenseVariants() {
    let unary = KernelSource.module(.unary(.float16))
    #expect(unary.arguments["unary_exp_float16"]?.fields.first?.kind == .geometry(operands: 2))
    let dense = unary.arguments["unary_exp_float16_dense"]
    #expect(dense?.fields.map(\.name) == ["count", "in0", "out"])
    #expect(unary.source.contains("Pack4<f16raw> p0 = *(const Pack4<f16raw>*)(args.in0 + base);"))
    let data = KernelSource.module(.data)
    #expect(data.arguments["put_accumulate_bfloat16"] != nil)
    #expect(data.source.contains("atomicAdd((u64*)(args.dst + args.offsets[offsetOf(args.g, 0, i)]), (u64)(v));"))
    #expect(KernelSource.module(.reduce(.float32)).source.contains("__shfl_down_sync(0xffffffffu, acc, step)"))
  }

  @Test func modulesAreBuiltOncePerFamily() {
    let first = KernelSource.module(.binary(.int32))
    let second = KernelSource.module(.binary(.int32))
    #expect(first.source == second.source)
    #expect(first.name == "binary_int32")
    #expect(KernelSource.Family.allCases.count == Set(KernelSource.allModules.map(\.name)).count)
  }
}

/// The stream-aware caching allocator's rules, without a GPU: streams are numbers, events
/// are numbers that complete when the test says so.
@Suite struct StreamBlockPoolTests {
  let a = UnsafeMutableRawPointer(bitPattern: 0x1000)!
  let b = UnsafeMutableRawPointer(bitPattern: 0x2000)!

  @Test func freedBlocksAreReusedOnlyOnTheirStream() {
    var pool = StreamBlockPool<Int>()
    pool.added(a, size: 512, stream: 0)
    pool.added(b, size: 512, stream: 7)
    let r1 = pool.released(a) { _ in [] }
    #expect(r1 == 512)
    let r2 = pool.reuse(size: 512, stream: 7)
    #expect(r2 == nil)
    let r3 = pool.reuse(size: 1024, stream: 0)
    #expect(r3 == nil)
    let r4 = pool.reuse(size: 512, stream: 0)
    #expect(r4 == a)
    let r5 = pool.reuse(size: 512, stream: 0)
    #expect(r5 == nil)
  }

  @Test func blocksUsedOnOtherStreamsWaitForTheirEvents() {
    var pool = StreamBlockPool<Int>()
    pool.added(a, size: 512, stream: 0)
    let known = pool.markUsed(a, on: 5)
    let ownStream = pool.markUsed(a, on: 0)  // its own stream: nothing to wait for
    let unknown = pool.markUsed(b, on: 5)  // not a block of the pool
    #expect(known && ownStream && !unknown)
    var recordedOn: Set<Int> = []
    pool.released(a) { streams in
      recordedOn = streams
      return [41]
    }
    #expect(recordedOn == [5])
    #expect(pool.pendingCount == 1)
    let notYet = pool.collect { _ in false }
    let whileWaiting = pool.reuse(size: 512, stream: 0)
    let emptied = pool.takeFree()  // emptyCache leaves a block still in use elsewhere
    #expect(notYet.isEmpty && whileWaiting == nil && emptied.isEmpty)
    let done = pool.collect { $0 == 41 }
    #expect(done == [41])
    #expect(pool.pendingCount == 0)
    let reused = pool.reuse(size: 512, stream: 0)
    #expect(reused == a)
    // Reused, it starts with no other streams.
    pool.released(a) { _ in [99] }
    #expect(pool.pendingCount == 0)
  }

  @Test func emptyCacheTakesEveryFreeBlockOnce() {
    var pool = StreamBlockPool<Int>()
    pool.added(a, size: 512, stream: 0)
    pool.added(b, size: 2 << 20, stream: 3)
    pool.released(a) { _ in [] }
    pool.released(b) { _ in [] }
    let taken = pool.takeFree().sorted { $0.size < $1.size }
    #expect(taken.map(\.pointer) == [a, b])
    #expect(taken.map(\.size) == [512, 2 << 20])
    let r9 = pool.takeFree()
    #expect(r9.isEmpty)
    #expect(pool.size(of: a) == nil)
  }
}
