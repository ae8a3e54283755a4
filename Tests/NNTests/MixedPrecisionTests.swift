import Foundation
import NN
import Optim
import TestSupport
import Testing

private let fixtures = Fixtures()

/// `GradScaler` and autocast against PyTorch (`Scripts/make_amp_fixtures.py`).
@Suite struct MixedPrecisionTests {
  /// Seven SGD steps of a linear model under a scaler that grows every 2 clean steps: step 2's
  /// loss overflows and step 4's is NaN (both skipped, scale halved), step 5 unscales first and
  /// clips; scale, growth tracker, skips and parameters after every step match PyTorch's.
  @Test func gradScalerMatchesPyTorchStepByStep() throws {
    let steps =
      try JSONSerialization.jsonObject(with: Data(fixtures.strings("amp_scaler")["steps"]!.utf8)) as! [[String: Any]]
    let model = Linear(3, 2)
    try model.loadStateDict(["weight": fixtures.tensor("amp_scaler_w0"), "bias": fixtures.tensor("amp_scaler_b0")])
    let optimizer = SGD(model.parameters(), lr: 0.1, momentum: 0.9)
    let scaler = GradScaler(device: .cpu, initScale: 1024, growthInterval: 2)
    for (i, expected) in steps.enumerated() {
      optimizer.zeroGrad()
      var loss = model(fixtures.tensor("amp_scaler_x\(i)")).pow(2).mean()
      if i == 2 { loss = loss * Double.infinity }
      if i == 4 { loss = loss * Double.nan }
      scaler.scale(loss).backward()
      if i == 5 {
        scaler.unscale_(optimizer)
        _ = try clipGradNorm_(model.parameters(), maxNorm: 0.5)
      }
      let stepped = scaler.step(optimizer)
      scaler.update()
      #expect(stepped == expected["stepped"] as! Bool, "step \(i)")
      #expect(scaler.scale == expected["scale"] as! Double, "step \(i)")
      #expect(scaler.stateDict().growthTracker == expected["growth_tracker"] as! Int, "step \(i)")
      expectClose(model.weight, fixtures.tensor("amp_scaler_w\(i + 1)"), rtol: 1e-6, atol: 1e-7)
      expectClose(model.bias!, fixtures.tensor("amp_scaler_b\(i + 1)"), rtol: 1e-6, atol: 1e-7)
    }
    let restored = GradScaler(device: .cpu, growthInterval: 2)
    restored.loadStateDict(scaler.stateDict())
    #expect(restored.stateDict() == GradScaler.State(scale: 1024, growthTracker: 0))
  }

  @Test func aDisabledScalerPassesThrough() {
    let scaler = GradScaler(device: .cpu, enabled: false)
    let loss = Tensor(3.0)
    #expect(scaler.scale(loss) === loss && scaler.scale == 1)
    let w = Tensor([1.0], requiresGrad: true)
    let optimizer = SGD([w], lr: 1)
    (w * 2).sum().backward()
    #expect(scaler.step(optimizer))
    scaler.update()
    #expect(w.toArray(Float.self) == [-1])
  }

