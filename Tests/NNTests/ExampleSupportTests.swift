import Data
import ExampleSupport
import Foundation
import NN
import Optim
import TestSupport
import Testing

@Suite struct ExampleSupportTests {
  @Test func bundledDigitsLoadAndSplit() throws {
    let digits = try ImageDataset.digits()
    #expect(digits.images.shape == [1797, 1, 8, 8])
    #expect(digits.images.max().item() == 1 && digits.images.min().item() == 0)
    #expect(digits.labels.toArray(Int.self).prefix(5) == [0, 1, 2, 3, 4])
    let (train, test) = digits.split(trainFraction: 0.8, seed: 0)
    #expect(train.count == 1437 && test.count == 360)
    #expect(Set(train.labels.toArray(Int.self)) == Set(0..<10))
    let low = train.filter { $0 < 5 }
    #expect(low.labels.max().item() == 4)
    let batches = Array(DataLoader(train, batchSize: 100, shuffle: true))
    #expect(batches.count == 15 && batches.last?.1.shape == [37] && batches.last?.0.shape == [37, 1, 8, 8])
    // The transform applies as each image is read.
    let shifted = train.transformed(Transforms.RandomCrop(8, padding: 1, generator: Generator(seed: 2)))
    let (image, label) = try shifted.sample(at: 0)
    #expect(image.shape == [1, 8, 8] && label == Int(train.labels[0].item(Int64.self)))
  }

  @Test func readsMNISTIDXFiles() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("idx-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    var images = Data([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3])
    images.append(contentsOf: [0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 0])
    let labels = Data([0, 0, 8, 1, 0, 0, 0, 2, 7, 3])
    try images.write(to: folder.appendingPathComponent("images"))
    try labels.write(to: folder.appendingPathComponent("labels"))
    let data = try ImageDataset.mnist(
      images: folder.appendingPathComponent("images").path, labels: folder.appendingPathComponent("labels").path)
    #expect(data.images.shape == [2, 1, 2, 3])
    #expect(data.labels.toArray(Int.self) == [7, 3])
    expectClose(data.images[0].flatten(), Tensor([0, 0.2, 0.4, 0.6, 0.8, 1.0]))
    #expect(throws: (any Error).self) {
      try ImageDataset.mnist(
        images: folder.appendingPathComponent("labels").path, labels: folder.appendingPathComponent("labels").path)
    }
  }

  @Test func aShortTrainingRunLearns() throws {
    let (train, test) = try ImageDataset.digits().split(trainFraction: 0.8, seed: 0)
    Tensor.manualSeed(3)
    let model = Sequential(Flatten(), Linear(64, 32), ReLU(), Linear(32, 10))
    let optimizer = Adam(model.parameters(), lr: 5e-3)
    let loader = DataLoader(train, batchSize: 64, shuffle: true, numWorkers: 2)
    for epoch in 1...3 { trainEpoch(model, loader, optimizer: optimizer, epoch: epoch, epochs: 3) }
    #expect(accuracy(model, test) > 0.85)
  }
}

/// `FineTune --pretrained`: a `state_dict` that PyTorch trained and saved loads into the
/// example's network with `strict: true` and gives PyTorch's logits.
@Suite struct PretrainedCheckpointTests {
  @Test(.enabled(if: Interop.torchPython != nil, "needs python3 with torch (.ci/run installs it)"))
  func pyTorchTrainedSmallResNetLoads() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("finetune-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("digits-resnet-0to4.pth")
    let script = Interop.packageRoot.appendingPathComponent("Scripts/finetune_pretrain.py").path
    let result = try Interop.run(
      Interop.torchPython!, [script, "--epochs", "1", "--out", file.path, "--check", folder.path])
    try #require(result.status == 0, "\(result.output)")
    let model = SmallResNet(classes: 5)
    try model.loadStateDict(Tensor.load(pt: file), strict: true)
    model.eval()
    let logits = withNoGrad { model(try! Tensor(npy: folder.appendingPathComponent("input.npy"))) }
    expectClose(logits, try Tensor(npy: folder.appendingPathComponent("logits.npy")), rtol: 1e-4, atol: 1e-5)
  }
}
