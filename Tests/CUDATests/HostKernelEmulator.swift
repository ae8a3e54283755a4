import Foundation
import Testing

@testable import CUDABackend
@testable import Tensor

/// Runs a module's kernels on the host, to test what they compute without a GPU: the module's
/// source (its device-only conversions swapped for host ones) is compiled with the toolchain's
/// `clang++` together with a driver that runs every thread of a launch in turn; atomics are
/// plain read-modify-writes, which is exact when threads run one by one. A `cooperative`
/// launch instead runs each block's threads at once, as host threads, with `__syncthreads`
/// a barrier of the block, `__shfl_down_sync` an exchange within a warp of 32 (behind a barrier
/// of the warp) and `__shared__` one array per process (blocks run one after another), so
/// kernels whose threads talk to each other run too.
///
/// Tensors travel through one arena: each distinct storage is copied in, pointers in the packed
/// arguments are arena offsets that the driver relocates, and the storages are copied back out.
struct HostKernelEmulator {
  let directory: URL
  let binary: URL
  let module: KernelSource.Module

  /// What stands in for CUDA's built-ins on the host.
  static let shim = """
    #include <math.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <barrier>
    #include <memory>
    #include <thread>
    #include <vector>
    struct Dim3 { unsigned x, y, z; };
    static Dim3 blockIdx, blockDim, gridDim;
    static thread_local Dim3 threadIdx;
    #define __global__
    #define __device__
    #define __forceinline__ inline
    #define __shared__ static
    static std::unique_ptr<std::barrier<>> blockBarrier;
    static std::vector<std::unique_ptr<std::barrier<>>> warpBarriers;
    static unsigned long long shuffleSlots[1024];
    #define __syncthreads() blockBarrier->arrive_and_wait()
    template <typename T> static inline T __shfl_down_sync(unsigned, T value, int delta) {
      unsigned t = threadIdx.x, lane = t % 32;
      memcpy(&shuffleSlots[t], &value, sizeof(T));
      warpBarriers[t / 32]->arrive_and_wait();
      T result = value;
      if (lane + delta < 32 && t + delta < blockDim.x) memcpy(&result, &shuffleSlots[t + delta], sizeof(T));
      warpBarriers[t / 32]->arrive_and_wait();
      return result;
    }
    static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
    static inline float __uint_as_float(unsigned i) { float f; memcpy(&f, &i, 4); return f; }
    static inline unsigned __float_as_uint(float f) { unsigned i; memcpy(&i, &f, 4); return i; }
    static inline double __longlong_as_double(long long i) { double d; memcpy(&d, &i, 8); return d; }
    // CUDA's inverse error function, by Newton's method on erf (compiled, not tested here).
    static inline double erfinv(double y) {
      double x = 0;
      for (int i = 0; i < 60; ++i) x -= (erf(x) - y) / (1.1283791670955126 * exp(-x * x));
      return x;
    }
    static inline float erfinvf(float y) { return (float)erfinv(y); }
    static inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
    template <typename T> static inline T atomicAdd(T* address, T value) { T old = *address; *address = old + value; return old; }
    static inline unsigned atomicCAS(unsigned* address, unsigned compare, unsigned value) {
      unsigned old = *address; if (old == compare) *address = value; return old;
    }

    """

  /// The host's 16-bit conversions (the device's use PTX).
  static let hostConversions = """
    static inline float h2f(unsigned short h) { _Float16 x; memcpy(&x, &h, 2); return (float)x; }
    static inline unsigned short f2h(float f) { _Float16 x = (_Float16)f; unsigned short h; memcpy(&h, &x, 2); return h; }
    static inline float bf2f(unsigned short b) { return __uint_as_float(((unsigned)b) << 16); }
    static inline unsigned short f2bf(float f) {
      unsigned u = __float_as_uint(f);
      if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)0x7fc0;
      u += 0x7fffu + ((u >> 16) & 1u);
      return (unsigned short)(u >> 16);
    }

    """

