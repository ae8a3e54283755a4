// Trains a character-level GPT (nanoGPT's architecture) on tiny Shakespeare, shows progress,
// evaluates, saves a checkpoint (safetensors with nanoGPT's parameter names) and samples.
//
//   swift run -c release GPT                      train 2,000 iterations, then sample
//   swift run -c release GPT --iters 500          a shorter run
//   swift run -c release GPT --resume             continue from the checkpoint
//   swift run -c release GPT --sample-only        load the checkpoint and sample
//   swift run -c release GPT --device cuda        train on the first GPU
import CUDABackend
import Dispatch
import ExampleSupport
import Foundation
import NN
import Optim

struct Options {
  var iters = 2000
  var device = Device.cpu
  var resume = false
  var sampleOnly = false
  var evalInterval = 250
  var evalIters = 40
  var checkpoint = "gpt-shakespeare.safetensors"
  var prompt = "\n"
  var sampleLength = 500
  var temperature = 0.8
  var topK = 200
  var seed: UInt64 = 1337
  var batchSize = 12
  var blockSize = 64
}

func parseOptions() -> Options {
  var options = Options()
  var arguments = Array(CommandLine.arguments.dropFirst()).makeIterator()
  func value(_ flag: String) -> String {
    guard let v = arguments.next() else {
      print("\(flag) needs a value")
      exit(2)
    }
    return v
  }
  while let argument = arguments.next() {
    switch argument {
    case "--iters": options.iters = Int(value(argument)) ?? options.iters
    case "--device": options.device = value(argument).hasPrefix("cuda") ? .cuda(0) : .cpu
    case "--resume": options.resume = true
    case "--sample-only": options.sampleOnly = true
    case "--eval-interval": options.evalInterval = Int(value(argument)) ?? options.evalInterval
    case "--eval-iters": options.evalIters = Int(value(argument)) ?? options.evalIters
    case "--checkpoint": options.checkpoint = value(argument)
    case "--prompt": options.prompt = value(argument)
    case "--length": options.sampleLength = Int(value(argument)) ?? options.sampleLength
    case "--temperature": options.temperature = Double(value(argument)) ?? options.temperature
    case "--top-k": options.topK = Int(value(argument)) ?? options.topK
    case "--seed": options.seed = UInt64(value(argument)) ?? options.seed
    default:
      print(
        "usage: GPT [--iters N] [--device cpu|cuda] [--resume] [--sample-only] [--eval-interval N] [--eval-iters N] [--checkpoint PATH] [--prompt TEXT] [--length N] [--temperature T] [--top-k K] [--seed S]"
      )
      exit(2)
    }
  }
  return options
}

func formatDuration(_ seconds: Double) -> String {
  let s = Int(seconds.rounded())
  return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
}

let options = parseOptions()
let text: CharacterText
do {
  text = CharacterText(try String(contentsOf: Dataset.locate("Data/tinyshakespeare.txt"), encoding: .utf8))
} catch {
  print("could not read the text: \(error)")
  exit(1)
}
let data = Tensor(text.tokens.map(Int64.init), shape: [text.tokens.count])
let split = text.tokens.count * 9 / 10
let trainData = data.narrow(dim: 0, start: 0, length: split)
let valData = data.narrow(dim: 0, start: split, length: data.shape[0] - split)
print("tiny Shakespeare: \(text.tokens.count) characters, vocabulary \(text.vocabulary.count); \(split) for training, \(data.shape[0] - split) for validation")

Tensor.manualSeed(options.seed)
let config = GPTConfig(vocabSize: text.vocabulary.count, blockSize: options.blockSize)
let model = GPT(config)
let batches = Generator().manualSeed(options.seed)
let checkpointURL = URL(fileURLWithPath: options.checkpoint)
print("model: \(config.nLayer) layers, \(config.nHead) heads, width \(config.nEmbd), \(model.parameters().reduce(0) { $0 + $1.numel }) parameters")

let optimizer = model.configureOptimizer(lr: 1e-3, weightDecay: 0.1, betas: (0.9, 0.99))
var startIteration = 0
if options.resume || options.sampleOnly {
  do {
    let checkpoint = try GPTCheckpoint.load(from: checkpointURL)
    try model.loadStateDict(checkpoint.model, strict: true)
    if options.resume {
      try checkpoint.restore(optimizer: optimizer, generator: batches)
      startIteration = checkpoint.iteration
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

/// Mean loss of `model` over `options.evalIters` random batches of `split`, without a graph.
func meanLoss(_ model: GPT, _ split: Tensor, _ options: Options, _ generator: Generator) -> Double {
  model.eval()
  defer { model.train() }
  return withNoGrad {
    var total = 0.0
    for _ in 0..<options.evalIters {
      let (x, y) = randomBatch(split, batchSize: options.batchSize, blockSize: options.blockSize, generator: generator)
      total += model.loss(try! x.to(options.device), try! y.to(options.device)).item()
    }
    return total / Double(options.evalIters)
  }
}

if !options.sampleOnly {
  // 100 warm-up iterations from 1e-5, then cosine decay to 1e-4.
  let warmup = min(100, max(options.iters - 1, 1))
  let schedule = SequentialLR(
    optimizer,
    schedulers: [
      LinearLR(optimizer, startFactor: 0.01, totalIters: warmup), CosineAnnealingLR(optimizer, tMax: max(options.iters - warmup, 1), etaMin: 1e-4),
    ], milestones: [warmup])
  for _ in 0..<startIteration { schedule.step() }
  model.train()
  let start = DispatchTime.now().uptimeNanoseconds
  var smoothed: Double?
  for iteration in startIteration..<options.iters {
    let (x, y) = randomBatch(trainData, batchSize: options.batchSize, blockSize: options.blockSize, generator: batches)
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
      let tokens = Double((done - startIteration) * options.batchSize * options.blockSize)
      let left = seconds / Double(done - startIteration) * Double(options.iters - done)
      printProgress(
        "iter", done: done, total: options.iters,
        detail: String(format: "loss %.4f  lr %.2e  %.0f tok/s  left %@", smoothed!, optimizer.paramGroups[0].lr, tokens / seconds, formatDuration(left)))
    }
    if done % options.evalInterval == 0 || done == options.iters {
      // The last evaluation averages 200 batches (nanoGPT's eval_iters), the others fewer.
      var evaluation = options
      if done == options.iters { evaluation.evalIters = max(options.evalIters, 200) }
      let (trainLoss, valLoss) = (meanLoss(model, trainData, evaluation, batches), meanLoss(model, valData, evaluation, batches))
      print(String(format: "\nstep %d: train loss %.4f, val loss %.4f", done, trainLoss, valLoss))
      do {
        try GPTCheckpoint.save(model: model, optimizer: optimizer, generator: batches, iteration: done, config: config, to: checkpointURL)
      } catch {
        print("could not save the checkpoint: \(error)")
      }
    }
  }
  let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  print("trained \(options.iters - startIteration) iterations in \(formatDuration(seconds)); checkpoint: \(checkpointURL.path)")
}

let prompt = Tensor(text.encode(options.prompt).map(Int64.init), shape: [1, options.prompt.count])
let sample = model.generate(
  try! prompt.to(options.device), count: options.sampleLength, temperature: options.temperature, topK: options.topK,
  generator: Generator().manualSeed(options.seed))
print("---- sample ----")
print(text.decode(try! sample.cpu().toArray(Int64.self).map(Int.init)))
