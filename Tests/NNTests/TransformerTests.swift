import Foundation
import NN
import TestSupport
import Testing

private let fixtures = Fixtures()

/// The modules and calls of the fixture script's `transformer_cases` (parameters are loaded
/// from PyTorch's state dict with `strict: true`).
private let transformerCases: [String: (make: @Sendable () -> Module, call: @Sendable (Module, [Tensor]) -> Tensor)] = {
  let keyPadding = fixtures.tensor("tf_key_padding")
  let boolMask = fixtures.tensor("tf_bool_mask")
  let causal = Transformer.generateSquareSubsequentMask(5)
  @Sendable func mha(_ m: Module) -> MultiheadAttention { m as! MultiheadAttention }
  @Sendable func flat(_ parts: (output: Tensor, weights: Tensor?)) -> Tensor {
    Tensor.cat([parts.output.flatten(), parts.weights!.flatten()])
  }
  return [
    "mha_self": ({ MultiheadAttention(8, 2) }, { m, x in mha(m)(x[0], x[0], x[0]).output }),
    "mha_weights": (
      { MultiheadAttention(8, 4, batchFirst: true) },
      { m, x in flat(mha(m)(x[0], x[1], x[2], keyPaddingMask: keyPadding, attnMask: boolMask)) }
    ),
    "mha_heads_no_average": (
      { MultiheadAttention(8, 2, bias: false, batchFirst: true) },
      { m, x in flat(mha(m)(x[0], x[1], x[2], averageAttnWeights: false)) }
    ),
    "mha_kvdim_no_weights": (
      { MultiheadAttention(8, 2, kdim: 6, vdim: 3) },
      { m, x in mha(m)(x[0], x[1], x[2], keyPaddingMask: keyPadding, needWeights: false).output }
    ),
    "mha_causal_unbatched": (
      { MultiheadAttention(8, 2) },
      { m, x in mha(m)(x[0], x[0], x[0], needWeights: false, attnMask: causal, isCausal: true).output }
    ),
    "encoder_layer": ({ TransformerEncoderLayer(8, 2, dimFeedforward: 16, dropout: 0) }, { m, x in m(x[0]) }),
    "encoder_layer_norm_first_gelu": (
      {
        TransformerEncoderLayer(
          8, 2, dimFeedforward: 16, dropout: 0, activation: .gelu, batchFirst: true, normFirst: true)
      },
      { m, x in (m as! TransformerEncoderLayer)(x[0], srcMask: causal, isCausal: true) }
    ),
    "encoder_layer_padding": (
      { TransformerEncoderLayer(8, 2, dimFeedforward: 16, dropout: 0, batchFirst: true) },
      { m, x in (m as! TransformerEncoderLayer)(x[0], srcKeyPaddingMask: keyPadding) }
    ),
    "decoder_layer": (
      { TransformerDecoderLayer(8, 2, dimFeedforward: 16, dropout: 0, batchFirst: true) },
      { m, x in
        (m as! TransformerDecoderLayer)(
          x[0], x[1], tgtMask: causal, memoryKeyPaddingMask: keyPadding, tgtIsCausal: true)
      }
    ),
    "decoder_layer_norm_first": (
      { TransformerDecoderLayer(8, 2, dimFeedforward: 16, dropout: 0, activation: .gelu, normFirst: true) },
      { m, x in (m as! TransformerDecoderLayer)(x[0], x[1]) }
    ),
    "encoder_stack": (
      {
        TransformerEncoder(
          TransformerEncoderLayer(8, 2, dimFeedforward: 16, dropout: 0, batchFirst: true), numLayers: 2,
          norm: LayerNorm(8))
      },
      { m, x in (m as! TransformerEncoder)(x[0], mask: causal, isCausal: true) }
    ),
    "rms_norm": ({ RMSNorm([4, 3]) }, { m, x in m(x[0]) }),
    "rms_norm_eps": ({ RMSNorm([3], eps: 0.1, elementwiseAffine: false) }, { m, x in m(x[0]) }),
    "gelu_tanh": ({ GELU(approximate: .tanh) }, { m, x in m(x[0]) }),
  ]
}()

@Suite struct TransformerTests {
  @Test(arguments: transformerCases.keys.sorted())
  func modulesMatchPyTorch(name: String) throws {
    let (make, call) = transformerCases[name]!
    let module = make()
    let keys = module.stateDictKeys()
    try module.loadStateDict(
      Dictionary(uniqueKeysWithValues: keys.map { ($0, fixtures.tensor("tf_\(name)_param_\($0)")) }), strict: true)
    var inputs: [Tensor] = []
    while FileManager.default.fileExists(
      atPath: fixtures.directory.appendingPathComponent("tf_\(name)_in\(inputs.count).npy").path)
    {
      inputs.append(fixtures.tensor("tf_\(name)_in\(inputs.count)"))
    }
    inputs[0].requiresGrad_()
    let out = call(module, inputs)
    expectClose(out, fixtures.tensor("tf_\(name)_out"), rtol: 1e-4, atol: 1e-5)
    (out * fixtures.tensor("tf_\(name)_up")).sum().backward()
    expectClose(inputs[0].grad!, fixtures.tensor("tf_\(name)_gradin"), rtol: 1e-4, atol: 1e-5)
    for (key, p) in module.namedParameters() {
      expectClose(p.grad!, fixtures.tensor("tf_\(name)_grad_\(key)"), rtol: 1e-4, atol: 1e-5)
    }
  }

