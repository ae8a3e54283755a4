// The transfer-learning recipe of PyTorch's tutorial on the bundled digits: train a small
// ResNet-style network on digits 0-4 and save it; load it, freeze every parameter, replace
// its last layer `fc` for digits 5-9, and train only that layer with
// SGD(model.fc.parameters(), lr: 1e-2, momentum: 0.9).
//
//   swift run -c release FineTune
import ExampleSupport
import Foundation
import NN
import Optim

/// A small residual network for 1×8×8 images, built from torchvision's `BasicBlock`.
final class SmallResNet: Module {
  var conv1 = Conv2d(1, 16, kernelSize: 3, padding: 1, bias: false)
  var bn1 = BatchNorm2d(16)
  var relu = ReLU()
  var layer1 = Sequential(BasicBlock(16, 16), BasicBlock(16, 32, stride: 2))
  var avgpool = AdaptiveAvgPool2d(1)
  var fc: Linear

  init(classes: Int) { fc = Linear(32, classes) }

  override func forward(_ x: Tensor) -> Tensor {
    fc(avgpool(layer1(relu(bn1(conv1(x))))).flatten(startDim: 1))
  }
}

func fail(_ message: String) -> Never {
  print(message)
  exit(1)
}

Tensor.manualSeed(0)
guard let all = try? Dataset.digits() else { fail("could not load Data/digits.npz (run from the package folder)") }
let (train, test) = all.split(trainFraction: 0.8, seed: 0)
// Task A: digits 0-4 with labels 0-4. Task B: digits 5-9, relabelled 0-4.
let trainA = train.filter { $0 < 5 }
let testA = test.filter { $0 < 5 }
var trainB = train.filter { $0 >= 5 }
var testB = test.filter { $0 >= 5 }
trainB.labels = trainB.labels - 5
testB.labels = testB.labels - 5

print("1. Train on digits 0-4 (\(trainA.count) images)")
Tensor.manualSeed(1)
let pretrained = SmallResNet(classes: 5)
let optimizer = Adam(pretrained.parameters(), lr: 3e-3)
for epoch in 1...6 { trainEpoch(pretrained, trainA, optimizer: optimizer, batchSize: 32, epoch: epoch, epochs: 6) }
print(String(format: "accuracy on digits 0-4: %.1f%%", 100 * accuracy(pretrained, testA)))
let checkpoint = URL(fileURLWithPath: "digits-resnet-0to4.safetensors")
do { try Tensor.save(safetensors: checkpoint, pretrained.stateDict()) } catch { fail("could not save: \(error)") }
print("saved \(checkpoint.lastPathComponent)")

print("\n2. Load it, freeze every parameter, replace fc for digits 5-9")
let model = SmallResNet(classes: 5)
do { try model.loadStateDict(Tensor.load(safetensors: checkpoint)) } catch { fail("could not load: \(error)") }
for param in model.parameters() { param.requiresGrad = false }
model.fc = Linear(32, 5)  // new modules require grad by default
let frozen = model.namedParameters().filter { !$0.0.hasPrefix("fc.") }
print("trainable: \(model.namedParameters().filter { $0.1.requiresGrad }.map(\.0)); frozen: \(frozen.count) tensors")
print(String(format: "accuracy on digits 5-9 before fine-tuning: %.1f%%", 100 * accuracy(model, testB)))
let headOptimizer = SGD(model.fc.parameters(), lr: 1e-2, momentum: 0.9)
// As in PyTorch's recipe the model stays in training mode: frozen batch-norm layers still
// normalize with batch statistics, but only fc's parameters change.
for epoch in 1...8 {
  trainEpoch(model, trainB, optimizer: headOptimizer, batchSize: 32, epoch: epoch, epochs: 8)
}
print(String(format: "accuracy on digits 5-9 after fine-tuning the head: %.1f%%", 100 * accuracy(model, testB)))
let gotGradients = frozen.filter { $0.1.grad != nil }.map(\.0)
print("frozen parameters that received a gradient: \(gotGradients.isEmpty ? "none" : gotGradients.joined(separator: ", "))")
try? FileManager.default.removeItem(at: checkpoint)
