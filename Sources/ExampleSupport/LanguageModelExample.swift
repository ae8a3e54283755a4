import CUDABackend
import Dispatch
import Distributed
import Foundation
import NN
import Optim

/// A character model the text examples train: its loss, optimizer and sampling.
public protocol CharacterModel: Module {
  /// The mean cross-entropy of predicting `targets` from `idx` (both `[B, T]`).
  func loss(_ idx: Tensor, _ targets: Tensor) -> Tensor
  /// AdamW with weight decay on the matrices only.
  func configureOptimizer(lr: Double, weightDecay: Double, betas: (Double, Double)) -> AdamW
  /// `count` more tokens after `prompt` `[1, T]`.
  func generate(_ prompt: Tensor, count: Int, temperature: Double, topK: Int?, generator: Generator?) -> Tensor
}

extension GPT: CharacterModel {}
extension CharLSTM: CharacterModel {}

/// The settings of a text example's run; the command line overrides them.
public struct LanguageModelOptions: Sendable {
  /// Training iterations (`--iters`).
  public var iters: Int
  /// Where to train (`--device cpu|cuda[:N]|test[:N]`; the test device stands in for a GPU).
  public var device = Device.cpu
  /// Continue from the checkpoint, optimizer and batch order included (`--resume`).
  public var resume = false
  /// Train data-parallel on the ranks `mpirun` started (`--distributed`; MPI trait).
  public var distributed = false
  /// Load the checkpoint and only sample (`--sample-only`).
  public var sampleOnly = false
  /// Iterations between evaluations (`--eval-interval`).
  public var evalInterval: Int
  /// Batches each evaluation averages (`--eval-iters`).
  public var evalIters: Int
  /// Batches averaged by the last evaluation.
  public var finalEvalIters: Int
  /// The checkpoint's path (`--checkpoint`, one `torch.save` file; its folder is created); by
  /// default in `runs/`, which git ignores, or in the folder `--out` names.
  public var checkpoint: String
  /// The text sampling starts from (`--prompt`).
  public var prompt = "\n"
  /// Characters to sample (`--length`).
  public var sampleLength = 500
  /// Sampling temperature (`--temperature`).
  public var temperature = 0.8
  /// Sample among this many most likely characters (`--top-k`).
  public var topK = 200
  /// Seed of the initialisation, the batches and the sampling (`--seed`).
  public var seed: UInt64 = 1337
  /// Sequences per batch.
  public var batchSize: Int
  /// Characters per sequence (the context).
  public var sequenceLength: Int
  /// Peak learning rate, reached after `warmup` iterations, then cosine decay to `minLR`.
  public var lr: Double
  /// The rate the cosine decay ends at.
  public var minLR: Double
  /// Linear warm-up iterations.
  public var warmup = 100

  /// A run's defaults.
  public init(
    iters: Int, evalInterval: Int, evalIters: Int, finalEvalIters: Int, checkpoint: String, batchSize: Int,
    sequenceLength: Int, lr: Double,
    minLR: Double
  ) {
    self.iters = iters
    self.evalInterval = evalInterval
    self.evalIters = evalIters
    self.finalEvalIters = finalEvalIters
    self.checkpoint = checkpoint
    self.batchSize = batchSize
    self.sequenceLength = sequenceLength
    self.lr = lr
    self.minLR = minLR
  }

