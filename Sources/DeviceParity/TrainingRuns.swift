import ExampleSupport
import NN
import Optim

extension DeviceParity {
  /// Trains the same small models on the CPU and on `device` from the same weights and
  /// batches and compares the loss curves step by step: the digits MLP (SGD with momentum),
  /// a small residual CNN as FineTune trains (SGD, batch norm in training mode), FineTune's
  /// head alone on the bundled digits (everything else frozen), and a
  /// two-layer GPT (AdamW with clipping), each also under float16/bfloat16 autocast with a
  /// `GradScaler` on the device against float32 on the CPU (a looser tolerance). A case fails
  /// with the first step whose losses differ by more than its tolerance.
  public static func trainingRuns(on device: Device) -> [Outcome] {
    let lower: DType = device == .cpu ? .bfloat16 : .float16
    return [
      compareTraining("train digits MLP", on: device, steps: 12, tolerance: 1e-4) { MLPRun() },
      compareTraining("train small ResNet", on: device, steps: 8, tolerance: 1e-3) { ResNetRun() },
      compareTraining("train FineTune head on digits 5-9", on: device, steps: 8, tolerance: 1e-3) { FineTuneHeadRun() },
      compareTraining("train GPT", on: device, steps: 8, tolerance: 1e-3) { GPTRun() },
      compareTraining(
        "train digits MLP, \(lower.name) autocast", on: device, steps: 12, tolerance: 3e-2, autocast: lower
      ) { MLPRun() },
      compareTraining("train GPT, \(lower.name) autocast", on: device, steps: 8, tolerance: 3e-2, autocast: lower) {
        GPTRun()
      },
    ]
  }

  /// One model, its optimizer and its batches.
  protocol TrainingRun {
    var model: Module { get }
    var optimizer: Optimizer { get }
    /// The loss of step `step` on `device` (batches depend only on the step).
    func loss(step: Int, on device: Device) throws -> Tensor
  }

  /// The cross-entropy of `model` on a batch of standard-normal inputs of `inputShape` and
  /// uniform labels below `classes`, drawn from `seed` (the same batch on every device).
  static func randomBatchLoss(_ model: Module, inputShape: [Int], classes: Int, seed: UInt64, on device: Device) throws
    -> Tensor
  {
    let generator = Generator(seed: seed)
    let x = Tensor.randn(inputShape, generator: generator)
    let y = Tensor.randint(0, classes, [inputShape[0]], generator: generator)
    return crossEntropy(model(try x.to(device)), try y.to(device))
  }

  struct MLPRun: TrainingRun {
    let mlp = MLP(inputs: 64, hidden: 32, classes: 10)
    let optimizer: Optimizer
    var model: Module { mlp }
    init() { optimizer = SGD(mlp.parameters(), lr: 0.1, momentum: 0.9) }
    func loss(step: Int, on device: Device) throws -> Tensor {
      try randomBatchLoss(mlp, inputShape: [32, 64], classes: 10, seed: UInt64(100 + step), on: device)
    }
  }

  struct ResNetRun: TrainingRun {
    let network = SmallResNet(classes: 5)
    let optimizer: Optimizer
    var model: Module { network }
    init() { optimizer = SGD(network.parameters(), lr: 0.05, momentum: 0.9) }
    func loss(step: Int, on device: Device) throws -> Tensor {
      try randomBatchLoss(network, inputShape: [8, 1, 16, 16], classes: 5, seed: UInt64(200 + step), on: device)
    }
  }

  /// The FineTune example's second stage on the bundled digits: every parameter of a small
  /// ResNet frozen, a new `fc` trained alone (SGD with momentum) on digits 5-9 relabelled 0-4,
  /// batch norm in training mode, as the example runs it.
  struct FineTuneHeadRun: TrainingRun {
    let network = SmallResNet(classes: 5)
    let optimizer: Optimizer
    var model: Module { network }

    /// Digits 5-9 (labels 0-4) from `Data/digits.npz`, loaded once.
    nonisolated(unsafe) static let digits = Result { () throws -> ImageDataset in
      let five = try ImageDataset.digits().filter { $0 >= 5 }
      return ImageDataset(images: five.images, labels: five.labels - 5)
    }

    init() {
      for parameter in network.parameters() { parameter.requiresGrad = false }
      network.fc = Linear(32, 5)
      optimizer = SGD(network.fc.parameters(), lr: 1e-2, momentum: 0.9)
    }

    func loss(step: Int, on device: Device) throws -> Tensor {
      let data = try Self.digits.get()
      let start = (step * 32) % (data.count - 32)
      let x = data.images.narrow(dim: 0, start: start, length: 32).contiguous()
      let y = data.labels.narrow(dim: 0, start: start, length: 32).contiguous()
      return crossEntropy(network(try x.to(device)), try y.to(device))
    }
  }

  struct GPTRun: TrainingRun {
    let gpt = GPT(GPTConfig(vocabSize: 32, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32))
    let optimizer: Optimizer
    var model: Module { gpt }
    init() { optimizer = gpt.configureOptimizer(lr: 3e-3, weightDecay: 0.1, betas: (0.9, 0.99)) }
    func loss(step: Int, on device: Device) throws -> Tensor {
      let generator = Generator(seed: UInt64(300 + step))
      let tokens = Tensor.randint(0, 32, [4, 17], generator: generator)
      let x = tokens.narrow(dim: 1, start: 0, length: 16).contiguous()
      let y = tokens.narrow(dim: 1, start: 1, length: 16).contiguous()
      return gpt.loss(try x.to(device), try y.to(device))
    }
  }

  /// Trains `make()`'s model on the CPU (float32) and a copy on `device` (under `autocast`
  /// with a scaler when given) and compares the losses.
  static func compareTraining(
    _ name: String, on device: Device, steps: Int, tolerance: Double, autocast: DType? = nil,
    _ make: () -> any TrainingRun
  ) -> Outcome {
    let reference = Generator.withDefault(Generator(seed: 1)) { make() }
    let run = Generator.withDefault(Generator(seed: 2)) { make() }
    do {
      try run.model.loadStateDict(reference.model.stateDict())
      try run.model.to(device)
      let scaler = GradScaler(device: device, initScale: 1024, enabled: autocast != nil)
      for step in 0..<steps {
        reference.optimizer.zeroGrad()
        let expected = try reference.loss(step: step, on: .cpu)
        expected.backward()
        _ = try clipGradNorm_(reference.model.parameters(), maxNorm: 1)
        reference.optimizer.step()

        run.optimizer.zeroGrad()
        let loss = try withAutocast(device: device, dtype: autocast ?? .float16, enabled: autocast != nil) {
          try run.loss(step: step, on: device)
        }
        scaler.scale(loss).backward()
        scaler.unscale_(run.optimizer)
        _ = try clipGradNorm_(run.model.parameters(), maxNorm: 1)
        scaler.step(run.optimizer)
        scaler.update()
        let (a, e) = (loss.item(), expected.item())
        guard abs(a - e) <= tolerance * max(1, abs(e)) else {
          return Outcome(name: name, failure: "step \(step): loss \(a) on \(device) vs \(e) on the CPU")
        }
      }
      return Outcome(name: name, failure: nil)
    } catch {
      return Outcome(name: name, failure: "\(error)")
    }
  }
}
