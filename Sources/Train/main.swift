// Trains a classifier on the UCI handwritten digits that ship with the package (or on
// MNIST, given its four IDX files), prints progress, the test accuracy, and saves the model.
//
//   swift run -c release Train
//   swift run -c release Train train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte
import ExampleSupport
import Foundation
import NN
import Optim

/// A two-layer perceptron over flattened images.
final class MLP: Module {
  var flatten = Flatten()
  var fc1: Linear
  var relu = ReLU()
  var fc2: Linear

  init(inputs: Int, hidden: Int, classes: Int) {
    fc1 = Linear(inputs, hidden)
    fc2 = Linear(hidden, classes)
  }

  override func forward(_ x: Tensor) -> Tensor { fc2(relu(fc1(flatten(x)))) }
}

let arguments = Array(CommandLine.arguments.dropFirst())
Tensor.manualSeed(0)
let train: Dataset
let test: Dataset
do {
  if arguments.count == 4 {
    train = try Dataset.mnist(images: arguments[0], labels: arguments[1])
    test = try Dataset.mnist(images: arguments[2], labels: arguments[3])
    print("MNIST: \(train.count) training and \(test.count) test images")
  } else if arguments.isEmpty {
    (train, test) = try Dataset.digits().split(trainFraction: 0.8, seed: 0)
    print("UCI digits (8x8): \(train.count) training and \(test.count) test images")
  } else {
    print("usage: Train [train-images train-labels test-images test-labels]  (MNIST IDX files; default: the bundled digits)")
    exit(2)
  }
} catch {
  print("could not load the data: \(error)")
  exit(1)
}

let inputs = train.images.shape.dropFirst().reduce(1, *)
Tensor.manualSeed(1)
let model = MLP(inputs: inputs, hidden: 128, classes: 10)
let optimizer = Adam(model.parameters(), lr: 2e-3)
let epochs = arguments.isEmpty ? 25 : 5
for epoch in 1...epochs {
  trainEpoch(model, train, optimizer: optimizer, batchSize: 64, epoch: epoch, epochs: epochs)
}
let testAccuracy = accuracy(model, test)
print(String(format: "test accuracy: %.2f%%", 100 * testAccuracy))
let output = URL(fileURLWithPath: "digits-mlp.safetensors")
do {
  try Tensor.save(safetensors: output, model.stateDict(), metadata: ["format": "pt", "model": "MLP \(inputs)-128-10"])
  print("saved the model to \(output.path)")
} catch {
  print("could not save the model: \(error)")
  exit(1)
}
