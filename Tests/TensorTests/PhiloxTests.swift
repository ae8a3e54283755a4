import Foundation
import TestSupport
import Testing

@testable import Tensor

private let fixtures = Fixtures()

/// The device random stream: Philox4x32-10 against Random123's known answers, the stream's
/// distributions against an independent implementation (`Scripts/make_philox_fixtures.py`),
/// and random ops on the test device, which draw from that stream as a GPU does.
@Suite struct PhiloxTests {
  @Test func philoxMatchesRandom123KnownAnswers() {
    let zeros = Philox.block(counter: (0, 0, 0, 0), key: (0, 0))
    #expect([zeros.0, zeros.1, zeros.2, zeros.3] == [0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8])
    let ones = Philox.block(counter: (.max, .max, .max, .max), key: (.max, .max))
    #expect([ones.0, ones.1, ones.2, ones.3] == [0x408F_276D, 0x41C8_3B0E, 0xA20B_C7C6, 0x6D54_51FD])
    let pi = Philox.block(
      counter: (0x243F_6A88, 0x85A3_08D3, 0x1319_8A2E, 0x0370_7344), key: (0xA409_3822, 0x299F_31D0))
    #expect([pi.0, pi.1, pi.2, pi.3] == [0xD16C_FE09, 0x94FD_CCEB, 0x5001_E420, 0x2412_6EA1])
  }

  /// (fixture, count, dtype, distribution, seed, offset), as the script writes them.
  static let cases: [(String, Int, DType, RandomDistribution, UInt64, UInt64)] = [
    ("uniform_float32", 10, .float32, .uniform(from: -1, to: 3), 42, 0),
    ("uniform_float32_bigseed", 6, .float32, .uniform(from: 0, to: 1), 0x1234_5678_9ABC_DEF0, 7),
    ("uniform_float64", 7, .float64, .uniform(from: 0, to: 1), 42, 5),
    ("uniform_float16", 9, .float16, .uniform(from: 0, to: 1), 7, 1),
    ("uniform_bfloat16", 9, .bfloat16, .uniform(from: -2, to: 2), 7, 2),
    ("normal_float32", 10, .float32, .normal(mean: 0.5, std: 2), 42, 2),
    ("normal_float64", 5, .float64, .normal(mean: 0, std: 1), 3, 0),
    ("bernoulli_float32", 12, .float32, .bernoulli(p: 0.3), 42, 1),
    ("bernoulli_float64", 6, .float64, .bernoulli(p: 0.6), 9, 4),
  ]

  @Test func streamMatchesTheIndependentImplementation() {
    for (name, count, dtype, distribution, seed, offset) in Self.cases {
      let got = Philox.values(count: count, dtype: dtype, distribution, seed: seed, offset: offset)
      let want = fixtures.tensor("philox_" + name).to(.float64).toArray(Double.self)
      if case .normal = distribution {
        // log, sin and cos may differ in the last bit between math libraries.
        expectClose(Tensor(got), Tensor(want), rtol: 1e-6, atol: 1e-6)
      } else {
        #expect(got == want, "\(name)")
      }
    }
  }

