import Data
import Foundation
import Optim
import TestSupport
import Testing

/// Checkpoints that resume exactly: a run of 20 steps, stopped after 10 in one process and
/// resumed in another, ends with the same parameters, bit for bit, as a run never stopped.
/// The run shuffles with a `DataLoader` on two workers, applies dropout, and steps a
/// schedule; the checkpoint is one `torch.save` file.
enum ResumeRun {
  static let steps = 20

  static func makeOptimizer(_ name: String, _ params: [Tensor]) -> Optimizer {
    switch name {
    case "sgd": SGD(params, lr: 0.05, momentum: 0.9, nesterov: true)
    case "adam": Adam(params, lr: 0.01)
    default: AdamW(params, lr: 0.01, weightDecay: 0.05)
    }
  }

  /// Trains steps `range` (resuming from `resume` if given), saving a checkpoint after
  /// `saveAfter` steps to `saveTo`; returns the parameters at the end.
  static func train(_ name: String, until end: Int, resume: URL? = nil, saveAfter: Int? = nil, saveTo: URL? = nil)
    throws -> [String: Tensor]
  {
    Tensor.manualSeed(0)
    let data = Generator(seed: 1)
    let x = Tensor.randn(64, 8, generator: data)
    let y = Tensor.randint(0, 3, like: Tensor.zeros(64, dtype: .int64), generator: data)
    let model = Sequential(Linear(8, 16), ReLU(), Dropout(0.3), Linear(16, 3))
    let optimizer = makeOptimizer(name, model.parameters())
    let schedule = StepLR(optimizer, stepSize: 4, gamma: 0.7)
    let loader = DataLoader(TensorDataset(x, y), batchSize: 8, shuffle: true, numWorkers: 2)
    var step = 0
    if let resume {
      let saved = try Tensor.loadObject(pt: resume)
      try model.loadStateDict(saved["model"]!.tensorDict!)
      try optimizer.loadStateDict(OptimizerState(saved["optimizer"]!))
      try schedule.loadStateDict(saved["scheduler"]!)
      loader.loadStateDict(saved["loader"]!.tensorDict!)
      Tensor.setRNGState(saved["rng_state"]!.tensor!)
      step = saved["step"]!.int!
    }
    model.train()
    while step < end {
      for batch in loader {
        optimizer.zeroGrad()
        crossEntropy(model(batch[0]), batch[1]).backward()
        optimizer.step()
        schedule.step()
        step += 1
        if step == saveAfter, let saveTo {
          try Tensor.save(
            pt: saveTo,
            object: [
              "model": .stateDict(model.stateDict()), "optimizer": optimizer.stateDict().savedValue,
              "scheduler": schedule.stateDict(),
              "loader": .stateDict(loader.stateDict()), "rng_state": .tensor(Tensor.getRNGState()), "step": .int(step),
            ])
        }
        if step == end { break }
      }
    }
    return model.stateDict()
  }

}

@Suite(.serialized) struct ResumeTests {
  @Test(arguments: ["sgd", "adam", "adamw"])
  func resumedRunEndsBitIdentical(optimizer name: String) async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "swift-tensor-resume-\(name)-\(UUID().uuidString)")
    let path = folder.path
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    // Each half in a fresh process (the exit tests run their body in a child of this one).
    await #expect(processExitsWith: .success) { [name = name as String, path = path as String] in
      let folder = URL(fileURLWithPath: path)
      _ = try! ResumeRun.train(
        name, until: ResumeRun.steps / 2, saveAfter: ResumeRun.steps / 2,
        saveTo: folder.appendingPathComponent("half.pt"))
    }
    await #expect(processExitsWith: .success) { [name = name as String, path = path as String] in
      let folder = URL(fileURLWithPath: path)
      let final = try! ResumeRun.train(name, until: ResumeRun.steps, resume: folder.appendingPathComponent("half.pt"))
      try! Tensor.save(pt: folder.appendingPathComponent("resumed.pt"), final)
    }
    // The uninterrupted run in a child too: this process runs other suites in parallel, which
    // draw from the default generator that dropout and the loader use here.
    await #expect(processExitsWith: .success) { [name = name as String, path = path as String] in
      let final = try! ResumeRun.train(name, until: ResumeRun.steps)
      try! Tensor.save(pt: URL(fileURLWithPath: path).appendingPathComponent("straight.pt"), final)
    }
    let straight = try Tensor.load(pt: folder.appendingPathComponent("straight.pt"))
    let resumed = try Tensor.load(pt: folder.appendingPathComponent("resumed.pt"))
    #expect(Set(resumed.keys) == Set(straight.keys))
    for (key, value) in straight {
      #expect(resumed[key]!.equal(value), "\(name): \(key) differs after resuming")
    }
    // And the run did move: a checkpoint that lost the optimizer's state would not match.
    let initial = Generator.withDefault(Generator(seed: 0)) { try! ResumeRun.train(name, until: 0) }
    #expect(!initial["0.weight"]!.equal(straight["0.weight"]!))
  }
}