  @Test func misuseStopsWithPyTorchsMessages() async {
    let twice = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let w = Tensor([1.0], requiresGrad: true)
      let optimizer = SGD([w], lr: 1)
      let scaler = GradScaler(device: .cpu)
      scaler.scale((w * 2).sum()).backward()
      scaler.unscale_(optimizer)
      scaler.unscale_(optimizer)
    }
    #expect(
      standardError(of: twice).contains("unscale_() has already been called on this optimizer since the last update().")
    )
    let noChecks = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      GradScaler(device: .cpu).update()
    }
    #expect(standardError(of: noChecks).contains("No inf checks were recorded prior to update."))
  }

  /// Under CPU autocast with bfloat16, each op's result type is PyTorch's: products,
  /// convolutions and attention in bfloat16, losses and `prod` in float32, the rest (softmax,
  /// norms, `exp`, sums on bfloat16 input; relu; mixed-type promotion) in their inputs' type.
  @Test func cpuAutocastPicksPyTorchsTypes() {
    let expected = fixtures.strings("amp_cpu_dtypes")
    let (x, w, xb) = (Tensor.randn(4, 8), Tensor.randn(8, 8), Tensor.randn(4, 8).bfloat16())
    let (image, kernel) = (Tensor.randn(2, 3, 6, 6), Tensor.randn(4, 3, 3, 3))
    let (volume, kernel3) = (Tensor.randn(1, 2, 4, 4, 4), Tensor.randn(3, 2, 2, 2, 2))
    let labels = Tensor([1, 0, 7, 3])
    let ops: [String: () -> Tensor] = [
      "matmul": { x.matmul(w) }, "mm": { x.mm(w) }, "bmm": { x.unsqueeze(0).bmm(w.unsqueeze(0)) },
      "addmm": { x.addmm(x, w) }, "baddbmm": { x.unsqueeze(0).baddbmm(x.unsqueeze(0), w.unsqueeze(0)) },
      "einsum": { Tensor.einsum("ij,jk->ik", x, w) }, "linear": { Functional.linear(x, weight: w, bias: w[0]) },
      "conv1d": {
        Functional.conv1d(image.select(dim: 2, index: 0), weight: kernel.select(dim: 2, index: 0), bias: nil)
      },
      "conv2d": { Functional.conv2d(image, weight: kernel, bias: nil, padding: (1, 1)) },
      "conv3d": { Functional.conv3d(volume, weight: kernel3, bias: nil) },
      "conv_transpose2d": { Functional.convTranspose2d(image, weight: kernel.transpose(0, 1), bias: nil) },
      "sdpa": { Functional.scaledDotProductAttention(x.unsqueeze(0), x.unsqueeze(0), x.unsqueeze(0)) },
      "cross_entropy": { crossEntropy(x, labels) }, "nll_loss": { nllLoss(x, labels) },
      "mse_loss": { mseLoss(x, w[..<4]) }, "l1_loss": { l1Loss(x, w[..<4]) },
      "bce_with_logits": { binaryCrossEntropyWithLogits(x, w[..<4].sigmoid()) },
      "huber_loss": { huberLoss(x, w[..<4]) },
      "smooth_l1_loss": { smoothL1Loss(x, w[..<4]) }, "kl_div": { klDiv(x, w[..<4], reduction: .batchMean) },
      "prod": { x.prod() },
      "softmax_bf16": { xb.softmax(dim: 1) }, "log_softmax_bf16": { xb.logSoftmax(dim: 1) },
      "layer_norm_bf16": { Functional.layerNorm(xb, normalizedShape: [8], weight: nil, bias: nil) },
      "exp_bf16": { xb.exp() }, "sum_bf16": { xb.sum() }, "relu": { x.relu() }, "cat_mixed": { Tensor.cat([xb, x]) },
      "add_mixed": { xb + x },
    ]
    withAutocast(device: .cpu) {
      #expect(Autocast.isEnabled(.cpu) && Autocast.dtype(.cpu) == .bfloat16 && !Autocast.isEnabled(.test(0)))
      for (name, op) in ops {
        #expect(op().dtype.name == expected[name], "\(name)")
      }
      // `enabled: false` turns it off inside; `out:` and an explicit dtype are never cast.
      withAutocast(device: .cpu, enabled: false) { #expect(x.matmul(w).dtype == .float32 && !Autocast.isEnabled(.cpu)) }
      #expect(x.matmul(w, out: Tensor.empty(0)).dtype == .float32)
    }
    #expect(x.matmul(w).dtype == .float32)
  }

  /// A conv -> relu -> linear -> cross-entropy step under CPU autocast: bfloat16 activations,
  /// a float32 loss and float32 gradients, with values PyTorch's within bfloat16's precision.
  @Test func cpuAutocastTrainsLikePyTorch() throws {
    let expected = fixtures.strings("amp_cpu_dtypes")
    let conv = Conv2d(2, 4, kernelSize: 3, padding: 1)
    let head = Linear(100, 3)
    try conv.loadStateDict(["weight": fixtures.tensor("amp_net_conv_w"), "bias": fixtures.tensor("amp_net_conv_b")])
    try head.loadStateDict(["weight": fixtures.tensor("amp_net_head_w"), "bias": fixtures.tensor("amp_net_head_b")])
    let (features, logits, loss) = withAutocast(device: .cpu) {
      let features = conv(fixtures.tensor("amp_net_images")).relu()
      let logits = head(features.flatten(startDim: 1))
      return (features, logits, crossEntropy(logits, Tensor([2, 0, 1])))
    }
    #expect(features.dtype.name == expected["net_features"] && logits.dtype.name == expected["net_logits"])
    #expect(loss.dtype.name == expected["net_loss"])
    expectClose(logits.float(), fixtures.tensor("amp_net_logits"), rtol: 2e-2, atol: 2e-2)
    expectClose(loss.view(1), fixtures.tensor("amp_net_loss"), rtol: 1e-2, atol: 1e-2)
    loss.backward()
    #expect(conv.weight.grad?.dtype.name == expected["net_grad"])
    for (name, parameter) in [
      ("conv_w", conv.weight), ("conv_b", conv.bias!), ("head_w", head.weight), ("head_b", head.bias!),
    ] {
      expectClose(parameter.grad!, fixtures.tensor("amp_net_grad_\(name)"), rtol: 3e-2, atol: 1e-2)
    }
  }

  /// On the test device (as on a GPU) softmax, norms, `exp` and sums of lower-precision inputs
  /// run in float32 (PyTorch's CUDA lists); products in float16 by default.
  @Test func deviceAutocastUsesTheGPULists() throws {
    let x = try Tensor.randn(4, 8).to(.test(0))
    let half = x.half()
    withAutocast(device: .test(0)) {
      #expect(x.matmul(x.t()).dtype == .float16)
      #expect(Functional.linear(x, weight: x, bias: nil).dtype == .float16)
      #expect(half.softmax(dim: 1).dtype == .float32 && half.logSoftmax(dim: 1).dtype == .float32)
      #expect(Functional.layerNorm(half, normalizedShape: [8], weight: nil, bias: nil).dtype == .float32)
      #expect(half.exp().dtype == .float32 && half.sum().dtype == .float32 && half.pow(2).dtype == .float32)
      #expect(half.relu().dtype == .float16)
      // CPU tensors are untouched by a region for another device kind.
      #expect(Tensor.randn(2, 2).matmul(Tensor.randn(2, 2)).dtype == .float32)
    }
  }
}