  @Test func parameterNamesAreTorchs() {
    #expect(
      MultiheadAttention(8, 2).stateDictKeys() == [
        "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias",
      ])
    #expect(
      MultiheadAttention(8, 2, kdim: 4, vdim: 4).stateDictKeys() == [
        "q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias",
      ])
    let encoder = TransformerEncoder(
      TransformerEncoderLayer(8, 2, dimFeedforward: 16), numLayers: 2, norm: LayerNorm(8))
    #expect(encoder.stateDictKeys().first == "layers.0.self_attn.in_proj_weight")
    #expect(encoder.stateDictKeys().last == "norm.bias")
    #expect(encoder.stateDictKeys().count == 2 * 12 + 2)
    // Copies start equal, as PyTorch's deep copies.
    #expect(encoder.layers[0].linear1.weight == encoder.layers[1].linear1.weight)
    let dict = ModuleDict(["proj": Linear(2, 3), "act": ReLU()])
    #expect(dict.stateDictKeys() == ["proj.weight", "proj.bias"] && dict.keys == ["proj", "act"])
    #expect(
      Transformer(dModel: 8, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 16).parameters().count
        == 12 + 2 + 18 + 2)
  }

  @Test func embeddingPaddingRowGetsNoGradient() {
    let embedding = Embedding(6, 3, paddingIdx: -2)
    #expect(embedding.paddingIdx == 4 && embedding.weight[4] == Tensor.zeros(3))
    withNoGrad { _ = embedding.weight.copy_(fixtures.tensor("tf_embedding_weight")) }
    let out = embedding(Tensor([[0, 4, 2], [4, 5, 1]]))
    expectClose(out, fixtures.tensor("tf_embedding_out"), rtol: 1e-6, atol: 1e-6)
    (out * fixtures.tensor("tf_embedding_up")).sum().backward()
    expectClose(embedding.weight.grad!, fixtures.tensor("tf_embedding_grad"), rtol: 1e-6, atol: 1e-6)
  }

  @Test(arguments: ["clip_norm_2", "clip_norm_inf", "clip_norm_1_no_clip"])
  func clipGradNormMatchesPyTorch(name: String) throws {
    let settings: [String: (Double, Double)] = [
      "clip_norm_2": (1, 2), "clip_norm_inf": (0.5, .infinity), "clip_norm_1_no_clip": (100, 1),
    ]
    let (maxNorm, normType) = settings[name]!
    let params = (0..<2).map { i in
      let g = fixtures.tensor("tf_\(name)_g\(i)")
      let p = Tensor.zeros(like: g).requiresGrad_()
      p.grad = g.clone()
      return p
    }
    let total = try clipGradNorm_(params, maxNorm: maxNorm, normType: normType)
    expectClose(total, fixtures.tensor("tf_\(name)_total"), rtol: 1e-6, atol: 1e-7)
    for (i, p) in params.enumerated() {
      expectClose(p.grad!, fixtures.tensor("tf_\(name)_clipped\(i)"), rtol: 1e-6, atol: 1e-7)
    }
  }

  @Test func clippingANonFiniteNormThrowsWhenAsked() {
    let p = Tensor.zeros(2).requiresGrad_()
    p.grad = Tensor([1, Float.nan])
    #expect(throws: NonFiniteGradientNormError.self) { try clipGradNorm_([p], maxNorm: 1, errorIfNonfinite: true) }
    clipGradValue_([p], clipValue: 0.5)
    #expect(p.grad![0] == Tensor(Float(0.5)))
  }

  @Test func newLayersPassGradcheck() throws {
    let x = Tensor.randn(2, 4, 3, dtype: .float64).requiresGrad_()
    let weight = Tensor.randn(4, 3, dtype: .float64).requiresGrad_()
    #expect(
      try Autograd.gradcheck(
        { Functional.rmsNorm($0[0], normalizedShape: [4, 3], weight: $0[1]) }, inputs: [x, weight]))
    #expect(try Autograd.gradcheck({ Functional.gelu($0[0], approximate: .tanh) }, inputs: [x]))
    // (Embedding's padding row has, on purpose, no gradient: PyTorch's rule, not the
    // derivative, so it is held by the fixture test above instead.)
  }
}
