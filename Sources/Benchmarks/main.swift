import CKernels
import Data
// Measures the library's speed; prints one JSON object of figures (seconds per call).
// Run with `swift run -c release Benchmarks [text | =name | --list]` (see `CaseSelection`);
// Scripts/bench_torch.py measures the same cases with PyTorch, and Scripts/compare.py
// alternates the two case by case and prints the ratios.
import Dispatch
import ExampleSupport
import Foundation
import NN
import Optim

/// The median time of `body` over `repeats` timed runs of `inner` calls each, per call.
func measure(repeats: Int = 7, inner: Int, _ body: () -> Void) -> Double {
  for _ in 0..<max(1, inner / 10) { body() }
  var samples: [Double] = []
  for _ in 0..<repeats {
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<inner { body() }
    samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(inner))
  }
  return samples.sorted()[samples.count / 2]
}

/// A character LSTM's training step (embedding 64, 2 layers of 256, head to 65; sequence 64,
/// batch 32, Adam): the `lstm_train_step` case and `profile-lstm`.
struct LSTMTrainingStep {
  let embedding = Embedding(65, 64)
  let lstm = LSTM(64, 256, numLayers: 2)
  let head = Linear(256, 65)
  let optimizer: Adam
  let tokens = Tensor.randint(0, 65, [64, 32])
  let targets = Tensor.randint(0, 65, [64, 32])

  init() { optimizer = Adam(embedding.parameters() + lstm.parameters() + head.parameters(), lr: 1e-3) }

  func run() {
    optimizer.zeroGrad()
    crossEntropy(head(lstm(embedding(tokens)).output).view(-1, 65), targets.view(-1)).backward()
    optimizer.step()
  }
}

/// A convolution of the `conv2d_*` cases (input and output channels, kernel, stride, input
/// size, groups); `Scripts/bench_torch.py` lists the same ones.
struct ConvolutionBenchmark {
  let input: Int, output: Int, kernel: Int, stride: Int, size: Int, groups: Int

  /// The multiply-adds of its forward at batch 8, as flops (2 per multiply-add).
  var flops: Double {
    2 * 8 * Double(output * input / groups * kernel * kernel) * Double((size / stride) * (size / stride))
  }

  /// The case's name prefix, e.g. `conv2d_3x3_64to128_56_s2`.
  var name: String {
    "conv2d_\(kernel)x\(kernel)_\(input)to\(output)_\(size)" + (stride == 2 ? "_s2" : "") + (groups > 1 ? "_dw" : "")
  }

  static let shapes = [
    ConvolutionBenchmark(input: 64, output: 64, kernel: 3, stride: 1, size: 56, groups: 1),
    ConvolutionBenchmark(input: 64, output: 128, kernel: 3, stride: 2, size: 56, groups: 1),
    ConvolutionBenchmark(input: 64, output: 128, kernel: 1, stride: 2, size: 56, groups: 1),
    ConvolutionBenchmark(input: 128, output: 128, kernel: 3, stride: 1, size: 28, groups: 1),
    ConvolutionBenchmark(input: 256, output: 256, kernel: 3, stride: 1, size: 14, groups: 1),
    ConvolutionBenchmark(input: 256, output: 512, kernel: 1, stride: 2, size: 14, groups: 1),
    ConvolutionBenchmark(input: 512, output: 512, kernel: 3, stride: 1, size: 7, groups: 1),
    ConvolutionBenchmark(input: 64, output: 64, kernel: 3, stride: 1, size: 56, groups: 64),
  ]
}

/// The matrix products of the GPT step: its 768 tokens (batch 12, context 64) through each
/// linear layer's widths (attention in and out, MLP in and out, the head).
enum GPTGemmShapes {
  static let tokens = 768
  static let layers = [(128, 384), (128, 128), (128, 512), (512, 128), (128, 65)]
}

/// Enough calls for about 20 ms per timed run.
func calls(_ estimatedSeconds: Double) -> Int { max(1, Int(0.02 / max(estimatedSeconds, 1e-9))) }

var results: [String: Double] = [:]
let selection = CaseSelection(CommandLine.arguments.dropFirst().first)

