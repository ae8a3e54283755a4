import Foundation
import NN
import Optim

/// A character model: an embedding, a stacked LSTM and a linear head over the vocabulary
/// (the classic char-rnn shape). Parameters: `embedding.weight`, `lstm.weight_ih_l0`, ...,
/// `head.weight`, `head.bias`.
public final class CharLSTM: Module {
  /// Token embeddings.
  public var embedding: Embedding
  /// The recurrent layers (batch-first).
  public var lstm: LSTM
  /// Logits over the vocabulary.
  public var head: Linear
  /// Tokens in the vocabulary.
  public let vocabSize: Int

  /// A model over `vocabSize` tokens.
  public init(vocabSize: Int, embeddingSize: Int = 64, hiddenSize: Int = 256, numLayers: Int = 2) {
    self.vocabSize = vocabSize
    embedding = Embedding(vocabSize, embeddingSize)
    lstm = LSTM(embeddingSize, hiddenSize, numLayers: numLayers, batchFirst: true)
    head = Linear(hiddenSize, vocabSize)
  }

  /// The logits `[B, T, vocab]` for tokens `[B, T]`.
  public override func forward(_ idx: Tensor) -> Tensor { head(lstm(embedding(idx)).output) }

  /// The mean cross-entropy of predicting `targets` from `idx` (both `[B, T]`).
  public func loss(_ idx: Tensor, _ targets: Tensor) -> Tensor {
    crossEntropy(self(idx).reshape(-1, vocabSize), targets.reshape(-1))
  }

  /// AdamW with weight decay on the matrices (and embedding) only.
  public func configureOptimizer(lr: Double, weightDecay: Double, betas: (Double, Double)) -> AdamW {
    decayOnMatrices(parameters(), lr: lr, weightDecay: weightDecay, betas: betas)
  }

  /// Appends `count` tokens to `prompt` `[1, T]`, each sampled (with `temperature` and
  /// `topK`) from the logits after feeding the sequence so far; the LSTM state carries over,
  /// so each new token costs one step.
  public func generate(
    _ prompt: Tensor, count: Int, temperature: Double = 1, topK: Int? = nil, generator: Generator? = nil
  ) -> Tensor {
    eval()
    defer { train() }
    return withNoGrad {
      var (output, state) = lstm(embedding(prompt), nil)
      var tokens = prompt
      for _ in 0..<count {
        let next = sampleToken(
          head(output.select(dim: 1, index: output.shape[1] - 1)), temperature: temperature, topK: topK,
          generator: generator)
        tokens = Tensor.cat([tokens, next], dim: 1)
        (output, state) = lstm(embedding(next), (state.h, state.c))
      }
      return tokens
    }
  }
}
