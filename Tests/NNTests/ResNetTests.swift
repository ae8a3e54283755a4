import NN
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
