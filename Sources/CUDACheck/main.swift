// Runs every op on the CPU and on CUDA device 0 and compares them, times matmul and a few
// elementwise ops, and ends with "N passed, M failed". Build it on a machine without a GPU
// and run it on one with an NVIDIA GPU (see the README's CUDA section).
import CUDABackend
import DeviceParity
import Foundation
import Tensor

guard CUDA.isAvailable else {
  print("CUDA is not available: \(CUDA.unavailableReason ?? "unknown reason")")
  print("0 passed, 1 failed")
  exit(1)
}
if let properties = try? CUDA.properties(of: 0) { print("device: \(properties)") }
let outcomes = DeviceParity.run(on: .cuda(0))
for outcome in outcomes { print(outcome) }

print("\ntimings on cuda:0:")
for n in [1024, 4096, 8192] {
  for dtype in [DType.float32, .float16, .bfloat16] {
    guard let a = try? Tensor.randn(n, n).to(dtype).cuda(), let b = try? Tensor.randn(n, n).to(dtype).cuda() else { continue }
    let seconds = DeviceParity.time(n >= 8192 ? 5 : 20) { _ = a.mm(b) }
    print(String(format: "  matmul %5d %-8@ %9.3f ms  %8.1f TFLOP/s", n, dtype.name as NSString, seconds * 1e3, 2 * pow(Double(n), 3) / seconds / 1e12))
  }
}
if let x = try? Tensor.randn(1 << 26).cuda(), let y = try? Tensor.randn(1 << 26).cuda() {
  let bytes = Double(3 * (1 << 26) * 4)
  let add = DeviceParity.time(20) { _ = x + y }
  let exp = DeviceParity.time(20) { _ = x.exp() }
  let sum = DeviceParity.time(20) { _ = x.sum() }
  print(String(format: "  add   2^26 float32 %8.3f ms  %7.1f GB/s", add * 1e3, bytes / add / 1e9))
  print(String(format: "  exp   2^26 float32 %8.3f ms  %7.1f GB/s", exp * 1e3, bytes * 2 / 3 / exp / 1e9))
  print(String(format: "  sum   2^26 float32 %8.3f ms  %7.1f GB/s", sum * 1e3, bytes / 3 / sum / 1e9))
}
print("memory: \(CUDA.memoryAllocated()) bytes allocated, \(CUDA.memoryReserved()) reserved")
let failed = outcomes.filter { $0.failure != nil }.count
print("\(outcomes.count - failed) passed, \(failed) failed")
exit(failed == 0 ? 0 : 1)