  /// Compiles `module` with a driver for `kernels`; throws the compiler's output on failure.
  init(_ module: KernelSource.Module, kernels: [String]) throws {
    self.module = module
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("kernel-emulation-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var source =
      Self.shim + module.source.replacingOccurrences(of: KernelSource.preludeConversions, with: Self.hostConversions)
    source += """
      static unsigned char* arena;
      static void relocate(unsigned char* bytes, long offset) {
        unsigned long long v; memcpy(&v, bytes + offset, 8);
        if (v) { v = (unsigned long long)(arena + v - 1); memcpy(bytes + offset, &v, 8); }
      }
      static unsigned char* readAll(const char* path, long* size) {
        FILE* f = fopen(path, "rb"); fseek(f, 0, SEEK_END); *size = ftell(f); fseek(f, 0, SEEK_SET);
        unsigned char* data = (unsigned char*)aligned_alloc(64, (*size + 63) / 64 * 64 + 64); fread(data, 1, *size, f); fclose(f); return data;
      }
      // Runs every thread of the current block at once; a thread that returns leaves the barriers.
      template <typename F> static void runBlock(F kernel) {
        unsigned threads = blockDim.x;
        blockBarrier.reset(new std::barrier<>(threads));
        warpBarriers.clear();
        for (unsigned w = 0; w < (threads + 31) / 32; ++w) warpBarriers.emplace_back(new std::barrier<>(threads - w * 32 < 32 ? threads - w * 32 : 32));
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < threads; ++t) pool.emplace_back([=] {
          threadIdx.x = t; threadIdx.y = threadIdx.z = 0;
          kernel();
          warpBarriers[t / 32]->arrive_and_drop();
          blockBarrier->arrive_and_drop();
        });
        for (auto& thread : pool) thread.join();
      }
      int main(int argc, char** argv) {
        // argv: kernel, args file, arena file, grid x, grid y, block size, output file, cooperative (0/1)
        bool cooperative = argv[8][0] == '1';
        long argSize, arenaSize;
        unsigned char* args = readAll(argv[2], &argSize);
        arena = readAll(argv[3], &arenaSize);
        gridDim.x = atoi(argv[4]); gridDim.y = atoi(argv[5]); gridDim.z = 1; blockDim.x = atoi(argv[6]); blockDim.y = blockDim.z = 1;

      """
    for kernel in kernels {
      guard let arguments = module.arguments[kernel] else {
        throw EmulationError.failed("no kernel \(kernel) in \(module.name)")
      }
      let relocations = zip(arguments.fields, arguments.offsets).filter {
        if case .pointer = $0.0.kind { true } else { false }
      }
      .map { "relocate(args, \($0.1));" }.joined(separator: " ")
      source += """
          if (!strcmp(argv[1], "\(kernel)")) {
            \(relocations)
            \(arguments.name) a; memcpy((void*)&a, args, sizeof a);
            for (unsigned y = 0; y < gridDim.y; ++y) for (unsigned x = 0; x < gridDim.x; ++x) {
              blockIdx.x = x; blockIdx.y = y; blockIdx.z = 0;
              if (cooperative) { runBlock([&] { \(kernel)(a); }); continue; }
              for (unsigned t = 0; t < blockDim.x; ++t) { threadIdx.x = t; threadIdx.y = threadIdx.z = 0; \(kernel)(a); }
            }
          }

        """
    }
    source += """
        FILE* out = fopen(argv[7], "wb"); fwrite(arena, 1, arenaSize, out); fclose(out);
        return 0;
      }

      """
    let file = directory.appendingPathComponent("\(module.name).cpp")
    try source.write(to: file, atomically: true, encoding: .utf8)
    binary = directory.appendingPathComponent(module.name)
    try Self.run("/usr/bin/env", ["clang++", "-std=c++20", "-pthread", "-O1", "-w", "-o", binary.path, file.path])
  }

  enum EmulationError: Error, CustomStringConvertible {
    case failed(String)
    var description: String { if case .failed(let message) = self { message } else { "" } }
  }

  static func run(_ executable: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = errors
    try process.run()
    let output = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw EmulationError.failed(
        "\(arguments.first ?? executable) failed: \(String(decoding: output, as: UTF8.self).prefix(4000))")
    }
  }

  /// Launches `kernel` over `threads` threads (blocks of `KernelSource.blockSize`), or over
  /// `blocks` blocks, times `rows`, with arguments from `values(pointer)`, where `pointer` maps
  /// each tensor to its place in the arena; the tensors' storages are updated with what the
  /// kernel wrote. `cooperative` runs each block's threads together (see the type).
  func launch(
    _ kernel: String, threads: Int = 0, blocks: Int? = nil, rows: Int = 1, cooperative: Bool = false, tensors: [Tensor],
    values: ((Tensor?) -> UnsafeMutableRawPointer?) -> [KernelArguments.Value]
  ) throws {
    var storages: [Storage] = []
    for t in tensors where !storages.contains(where: { $0 === t.storage }) { storages.append(t.storage) }
    var offsets: [Int] = []
    var size = 0
    for s in storages {
      offsets.append(size)
      size += (s.byteCount + 63) / 64 * 64
    }
    var arena = [UInt8](repeating: 0, count: max(size, 64))
    for (s, offset) in zip(storages, offsets) {
      arena.withUnsafeMutableBytes { ($0.baseAddress! + offset).copyMemory(from: s.data, byteCount: s.byteCount) }
    }
    let packed = module.arguments[kernel]!.pack(
      values { t in
        guard let t, let k = storages.firstIndex(where: { $0 === t.storage }) else { return nil }
        return UnsafeMutableRawPointer(bitPattern: offsets[k] + 1)
      })
    let argsFile = directory.appendingPathComponent("args.bin")
    let arenaFile = directory.appendingPathComponent("arena.bin")
    let outFile = directory.appendingPathComponent("arena.out")
    try Data(packed).write(to: argsFile)
    try Data(arena).write(to: arenaFile)
    let grid = blocks ?? (threads + KernelSource.blockSize - 1) / KernelSource.blockSize
    try Self.run(
      binary.path,
      [
        kernel, argsFile.path, arenaFile.path, "\(grid)", "\(rows)", "\(KernelSource.blockSize)", outFile.path,
        cooperative ? "1" : "0",
      ])
    let result = try Data(contentsOf: outFile)
    for (s, offset) in zip(storages, offsets) {
      result.withUnsafeBytes { s.data.copyMemory(from: $0.baseAddress! + offset, byteCount: s.byteCount) }
    }
  }
}