  /// These defaults with the command line's flags applied; exits with usage on a bad flag.
  public func parsing(_ arguments: [String], program: String) -> LanguageModelOptions {
    var options = self
    var iterator = arguments.makeIterator()
    func value(_ flag: String) -> String {
      guard let v = iterator.next() else {
        print("\(flag) needs a value")
        exit(2)
      }
      return v
    }
    while let argument = iterator.next() {
      switch argument {
      case "--iters": options.iters = Int(value(argument)) ?? options.iters
      case "--device":
        let spelled = value(argument)
        guard let device = Device(spelled) else {
          print("--device expects cpu, cuda, cuda:N, test or test:N, got '\(spelled)'")
          exit(2)
        }
        options.device = device
      case "--resume": options.resume = true
      case "--distributed": options.distributed = true
      case "--sample-only": options.sampleOnly = true
      case "--eval-interval": options.evalInterval = Int(value(argument)) ?? options.evalInterval
      case "--eval-iters": options.evalIters = Int(value(argument)) ?? options.evalIters
      case "--final-eval-iters": options.finalEvalIters = Int(value(argument)) ?? options.finalEvalIters
      case "--checkpoint": options.checkpoint = value(argument)
      case "--out":
        options.checkpoint =
          ExampleOutput.file(URL(fileURLWithPath: options.checkpoint).lastPathComponent, in: value(argument)).path
      case "--prompt": options.prompt = value(argument)
      case "--length": options.sampleLength = Int(value(argument)) ?? options.sampleLength
      case "--temperature": options.temperature = Double(value(argument)) ?? options.temperature
      case "--top-k": options.topK = Int(value(argument)) ?? options.topK
      case "--seed": options.seed = UInt64(value(argument)) ?? options.seed
      default:
        print(
          "usage: \(program) [--iters N] [--device cpu|cuda[:N]|test[:N]] [--resume] [--distributed] [--sample-only] [--eval-interval N] [--eval-iters N] [--final-eval-iters N] [--checkpoint PATH] [--out DIR] [--prompt TEXT] [--length N] [--temperature T] [--top-k K] [--seed S]"
        )
        exit(2)
      }
    }
    return options
  }
}

/// Minutes and seconds, for progress lines.
func formatDuration(_ seconds: Double) -> String {
  let s = Int(seconds.rounded())
  return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
}

/// Mean loss of `model` over `count` random batches of `split`, without a graph.
func meanLoss(
  _ model: some CharacterModel, _ split: Tensor, count: Int, _ options: LanguageModelOptions, _ generator: Generator
) -> Double {
  model.eval()
  defer { model.train() }
  return withNoGrad {
    var total = 0.0
    for _ in 0..<count {
      let (x, y) = randomBatch(
        split, batchSize: options.batchSize, blockSize: options.sequenceLength, generator: generator)
      total += model.loss(try! x.to(options.device), try! y.to(options.device)).item()
    }
    return total / Double(count)
  }
}

