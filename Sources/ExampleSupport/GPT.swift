import Foundation
import NN
import Optim

/// The size of a GPT (nanoGPT's `GPTConfig`).
public struct GPTConfig: Sendable {
  /// Tokens in the vocabulary.
  public var vocabSize: Int
  /// The longest context.
  public var blockSize: Int
  /// Transformer blocks.
  public var nLayer: Int
  /// Attention heads per block.
  public var nHead: Int
  /// The model width.
  public var nEmbd: Int
  /// Dropout in training.
  public var dropout: Double
  /// Whether the linear layers and norms have biases.
  public var bias: Bool

  /// A configuration.
  public init(
    vocabSize: Int, blockSize: Int, nLayer: Int = 4, nHead: Int = 4, nEmbd: Int = 128, dropout: Double = 0,
    bias: Bool = true
  ) {
    self.vocabSize = vocabSize
    self.blockSize = blockSize
    self.nLayer = nLayer
    self.nHead = nHead
    self.nEmbd = nEmbd
    self.dropout = dropout
    self.bias = bias
  }
}

/// Multi-head causal self-attention with one projection for query, key and value
/// (nanoGPT's `CausalSelfAttention`: `c_attn`, `c_proj`), through the fused
/// `scaledDotProductAttention`.
public final class CausalSelfAttention: Module {
  /// Query, key and value, stacked: `[3 nEmbd, nEmbd]`.
  public var cAttn: Linear
  /// The output projection.
  public var cProj: Linear
  var residDropout: Dropout
  let nHead: Int
  let dropout: Double

  init(_ config: GPTConfig) {
    cAttn = Linear(config.nEmbd, 3 * config.nEmbd, bias: config.bias)
    cProj = Linear(config.nEmbd, config.nEmbd, bias: config.bias)
    residDropout = Dropout(config.dropout)
    nHead = config.nHead
    dropout = config.dropout
  }

  /// Attends over `[B, T, C]`, each position to itself and the ones before.
  public override func forward(_ x: Tensor) -> Tensor {
    let (b, t, c) = (x.shape[0], x.shape[1], x.shape[2])
    let qkv = cAttn(x).split(c, dim: 2)
    func heads(_ y: Tensor) -> Tensor { y.view(b, t, nHead, c / nHead).transpose(1, 2) }
    let y = Functional.scaledDotProductAttention(
      heads(qkv[0]), heads(qkv[1]), heads(qkv[2]), dropoutP: training ? dropout : 0, isCausal: true)
    return residDropout(cProj(y.transpose(1, 2).contiguous().view(b, t, c)))
  }
}

/// The feed-forward block: width x4, GELU, back (nanoGPT's `MLP`: `c_fc`, `c_proj`).
public final class GPTMLP: Module {
  /// The expansion.
  public var cFc: Linear
  var gelu = GELU()
  /// The projection back.
  public var cProj: Linear
  var dropout: Dropout

  init(_ config: GPTConfig) {
    cFc = Linear(config.nEmbd, 4 * config.nEmbd, bias: config.bias)
    cProj = Linear(4 * config.nEmbd, config.nEmbd, bias: config.bias)
    dropout = Dropout(config.dropout)
  }

  /// Applies the block.
  public override func forward(_ x: Tensor) -> Tensor { dropout(cProj(gelu(cFc(x)))) }
}

/// A pre-norm transformer block (nanoGPT's `Block`: `ln_1`, `attn`, `ln_2`, `mlp`).
public final class GPTBlock: Module {
  let ln1: LayerNorm
  let attn: CausalSelfAttention
  let ln2: LayerNorm
  let mlp: GPTMLP

  init(_ config: GPTConfig) {
    ln1 = LayerNorm([config.nEmbd], elementwiseAffine: true)
    attn = CausalSelfAttention(config)
    ln2 = LayerNorm([config.nEmbd], elementwiseAffine: true)
    mlp = GPTMLP(config)
    super.init()
    if !config.bias {
      ln1.bias = nil
      ln2.bias = nil
    }
  }

