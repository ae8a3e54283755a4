import Foundation
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

  /// A `.pth` written by `torch.save(model.state_dict())` for torchvision's ResNet-18 (1000
  /// classes) loads with `strict: true` and gives PyTorch's logits.
  @Test(.enabled(if: Interop.torchPython != nil, "needs python3 with torch (.ci/run installs it)"))
  func torchSavedResNetLoadsStrictly() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "pth-\(UInt64.random(in: 0...UInt64.max))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let script = Interop.packageRoot.appendingPathComponent("Scripts/pt_interop.py").path
    let result = try Interop.run(Interop.torchPython!, [script, "resnet", folder.path])
    try #require(result.status == 0, "\(result.output)")
    let model = ResNet18()
    try model.loadStateDict(Tensor.load(pt: folder.appendingPathComponent("resnet18.pth")), strict: true)
    model.eval()
    let logits = withNoGrad { model(try! Tensor(npy: folder.appendingPathComponent("input.npy"))) }
    expectClose(logits, try Tensor(npy: folder.appendingPathComponent("logits.npy")), rtol: 1e-3, atol: 1e-4)
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
