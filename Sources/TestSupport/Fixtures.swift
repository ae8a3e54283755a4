import Foundation
import Tensor

/// Reference data written by a script in `Scripts/` (with PyTorch) and committed beside a
/// test target, so tests compare against PyTorch without needing it.
public struct Fixtures: Sendable {
  /// The folder holding the fixture files.
  public let directory: URL

  /// The `Fixtures` folder next to the calling test file.
  public init(besides filePath: String = #filePath) {
    directory = URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
  }

  /// The folder `name` next to the calling test file.
  public init(named name: String, besides filePath: String = #filePath) {
    directory = URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent(name)
  }

  /// Whether `name.npy` exists.
  public func has(_ name: String) -> Bool {
    FileManager.default.fileExists(atPath: directory.appendingPathComponent(name + ".npy").path)
  }

  /// Loads `name.npy`; stops the test run with the file name when it is missing.
  public func tensor(_ name: String) -> Tensor {
    let url = directory.appendingPathComponent(name + ".npy")
    do {
      return try Tensor(npy: url)
    } catch {
      usageFailure("fixture \(name): \(error). Regenerate with the script in Scripts/.")
    }
  }

  /// Loads `name.json` as a flat string dictionary.
  public func strings(_ name: String) -> [String: String] {
    let url = directory.appendingPathComponent(name + ".json")
    guard let data = try? Data(contentsOf: url),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: String]
    else { usageFailure("fixture \(name).json is missing or not a string dictionary") }
    return object
  }
}