/// Measures case `name` (unless the selection leaves it out) and records its time per call.
@MainActor func record(_ name: String, repeats: Int = 7, inner: Int, _ body: () -> Void) {
  if selection.isListing {
    results[name] = 0
  } else if selection.includes(name) {
    results[name] = measure(repeats: repeats, inner: inner, body)
  }
}

/// Runs the set-up and cases of a group whose names start with one of `prefixes`, unless the
/// selection is one case of another group.
@MainActor func section(_ prefixes: String..., body: () -> Void) {
  if selection.mayInclude(prefixes: prefixes) { body() }
}

// `Benchmarks profile-add` / `profile-mlp` run one case in a loop, for a profiler.
switch CommandLine.arguments.dropFirst().first {
case "profile-add":
  let one = Tensor([1.0])
  for _ in 0..<200_000 { _ = one + one }
  exit(0)
case "profile-add-grad":
  let one = Tensor([1.0], requiresGrad: true)
  for _ in 0..<200_000 { _ = one + one }
  exit(0)
case "profile-mlp":
  let mlp = Sequential(Linear(784, 128), ReLU(), Linear(128, 10))
  let sgd = SGD(mlp.parameters(), lr: 0.01, momentum: 0.9)
  let batch = Tensor.randn(64, 784)
  let targets = Tensor.randint(0, 10, [64])
  for _ in 0..<2000 {
    sgd.zeroGrad()
    crossEntropy(mlp(batch), targets).backward()
    sgd.step()
  }
  exit(0)
case "profile-resnet18":
  Tensor.setNumThreads(Int(CommandLine.arguments.dropFirst(2).first ?? "1") ?? 1)
  let model = ResNet18()
  let sgd = SGD(model.parameters(), lr: 0.01, momentum: 0.9)
  let (pixels, labels) = (Tensor.randn(8, 3, 112, 112), Tensor.randint(0, 1000, [8]))
  for _ in 0..<12 {
    sgd.zeroGrad()
    crossEntropy(model(pixels), labels).backward()
    sgd.step()
  }
  exit(0)
case "profile-dataloader":
  let loader = DataLoader(
    TensorDataset(Tensor.randn(4096, 3, 32, 32), Tensor.randint(0, 10, [4096])), batchSize: 64, shuffle: true)
  for _ in 0..<100 { for _ in loader {} }
  exit(0)
case "profile-pt-load":
  let file = FileManager.default.temporaryDirectory.appendingPathComponent("profile-resnet18-\(getpid()).pt")
  try! Tensor.save(pt: file, ResNet18().stateDict())
  for _ in 0..<100 { _ = try! Tensor.load(pt: file) }
  try? FileManager.default.removeItem(at: file)
  exit(0)
case "profile-conv":
  let conv = Conv2d(16, 32, kernelSize: 3, padding: 1)
  let images = Tensor.randn(8, 16, 32, 32)
  for _ in 0..<300 {
    conv.zeroGrad()
    conv(images).sum().backward()
  }
  exit(0)
case "profile-conv2d":
  // `profile-conv2d <case prefix> [forward|backward] [threads]`, e.g. conv2d_3x3_256to256_14.
  let arguments = Array(CommandLine.arguments.dropFirst(2))
  guard let shape = ConvolutionBenchmark.shapes.first(where: { $0.name == arguments.first }) else {
    print("profile-conv2d: name one of \(ConvolutionBenchmark.shapes.map(\.name).joined(separator: ", "))")
    exit(2)
  }
  Tensor.setNumThreads(arguments.count > 2 ? Int(arguments[2]) ?? 1 : 1)
  let layer = Conv2d(
    shape.input, shape.output, kernelSize: shape.kernel, stride: shape.stride, padding: shape.kernel / 2,
    groups: shape.groups, bias: false)
  let input = Tensor.randn(8, shape.input, shape.size, shape.size)
  for _ in 0..<40 {
    if arguments.count > 1 && arguments[1] == "backward" {
      layer.zeroGrad()
      layer(input).sum().backward()
    } else {
      withNoGrad { _ = layer(input) }
    }
  }
  exit(0)
case "conv2d-gflops":
  // `conv2d-gflops [threads]`: GFLOP/s per core of every conv2d_* shape, forward and forward +
  // weight gradient (the cases' work), next to the core's multiply-add peak.
  let threadCount = Int(CommandLine.arguments.dropFirst(2).first ?? "1") ?? 1
  Tensor.setNumThreads(threadCount)
  let peak = ck_fma_peak_gflops(0.5)
  print("| shape | forward GFLOP/s per core | forward + backward GFLOP/s per core | share of peak (fwd / fwd+bwd) |")
  print("|---|---|---|---|")
  for shape in ConvolutionBenchmark.shapes {
    let layer = Conv2d(
      shape.input, shape.output, kernelSize: shape.kernel, stride: shape.stride, padding: shape.kernel / 2,
      groups: shape.groups, bias: false)
    let input = Tensor.randn(8, shape.input, shape.size, shape.size)
    let forward = measure(repeats: 7, inner: calls(shape.flops / 60e9 / Double(threadCount))) {
      withNoGrad { _ = layer(input) }
    }
    let both = measure(repeats: 7, inner: calls(2 * shape.flops / 60e9 / Double(threadCount))) {
      layer.zeroGrad()
      layer(input).sum().backward()
    }
    let (f, b) = (shape.flops / forward / 1e9 / Double(threadCount), 2 * shape.flops / both / 1e9 / Double(threadCount))
    print(
      "| \(shape.name) | \(String(format: "%.0f", f)) | \(String(format: "%.0f", b)) | "
        + "\(String(format: "%.0f%% / %.0f%%", 100 * f / peak, 100 * b / peak)) |")
  }
  print("\nmultiply-add peak: \(String(format: "%.0f", peak)) GFLOP/s per core; \(threadCount) thread(s)")
  exit(0)
case "gpt-gemm-gflops":
  // `gpt-gemm-gflops [threads]`: GFLOP/s of each matrix product of the GPT step (768 tokens by
  // the widths of its linear layers): forward x @ w.t(), input gradient g @ w, weight gradient
  // g.t() @ x; `Scripts/bench_torch.py gpt-gemm-gflops` prints PyTorch's.
  Tensor.setNumThreads(Int(CommandLine.arguments.dropFirst(2).first ?? "1") ?? 1)
  print("| layer (in -> out) | forward | input gradient | weight gradient |")
  print("|---|---|---|---|")
  for (input, output) in GPTGemmShapes.layers {
    let (x, w, g) = (
      Tensor.randn(GPTGemmShapes.tokens, input), Tensor.randn(output, input), Tensor.randn(GPTGemmShapes.tokens, output)
    )
    let flops = 2 * Double(GPTGemmShapes.tokens * input * output)
    let products: [() -> Void] = [{ _ = x.matmul(w.t()) }, { _ = g.matmul(w) }, { _ = g.t().matmul(x) }]
    let rates = products.map { product in flops / measure(repeats: 7, inner: calls(flops / 100e9), product) / 1e9 }
    print("| \(input) -> \(output) | " + rates.map { String(format: "%.0f", $0) }.joined(separator: " | ") + " |")
  }
  exit(0)
case "profile-lstm":
  Tensor.setNumThreads(Int(CommandLine.arguments.dropFirst(2).first ?? "1") ?? 1)
  let step = LSTMTrainingStep()
  for _ in 0..<40 { step.run() }
  exit(0)
case "profile-gpt":
  Tensor.setNumThreads(1)
  let model = GPT(GPTConfig(vocabSize: 65, blockSize: 64))
  let optimizer = model.configureOptimizer(lr: 1e-3, weightDecay: 0.1, betas: (0.9, 0.99))
  let batch = Tensor.randint(0, 65, [12, 65])
  let (inputs, targets) = (batch[.all, ..<64].contiguous(), batch[.all, 1...].contiguous())
  for _ in 0..<100 {
    optimizer.zeroGrad()
    model.loss(inputs, targets).backward()
    _ = try? clipGradNorm_(model.parameters(), maxNorm: 1)
    optimizer.step()
  }
  exit(0)
default: break
}
let threads = Tensor.numThreads
Tensor.manualSeed(0)

