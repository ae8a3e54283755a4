import Autograd
import CUDABackend
import ExampleSupport
import Foundation
import NN
import Optim
import Tensor
import TestSupport
import Testing

/// Autograd across devices, `Module.to` and optimizers, on the test device: what a GPU run
/// needs besides the kernels.
@Suite struct CrossDeviceTrainingTests {
  @Test func gradientsFlowBackToTheSourceDevice() throws {
    let w = Tensor([1, -2, 3] as [Float], requiresGrad: true)
    let onDevice = try w.to(.test(0))
    #expect(onDevice.gradFn?.name == "ToCopyBackward0" && onDevice.requiresGrad && !onDevice.isLeaf)
    // cpu -> test:0 -> test:1 -> cpu: each hop's gradient goes back the way it came.
    let squared = try (onDevice * onDevice).to(.test(1))
    let back = try (squared * 3).cpu()
    back.sum().backward()
    #expect(w.grad?.device == .cpu)
    #expect(w.grad?.toArray(Float.self) == [6, -12, 18])
    // A leaf that lives on the device gets its gradient there.
    let v = try Tensor([1, 2] as [Float]).to(.test(0)).requiresGrad_()
    (try v.cpu() * Tensor([5, 7] as [Float])).sum().backward()
    #expect(v.grad?.device == .test(0) && v.grad?.toArray(Float.self) == [5, 7])
    // Moving a tensor that does not require grad records nothing.
    #expect(try Tensor.ones(2).to(.test(0)).gradFn == nil)
  }

  @Test func doubleBackwardCrossesDevicesToo() throws {
    let x = Tensor([1, 2, 3] as [Float], requiresGrad: true)
    let y = try x.to(.test(0)).pow(3).sum()
    let dydx = try Autograd.grad(of: [y], wrt: [x], createGraph: true)[0]!
    #expect(dydx.device == .cpu && dydx.toArray(Float.self) == [3, 12, 27])
    dydx.sum().backward()
    #expect(x.grad?.toArray(Float.self) == [6, 12, 18])
  }

  /// A model trained on the CPU for a step, moved to the device, trained on: the same
  /// parameter objects (still leaves), the optimizer built before the move keeps working, its
  /// momentum and Adam state follow the parameters, and every value matches a CPU-only run
  /// exactly (the test device runs the CPU's kernels).
  @Test(arguments: ["sgd", "adam"])
  func moduleToMovesInPlaceAndTheOptimizerFollows(optimizer kind: String) throws {
    func makeModel() -> Sequential { Sequential(Linear(4, 3), BatchNorm1d(3), ReLU(), Linear(3, 2)) }
    func makeOptimizer(_ model: Module) -> Optimizer {
      kind == "sgd" ? SGD(model.parameters(), lr: 0.1, momentum: 0.9) : Adam(model.parameters(), lr: 0.01)
    }
    let (reference, model) = (makeModel(), makeModel())
    try model.loadStateDict(reference.stateDict())
    let (referenceOptimizer, optimizer) = (makeOptimizer(reference), makeOptimizer(model))
    let (x, y) = (Tensor.randn(5, 4), Tensor.randint(0, 2, [5]))
    func step(_ m: Module, _ o: Optimizer, on device: Device) throws {
      o.zeroGrad()
      crossEntropy(m(try x.to(device)), try y.to(device)).backward()
      o.step()
    }
    try step(reference, referenceOptimizer, on: .cpu)
    try step(model, optimizer, on: .cpu)
    let parameters = model.parameters()
    try model.to(.test(0))
    #expect(zip(model.parameters(), parameters).allSatisfy { $0 === $1 })
    #expect(
      model.parameters().allSatisfy {
        $0.device == .test(0) && $0.isLeaf && $0.requiresGrad && $0.grad?.device == .test(0)
      })
    #expect(model.namedBuffers().allSatisfy { $0.1.device == .test(0) })
    for _ in 0..<3 {
      try step(reference, referenceOptimizer, on: .cpu)
      try step(model, optimizer, on: .test(0))
    }
    try model.to(.cpu)
    try step(reference, referenceOptimizer, on: .cpu)
    try step(model, optimizer, on: .cpu)
    for ((name, a), (_, b)) in zip(
      reference.stateDict().sorted { $0.key < $1.key }, model.stateDict().sorted { $0.key < $1.key })
    {
      #expect(b.device == .cpu && a.toArray(Double.self) == b.toArray(Double.self), "\(name)")
    }
  }

  @Test func movingToAnUnusableDeviceThrowsAndMovesNothing() {
    let model = Linear(2, 2)
    #expect(throws: DeviceError.self) { try model.to(.test(7)) }
    #expect(model.parameters().allSatisfy { $0.device == .cpu })
  }
}

