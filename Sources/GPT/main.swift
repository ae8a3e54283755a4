// Trains a character-level GPT (nanoGPT's architecture) on tiny Shakespeare, shows progress,
// evaluates, saves a checkpoint (safetensors with nanoGPT's parameter names) and samples.
//
//   swift run -c release GPT                      train 2,000 iterations, then sample
//   swift run -c release GPT --iters 500          a shorter run
//   swift run -c release GPT --resume             continue from the checkpoint
//   swift run -c release GPT --sample-only        load the checkpoint and sample
//   swift run -c release GPT --device cuda        train on the first GPU
import ExampleSupport

// 4 layers, 4 heads, width 128, context 64, batch 12; lr 1e-3 -> 1e-4; evaluations every 250
// iterations over 40 batches (200 at the end, nanoGPT's eval_iters).
let defaults = LanguageModelOptions(
  iters: 2000, evalInterval: 250, evalIters: 40, finalEvalIters: 200, checkpoint: "runs/gpt-shakespeare.pt",
  batchSize: 12,
  sequenceLength: 64, lr: 1e-3, minLR: 1e-4)
let config = { (vocab: Int) in GPTConfig(vocabSize: vocab, blockSize: defaults.sequenceLength) }
runLanguageModelExample(
  defaults, program: "GPT",
  describe: { (m: GPT) in "\(m.config.nLayer) layers, \(m.config.nHead) heads, width \(m.config.nEmbd)" },
  settings: config(65).metadata,
  makeModel: { vocab in GPT(config(vocab)) })