/// PyTorch's autocast weight cache: a float32 parameter's lower-precision cast is made once
/// per outermost region.
@Suite struct AutocastCastCacheTests {
  @Test func aParameterUsedTwiceIsCastOnceAndGetsBothGradients() {
    let w = Tensor.randn([4, 3], generator: Generator(seed: 1)).requiresGrad_()
    let x = Tensor.randn([2, 4], generator: Generator(seed: 2))
    func run(cacheEnabled: Bool) -> (cached: Int?, grad: [Float]) {
      w.grad = nil
      var cached: Int?
      let loss = withAutocast(device: .cpu, cacheEnabled: cacheEnabled) { () -> Tensor in
        let first = x.matmul(w)
        let second = (x * 2).matmul(w)
        // A non-leaf (an activation) is not cached.
        _ = x.matmul(w * 1)
        cached = Autocast.castCache?.count
        return (first + second).float().sum()
      }
      loss.backward()
      return (cached, w.grad!.toArray(Float.self))
    }
    let withCache = run(cacheEnabled: true)
    let without = run(cacheEnabled: false)
    #expect(withCache.cached == 1)
    #expect(without.cached == nil)
    // With the cache both uses' gradients meet at the one bfloat16 cast and add up there (as in
    // PyTorch); without it each is widened to float32 first: equal to bfloat16 precision.
    expectClose(Tensor(withCache.grad), Tensor(without.grad), rtol: 1e-2, atol: 1e-2)
    #expect(Autocast.castCache == nil)  // outside every region
  }

  @Test func nestedRegionsShareTheCacheAndANewRegionCastsAgain() {
    let w = Tensor.ones([2, 2]).requiresGrad_()
    let x = Tensor.ones([1, 2])
    let (inner, outer) = withAutocast(device: .cpu) { () -> (Int, Int) in
      _ = x.matmul(w)
      let inner = withAutocast(device: .cpu) { () -> Int in
        _ = x.matmul(w)
        return Autocast.castCache!.count
      }
      return (inner, Autocast.castCache!.count)
    }
    #expect(inner == 1 && outer == 1)
    withNoGrad { _ = w.mul_(3) }
    // The next region casts the updated weight.
    let y = withAutocast(device: .cpu) { x.matmul(w) }
    #expect(y.dtype == .bfloat16 && y.float().toArray(Float.self) == [6, 6])
  }
}
