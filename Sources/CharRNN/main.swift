// Trains a character-level LSTM (embedding 64, 2 layers of 256, a linear head) on tiny
// Shakespeare, shows progress, evaluates, saves a checkpoint and samples.
//
//   swift run -c release CharRNN                  train 3,000 iterations, then sample
//   swift run -c release CharRNN --iters 500      a shorter run
//   swift run -c release CharRNN --resume         continue from the checkpoint
//   swift run -c release CharRNN --sample-only    load the checkpoint and sample
import ExampleSupport

// Batch 32, sequence 64; lr 2e-3 -> 2e-4; evaluations every 500 iterations over 20 batches
// (100 at the end).
let defaults = LanguageModelOptions(
  iters: 3000, evalInterval: 500, evalIters: 20, finalEvalIters: 100, checkpoint: "runs/charrnn-shakespeare.pt",
  batchSize: 32,
  sequenceLength: 64, lr: 2e-3, minLR: 2e-4)
runLanguageModelExample(
  defaults, program: "CharRNN", describe: { (_: CharLSTM) in "embedding 64, LSTM 2 x 256" },
  settings: ["model": "char-lstm", "embedding": "64", "hidden": "256", "layers": "2"],
  makeModel: { vocab in CharLSTM(vocabSize: vocab) })