  /// nanoGPT's child names.
  public override func namedChildren() -> [(String, Module)] {
    [("ln_1", ln1), ("attn", attn), ("ln_2", ln2), ("mlp", mlp)]
  }

  /// `x + attn(ln_1(x))`, then `x + mlp(ln_2(x))`.
  public override func forward(_ x: Tensor) -> Tensor {
    let y = x + attn(ln1(x))
    return y + mlp(ln2(y))
  }
}

/// The embeddings, blocks and final norm (nanoGPT's `transformer` dict).
public final class GPTBody: Module {
  /// Token embeddings, tied to the output head.
  public var wte: Embedding
  /// Position embeddings.
  public var wpe: Embedding
  var drop: Dropout
  /// The blocks.
  public var h: [GPTBlock]
  /// The final norm.
  public var lnF: LayerNorm

  init(_ config: GPTConfig) {
    wte = Embedding(config.vocabSize, config.nEmbd)
    wpe = Embedding(config.blockSize, config.nEmbd)
    drop = Dropout(config.dropout)
    h = (0..<config.nLayer).map { _ in GPTBlock(config) }
    lnF = LayerNorm([config.nEmbd])
    super.init()
    if !config.bias { lnF.bias = nil }
  }
}

/// A character- or token-level GPT with nanoGPT's architecture and parameter names
/// (`transformer.wte.weight`, `transformer.h.0.attn.c_attn.weight`, ...; the output head
/// shares the token embedding's weight, so `lm_head.weight` is that tensor).
public final class GPT: Module {
  /// Embeddings, blocks and final norm.
  public var transformer: GPTBody
  /// The size.
  public let config: GPTConfig

  /// A model with nanoGPT's initialisation: every matrix and embedding normal(0, 0.02), the
  /// residual projections normal(0, 0.02 / sqrt(2 nLayer)), biases zero.
  public init(_ config: GPTConfig) {
    self.config = config
    transformer = GPTBody(config)
    super.init()
    withNoGrad {
      for (name, p) in namedParameters() {
        if name.hasSuffix("c_proj.weight") {
          _ = p.normal_(mean: 0, std: 0.02 / Double(2 * config.nLayer).squareRoot())
        } else if p.dim >= 2 {
          _ = p.normal_(mean: 0, std: 0.02)
        } else if name.hasSuffix(".bias") && !name.contains("ln_") {
          _ = p.zero_()
        }
      }
    }
  }

  /// The logits `[B, T, vocab]` for token indices `[B, T]`.
  public override func forward(_ idx: Tensor) -> Tensor {
    let t = idx.shape[1]
    usageCheck(t <= config.blockSize, "Cannot forward sequence of length \(t), block size is only \(config.blockSize)")
    let positions = Tensor.arange(t, device: idx.device)
    var x = transformer.drop(transformer.wte(idx) + transformer.wpe(positions))
    for block in transformer.h { x = block(x) }
    return Functional.linear(transformer.lnF(x), weight: transformer.wte.weight, bias: nil)
  }

  /// The mean cross-entropy of predicting `targets` `[B, T]` from `idx` `[B, T]`.
  public func loss(_ idx: Tensor, _ targets: Tensor) -> Tensor {
    let logits = self(idx)
    return crossEntropy(logits.reshape(-1, config.vocabSize), targets.reshape(-1))
  }

  /// AdamW over two groups, as nanoGPT: weight decay on the matrices and embeddings, none on
  /// biases and norms.
  public func configureOptimizer(lr: Double, weightDecay: Double, betas: (Double, Double)) -> AdamW {
    decayOnMatrices(parameters(), lr: lr, weightDecay: weightDecay, betas: betas)
  }

