import Foundation
import NN
import Optim
import TestSupport
import Testing

private let fixtures = Fixtures()

/// The model of `Small` in `Scripts/make_module_fixtures.py`.
private final class Small: Module {
  var features = Sequential(
    Conv2d(3, 8, kernelSize: 3, padding: 1), BatchNorm2d(8), ReLU(), MaxPool2d(kernelSize: 2),
    Conv2d(8, 16, kernelSize: 3, stride: 2, dilation: 2, groups: 2, bias: false), AdaptiveAvgPool2d((1, 1)), Flatten())
  var blocks: [Module] = [Linear(16, 16), Linear(16, 16), Linear(16, 16), Linear(16, 4)]
  var norm = LayerNorm([4])
  var drop = Dropout(0.25)
  var act = GELU(approximate: .tanh)
  var embed = Embedding(10, 4, paddingIdx: 0)
  var rnn = LSTM(4, 8, numLayers: 2, batchFirst: true, bidirectional: true)
  var head = Sequential(Linear(4, 2), LeakyReLU(negativeSlope: 0.2), Softmax(dim: 1), Identity())
}

@Suite struct ModuleUtilityTests {
  @Test func printsInPyTorchsFormat() {
    let expected = fixtures.strings("module_repr")
    #expect(Sequential(Linear(8, 16), ReLU(), Dropout(0.3), Linear(16, 3, bias: false)).description == expected["mlp"])
    #expect(Small().description == expected["small"])
    #expect(Conv1d(2, 4, kernelSize: 5, stride: 2, padding: .explicit(2, 2)).description == expected["conv1d"])
    #expect(
      ConvTranspose2d(4, 2, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1).description
        == expected["conv_transpose"])
    #expect(AvgPool2d(kernelSize: 3, stride: 2, padding: 1).description == expected["pool"])
  }

  /// `torch.nn.init` after `manual_seed(11)`: the same numbers, for a 3-D and a 2-D tensor.
  @Test(arguments: [
    "uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal_fan_out_relu",
    "trunc_normal", "trunc_normal_tail",
    "orthogonal",
  ])
  func initialisersMatchPyTorch(name: String) {
    for shape in [[6, 4, 3], [5, 7]] {
      // A generator seeded as torch.manual_seed(11) seeds the default one (the cases run in parallel).
      let g = Generator(seed: 11)
      let t = Tensor.empty(shape)
      switch name {
      case "uniform": Init.uniform_(t, low: -0.5, high: 2, generator: g)
      case "normal": Init.normal_(t, mean: 0.5, std: 2, generator: g)
      case "xavier_uniform": Init.xavierUniform_(t, gain: 1.5, generator: g)
      case "xavier_normal": Init.xavierNormal_(t, generator: g)
      case "kaiming_uniform": Init.kaimingUniform_(t, a: 5.0.squareRoot(), generator: g)
      case "kaiming_normal_fan_out_relu": Init.kaimingNormal_(t, mode: .fanOut, nonlinearity: .relu, generator: g)
      case "trunc_normal": Init.truncNormal_(t, mean: 0.1, std: 0.5, a: -0.4, b: 0.9, generator: g)
      case "trunc_normal_tail": Init.truncNormal_(t, mean: 0, std: 1, a: 1.5, b: 3, generator: g)
      default: Init.orthogonal_(t, gain: 2, generator: g)
      }
      expectClose(
        t, fixtures.tensor("init_\(name)_\(shape.map(String.init).joined(separator: "x"))"), rtol: 1e-5, atol: 1e-6)
    }
  }

  @Test func gainsAndFans() {
    #expect(Init.calculateGain(.relu) == 2.0.squareRoot())
    #expect(Init.calculateGain(.tanh) == 5.0 / 3)
    #expect(Init.calculateGain(.leakyReLU, param: 0.2) == (2 / 1.04).squareRoot())
    #expect(Init.calculateGain(.selu) == 0.75 && Init.calculateGain(.conv2d) == 1)
    #expect(Init.fans(Tensor.empty(6, 4, 3, 3)) == (36, 54))
    let zeroed = Init.zeros_(Tensor.ones(3))
    #expect(zeroed.toArray(Float.self) == [0, 0, 0])
    #expect(Init.constant_(Tensor.empty(2), 0.5).toArray(Float.self) == [0.5, 0.5])
  }

  @Test func fansNeedTwoDimensions() async {
    await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      Init.xavierUniform_(Tensor.empty(3))
    }.map {
      #expect(
        standardError(of: $0).contains("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
      )
    }
  }

  @Test func forwardHooksSeeAndReplaceAndAreRemovable() {
    let model = Sequential(Linear(3, 2), ReLU())
    var seen: [[Int]] = []
    let pre = model.layers[0].registerForwardPreHook { _, input in
      seen.append(input.shape)
      return input * 0
    }
    let post = model.layers[1].registerForwardHook { module, _, output in
      #expect(module is ReLU)
      return output + 1
    }
    let x = Tensor.ones(4, 3)
    let bias = (model.layers[0] as! Linear).bias!.relu() + 1
    #expect(model(x).equal(bias.expand(4, 2)))
    #expect(seen == [[4, 3]])
    pre.remove()
    post.remove()
    #expect(model(x).equal((model.layers[0] as! Linear)(x).relu()))
    #expect(seen.count == 1)
  }

  @Test func applyVisitsChildrenFirstAndCountsParameters() {
    let model = Sequential(Linear(3, 4), Sequential(Linear(4, 2)))
    var order: [String] = []
    model.apply { module in
      order.append(String(describing: type(of: module)))
      if let linear = module as? Linear { Init.zeros_(linear.bias!) }
    }
    #expect(order == ["Linear", "Linear", "Sequential", "Sequential"])
    #expect(model.parameters().filter { $0.dim == 1 }.allSatisfy { $0.abs().sum().item() == 0 })
    #expect(model.parameterCount() == 3 * 4 + 4 + 4 * 2 + 2)
    _ = (model.layers[0] as! Linear).weight.requiresGrad_(false)
    #expect(model.parameterCount(trainableOnly: true) == 4 + 4 * 2 + 2)
  }

  @Test func toDTypeConvertsInPlaceAndTheOptimizerKeepsWorking() {
    let model = Sequential(Linear(3, 2), BatchNorm1d(2))
    let optimizer = SGD(model.parameters(), lr: 0.1, momentum: 0.9)
    let weight = (model.layers[0] as! Linear).weight
    model.double()
    #expect(weight.dtype == .float64 && model.parameters().allSatisfy { $0.dtype == .float64 })
    #expect(model.stateDict()["1.num_batches_tracked"]?.dtype == .int64)
    let before = weight.detach().clone()
    // Weighted by a random upstream: the plain sum of a batch norm's output does not depend on its input.
    (model(Tensor.randn(4, 3, dtype: .float64)) * Tensor.randn(4, 2, dtype: .float64)).sum().backward()
    optimizer.step()
    #expect(!weight.equal(before) && weight.isLeaf)
    model.bfloat16()
    #expect(weight.dtype == .bfloat16 && weight.grad?.dtype == .bfloat16)
    model.half()
    #expect(model.parameters().allSatisfy { $0.dtype == .float16 })
  }
}
