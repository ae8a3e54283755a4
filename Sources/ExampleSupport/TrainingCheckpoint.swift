import CUDABackend
import Foundation
import NN
import Optim

/// A training checkpoint of the examples: one `torch.save` file in nanoGPT's `ckpt.pt`
/// layout (`model`, `optimizer`, `model_args`, `iter_num`), which PyTorch reads with
/// `torch.load(path, weights_only=True)`, plus what an exact resume needs (`scheduler`,
/// `rng_state` of the batch generator, and `device_rng_state`: the state of the default
/// generator of the device the model is on, which dropout draws from there, as PyTorch's
/// `torch.cuda.get_rng_state()`). Written atomically.
public struct TrainingCheckpoint {
  /// The model's parameters by name.
  public let model: [String: Tensor]
  /// The whole saved tree.
  public let saved: SavedValue
  /// The iterations done when it was saved.
  public var iteration: Int { saved["iter_num"]?.int ?? 0 }
  /// The model's sizes, as they were saved.
  public var settings: [String: String] {
    Dictionary(
      uniqueKeysWithValues: (saved["model_args"]?.entries ?? []).compactMap { entry in
        entry.key.string.map { key in
          (key, entry.value.int.map(String.init) ?? entry.value.string ?? "\(entry.value.double ?? 0)")
        }
      })
  }

  /// Saves `model`, `optimizer`, `scheduler` and `generator` after `iteration` iterations,
  /// with `settings` (the model's sizes; numbers are stored as numbers) as `model_args`.
  public static func save(
    model: Module, optimizer: Optimizer, scheduler: LRScheduler? = nil, generator: Generator, iteration: Int,
    settings: [String: String], to url: URL
  ) throws {
    let arguments = SavedValue.dict(
      settings.keys.sorted().map { key in
        let value = settings[key]!
        return (key: .string(key), value: Int(value).map { .int($0) } ?? .string(value))
      })
    var tree: [(key: SavedValue, value: SavedValue)] = [
      ("model", .stateDict(try model.stateDict().mapValues { try $0.to(.cpu) })),
      ("optimizer", optimizer.stateDict().savedValue),
      ("model_args", arguments),
      ("iter_num", .int(iteration)),
      ("rng_state", .tensor(generator.getState())),
    ]
    if let scheduler { tree.append(("scheduler", scheduler.stateDict())) }
    if let device = model.parameters().first?.device, device != .cpu {
      tree.append(
        (
          "device_rng_state",
          .dict([(key: .string("\(device)"), value: .tensor(Generator.default(for: device).getState()))])
        ))
    }
    try Tensor.save(pt: url, object: .dict(tree))
  }

  /// Reads a checkpoint.
  public static func load(from url: URL) throws -> TrainingCheckpoint {
    let saved = try Tensor.loadObject(pt: url)
    guard let model = saved["model"]?.tensorDict else {
      throw TensorFileError.malformed(path: url.path, reason: "the checkpoint has no 'model' dict of tensors")
    }
    return TrainingCheckpoint(model: model, saved: saved)
  }

  /// Puts the optimizer's state, the schedule's position and the generator's state back, and
  /// the saved device generator's state when there is one.
  public func restore(optimizer: Optimizer, scheduler: LRScheduler? = nil, generator: Generator) throws {
    guard let optimizerState = saved["optimizer"], let rng = saved["rng_state"]?.tensor else {
      throw TensorFileError.malformed(
        path: "checkpoint", reason: "it lacks 'optimizer' or 'rng_state' (saved by another program?)")
    }
    try optimizer.loadStateDict(OptimizerState(optimizerState))
    if let scheduler {
      guard let state = saved["scheduler"] else {
        throw TensorFileError.malformed(path: "checkpoint", reason: "it lacks the 'scheduler' state")
      }
      try scheduler.loadStateDict(state)
    }
    generator.setState(rng)
    for entry in saved["device_rng_state"]?.entries ?? [] {
      guard let name = entry.key.string, let device = Device(name), let state = entry.value.tensor else {
        throw TensorFileError.malformed(
          path: "checkpoint", reason: "its 'device_rng_state' is not a dict of device names to states")
      }
      Generator.default(for: device).setState(state)
    }
  }
}