// Matrix products, one and all threads.
section("matmul_n") {
  for n in [64, 128, 256, 512, 1024, 2048] {
    let a = Tensor.randn(n, n)
    let b = Tensor.randn(n, n)
    for t in [1, threads] {
      Tensor.setNumThreads(t)
      let flops = 2 * pow(Double(n), 3)
      record("matmul_n\(n)_t\(t)", repeats: 5, inner: calls(flops / 50e9)) { _ = a.matmul(b) }
    }
  }
  Tensor.setNumThreads(threads)
}

// Elementwise ops, allocating and with out:.
section("add_1e", "mul_1e", "exp_1e", "sum_1e") {
  for (label, count) in [("1e6", 1_000_000), ("1e7", 10_000_000)] {
    let x = Tensor.randn(count)
    let y = Tensor.randn(count)
    let out = Tensor.empty(count)
    let inner = count >= 10_000_000 ? 10 : 100
    record("add_\(label)", inner: inner) { _ = x + y }
    record("add_\(label)_out", inner: inner) { x.add(y, out: out) }
    record("mul_\(label)", inner: inner) { _ = x * y }
    record("mul_\(label)_out", inner: inner) { x.mul(y, out: out) }
    record("exp_\(label)", inner: inner) { _ = x.exp() }
    record("exp_\(label)_out", inner: inner) { x.exp(out: out) }
    record("sum_\(label)", inner: inner) { _ = x.sum() }
  }
}

