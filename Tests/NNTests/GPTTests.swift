import ExampleSupport
import Foundation
import NN
import Optim
import TestSupport
import Testing

private let fixtures = Fixtures()

/// The GPT example's model against the same model in PyTorch (`Scripts/make_gpt_fixtures.py`):
/// the same weights and batches give the same loss at every step of training.
@Suite struct GPTTests {
  @Test func trainingStepsMatchPyTorch() throws {
    let arrays = try Tensor.load(npz: fixtures.directory.appendingPathComponent("gpt_tiny.npz"))
    let model = GPT(GPTConfig(vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16))
    let weights = arrays.filter { $0.key.hasPrefix("transformer.") }
    try model.loadStateDict(weights, strict: true)
    let optimizer = model.configureOptimizer(lr: 5e-2, weightDecay: 0.1, betas: (0.9, 0.99))
    let schedule = SequentialLR(
      optimizer,
      schedulers: [
        LinearLR(optimizer, startFactor: 0.01, totalIters: 2), CosineAnnealingLR(optimizer, tMax: 10, etaMin: 1e-4),
      ],
      milestones: [2])
    let batches = arrays["batches"]!
    let expected = arrays["losses"]!.toArray(Double.self)
    let expectedNorms = arrays["grad_norms"]!.toArray(Double.self)
    var losses: [Double] = []
    for step in 0..<12 {
      let batch = batches[step]
      optimizer.zeroGrad()
      let loss = model.loss(batch[.all, ..<8], batch[.all, 1...])
      loss.backward()
      let norm = try clipGradNorm_(model.parameters(), maxNorm: 1)
      #expect(
        abs(norm.double().item() - expectedNorms[step]) <= 1e-4 * expectedNorms[step], "step \(step) gradient norm")
      optimizer.step()
      schedule.step()
      losses.append(loss.item())
    }
    for (step, (loss, reference)) in zip(losses, expected).enumerated() {
      #expect(abs(loss - reference) <= 1e-4, "step \(step): loss \(loss) vs PyTorch \(reference)")
    }
    #expect(losses.last! < losses.first! - 0.5)
    expectClose(model.transformer.wpe.weight, arrays["final_wpe"]!, rtol: 1e-3, atol: 1e-4)
    // The tied head: one parameter, nanoGPT's names.
    #expect(
      model.stateDictKeys().first == "transformer.wte.weight" && !model.stateDictKeys().contains("lm_head.weight"))
  }

  @Test func checkpointsRoundTripAndSamplingIsSeeded() throws {
    let config = GPTConfig(vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8)
    let model = GPT(config)
    let optimizer = model.configureOptimizer(lr: 1e-2, weightDecay: 0.1, betas: (0.9, 0.99))
    let data = Tensor.arange(200).remainder(11)
    let generator = Generator().manualSeed(3)
    for _ in 0..<3 {
      let (x, y) = randomBatch(data, batchSize: 2, blockSize: 8, generator: generator)
      optimizer.zeroGrad()
      model.loss(x, y).backward()
      optimizer.step()
    }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gpt-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("ckpt.pt")
    try TrainingCheckpoint.save(
      model: model, optimizer: optimizer, generator: generator, iteration: 3, settings: config.metadata, to: url)
    let restored = GPT(config)
    let restoredOptimizer = restored.configureOptimizer(lr: 1e-2, weightDecay: 0.1, betas: (0.9, 0.99))
    let restoredGenerator = Generator()
    let checkpoint = try TrainingCheckpoint.load(from: url)
    try restored.loadStateDict(checkpoint.model, strict: true)
    try checkpoint.restore(optimizer: restoredOptimizer, generator: restoredGenerator)
    #expect(checkpoint.iteration == 3)
    // One more step on each: identical, since weights, moments and batches came back.
    for (m, o, g) in [(model, optimizer, generator), (restored, restoredOptimizer, restoredGenerator)] {
      let (x, y) = randomBatch(data, batchSize: 2, blockSize: 8, generator: g)
      o.zeroGrad()
      m.loss(x, y).backward()
      o.step()
    }
    #expect(model.transformer.wte.weight.equal(restored.transformer.wte.weight))
    let prompt = Tensor([[1, 2, 3]])
    let first = model.generate(prompt, count: 12, temperature: 0.8, topK: 5, generator: Generator().manualSeed(9))
    let second = restored.generate(prompt, count: 12, temperature: 0.8, topK: 5, generator: Generator().manualSeed(9))
    #expect(first.shape == [1, 15] && first == second)
  }
}

/// The CharRNN example's model: a few steps on a learnable pattern lower the loss, and
/// sampling continues the LSTM state token by token.
@Suite struct CharLSTMTests {
  @Test func trainingLowersTheLossAndSamplingIsSeeded() {
    Tensor.manualSeed(4)
    let model = CharLSTM(vocabSize: 7, embeddingSize: 8, hiddenSize: 16, numLayers: 2)
    #expect(model.stateDictKeys().prefix(3) == ["embedding.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0"])
    let optimizer = model.configureOptimizer(lr: 3e-2, weightDecay: 0.1, betas: (0.9, 0.99))
    let data = Tensor.arange(400).remainder(7)
    let generator = Generator().manualSeed(1)
    var losses: [Double] = []
    for _ in 0..<40 {
      let (x, y) = randomBatch(data, batchSize: 4, blockSize: 12, generator: generator)
      optimizer.zeroGrad()
      let loss = model.loss(x, y)
      loss.backward()
      optimizer.step()
      losses.append(loss.item())
    }
    let early: Double = losses.prefix(5).reduce(0, +) / 5
    let late: Double = losses.suffix(5).reduce(0, +) / 5
    #expect(late < early - 1)
    let first = model.generate(
      Tensor([[1, 2]]), count: 10, temperature: 0.5, topK: 3, generator: Generator().manualSeed(2))
    let second = model.generate(
      Tensor([[1, 2]]), count: 10, temperature: 0.5, topK: 3, generator: Generator().manualSeed(2))
    #expect(first.shape == [1, 12] && first == second)
  }
}
