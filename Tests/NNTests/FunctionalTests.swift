import Foundation
import NN
import TestSupport
import Testing

private let fixtures = Fixtures()

/// Functional ops without parameters of their own, as the fixture script calls them.
private let functionalCases: [String: @Sendable (Tensor) -> Tensor] = {
  let (weight, bias) = (fixtures.tensor("fn_gn_weight"), fixtures.tensor("fn_gn_bias"))
  let (conv1dWeight, groupsWeight) = (fixtures.tensor("fn_conv1d_w"), fixtures.tensor("fn_conv1d_groups_w"))
  let (evenWeight, convBias) = (fixtures.tensor("fn_conv2d_even_w"), fixtures.tensor("fn_conv_b"))
  let (sampleGrid, sampleInput) = (fixtures.tensor("fn_sample_grid"), fixtures.tensor("fn_sample_input"))
  return [
    "pad_constant": { Functional.pad($0, [2, 1, -1, 2], value: 0.5) },
    "pad_reflect": { Functional.pad($0, [3, 1, 2, 0], mode: .reflect) },
    "pad_replicate": { Functional.pad($0, [2, 3], mode: .replicate) },
    "pad_circular": { Functional.pad($0, [1, 4, 3, 1], mode: .circular) },
    "group_norm": { Functional.groupNorm($0, numGroups: 3, weight: weight, bias: bias) },
    "instance_norm": { Functional.instanceNorm($0) },
    "pixel_shuffle": { Functional.pixelShuffle($0, upscaleFactor: 2) },
    "pixel_unshuffle": { Functional.pixelUnshuffle($0, downscaleFactor: 2) },
    "max_pool_dilated_ceil": {
      Functional.maxPool2d($0, kernel: (3, 3), stride: (2, 2), padding: (1, 1), dilation: (2, 2), ceilMode: true)
    },
    "avg_pool_ceil_exclude_pad": {
      Functional.avgPool2d($0, kernel: (3, 3), stride: (2, 2), padding: (1, 1), ceilMode: true, countIncludePad: false)
    },
    "avg_pool_divisor": { Functional.avgPool2d($0, kernel: (2, 2), padding: (1, 1), divisorOverride: 3) },
    "max_pool_unbatched": { Functional.maxPool2d($0, kernel: (2, 2), ceilMode: true) },
    "conv1d": {
      Functional.conv1d(
        $0, weight: conv1dWeight.to($0.dtype), bias: convBias.to($0.dtype), stride: 2, padding: .explicit(1, 1))
    },
    "conv1d_same_dilated": {
      Functional.conv1d($0, weight: conv1dWeight.to($0.dtype), bias: nil, padding: .same, dilation: 2)
    },
    "conv1d_groups_unbatched": {
      Functional.conv1d($0, weight: groupsWeight.to($0.dtype), bias: convBias.to($0.dtype), groups: 2)
    },
    "conv2d_same_even": { Functional.conv2d($0, weight: evenWeight.to($0.dtype), bias: nil, padding: .same) },
    "conv2d_valid": { Functional.conv2d($0, weight: evenWeight.to($0.dtype), bias: nil, padding: .valid) },
    "max_pool1d": { Functional.maxPool1d($0, kernel: 3, stride: 2, padding: 1, ceilMode: true) },
    "avg_pool1d": { Functional.avgPool1d($0, kernel: 4, stride: 3, padding: 2, countIncludePad: false) },
    "unfold": { Functional.unfold($0, kernelSize: (2, 3), dilation: (2, 1), padding: (1, 1), stride: (1, 2)) },
    "fold": { Functional.fold($0, outputSize: (5, 6), kernelSize: (2, 2), padding: (1, 0), stride: (2, 2)) },
    "local_response_norm": { Functional.localResponseNorm($0, size: 3, alpha: 0.5, beta: 0.6, k: 2) },
    "affine_grid": { Functional.affineGrid($0, size: [2, 3, 4, 5]) },
    "grid_sample_input": { Functional.gridSample($0, grid: sampleGrid) },
    "grid_sample_grid": {
      Functional.gridSample(sampleInput, grid: $0 * 0.9, paddingMode: .border, alignCorners: true)
    },
    "grid_sample_nearest": { Functional.gridSample($0, grid: sampleGrid, mode: .nearest, alignCorners: true) },
    "max_pool3d": { Functional.maxPool3d($0, kernel: [2, 3, 2], stride: [1, 1, 2], padding: [1, 1, 0]) },
    "avg_pool3d_unbatched": { Functional.avgPool3d($0, kernel: [2, 2, 2], padding: [1, 1, 1]) },
  ]
}()