  /// Appends `count` tokens to `idx` `[B, T]`, each sampled from the logits divided by
  /// `temperature` and (with `topK`) cut to the `topK` most likely.
  public func generate(
    _ idx: Tensor, count: Int, temperature: Double = 1, topK: Int? = nil, generator: Generator? = nil
  ) -> Tensor {
    eval()
    defer { train() }
    return withNoGrad {
      var sequence = idx
      for _ in 0..<count {
        let t = sequence.shape[1]
        let context =
          t <= config.blockSize
          ? sequence : sequence.narrow(dim: 1, start: t - config.blockSize, length: config.blockSize)
        let next = sampleToken(
          self(context).select(dim: 1, index: context.shape[1] - 1), temperature: temperature, topK: topK,
          generator: generator)
        sequence = Tensor.cat([sequence, next.to(sequence.dtype)], dim: 1)
      }
      return sequence
    }
  }
}

extension GPTConfig {
  /// The sizes, as checkpoint metadata.
  public var metadata: [String: String] {
    [
      "vocab_size": "\(vocabSize)", "block_size": "\(blockSize)", "n_layer": "\(nLayer)", "n_head": "\(nHead)",
      "n_embd": "\(nEmbd)",
    ]
  }
}

/// AdamW with weight decay on the matrices and embeddings (`dim >= 2`) and none on biases
/// and norms: the two-group recipe of nanoGPT and the char-rnn example.
func decayOnMatrices(_ params: [Tensor], lr: Double, weightDecay: Double, betas: (Double, Double)) -> AdamW {
  AdamW(
    [
      ParamGroup(params.filter { $0.dim >= 2 }, weightDecay: weightDecay),
      ParamGroup(params.filter { $0.dim < 2 }, weightDecay: 0),
    ],
    lr: lr, betas: betas)
}

/// One token per row of `logits` `[B, vocab]`, sampled from `softmax(logits / temperature)`
/// cut to the `topK` most likely.
func sampleToken(_ logits: Tensor, temperature: Double, topK: Int?, generator: Generator?) -> Tensor {
  var scaled = logits / temperature
  if let topK {
    let k = Swift.min(topK, scaled.shape[1])
    let kth = scaled.topk(k, dim: -1).values.narrow(dim: 1, start: k - 1, length: 1)
    scaled = scaled.maskedFill(scaled .< kth, .double(-.infinity))
  }
  return scaled.softmax(dim: -1).multinomial(numSamples: 1, generator: generator)
}

/// A text as character indices, with its vocabulary (nanoGPT's `shakespeare_char` prepare).
public struct CharacterText: Sendable {
  /// The distinct characters, sorted; a token is an index into it.
  public let vocabulary: [Character]
  /// The text as tokens.
  public let tokens: [Int]

  /// Tokenizes `text`.
  public init(_ text: String) {
    vocabulary = Array(Set(text)).sorted()
    let index = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, $0) })
    tokens = text.map { index[$0]! }
  }

  /// The tokens of `text` (characters outside the vocabulary stop with a message).
  public func encode(_ text: String) -> [Int] {
    let index = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, $0) })
    return text.map { c in
      guard let token = index[c] else {
        usageFailure("the prompt has a character the model never saw: \(c.debugDescription)")
      }
      return token
    }
  }

  /// The text of `tokens`.
  public func decode(_ tokens: [Int]) -> String { String(tokens.map { vocabulary[$0] }) }
}

/// `batchSize` random windows of `blockSize + 1` tokens from `data`: inputs and the targets
/// one position later (nanoGPT's `get_batch`).
public func randomBatch(_ data: Tensor, batchSize: Int, blockSize: Int, generator: Generator? = nil) -> (
  x: Tensor, y: Tensor
) {
  let starts = Tensor.randint(0, data.shape[0] - blockSize, [batchSize], generator: generator).toArray(Int64.self)
  let x = Tensor.stack(starts.map { data.narrow(dim: 0, start: Int($0), length: blockSize) })
  let y = Tensor.stack(starts.map { data.narrow(dim: 0, start: Int($0) + 1, length: blockSize) })
  return (x, y)
}