// Reductions along each axis, broadcasting, and a transposed copy.
section("sum_dim", "broadcast_add", "transpose_contiguous", "rand_", "randn_") {
  let square = Tensor.randn(1000, 1000)
  let row = Tensor.randn(1000)
  record("sum_dim0_1000x1000", inner: 50) { _ = square.sum(dim: 0) }
  record("sum_dim1_1000x1000", inner: 50) { _ = square.sum(dim: 1) }
  record("broadcast_add_1000x1000", inner: 50) { _ = square + row }
  record("transpose_contiguous_1000x1000", inner: 50) { _ = square.t().contiguous() }
  // Random creation (PyTorch's CPU generator stream, float32).
  record("rand_1000x1000", inner: 10) { _ = Tensor.rand(1000, 1000) }
  record("randn_1000x1000", inner: 10) { _ = Tensor.randn(1000, 1000) }
}

// Per-op overhead: a 1-element add, with and without autograd.
section("add_1elem") {
  let one = Tensor([1.0])
  let oneGrad = Tensor([1.0], requiresGrad: true)
  record("add_1elem", inner: 20_000) { _ = one + one }
  record("add_1elem_requires_grad", inner: 20_000) { _ = oneGrad + oneGrad }
}

// A chain of 100 small ops (alternating mul and add on 16 elements).
section("chain100") {
  let small = Tensor.randn(16)
  let smallGrad = Tensor.randn(16, requiresGrad: true)
  func chain(_ x: Tensor) -> Tensor {
    var y = x
    for i in 0..<50 {
      y = y * 1.0001
      y = y + Double(i) * 1e-4
    }
    return y
  }
  record("chain100_forward", inner: 200) { _ = chain(small) }
  record("chain100_forward_requires_grad", inner: 200) { _ = chain(smallGrad) }
  record("chain100_forward_backward", inner: 100) {
    chain(smallGrad).sum().backward()
    smallGrad.grad = nil
  }
}

// One SGD step of a 784-128-10 MLP at batch 64.
section("mlp_sgd_step") {
  let mlp = Sequential(Linear(784, 128), ReLU(), Linear(128, 10))
  let sgd = SGD(mlp.parameters(), lr: 0.01, momentum: 0.9)
  let batch = Tensor.randn(64, 784)
  let targets = Tensor.randint(0, 10, [64])
  record("mlp_sgd_step", inner: 50) {
    sgd.zeroGrad()
    crossEntropy(mlp(batch), targets).backward()
    sgd.step()
  }
}

// Conv2d forward and backward: 8x16x32x32 input, 32 3x3 filters, padding 1.
section("conv2d_forward_backward") {
  let conv = Conv2d(16, 32, kernelSize: 3, padding: 1)
  let images = Tensor.randn(8, 16, 32, 32)
  record("conv2d_forward_backward", repeats: 5, inner: 3) {
    conv.zeroGrad()
    conv(images).sum().backward()
  }
}

