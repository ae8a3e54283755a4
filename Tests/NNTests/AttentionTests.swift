import Foundation
import NN
import TestSupport
import Testing

private let fixtures = Fixtures()

/// The calls of the fixture script's `attention_cases`.
private let attentionCases: [String: @Sendable (Tensor, Tensor, Tensor) -> Tensor] = {
  let paddingMask = fixtures.tensor("attn_padding_mask")
  let boolMask = fixtures.tensor("attn_bool_mask")
  return [
    "plain": { Functional.scaledDotProductAttention($0, $1, $2) },
    "causal_blocks": { Functional.scaledDotProductAttention($0, $1, $2, isCausal: true) },
    "causal_rectangular": { Functional.scaledDotProductAttention($0, $1, $2, isCausal: true) },
    "bool_mask": { Functional.scaledDotProductAttention($0, $1, $2, attnMask: boolMask) },
    "padding_mask_scale": {
      Functional.scaledDotProductAttention($0, $1, $2, attnMask: paddingMask.to($0.dtype), scale: 0.3)
    },
    "broadcast_batch": { Functional.scaledDotProductAttention($0, $1, $2, isCausal: true) },
    "long_causal": { Functional.scaledDotProductAttention($0, $1, $2, isCausal: true) },
    "long_cross": { Functional.scaledDotProductAttention($0, $1, $2) },
  ]
}()

@Suite struct AttentionTests {
  @Test(arguments: attentionCases.keys.sorted())
  func matchesPyTorchWithGradients(name: String) {
    let (q, k, v) = (
      fixtures.tensor("attn_\(name)_q"), fixtures.tensor("attn_\(name)_k"), fixtures.tensor("attn_\(name)_v")
    )
    for t in [q, k, v] { t.requiresGrad_() }
    let out = attentionCases[name]!(q, k, v)
    #expect(out.gradFn?.name == "ScaledDotProductFlashAttentionForCpuBackward0")
    expectClose(out, fixtures.tensor("attn_\(name)_out"), rtol: 1e-5, atol: 1e-5)
    (out * fixtures.tensor("attn_\(name)_up")).sum().backward()
    for (t, part) in [(q, "gq"), (k, "gk"), (v, "gv")] {
      expectClose(t.grad!, fixtures.tensor("attn_\(name)_\(part)"), rtol: 1e-4, atol: 1e-5)
    }
  }

  @Test(arguments: attentionCases.keys.sorted().filter { !$0.hasPrefix("long") })
  func gradientsMatchFiniteDifferences(name: String) throws {
    let inputs = ["q", "k", "v"].map { fixtures.tensor("attn_\(name)_\($0)").double().requiresGrad_() }
    let f = attentionCases[name]!
    #expect(try Autograd.gradcheck({ f($0[0], $0[1], $0[2]) }, inputs: inputs, eps: 1e-6, atol: 1e-5, rtol: 1e-3))
  }

  @Test func aFloatMaskThatRequiresGradGetsItsGradient() {
    let (q, k, v) = (
      fixtures.tensor("attn_float_mask_q"), fixtures.tensor("attn_float_mask_k"), fixtures.tensor("attn_float_mask_v")
    )
    let mask = fixtures.tensor("attn_float_mask_mask").requiresGrad_()
    q.requiresGrad_()
    let out = Functional.scaledDotProductAttention(q, k, v, attnMask: mask)
    expectClose(out, fixtures.tensor("attn_float_mask_out"), rtol: 1e-5, atol: 1e-5)
    (out * fixtures.tensor("attn_float_mask_up")).sum().backward()
    expectClose(mask.grad!, fixtures.tensor("attn_float_mask_gmask"), rtol: 1e-4, atol: 1e-5)
    expectClose(q.grad!, fixtures.tensor("attn_float_mask_gq"), rtol: 1e-4, atol: 1e-5)
  }

  @Test func fusedAndComposedPathsAgree() {
    // The composed path (dropout's, CUDA's) against the fused kernel on one problem.
    let (q, k, v) = (Tensor.randn(2, 3, 70, 8), Tensor.randn(2, 3, 90, 8), Tensor.randn(2, 3, 90, 5))
    let mask = Tensor.randn(70, 90) .> -1
    let additive = Tensor.where(mask, 0.0, -Double.infinity).float()
    let fused = Functional.scaledDotProductAttention(q, k, v, attnMask: mask)
    let composed = Tensor.composedAttention(q, k, v, mask: additive, causal: false, scale: 1 / 8.0.squareRoot())
    expectClose(fused, composed, rtol: 1e-5, atol: 1e-6)
    // Dropout 1 drops every weight.
    #expect(Functional.scaledDotProductAttention(q, k, v, dropoutP: 1) == Tensor.zeros(2, 3, 70, 5))
  }

  @Test func misuseStopsWithPyTorchsMessages() async {
    let causal = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let x = Tensor.ones(1, 2, 4)
      _ = Functional.scaledDotProductAttention(x, x, x, attnMask: Tensor.ones(2, 2, dtype: .bool), isCausal: true)
    }
    #expect(
      standardError(of: causal).contains(
        "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"))
    let dtypes = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let x = Tensor.ones(1, 2, 4)
      _ = Functional.scaledDotProductAttention(x, x.double(), x)
    }
    #expect(
      standardError(of: dtypes).contains(
        "Expected query, key, and value to have the same dtype, but got query.dtype: Float key.dtype: Double and value.dtype: Float instead."
      ))
  }
}
