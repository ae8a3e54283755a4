import Foundation
import NN
import TestSupport
import Testing

/// Layers take what PyTorch's take: unbatched `[C, H, W]` images, empty batches; other
/// shapes stop with a message instead of trapping. Expected behaviour is PyTorch 2.13's.
@Suite struct UnbatchedAndEmptyInputTests {
  @Test func twoDimensionalOpsAcceptUnbatchedImages() {
    Tensor.manualSeed(3)
    let image = Tensor.randn(3, 8, 8)
    let batch = image.unsqueeze(0)
    let weight = Tensor.randn(4, 3, 3, 3)
    let cases: [(Tensor) -> Tensor] = [
      { Functional.maxPool2d($0, kernel: (2, 2)) },
      { Functional.avgPool2d($0, kernel: (2, 2), padding: (1, 1)) },
      { Functional.adaptiveAvgPool2d($0, outputSize: (3, 3)) },
      { Functional.conv2d($0, weight: weight, bias: nil, padding: (1, 1)) },
    ]
    for op in cases {
      let unbatched = op(image)
      #expect(unbatched.dim == 3)
      #expect(unbatched == op(batch)[0])
    }
    #expect(MaxPool2d(kernelSize: 2)(image).shape == [3, 4, 4])
    #expect(AdaptiveAvgPool2d((2, 2))(image).shape == [3, 2, 2])
  }

  @Test func poolingOtherRanksStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Functional.maxPool2d(Tensor.ones(8, 8), kernel: (2, 2))
    }
    #expect(
      standardError(of: result).contains(
        "max_pool2d: non-empty 3D or 4D (batch mode) tensor expected for input, got [8, 8]"))
  }

  @Test func batchNormOfAnEmptyBatchKeepsTheRunningStatistics() {
    let mean = Tensor.zeros(3)
    let variance = Tensor.ones(3)
    let weight = Tensor([2.0, 2.0, 2.0] as [Float], requiresGrad: true)
    let y = Functional.batchNorm(
      Tensor.ones(0, 3), runningMean: mean, runningVar: variance, weight: weight, bias: nil, training: true)
    #expect(y.shape == [0, 3])
    #expect(y.requiresGrad)
    #expect(mean == Tensor.zeros(3) && variance == Tensor.ones(3))
  }

  @Test func batchNormOfAOneDimensionalInputStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Functional.batchNorm(
        Tensor.ones(3), runningMean: Tensor.zeros(3), runningVar: Tensor.ones(3), weight: nil, bias: nil, training: true
      )
    }
    #expect(
      standardError(of: result).contains("batch_norm: expected an input of shape [N, C, ...] (at least 2-D), got [3]"))
  }

  @Test func batchNormOfOneValuePerChannelInTrainingStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Functional.batchNorm(
        Tensor.ones(1, 3, 1), runningMean: Tensor.zeros(3), runningVar: Tensor.ones(3), weight: nil, bias: nil,
        training: true)
    }
    #expect(
      standardError(of: result).contains(
        "Expected more than 1 value per channel when training, got input size [1, 3, 1]"))
  }
}
