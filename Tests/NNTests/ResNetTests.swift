import NN
import Optim
import TestSupport
import Testing

private let fixtures = Fixtures()

@Suite struct ResNetTests {
  @Test func torchvisionStateDictLoadsStrictlyAndReproducesLogits() throws {
    let model = ResNet18(numClasses: 10)
    let keys = fixtures.strings("resnet_keys")
    let torchOrder = (0..<keys.count).map { keys[String($0)]! }
    // Same keys; ours list parameters before buffers, torch interleaves them per module.
    #expect(Set(model.stateDictKeys()) == Set(torchOrder))
    let state = try Tensor.load(safetensors: fixtures.directory.appendingPathComponent("resnet18.safetensors"))
    try model.loadStateDict(state, strict: true)
    model.eval()
    let logits = withNoGrad { model(fixtures.tensor("resnet_in")) }
    expectClose(logits, fixtures.tensor("resnet_logits"), rtol: 1e-3, atol: 1e-4)
    #expect(model.namedParameters().count == 62)
    #expect(model.namedParameters().first?.0 == "conv1.weight")
    #expect(model.stateDictKeys().contains("layer2.0.downsample.1.running_var"))
  }
}

@Suite struct ResNetTrainingTests {
  /// One SGD step of ResNet-18 at an image size: the loss is finite, every parameter gets a
  /// gradient of its own shape, and the step changes the weights. At 112x112 the downsample
  /// convolutions (1x1, stride 2) meet 7x7 maps, whose strided slices end at the edge; a
  /// wrong overlap check stopped their backward.
  private func trainOneStep(imageSize: Int) {
    Tensor.manualSeed(0)
    let model = ResNet18(numClasses: 10)
    let optimizer = SGD(model.parameters(), lr: 0.01, momentum: 0.9)
    let images = Tensor.randn(2, 3, imageSize, imageSize)
    let labels = Tensor([3, 7])
    let before = model.fc.weight.detach().clone()
    optimizer.zeroGrad()
    let loss = crossEntropy(model(images), labels)
    loss.backward()
    optimizer.step()
    #expect(loss.item() > 0 && loss.item() < 20)
    for (name, p) in model.namedParameters() {
      #expect(p.grad?.shape == p.shape, "\(name) has no gradient of its shape")
    }
    #expect(!(model.fc.weight.detach() == before))
  }

  @Test func trainsAStepAt112() { trainOneStep(imageSize: 112) }
  @Test func trainsAStepAt224() { trainOneStep(imageSize: 224) }
}
