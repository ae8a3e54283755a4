// The transfer-learning recipe of PyTorch's tutorial on the bundled digits: train a small
// ResNet-style network on digits 0-4 and save it as a `.pth` (`torch.save` format); load it,
// freeze every parameter, replace its last layer `fc` for digits 5-9, and train only that
// layer with SGD(model.fc.parameters(), lr: 1e-2, momentum: 0.9).
//
// `--pretrained PATH` starts from a `.pth` written by PyTorch instead
// (`torch.save(model.state_dict(), PATH)` of the same network; `Scripts/finetune_pretrain.py`
// trains and writes one). The network it trains is saved in `--out DIR` (default `runs/`,
// which git ignores).
//
//   swift run -c release FineTune [--pretrained runs/digits-resnet-0to4.pth] [--out DIR]
import Data
import ExampleSupport
import Foundation
import NN
import Optim

func fail(_ message: String) -> Never {
  print(message)
  exit(1)
}

var pretrainedPath: String?
var outputFolder = ExampleOutput.defaultFolder
var arguments = Array(CommandLine.arguments.dropFirst())[...]
while let argument = arguments.popFirst() {
  switch argument {
  case "--pretrained":
    guard let path = arguments.popFirst() else { fail("--pretrained needs a path") }
    pretrainedPath = path
  case "--out":
    guard let folder = arguments.popFirst() else { fail("--out needs a folder") }
    outputFolder = folder
  default: fail("usage: FineTune [--pretrained PATH.pth] [--out DIR]")
  }
}

Tensor.manualSeed(0)
guard let all = try? ImageDataset.digits() else { fail("could not load Data/digits.npz (run from the package folder)") }
let (train, test) = all.split(trainFraction: 0.8, seed: 0)
// Task A: digits 0-4 with labels 0-4. Task B: digits 5-9, relabelled 0-4.
let trainA = train.filter { $0 < 5 }
let testA = test.filter { $0 < 5 }
var trainB = train.filter { $0 >= 5 }
var testB = test.filter { $0 >= 5 }
trainB.labels = trainB.labels - 5
testB.labels = testB.labels - 5

let checkpoint: URL
if let pretrainedPath {
  checkpoint = URL(fileURLWithPath: pretrainedPath)
  print("1. Start from \(checkpoint.path), written by torch.save")
} else {
  print("1. Train on digits 0-4 (\(trainA.count) images)")
  Tensor.manualSeed(1)
  let pretrained = SmallResNet(classes: 5)
  let optimizer = Adam(pretrained.parameters(), lr: 3e-3)
  let loader = DataLoader(trainA, batchSize: 32, shuffle: true, numWorkers: 2)
  for epoch in 1...6 { trainEpoch(pretrained, loader, optimizer: optimizer, epoch: epoch, epochs: 6) }
  print(String(format: "accuracy on digits 0-4: %.1f%%", 100 * accuracy(pretrained, testA)))
  checkpoint = ExampleOutput.file("digits-resnet-0to4.pth", in: outputFolder)
  do { try Tensor.save(pt: checkpoint, pretrained.stateDict()) } catch { fail("could not save: \(error)") }
  print("saved \(checkpoint.path) (torch.load reads it)")
}

print("\n2. Load it, freeze every parameter, replace fc for digits 5-9")
let model = SmallResNet(classes: 5)
do { try model.loadStateDict(Tensor.load(pt: checkpoint), strict: true) } catch { fail("could not load: \(error)") }
print(String(format: "accuracy of the loaded model on digits 0-4: %.1f%%", 100 * accuracy(model, testA)))
for param in model.parameters() { param.requiresGrad = false }
model.fc = Linear(32, 5)  // new modules require grad by default
let frozen = model.namedParameters().filter { !$0.0.hasPrefix("fc.") }
print("trainable: \(model.namedParameters().filter { $0.1.requiresGrad }.map(\.0)); frozen: \(frozen.count) tensors")
print(String(format: "accuracy on digits 5-9 before fine-tuning: %.1f%%", 100 * accuracy(model, testB)))
let headOptimizer = SGD(model.fc.parameters(), lr: 1e-2, momentum: 0.9)
let loaderB = DataLoader(trainB, batchSize: 32, shuffle: true, numWorkers: 2)
// As in PyTorch's recipe the model stays in training mode: frozen batch-norm layers still
// normalize with batch statistics, but only fc's parameters change.
for epoch in 1...8 {
  trainEpoch(model, loaderB, optimizer: headOptimizer, epoch: epoch, epochs: 8)
}
print(String(format: "accuracy on digits 5-9 after fine-tuning the head: %.1f%%", 100 * accuracy(model, testB)))
let gotGradients = frozen.filter { $0.1.grad != nil }.map(\.0)
print(
  "frozen parameters that received a gradient: \(gotGradients.isEmpty ? "none" : gotGradients.joined(separator: ", "))")