/// Mixed precision end to end on the test device, as it would run on a GPU: float16 autocast
/// and a `GradScaler`, against the same model trained in float32 on the CPU.
@Suite struct DeviceMixedPrecisionTests {
  @Test func float16AutocastWithAScalerTracksFloat32Training() throws {
    func makeModel() -> Sequential { Sequential(Linear(16, 32), ReLU(), Linear(32, 4)) }
    let (reference, model) = (makeModel(), makeModel())
    try model.loadStateDict(reference.stateDict())
    try model.to(.test(0))
    let referenceOptimizer = SGD(reference.parameters(), lr: 0.2, momentum: 0.9)
    let optimizer = SGD(model.parameters(), lr: 0.2, momentum: 0.9)
    let scaler = GradScaler(device: .test(0), initScale: 1024)
    let generator = Generator(seed: 5)
    let inputs = Tensor.randn([64, 16], generator: generator)
    let labels = (inputs.narrow(dim: 1, start: 0, length: 4).argmax(dim: 1))
    let (x, y) = (try inputs.to(.test(0)), try labels.to(.test(0)))
    var (referenceLosses, losses) = ([Double](), [Double]())
    for _ in 0..<30 {
      referenceOptimizer.zeroGrad()
      let referenceLoss = crossEntropy(reference(inputs), labels)
      referenceLoss.backward()
      referenceOptimizer.step()
      referenceLosses.append(referenceLoss.item())

      optimizer.zeroGrad()
      let (logits, loss) = withAutocast(device: .test(0)) {
        let logits = model(x)
        return (logits, crossEntropy(logits, y))
      }
      #expect(logits.dtype == .float16 && loss.dtype == .float32)
      scaler.scale(loss).backward()
      #expect(model.parameters().allSatisfy { $0.grad?.dtype == .float32 && $0.grad?.device == .test(0) })
      #expect(scaler.step(optimizer))
      scaler.update()
      losses.append(loss.item())
    }
    // Both learn; float16 products track float32 to within a few percent of the loss.
    #expect(referenceLosses.last! < 0.5 * referenceLosses.first!)
    for (a, b) in zip(referenceLosses, losses) {
      #expect(abs(a - b) <= 0.03 * a + 0.01, "float32 \(a) vs float16 \(b)")
    }
  }
}

/// A checkpoint of a model on a device keeps that device's generator, so dropout there
/// resumes with the same masks.
@Suite struct DeviceCheckpointTests {
  @Test func theDevicesGeneratorStateIsSavedAndRestored() async {
    await #expect(processExitsWith: .success) {
      let config = GPTConfig(vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, dropout: 0.5)
      let model = GPT(config)
      try! model.to(.test(1))
      let optimizer = model.configureOptimizer(lr: 1e-2, weightDecay: 0.1, betas: (0.9, 0.99))
      Tensor.manualSeed(5)
      _ = Tensor.rand([3], device: .test(1))
      let url = FileManager.default.temporaryDirectory.appendingPathComponent("device-rng-\(UUID().uuidString).pt")
      defer { try? FileManager.default.removeItem(at: url) }
      try! TrainingCheckpoint.save(
        model: model, optimizer: optimizer, generator: Generator(), iteration: 1, settings: config.metadata, to: url)
      let next = try! Tensor.rand([4], device: .test(1)).cpu().toArray(Float.self)
      _ = Tensor.rand([9], device: .test(1))
      let checkpoint = try! TrainingCheckpoint.load(from: url)
      guard checkpoint.saved["device_rng_state"]?.entries?.first?.key.string == "test:1" else {
        fatalError("no device_rng_state for test:1")
      }
      try! checkpoint.restore(optimizer: optimizer, generator: Generator())
      let again = try! Tensor.rand([4], device: .test(1)).cpu().toArray(Float.self)
      guard again == next else { fatalError("after restore: \(again), expected \(next)") }
    }
  }
}
