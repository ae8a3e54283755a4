// Trains a classifier on the UCI handwritten digits that ship with the package (or on
// MNIST, given its four IDX files) with a `DataLoader` (shuffled batches prepared on worker
// threads). By default it trains twice, without and with augmentation by random shifts
// (`RandomCrop` with padding), and prints both test accuracies. Each run saves a checkpoint
// (`torch.save` format) after every epoch into `--out DIR` (default `runs/`, which git
// ignores); `--resume` continues from them exactly.
// `--distributed` trains data-parallel on the ranks `mpirun` starts (build with
// `--traits MPI`): each rank takes its `DistributedSampler` share of every epoch at batch
// 64 / ranks, gradients are averaged by `DistributedDataParallel`, and only rank 0 prints.
//
//   swift run -c release Train [--epochs N] [--workers N] [--augment | --no-augment] [--resume] [--distributed] [--out DIR]
//   mpirun -np 2 .build/release/Train --distributed
//   swift run -c release Train train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte
import Data
import Distributed
import ExampleSupport
import Foundation
import NN
import Optim

var files: [String] = []
var epochs: Int?
var workers = 2
var variants = [false, true]
var resume = false
var distributed = false
var outputFolder = ExampleOutput.defaultFolder
var arguments = Array(CommandLine.arguments.dropFirst())[...]
func usage() -> Never {
  print(
    "usage: Train [--epochs N] [--workers N] [--augment | --no-augment] [--resume] [--distributed] [--out DIR] [train-images train-labels test-images test-labels]"
  )
  exit(2)
}
while let argument = arguments.popFirst() {
  switch argument {
  case "--epochs":
    guard let n = arguments.popFirst().flatMap(Int.init), n > 0 else { usage() }
    epochs = n
  case "--workers":
    guard let n = arguments.popFirst().flatMap(Int.init), n >= 0 else { usage() }
    workers = n
  case "--augment": variants = [true]
  case "--no-augment": variants = [false]
  case "--resume": resume = true
  case "--distributed": distributed = true
  case "--out":
    guard let folder = arguments.popFirst() else { usage() }
    outputFolder = folder
  case _ where argument.hasPrefix("--"): usage()
  default: files.append(argument)
  }
}

let group = distributed ? joinDistributedJob() : nil
if let group { print("data-parallel over \(group.worldSize) ranks") }
Tensor.manualSeed(0)
let train: ImageDataset
let test: ImageDataset
do {
  if files.count == 4 {
    train = try ImageDataset.mnist(images: files[0], labels: files[1])
    test = try ImageDataset.mnist(images: files[2], labels: files[3])
    print("MNIST: \(train.count) training and \(test.count) test images")
  } else if files.isEmpty {
    (train, test) = try ImageDataset.digits().split(trainFraction: 0.8, seed: 0)
    print("UCI digits (8x8): \(train.count) training and \(test.count) test images")
  } else {
    usage()
  }
} catch {
  print("could not load the data: \(error)")
  exit(1)
}

let side = train.images.shape[3]
let inputs = train.images.shape.dropFirst().reduce(1, *)
let epochCount = epochs ?? (files.isEmpty ? 25 : 5)
// The test set as it comes (centred digits), and a copy with every image shifted at random:
// what augmentation buys shows on the second.
let shift = max(1, side / 8)
let shiftedTest = test.transformed(Transforms.RandomCrop(side, padding: shift)).materialized(
  generator: Generator(seed: 7))
var results: [(String, Double, Double)] = []
for augment in variants {
  let name = augment ? "with augmentation (random shifts of up to \(shift) px)" : "without augmentation"
  print("\n== \(name) ==")
  // Random shifts: pad every side, then crop back to the image size at a random corner.
  let data = augment ? train.transformed(Transforms.RandomCrop(side, padding: shift)) : train
  Tensor.manualSeed(1)
  let model = MLP(inputs: inputs, hidden: 128, classes: 10)
  // Data-parallel: the replica's gradients are averaged over the ranks during backward, and
  // each rank reads its own share of every epoch.
  let trained: Module
  do { trained = try group.map { try DistributedDataParallel(model, group: $0) } ?? model } catch {
    print("could not set up data parallelism: \(error)")
    exit(1)
  }
  let optimizer = Adam(model.parameters(), lr: 2e-3)
  let shard = group.map { DistributedSampler(dataCount: data.count, numReplicas: $0.worldSize, rank: $0.rank) }
  let loader =
    shard.map { DataLoader(data, batchSize: 64 / group!.worldSize, numWorkers: workers, sampler: $0) }
    ?? DataLoader(data, batchSize: 64, shuffle: true, numWorkers: workers)
  let checkpoint = ExampleOutput.file(augment ? "digits-mlp-augmented.pt" : "digits-mlp.pt", in: outputFolder)
  var firstEpoch = 1
  if resume, FileManager.default.fileExists(atPath: checkpoint.path) {
    do {
      let saved = try Tensor.loadObject(pt: checkpoint)
      guard let weights = saved["model"]?.tensorDict, let state = saved["optimizer"],
        let order = saved["loader"]?.tensorDict,
        let rng = saved["rng_state"]?.tensor, let epoch = saved["epoch"]?.int
      else { throw TensorFileError.malformed(path: checkpoint.path, reason: "not a checkpoint of this example") }
      try model.loadStateDict(weights)
      try optimizer.loadStateDict(OptimizerState(state))
      loader.loadStateDict(order)
      Tensor.setRNGState(rng)
      firstEpoch = epoch + 1
      print("resumed from \(checkpoint.path) after epoch \(epoch)")
    } catch {
      print("could not resume: \(error)")
      exit(1)
    }
  }
  if firstEpoch <= epochCount {
    for epoch in firstEpoch...epochCount {
      shard?.setEpoch(epoch)
      trainEpoch(trained, loader, optimizer: optimizer, epoch: epoch, epochs: epochCount)
      if (group?.rank ?? 0) != 0 { continue }  // every rank holds the same model; rank 0 saves it
      do {
        try Tensor.save(
          pt: checkpoint,
          object: [
            "model": .stateDict(model.stateDict()), "optimizer": optimizer.stateDict().savedValue,
            "loader": .stateDict(loader.stateDict()),
            "rng_state": .tensor(Tensor.getRNGState()), "epoch": .int(epoch),
          ])
      } catch {
        print("could not save the checkpoint: \(error)")
        exit(1)
      }
    }
  }
  let (plain, shifted) = (accuracy(model, test), accuracy(model, shiftedTest))
  print(
    String(
      format: "test accuracy %@: %.2f%% (shifted test images: %.2f%%); checkpoint: %@", name, 100 * plain,
      100 * shifted, checkpoint.path))
  results.append((name, plain, shifted))
}
group?.destroy()
if results.count > 1 {
  print("\ntest accuracy             test set   shifted test set")
  for (name, plain, shifted) in results {
    let label = name.hasPrefix("with ") ? "with augmentation" : "without augmentation"
    print(
      label.padding(toLength: 26, withPad: " ", startingAt: 0)
        + String(format: "%7.2f%%   %7.2f%%", 100 * plain, 100 * shifted))
  }
}