  @Test func testDeviceDrawsTheDeviceStreamAndAdvancesTheOffset() {
    let g = Generator(device: .test(0)).manualSeed(42)
    #expect(g.device == .test(0))
    let first = Tensor.empty([10], device: .test(0)).uniform_(from: -1, to: 3, generator: g)
    #expect(first.device == .test(0))
    #expect(first.movedTo(.cpu).toArray(Float.self) == fixtures.tensor("philox_uniform_float32").toArray(Float.self))
    _ = Tensor.empty([3], device: .test(0)).uniform_(generator: g)  // offset 1
    let normal = Tensor.empty([10], device: .test(0)).normal_(mean: 0.5, std: 2, generator: g)  // offset 2
    expectClose(normal.movedTo(.cpu), fixtures.tensor("philox_normal_float32"), rtol: 1e-6, atol: 1e-6)
    // Seeding again starts the offsets over.
    g.manualSeed(42)
    #expect(
      Tensor.rand([10], device: .test(0), generator: g).movedTo(.cpu).toArray(Float.self)
        == (Tensor.rand([10], device: .test(0), generator: Generator(device: .test(0)).manualSeed(42)).movedTo(.cpu)
          .toArray(Float.self)))
  }

  @Test func reducedPrecisionAndBernoulliOnTheTestDevice() {
    let g = Generator(device: .test(1)).manualSeed(7)
    _ = Tensor.empty([1], device: .test(1)).uniform_(generator: g)  // offset 0
    let half = Tensor.rand([9], dtype: .float16, device: .test(1), generator: g)  // offset 1
    #expect(half.dtype == .float16)
    #expect(
      half.movedTo(.cpu).to(.float32).toArray(Float.self)
        == fixtures.tensor("philox_uniform_float16").toArray(Float.self))
    // Offset 2.
    let brain = Tensor.empty([9], dtype: .bfloat16, device: .test(1)).uniform_(from: -2, to: 2, generator: g)
    #expect(
      brain.movedTo(.cpu).to(.float32).toArray(Float.self)
        == fixtures.tensor("philox_uniform_bfloat16").toArray(Float.self))

    let b = Generator(device: .test(0)).manualSeed(9)
    for _ in 0..<4 { _ = Tensor.empty([1], device: .test(0)).uniform_(generator: b) }
    let coins = Tensor.zeros([6], dtype: .float64, device: .test(0)).bernoulli(p: 0.6, generator: b)  // offset 4
    #expect(
      coins.movedTo(.cpu).toArray(Double.self) == fixtures.tensor("philox_bernoulli_float64").toArray(Double.self))
  }

  @Test func probabilityTensorsCompareWithDeviceUniforms() {
    let p = Tensor([0.0, 1.0, 0.5, 0.25, 0.9, 0.1, 0.7, 0.3, 0.6, 0.4] as [Float]).movedTo(.test(0))
    let draws = p.bernoulli(generator: Generator(device: .test(0)).manualSeed(42))
    let u = Philox.values(count: 10, dtype: .float32, .uniform(from: 0, to: 1), seed: 42, offset: 0)
    let pHost = p.movedTo(.cpu).toArray(Float.self)
    #expect(draws.device == .test(0))
    #expect(draws.movedTo(.cpu).toArray(Float.self) == zip(u, pHost).map { Float($0) < $1 ? 1 : 0 })
  }

  @Test func multinomialDrawsOnTheDevice() {
    let weights = Tensor([[0.1, 0.0, 0.6, 0.3], [1, 1, 0, 2]] as [[Float]]).movedTo(.test(0))
    let samples = weights.multinomial(
      numSamples: 3, replacement: true, generator: Generator(device: .test(0)).manualSeed(42))
    #expect(samples.device == .test(0) && samples.dtype == .int64 && samples.shape == [2, 3])
    // Each draw is the number of categories whose normalised cumulative weight is below u.
    let cumulative = (weights.movedTo(.cpu).cumsum(dim: 1) / weights.movedTo(.cpu).sum(dim: [1], keepdim: true))
      .toArray(Float.self)
    let u = Philox.values(count: 6, dtype: .float32, .uniform(from: 0, to: 1), seed: 42, offset: 0).map { Float($0) }
    let expected = (0..<6).map { n in Int64((0..<4).filter { cumulative[(n / 3) * 4 + $0] < u[n] }.count) }
    #expect(samples.movedTo(.cpu).toArray(Int64.self) == expected)

    let many = weights[0].multinomial(numSamples: 2000, replacement: true)
    #expect(many.shape == [2000])
    let counts = (0..<4).map { c in many.movedTo(.cpu).toArray(Int64.self).filter { $0 == c }.count }
    #expect(counts[1] == 0 && abs(counts[2] - 1200) < 120 && abs(counts[0] - 200) < 60)

    let distinct = weights.multinomial(
      numSamples: 3, replacement: false, generator: Generator(device: .test(0)).manualSeed(1)
    ).movedTo(.cpu)
    for row in 0..<2 {
      let picked = distinct[row].toArray(Int64.self)
      #expect(Set(picked).count == 3 && !picked.contains(row == 0 ? 1 : 2), "\(picked)")
    }
  }

  @Test func randpermOnADeviceRanksItsKeys() {
    let perm = Tensor.randperm(9, device: .test(1), generator: Generator(device: .test(1)).manualSeed(8))
    #expect(perm.device == .test(1) && perm.dtype == .int64)
    let keys = Philox.values(count: 9, dtype: .float64, .uniform(from: 0, to: 1), seed: 8, offset: 0)
    #expect(perm.movedTo(.cpu).toArray(Int64.self) == keys.indices.sorted { keys[$0] < keys[$1] }.map(Int64.init))
  }

  @Test func badDeviceProbabilitiesStop() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor([0.5, -1] as [Float]).movedTo(.test(0)).multinomial(numSamples: 1)
    }
    #expect(standardError(of: result).contains("probability tensor contains either `inf`, `nan` or element < 0"))
    let zero = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor([0, 0] as [Float]).movedTo(.test(0)).multinomial(numSamples: 1)
    }
    #expect(standardError(of: zero).contains("invalid multinomial distribution (sum of probabilities <= 0)"))
  }

  @Test func exponentialOnTheDeviceTransformsItsUniforms() {
    let x = Tensor.empty([9], dtype: .float64, device: .test(0)).exponential_(
      lambd: 2, generator: Generator(device: .test(0)).manualSeed(3))
    let u = Philox.values(count: 9, dtype: .float64, .uniform(from: 0, to: 1), seed: 3, offset: 0)
    expectClose(x.movedTo(.cpu), Tensor(u.map { -Foundation.log1p(-$0) / 2 }, dtype: .float64), rtol: 1e-15, atol: 0)
  }

  @Test func nonContiguousTargetsGetTheStreamInLogicalOrder() {
    let storage = Tensor.zeros([4, 3], device: .test(0))
    let view = storage.t()  // [3, 4], not contiguous
    view.uniform_(from: -1, to: 3, generator: Generator(device: .test(0)).manualSeed(42))
    let want = Array(fixtures.tensor("philox_uniform_float32").toArray(Float.self).prefix(10))
    #expect(Array(view.contiguous().movedTo(.cpu).reshape(-1).toArray(Float.self).prefix(10)) == want)
  }

  @Test func aHostGeneratorDrawsOnTheHostForDeviceTensors() {
    let onDevice = Tensor.rand([5], device: .test(0), generator: Generator(seed: 3))
    #expect(
      onDevice.movedTo(.cpu).toArray(Float.self) == Tensor.rand([5], generator: Generator(seed: 3)).toArray(Float.self))
  }

  @Test func stateIsSeedAndOffset() {
    let g = Generator(device: .test(0)).manualSeed(0x0102_0304_0506_0708)
    _ = Tensor.rand([3], device: .test(0), generator: g)
    _ = Tensor.rand([3], device: .test(0), generator: g)
    let state = g.getState()
    #expect(state.toArray(UInt8.self) == [8, 7, 6, 5, 4, 3, 2, 1, 2, 0, 0, 0, 0, 0, 0, 0])
    let next = Tensor.rand([4], device: .test(0), generator: g).movedTo(.cpu).toArray(Float.self)
    let other = Generator(device: .test(0))
    other.setState(state)
    #expect(other.initialSeed == 0x0102_0304_0506_0708)
    #expect(Tensor.rand([4], device: .test(0), generator: other).movedTo(.cpu).toArray(Float.self) == next)
  }

  /// The default generators are process-wide: checked in a process of their own.
  @Test func manualSeedSeedsTheDevicesDefaultGenerators() async {
    await #expect(processExitsWith: .success) {
      Tensor.manualSeed(42)
      let a = Tensor.empty([10], device: .test(0)).uniform_(from: -1, to: 3).movedTo(.cpu).toArray(Float.self)
      let want = Philox.values(count: 10, dtype: .float32, .uniform(from: -1, to: 3), seed: 42, offset: 0).map {
        Float($0)
      }
      guard a == want else { fatalError("first draw after manualSeed(42): \(a)") }
      // test:1 has its own offset; the CPU's generator is untouched by device draws.
      let b = Tensor.rand([4], device: .test(1)).movedTo(.cpu).toArray(Float.self)
      let wantB = Philox.values(count: 4, dtype: .float32, .uniform(from: 0, to: 1), seed: 42, offset: 0).map {
        Float($0)
      }
      guard b == wantB else { fatalError("test:1 draw: \(b)") }
      let host = Tensor.rand([3]).toArray(Float.self)
      Tensor.manualSeed(42)
      guard host == Tensor.rand([3]).toArray(Float.self) else { fatalError("the CPU generator moved") }
      guard Generator.default(for: .test(0)).getState().toArray(UInt8.self)[8] == 0 else {
        fatalError("offset not reset")
      }
    }
  }

  @Test func generatorsOfOtherDevicesStop() async {
    let hostTensor = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.rand([2], generator: Generator(device: .test(0)))
    }
    #expect(standardError(of: hostTensor).contains("Expected a 'cpu' device type for generator but found 'test'"))
    let otherDevice = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.rand([2], device: .test(0), generator: Generator(device: .test(1)))
    }
    #expect(standardError(of: otherDevice).contains("the generator belongs to test:1 but the tensor is on test:0"))
  }
}
