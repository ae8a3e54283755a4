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
    "max_pool_dilated_ceil": { Functional.maxPool2d($0, kernel: (3, 3), stride: (2, 2), padding: (1, 1), dilation: (2, 2), ceilMode: true) },
    "avg_pool_ceil_exclude_pad": {
      Functional.avgPool2d($0, kernel: (3, 3), stride: (2, 2), padding: (1, 1), ceilMode: true, countIncludePad: false)
    },
    "avg_pool_divisor": { Functional.avgPool2d($0, kernel: (2, 2), padding: (1, 1), divisorOverride: 3) },
    "max_pool_unbatched": { Functional.maxPool2d($0, kernel: (2, 2), ceilMode: true) },
    "conv1d": { Functional.conv1d($0, weight: conv1dWeight, bias: convBias, stride: 2, padding: .explicit(1, 1)) },
    "conv1d_same_dilated": { Functional.conv1d($0, weight: conv1dWeight, bias: nil, padding: .same, dilation: 2) },
    "conv1d_groups_unbatched": { Functional.conv1d($0, weight: groupsWeight, bias: convBias, groups: 2) },
    "conv2d_same_even": { Functional.conv2d($0, weight: evenWeight, bias: nil, padding: .same) },
    "conv2d_valid": { Functional.conv2d($0, weight: evenWeight, bias: nil, padding: .valid) },
    "max_pool1d": { Functional.maxPool1d($0, kernel: 3, stride: 2, padding: 1, ceilMode: true) },
    "avg_pool1d": { Functional.avgPool1d($0, kernel: 4, stride: 3, padding: 2, countIncludePad: false) },
    "unfold": { Functional.unfold($0, kernelSize: (2, 3), dilation: (2, 1), padding: (1, 1), stride: (1, 2)) },
    "fold": { Functional.fold($0, outputSize: (5, 6), kernelSize: (2, 2), padding: (1, 0), stride: (2, 2)) },
    "local_response_norm": { Functional.localResponseNorm($0, size: 3, alpha: 0.5, beta: 0.6, k: 2) },
    "affine_grid": { Functional.affineGrid($0, size: [2, 3, 4, 5]) },
    "grid_sample_input": { Functional.gridSample($0, grid: sampleGrid) },
    "grid_sample_grid": { Functional.gridSample(sampleInput, grid: $0 * 0.9, paddingMode: .border, alignCorners: true) },
    "grid_sample_nearest": { Functional.gridSample($0, grid: sampleGrid, mode: .nearest, alignCorners: true) },
    "max_pool3d": { Functional.maxPool3d($0, kernel: [2, 3, 2], stride: [1, 1, 2], padding: [1, 1, 0]) },
    "avg_pool3d_unbatched": { Functional.avgPool3d($0, kernel: [2, 2, 2], padding: [1, 1, 1]) },
  ]
}()

@Suite struct FunctionalTests {
  @Test(arguments: functionalCases.keys.sorted())
  func matchesPyTorchWithGradients(name: String) {
    expectMatchesPyTorch(
      functionalCases[name]!, fixtures, input: "fn_\(name)_in", output: "fn_\(name)_out", gradient: "fn_\(name)_gradin",
      upstream: "fn_\(name)_up")
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
    let unbatched = Functional.maxPool2dWithIndices(x[0], kernel: (3, 3), stride: (2, 2), dilation: (2, 2), ceilMode: true)
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