/// Sampling modes, 3-D pool options and 5-D sampling, as the fixture script's `volume_cases`.
private let volumeCases: [String: @Sendable (Tensor) -> Tensor] = {
  let (wideGrid, volume, volumeGrid) = (
    fixtures.tensor("vol_wide_grid"), fixtures.tensor("vol_volume"), fixtures.tensor("vol_volume_grid")
  )
  let sampleInput = fixtures.tensor("fn_sample_input")
  return [
    "grid_sample_reflection": { Functional.gridSample($0, grid: wideGrid, paddingMode: .reflection) },
    "grid_sample_reflection_grid": {
      Functional.gridSample(sampleInput, grid: $0 * 2.5, paddingMode: .reflection, alignCorners: true)
    },
    "grid_sample_bicubic": { Functional.gridSample($0, grid: wideGrid * 0.5, mode: .bicubic) },
    "grid_sample_bicubic_grid": {
      Functional.gridSample(sampleInput, grid: $0 * 0.6, mode: .bicubic, paddingMode: .border, alignCorners: true)
    },
    "grid_sample_bicubic_reflection": {
      Functional.gridSample($0, grid: wideGrid, mode: .bicubic, paddingMode: .reflection, alignCorners: true)
    },
    "grid_sample_5d": { Functional.gridSample($0, grid: volumeGrid) },
    "grid_sample_5d_grid": { Functional.gridSample(volume, grid: $0 * 1.2, paddingMode: .border, alignCorners: true) },
    "grid_sample_5d_nearest_reflection": {
      Functional.gridSample($0, grid: volumeGrid * 1.5, mode: .nearest, paddingMode: .reflection)
    },
    "affine_grid_3d": { Functional.affineGrid($0, size: [2, 1, 2, 3, 4], alignCorners: true) },
    "max_pool3d_ceil_dilated": {
      Functional.maxPool3d(
        $0, kernel: [2, 3, 2], stride: [2, 2, 2], padding: [1, 1, 0], dilation: [2, 1, 2], ceilMode: true)
    },
    "avg_pool3d_ceil_exclude_pad": {
      Functional.avgPool3d(
        $0, kernel: [3, 3, 3], stride: [2, 2, 2], padding: [1, 1, 1], ceilMode: true, countIncludePad: false)
    },
    "avg_pool3d_divisor": { Functional.avgPool3d($0, kernel: [2, 2, 2], stride: [1, 2, 2], divisorOverride: 5) },
  ]
}()

@Suite struct FunctionalTests {
  @Test(arguments: functionalCases.keys.sorted())
  func matchesPyTorchWithGradients(name: String) {
    expectMatchesPyTorch(
      functionalCases[name]!, fixtures, input: "fn_\(name)_in", output: "fn_\(name)_out", gradient: "fn_\(name)_gradin",
      upstream: "fn_\(name)_up")
  }

  @Test(arguments: volumeCases.keys.sorted())
  func samplingAndVolumeOpsMatchPyTorch(name: String) {
    expectMatchesPyTorch(
      volumeCases[name]!, fixtures, input: "vol_\(name)_in", output: "vol_\(name)_out", gradient: "vol_\(name)_gradin",
      upstream: "vol_\(name)_up")
  }