/// Runs a text example on tiny Shakespeare (first 90% train, last 10% validation): AdamW
/// (betas 0.9/0.99, weight decay 0.1 on matrices), linear warm-up then cosine decay, clipping
/// at 1.0, a progress line, evaluations, checkpoints that resume exactly, and a sample.
/// `makeModel` gets the vocabulary size; `settings` go into the checkpoint's metadata.
public func runLanguageModelExample<M: CharacterModel>(
  _ defaults: LanguageModelOptions, program: String, describe: (M) -> String, settings: [String: String],
  makeModel: (Int) -> M
) {
  let options = defaults.parsing(Array(CommandLine.arguments.dropFirst()), program: program)
  let text: CharacterText
  // Data-parallel: every rank draws its own batches; rank 0 prints and saves.
  let group = options.distributed ? joinDistributedJob() : nil
  defer { group?.destroy() }
  let rank = group?.rank ?? 0
  if let group { print("data-parallel over \(group.worldSize) ranks, \(options.batchSize) sequences each") }
  do {
    text = CharacterText(try String(contentsOf: locatePackageFile("Data/tinyshakespeare.txt"), encoding: .utf8))
  } catch {
    print("could not read the text: \(error)")
    exit(1)
  }
  let data = Tensor(text.tokens.map(Int64.init), shape: [text.tokens.count])
  let split = text.tokens.count * 9 / 10
  let trainData = data.narrow(dim: 0, start: 0, length: split)
  let valData = data.narrow(dim: 0, start: split, length: data.shape[0] - split)
  print(
    "tiny Shakespeare: \(text.tokens.count) characters, vocabulary \(text.vocabulary.count); \(split) for training, \(data.shape[0] - split) for validation"
  )
  Tensor.manualSeed(options.seed)
  let model = makeModel(text.vocabulary.count)
  let batches = Generator().manualSeed(options.seed &+ UInt64(rank) &* 1_000_003)
  let requested = URL(fileURLWithPath: options.checkpoint)
  let checkpointURL = ExampleOutput.file(requested.lastPathComponent, in: requested.deletingLastPathComponent().path)
  print("model: \(describe(model)), \(model.parameters().reduce(0) { $0 + $1.numel }) parameters")
  let optimizer = model.configureOptimizer(lr: options.lr, weightDecay: 0.1, betas: (0.9, 0.99))
  let warmup = min(options.warmup, max(options.iters - 1, 1))
  let schedule = SequentialLR(
    optimizer,
    schedulers: [
      LinearLR(optimizer, startFactor: 0.01, totalIters: warmup),
      CosineAnnealingLR(optimizer, tMax: max(options.iters - warmup, 1), etaMin: options.minLR),
    ], milestones: [warmup])
  var startIteration = 0
  if options.resume || options.sampleOnly {
    do {
      let checkpoint = try TrainingCheckpoint.load(from: checkpointURL)
      try model.loadStateDict(checkpoint.model, strict: true)
      if options.resume {
        try checkpoint.restore(optimizer: optimizer, scheduler: schedule, generator: batches)
        startIteration = checkpoint.iteration
        // The checkpoint holds rank 0's batch generator; the others start a fresh stream.
        if rank != 0 { batches.manualSeed(options.seed &+ UInt64(rank) &* 1_000_003 &+ UInt64(startIteration)) }
      }
      print("loaded \(checkpointURL.path) (iteration \(checkpoint.iteration))")
    } catch {
      print("could not load the checkpoint: \(error)")
      exit(1)
    }
  }
  do {
    try model.to(options.device)
  } catch {
    print("cannot use \(options.device): \(error)")
    exit(1)
  }
  if !options.sampleOnly {
    // The wrapper's hooks average the gradients during backward; `model.loss` runs the replica.
    let parallel: DistributedDataParallel?
    do { parallel = try group.map { try DistributedDataParallel(model, group: $0) } } catch {
      print("could not set up data parallelism: \(error)")
      exit(1)
    }
    model.train()
    let start = DispatchTime.now().uptimeNanoseconds
    var smoothed: Double?
    for iteration in startIteration..<options.iters {
      let (x, y) = randomBatch(
        trainData, batchSize: options.batchSize, blockSize: options.sequenceLength, generator: batches)
      optimizer.zeroGrad()
      let loss = model.loss(try! x.to(options.device), try! y.to(options.device))
      loss.backward()
      _ = try? clipGradNorm_(model.parameters(), maxNorm: 1)
      optimizer.step()
      schedule.step()
      let value = loss.item()
      smoothed = smoothed.map { 0.9 * $0 + 0.1 * value } ?? value
      let done = iteration + 1
      if done % 10 == 0 || done == options.iters {
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let tokens = Double((done - startIteration) * options.batchSize * options.sequenceLength)
        let left = seconds / Double(done - startIteration) * Double(options.iters - done)
        printProgress(
          "iter", done: done, total: options.iters,
          detail: String(
            format: "loss %.4f  lr %.2e  %.0f tok/s  left %@", smoothed!, optimizer.paramGroups[0].lr, tokens / seconds,
            formatDuration(left)))
      }
      if done % options.evalInterval == 0 || done == options.iters {
        let count = done == options.iters ? max(options.evalIters, options.finalEvalIters) : options.evalIters
        let (trainLoss, valLoss) = (
          meanLoss(model, trainData, count: count, options, batches),
          meanLoss(model, valData, count: count, options, batches)
        )
        endProgress()
        print(String(format: "step %d: train loss %.4f, val loss %.4f", done, trainLoss, valLoss))
        if rank != 0 { continue }
        do {
          try TrainingCheckpoint.save(
            model: model, optimizer: optimizer, scheduler: schedule, generator: batches, iteration: done,
            settings: settings,
            to: checkpointURL)
        } catch {
          print("could not save the checkpoint: \(error)")
        }
      }
    }
    withExtendedLifetime(parallel) {}
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    print(
      "trained \(options.iters - startIteration) iterations in \(formatDuration(seconds)); checkpoint: \(checkpointURL.path)"
    )
  }
  let prompt = Tensor(text.encode(options.prompt).map(Int64.init), shape: [1, options.prompt.count])
  let sample = model.generate(
    try! prompt.to(options.device), count: options.sampleLength, temperature: options.temperature, topK: options.topK,
    generator: Generator().manualSeed(options.seed))
  print("---- sample ----")
  print(text.decode(try! sample.cpu().toArray(Int64.self).map(Int.init)))
}