// The convolutions of ResNet-18 at batch 8 (and a depthwise one), forward and forward +
// backward, one and all threads: `conv2d_<kernel>_<in>to<out>_<size>[_s2][_dw]_<mode>_t<n>`.
section("conv2d_") {
  for shape in ConvolutionBenchmark.shapes {
    let layer = Conv2d(
      shape.input, shape.output, kernelSize: shape.kernel, stride: shape.stride, padding: shape.kernel / 2,
      groups: shape.groups, bias: false)
    let input = Tensor.randn(8, shape.input, shape.size, shape.size)
    let flops = shape.flops
    for threadCount in [1, threads] {
      Tensor.setNumThreads(threadCount)
      record("\(shape.name)_forward_t\(threadCount)", repeats: 5, inner: calls(flops / 60e9 / Double(threadCount))) {
        withNoGrad { _ = layer(input) }
      }
      record(
        "\(shape.name)_forward_backward_t\(threadCount)", repeats: 5,
        inner: calls(3 * flops / 60e9 / Double(threadCount))
      ) {
        layer.zeroGrad()
        layer(input).sum().backward()
      }
    }
  }
  Tensor.setNumThreads(threads)
}

// 2-D pooling of 8 x 64 x 112 x 112 (ResNet-18's stem max pool and average pools of the same
// input), forward and forward + backward, one and all threads: `pool2d_<case>_<mode>_t<n>`.
section("pool2d_") {
  let poolInput = Tensor.randn(8, 64, 112, 112)
  let poolCases: [(String, (Tensor) -> Tensor)] = [
    ("max_3x3_s2", { Functional.maxPool2d($0, kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }),
    ("avg_3x3_s2", { Functional.avgPool2d($0, kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }),
    ("adaptive_avg_to7", { Functional.adaptiveAvgPool2d($0, outputSize: (7, 7)) }),
  ]
  for (name, pool) in poolCases {
    for threadCount in [1, threads] {
      Tensor.setNumThreads(threadCount)
      record("pool2d_\(name)_forward_t\(threadCount)", repeats: 5, inner: 5) {
        withNoGrad { _ = pool(poolInput) }
      }
      record("pool2d_\(name)_forward_backward_t\(threadCount)", repeats: 5, inner: 3) {
        pool(poolInput.detach().requiresGrad_()).sum().backward()
      }
    }
  }
  Tensor.setNumThreads(threads)
}

// ResNet-18: an SGD training step (momentum 0.9) on 8 images of 112 and of 128 pixels, and
// inference in eval mode at 224 pixels, batch 1 and 8.
section("resnet18_") {
  let resnet = ResNet18()
  let resnetSGD = SGD(resnet.parameters(), lr: 0.01, momentum: 0.9)
  for threadCount in [1, threads] {
    Tensor.setNumThreads(threadCount)
    for size in [112, 128] {
      let (pixels, labels) = (Tensor.randn(8, 3, size, size), Tensor.randint(0, 1000, [8]))
      resnet.train()
      record("resnet18_train_step_\(size)_t\(threadCount)", repeats: 3, inner: 2) {
        resnetSGD.zeroGrad()
        crossEntropy(resnet(pixels), labels).backward()
        resnetSGD.step()
      }
    }
    resnet.eval()
    for batchSize in [1, 8] {
      let pixels = Tensor.randn(batchSize, 3, 224, 224)
      record("resnet18_inference_b\(batchSize)_t\(threadCount)", repeats: 3, inner: batchSize == 1 ? 5 : 2) {
        withNoGrad { _ = resnet(pixels) }
      }
    }
  }
  Tensor.setNumThreads(threads)
}

// Causal attention forward and backward at B=12, H=4, D=32, one and all threads.
section("sdpa_") {
  for t in [64, 256, 1024] {
    let (q, k, v) = (
      Tensor.randn(12, 4, t, 32, requiresGrad: true), Tensor.randn(12, 4, t, 32, requiresGrad: true),
      Tensor.randn(12, 4, t, 32, requiresGrad: true)
    )
    let upstream = Tensor.randn(12, 4, t, 32)
    for threadCount in [1, threads] {
      Tensor.setNumThreads(threadCount)
      let flops = 4 * 12 * 4 * Double(t * t) * 32 * 3.5 / 2
      record(
        "sdpa_causal_forward_backward_T\(t)_t\(threadCount)", repeats: 5,
        inner: calls(flops / 40e9 / Double(threadCount))
      ) {
        for x in [q, k, v] { x.grad = nil }
        (Functional.scaledDotProductAttention(q, k, v, isCausal: true) * upstream).sum().backward()
      }
    }
  }
  Tensor.setNumThreads(threads)
}

// One AdamW step (zero, forward, backward, clipping, update) of the GPT example's model at
// its batch: 4 layers, 4 heads, width 128, context 64, batch 12, 65 characters.
section("gpt_train_step") {
  let gpt = GPT(GPTConfig(vocabSize: 65, blockSize: 64))
  let gptOptimizer = gpt.configureOptimizer(lr: 1e-3, weightDecay: 0.1, betas: (0.9, 0.99))
  let gptBatch = Tensor.randint(0, 65, [12, 65])
  let (gptInputs, gptTargets) = (gptBatch[.all, ..<64].contiguous(), gptBatch[.all, 1...].contiguous())
  for threadCount in [1, threads] {
    Tensor.setNumThreads(threadCount)
    record("gpt_train_step_t\(threadCount)", repeats: 5, inner: 10) {
      gptOptimizer.zeroGrad()
      gpt.loss(gptInputs, gptTargets).backward()
      _ = try? clipGradNorm_(gpt.parameters(), maxNorm: 1)
      gptOptimizer.step()
    }
  }
  Tensor.setNumThreads(threads)
}

// A character LSTM's training step (embedding 64, 2 layers of 256, head to 65; sequence 64,
// batch 32, Adam), and a GRU's forward pass at the same sizes.
section("lstm_train_step", "gru_forward") {
  let lstmStep = LSTMTrainingStep()
  let gru = GRU(64, 256, numLayers: 2)
  let gruInput = Tensor.randn(64, 32, 64)
  for threadCount in [1, threads] {
    Tensor.setNumThreads(threadCount)
    record("lstm_train_step_t\(threadCount)", repeats: 5, inner: 5) { lstmStep.run() }
    record("gru_forward_t\(threadCount)", repeats: 5, inner: 5) { withNoGrad { _ = gru(gruInput) } }
  }
  Tensor.setNumThreads(threads)
}

// Data loading: one shuffled epoch of 4096 3x32x32 images in batches of 64, on the
// consumer's thread and on two workers.
section("dataloader_epoch") {
  let loaderImages = Tensor.randn(4096, 3, 32, 32)
  let loaderLabels = Tensor.randint(0, 10, [4096])
  for workers in [0, 2] {
    let loader = DataLoader(
      TensorDataset(loaderImages, loaderLabels), batchSize: 64, shuffle: true, numWorkers: workers)
    record("dataloader_epoch_w\(workers)", repeats: 5, inner: 2) { for _ in loader {} }
  }
}

// A bilinear antialiased downscale (8x3x224x224 to 112x112), as `Resize` does.
section("interpolate_") {
  let photos = Tensor.randn(8, 3, 224, 224)
  record("interpolate_bilinear_antialias", repeats: 5, inner: 5) {
    _ = Functional.interpolate(photos, size: [112, 112], mode: .bilinear, antialias: true)
  }
}

// torch.save / torch.load of ResNet-18's state dict (46 MB).
section("pt_save", "pt_load") {
  let resnetState = ResNet18().stateDict()
  let ptFile = FileManager.default.temporaryDirectory.appendingPathComponent("bench-resnet18-\(getpid()).pt")
  record("pt_save_resnet18", repeats: 5, inner: 2) { try! Tensor.save(pt: ptFile, resnetState) }
  if selection.includes("pt_load_resnet18") { try! Tensor.save(pt: ptFile, resnetState) }
  record("pt_load_resnet18", repeats: 5, inner: 2) { _ = try! Tensor.load(pt: ptFile) }
  try? FileManager.default.removeItem(at: ptFile)
}

if selection.isListing {
  print(String(data: try! JSONEncoder().encode(results.keys.sorted()), encoding: .utf8)!)
  exit(0)
}
let encoder = JSONEncoder()
encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
print(String(data: try! encoder.encode(results), encoding: .utf8)!)