  @Test(arguments: functionalCases.keys.sorted() + volumeCases.keys.sorted())
  func gradientsMatchFiniteDifferences(name: String) throws {
    let (f, prefix) = functionalCases[name].map { ($0, "fn") } ?? (volumeCases[name]!, "vol")
    let x = fixtures.tensor("\(prefix)_\(name)_in").double().requiresGrad_()
    #expect(try Autograd.gradcheck({ f($0[0]) }, inputs: [x], eps: 1e-6, atol: 1e-5, rtol: 1e-3))
  }

  @Test func maxPool3dIndicesPointIntoTheUnpaddedInput() {
    // PyTorch 2.13: F.max_pool3d(torch.arange(125.).view(1, 1, 5, 5, 5), 2, stride=2, ceil_mode=True, return_indices=True).
    let x = Tensor.arange(125).float().view(1, 1, 5, 5, 5)
    let (values, indices) = Functional.maxPool3dWithIndices(x, kernel: [2, 2, 2], stride: [2, 2, 2], ceilMode: true)
    #expect(indices.shape == [1, 1, 3, 3, 3])
    #expect(indices[0, 0, 0] == Tensor([[31, 33, 34], [41, 43, 44], [46, 48, 49]]))
    #expect(indices[0, 0, 2, 2] == Tensor([121, 123, 124]))
    #expect(values == indices.float())
  }

  @Test func threeDimensionalPoolsCheckTheirPadding() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Functional.maxPool3d(Tensor.ones(1, 1, 4, 4, 4), kernel: [2, 2, 2], padding: [2, 2, 2])
    }
    #expect(
      standardError(of: result).contains(
        "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1"))
    let small = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Functional.maxPool3d(Tensor.ones(1, 1, 4, 4, 4), kernel: [5, 5, 5])
    }
    #expect(
      standardError(of: small).contains(
        "Given input size: (1x4x4x4). Calculated output size: (1x0x0x0). Output size is too small"))
    let bicubic = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Functional.gridSample(Tensor.ones(1, 1, 2, 2, 2), grid: Tensor.zeros(1, 1, 1, 1, 3), mode: .bicubic)
    }
    #expect(standardError(of: bicubic).contains("grid_sampler(): bicubic interpolation only supports 4D input"))
  }

  @Test func reflectPaddingAsLargeAsTheDimStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Functional.pad(Tensor.ones(1, 3), [3, 0], mode: .reflect)
    }
    #expect(standardError(of: result).contains("Padding size should be less than the corresponding input dimension"))
  }

  @Test func maxPoolIndicesPointIntoTheUnpaddedInput() {
    let x = Tensor.arange(25).float().view(1, 1, 5, 5)
    x[0, 0, 1, 3] = Tensor(Float(100))
    let (values, indices) = Functional.maxPool2dWithIndices(x, kernel: (2, 2), stride: (2, 2), padding: (1, 1))
    #expect(values == Tensor([[[[0, 2, 4], [10, 12, 100], [20, 22, 24]]]] as [[[[Float]]]]))
    #expect(indices == Tensor([[[[0, 2, 4], [10, 12, 8], [20, 22, 24]]]]))
    let unbatched = Functional.maxPool2dWithIndices(
      x[0], kernel: (3, 3), stride: (2, 2), dilation: (2, 2), ceilMode: true)
    #expect(unbatched.values == Tensor([[[24]]] as [[[Float]]]) && unbatched.indices == Tensor([[[24]]]))
  }

  @Test func modulesMatchTheFunctions() {
    let x = Tensor.randn(2, 6, 4)
    let groups = GroupNorm(numGroups: 2, numChannels: 6)
    #expect(groups(x) == Functional.groupNorm(x, numGroups: 2, weight: groups.weight, bias: groups.bias))
    #expect(groups.namedParameters().map(\.0) == ["weight", "bias"])
    #expect(InstanceNorm(6)(x) == Functional.instanceNorm(x))
    #expect(PixelUnshuffle(2)(PixelShuffle(2)(Tensor.randn(1, 8, 2, 3))).shape == [1, 8, 2, 3])
  }
}
