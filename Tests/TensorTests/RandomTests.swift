import Foundation
import TestSupport
import Testing

@testable import Tensor

/// Generators and the added random functions, against PyTorch 2.13's numbers for the same
/// seeds. Serialized: they reseed the default generator.
@Suite(.serialized) struct RandomTests {
  /// Random fills land, converted, in empty, 0-d, strided and half-precision tensors, in
  /// logical order (the stream does not depend on the layout).
  @Test func randomFillsLandInEveryShapeAndLayout() {
    #expect(Tensor.rand(0, 3).shape == [0, 3] && Tensor.randn([]).shape == [] && Tensor.randn(0).numel == 0)
    Tensor.manualSeed(7)
    let contiguous = Tensor.rand(4, 3)
    Tensor.manualSeed(7)
    let transposed = Tensor.empty(3, 4).t().uniform_()
    #expect(transposed == contiguous)
    Tensor.manualSeed(7)
    let half = Tensor.rand(64, dtype: .float16)
    #expect(half.dtype == .float16 && (half .>= 0).all().item(Bool.self) && (half .< 1).all().item(Bool.self))
  }

  @Test func randpermMatchesPyTorch() {
    Tensor.manualSeed(0)
    #expect(Tensor.randperm(10) == Tensor([4, 1, 7, 5, 3, 9, 0, 8, 6, 2]))
    Tensor.manualSeed(3)
    #expect(Tensor.randperm(5) == Tensor([1, 0, 3, 4, 2]))
  }

  @Test func multinomialAndExponentialMatchPyTorch() {
    let p = Tensor([[0.1, 0.2, 0.3, 0.4], [1, 0, 2, 5]] as [[Float]])
    #expect(
      p.multinomial(numSamples: 7, replacement: true, generator: Generator().manualSeed(5))
        == Tensor([[3, 1, 2, 2, 1, 3, 2], [3, 3, 3, 2, 2, 3, 2]]))
    #expect(p.multinomial(numSamples: 3, generator: Generator().manualSeed(5)) == Tensor([[3, 2, 1], [3, 0, 2]]))
    let weights = Tensor([3, 0, 1, 1, 5, 0.5] as [Float])
    #expect(weights.multinomial(numSamples: 6, generator: Generator().manualSeed(11)) == Tensor([0, 4, 5, 3, 2, 1]))
    #expect(weights.multinomial(numSamples: 1, generator: Generator().manualSeed(11)) == Tensor([0]))
    let exponential = Tensor.empty(4).exponential_(lambd: 2, generator: Generator().manualSeed(2))
    #expect(
      exponential
        == Tensor([1.247846245765686, 0.05096941813826561, 0.6167886853218079, 0.38854870200157166] as [Float]))
  }

  @Test func multinomialRejectsBadDistributions() async {
    let tooMany = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor([0.5, 0.5] as [Float]).multinomial(numSamples: 3)
    }
    #expect(
      standardError(of: tooMany).contains("cannot sample n_sample > prob_dist.size(-1) samples without replacement"))
    let negative = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor([0.5, -0.5] as [Float]).multinomial(numSamples: 1)
    }
    #expect(standardError(of: negative).contains("probability tensor contains either `inf`, `nan` or element < 0"))
    let zero = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor([0, 0] as [Float]).multinomial(numSamples: 1, replacement: true)
    }
    #expect(standardError(of: zero).contains("invalid multinomial distribution (sum of probabilities <= 0)"))
  }

  @Test func generatorObjectsAreIndependentOfTheDefault() {
    let g = Generator().manualSeed(42)
    Tensor.manualSeed(7)
    let before = Tensor.getRNGState()
    #expect(
      Tensor.rand(3, generator: g)
        == Tensor([0.8822692632675171, 0.9150039553642273, 0.38286375999450684] as [Double]).float())
    expectClose(
      Tensor.randn(2, generator: g), Tensor([-0.829319179058075, -1.6137069463729858] as [Double]).float(), rtol: 1e-6,
      atol: 0)
    #expect(Tensor.getRNGState() == before, "drawing from g left the default generator alone")
    #expect(g.initialSeed == 42)
  }

  @Test func statesRestoreTheStream() {
    let g = Generator(seed: 9)
    _ = Tensor.randn(5, generator: g)  // leaves a cached Box-Muller sample
    let state = g.getState()
    let first = Tensor.randn(7, generator: g)
    g.setState(state)
    #expect(Tensor.randn(7, generator: g) == first)
    Tensor.manualSeed(1)
    let saved = Tensor.getRNGState()
    let a = Tensor.rand(4)
    Tensor.setRNGState(saved)
    #expect(Tensor.rand(4) == a)
  }

  @Test func aForeignStateStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      Generator().setState(Tensor.zeros(10, dtype: .uint8))
    }
    #expect(
      standardError(of: result).contains(
        "set_state: expected a uint8 tensor of 2536 bytes from getState(), got torch.uint8 of 10 elements"))
  }

  @Test func bernoulliNormalAndRandintLikeMatchPyTorch() {
    Tensor.manualSeed(0)
    #expect(
      Tensor([0.1, 0.5, 0.9, 0.3, 0.7, 0.5], dtype: .float64).bernoulli() == Tensor([0, 0, 1, 0, 1, 0] as [Double]))
    Tensor.manualSeed(0)
    #expect(Tensor([0.1, 0.5, 0.9, 0.3, 0.7, 0.5] as [Float]).bernoulli() == Tensor([0, 0, 1, 1, 1, 0] as [Float]))
    Tensor.manualSeed(0)
    expectClose(
      Tensor.normal(mean: Tensor([0, 10, 100] as [Float]), std: Tensor([1, 2, 3] as [Float])),
      Tensor([1.5409960746765137, 9.413142204284668, 93.46363067626953] as [Double]).float(), rtol: 1e-6, atol: 0)
    Tensor.manualSeed(5)
    #expect(Tensor.randint(0, 10, like: Tensor.zeros(4)) == Tensor([1, 4, 7, 5] as [Float]))
    #expect(Tensor.logspace(0, 2, count: 3) == Tensor([1, 10, 100] as [Float]))
    #expect(Tensor.logspace(0, 3, count: 4, base: 2) == Tensor([1, 2, 4, 8] as [Float]))
  }
}
