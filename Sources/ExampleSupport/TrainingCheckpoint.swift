import CUDABackend
import Foundation
import NN
import Optim

/// A training checkpoint of the examples: the model's state dict in one safetensors file
/// (for the GPT, nanoGPT's parameter names without the tied `lm_head.weight`), and beside it
/// (`<name>.optimizer.safetensors`) the optimizer's moments, step counts and the batch
/// generator's state, so a resumed run continues exactly. Both files are written atomically.
public struct TrainingCheckpoint {
  /// The model's parameters by name.
  public let model: [String: Tensor]
  /// The optimizer state and generator state, by name.
  let training: [String: Tensor]
  let metadata: [String: String]
  /// The iterations done when it was saved.
  public var iteration: Int { Int(metadata["iteration"] ?? "0") ?? 0 }

  static func trainingURL(_ url: URL) -> URL {
    url.deletingPathExtension().appendingPathExtension("optimizer.safetensors")
  }

  /// Saves `model`, `optimizer` and `generator` after `iteration` iterations, with `settings`
  /// (the model's sizes) in both files' metadata.
  public static func save(
    model: Module, optimizer: Optimizer, generator: Generator, iteration: Int, settings: [String: String], to url: URL
  ) throws {
    var metadata = settings
    metadata["format"] = "pt"
    metadata["iteration"] = "\(iteration)"
    try Tensor.save(safetensors: url, model.stateDict().mapValues { try $0.to(.cpu) }, metadata: metadata)
    let state = optimizer.stateDict()
    var training: [String: Tensor] = ["rng_state": generator.getState()]
    for (index, tensors) in state.state {
      for (name, t) in tensors { training["state.\(index).\(name)"] = try t.to(.cpu) }
    }
    var trainingMetadata = metadata
    trainingMetadata["group_lrs"] = state.groupLRs.map { "\($0)" }.joined(separator: ",")
    trainingMetadata["step_count"] = "\(state.stepCount)"
    try Tensor.save(safetensors: trainingURL(url), training, metadata: trainingMetadata)
  }

  /// Reads a checkpoint (the optimizer file may be missing: then only the model loads).
  public static func load(from url: URL) throws -> TrainingCheckpoint {
    let model = try Tensor.load(safetensors: url).mapValues { $0.clone() }
    let second = trainingURL(url)
    guard FileManager.default.fileExists(atPath: second.path) else {
      return TrainingCheckpoint(model: model, training: [:], metadata: try Tensor.safetensorsMetadata(url))
    }
    return TrainingCheckpoint(
      model: model, training: try Tensor.load(safetensors: second).mapValues { $0.clone() }, metadata: try Tensor.safetensorsMetadata(second))
  }

  /// Puts the optimizer's moments and the generator's state back.
  public func restore(optimizer: Optimizer, generator: Generator) throws {
    guard let rng = training["rng_state"], let steps = metadata["step_count"].flatMap(Int.init), let lrs = metadata["group_lrs"] else {
      throw TensorFileError.malformed(path: "checkpoint", reason: "the optimizer file lacks rng_state, step_count or group_lrs")
    }
    var state: [Int: [String: Tensor]] = [:]
    for (key, t) in training where key.hasPrefix("state.") {
      let parts = key.split(separator: ".", maxSplits: 2)
      guard parts.count == 3, let index = Int(parts[1]) else { continue }
      state[index, default: [:]][String(parts[2])] = t
    }
    optimizer.loadStateDict(OptimizerState(state: state, groupLRs: lrs.split(separator: ",").compactMap { Double($0) }, stepCount: steps))
    generator.setState(rng)
  }
}
