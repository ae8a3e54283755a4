// The GPU check: runs every op on the CPU and on a device and compares them, trains small
// models (the digits MLP, a small ResNet, a GPT; float32 and float16 autocast with a scaler)
// on both and compares the loss curves, times matmul and bandwidth-bound ops as fractions of
// an H200's peak, and ends with "N passed, M failed". `Scripts/gpu-check.sh` builds it here and
// runs it on a GPU machine; `CUDACheck --device test` runs the same checks on the test device.
import CUDABackend
import DeviceParity
import ExampleSupport
import Foundation
import NN
import Optim
import Tensor

let arguments = Array(CommandLine.arguments.dropFirst())
let spelled =
  arguments.firstIndex(of: "--device").map { arguments.index(after: $0) < arguments.count ? arguments[$0 + 1] : "" }
  ?? "cuda:0"
guard let device = Device(spelled) else {
  print("usage: CUDACheck [--device cuda:N|test:N]   (got '\(spelled)')")
  exit(2)
}
if device.isCUDA {
  guard CUDA.isAvailable else {
    print("CUDA is not available: \(CUDA.unavailableReason ?? "unknown reason")")
    print("0 passed, 1 failed")
    exit(1)
  }
  if let properties = try? CUDA.properties(of: 0) { print("device: \(properties)") }
}
let start = Date()
var outcomes = DeviceParity.run(on: device)
for outcome in outcomes { print(outcome) }
print("\ntraining, \(device) against the CPU:")
let training = DeviceParity.trainingRuns(on: device)
for outcome in training { print(outcome) }
outcomes += training
print("\nrandom numbers, streams and TF32 on \(device):")
let deviceChecks =
  DeviceParity.randomStreams(on: device) + DeviceParity.streamChecks(on: device) + DeviceParity.tf32Check(on: device)
for outcome in deviceChecks { print(outcome) }
outcomes += deviceChecks

/// Seconds per call, synchronising CUDA around the loop.
func time(_ iterations: Int, _ body: () -> Void) -> Double { DeviceParity.time(iterations, body) }

// H200 peaks: about 4.8 TB/s of memory bandwidth and 989 TFLOP/s of dense bfloat16/float16
// (495 TFLOP/s TF32); float32 without tensor cores is about 67 TFLOP/s.
let peakBandwidth = 4.8e12
let peakFlops: [DType: Double] = [.float32: 67e12, .float16: 989e12, .bfloat16: 989e12]
let peakTF32 = 495e12
print("\ntimings on \(device) (fractions of an H200's peak):")
let sizes = device.isCUDA ? [1024, 4096, 8192] : [256]
for n in sizes {
  for (label, dtype, tf32) in [
    ("float32", DType.float32, false), ("tf32", .float32, true), ("float16", .float16, false),
    ("bfloat16", .bfloat16, false),
  ] {
    guard let a = try? Tensor.randn(n, n).to(dtype).to(device), let b = try? Tensor.randn(n, n).to(dtype).to(device)
    else { continue }
    if tf32 && !device.isCUDA { continue }
    CUDA.allowTF32 = tf32
    let seconds = time(n >= 8192 ? 5 : 20) { _ = a.mm(b) }
    CUDA.allowTF32 = false
    let flops = 2 * pow(Double(n), 3) / seconds
    let peak = tf32 ? peakTF32 : peakFlops[dtype]!
    print(
      String(
        format: "  matmul %5d %-8@ %9.3f ms  %8.1f TFLOP/s  %5.1f%% of peak", n, label as NSString, seconds * 1e3,
        flops / 1e12, 100 * flops / peak))
  }
}
// Attention (composed from matmul, softmax and matmul on CUDA; 4 B H L^2 D flops forward).
let (batch, heads, length, headSize) = device.isCUDA ? (8, 16, 1024, 64) : (1, 2, 64, 16)
for dtype in [DType.float32, .bfloat16] {
  guard let q = try? Tensor.randn(batch, heads, length, headSize).to(dtype).to(device) else { continue }
  let seconds = time(10) { _ = Functional.scaledDotProductAttention(q, q, q, isCausal: true) }
  let flops = 4 * Double(batch * heads * length * length * headSize) / seconds
  print(
    String(
      format: "  attention [%d,%d,%d,%d] causal %-8@ %8.3f ms  %8.1f TFLOP/s  %5.1f%% of peak", batch, heads, length,
      headSize, dtype.name as NSString, seconds * 1e3, flops / 1e12, 100 * flops / peakFlops[dtype]!))
}
// A GPT training step (AdamW), float32 and bfloat16 autocast; about 6 x parameters x tokens flops.
do {
  let config =
    device.isCUDA
    ? GPTConfig(vocabSize: 256, blockSize: 256, nLayer: 6, nHead: 8, nEmbd: 512)
    : GPTConfig(vocabSize: 32, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 32)
  let gpt = GPT(config)
  try gpt.to(device)
  let optimizer = gpt.configureOptimizer(lr: 3e-4, weightDecay: 0.1, betas: (0.9, 0.95))
  let tokensPerStep = (device.isCUDA ? 32 : 2) * config.blockSize
  let tokens = try Tensor.randint(0, config.vocabSize, [tokensPerStep / config.blockSize, config.blockSize + 1]).to(
    device)
  let x = tokens.narrow(dim: 1, start: 0, length: config.blockSize).contiguous()
  let y = tokens.narrow(dim: 1, start: 1, length: config.blockSize).contiguous()
  let parameters = Double(gpt.parameters().map(\.numel).reduce(0, +))
  for autocast in [false, true] {
    let seconds = time(5) {
      optimizer.zeroGrad()
      let loss = withAutocast(device: device, dtype: .bfloat16, enabled: autocast) { gpt.loss(x, y) }
      loss.backward()
      optimizer.step()
    }
    let flops = 6 * parameters * Double(tokensPerStep) / seconds
    print(
      String(
        format: "  GPT step (%.1fM params, %d tokens, %@) %8.3f ms  %8.1f TFLOP/s  %5.1f%% of peak", parameters / 1e6,
        tokensPerStep, (autocast ? "bfloat16 autocast" : "float32") as NSString, seconds * 1e3, flops / 1e12,
        100 * flops / (autocast ? peakFlops[.bfloat16]! : peakFlops[.float32]!)))
  }
} catch {
  print("  GPT step: \(error)")
}
let count = device.isCUDA ? 1 << 26 : 1 << 20
if let x = try? Tensor.randn(count).to(device), let y = try? Tensor.randn(count).to(device) {
  let bytes = Double(3 * count * 4)
  for (name, traffic, body) in [
    ("add", bytes, { _ = x + y }), ("exp", bytes * 2 / 3, { _ = x.exp() }), ("sum", bytes / 3, { _ = x.sum() }),
  ] as [(String, Double, () -> Void)] {
    let seconds = time(20, body)
    print(
      String(
        format: "  %-4@ %8d float32 %8.3f ms  %7.1f GB/s  %5.1f%% of peak", name as NSString, count, seconds * 1e3,
        traffic / seconds / 1e9, 100 * traffic / seconds / peakBandwidth))
  }
}
if device.isCUDA {
  let stats = CUDA.memoryStats()
  print(
    "memory: \(stats.allocatedBytes) bytes allocated (peak \(stats.peakAllocatedBytes)), \(stats.reservedBytes) reserved (peak \(stats.peakReservedBytes))"
  )
}
let failed = outcomes.filter { $0.failure != nil }.count
print(String(format: "checked in %.0f s", Date().timeIntervalSince(start)))
print("\(outcomes.count - failed) passed, \(failed) failed")
exit(failed == 0 ? 0 : 1)
