import Foundation

/// Where the examples write their files: a folder given by `--out`, by default `runs/` in
/// the current directory, which git ignores, so a run never leaves files in the source tree.
public enum ExampleOutput {
  /// The folder used without `--out`.
  public static let defaultFolder = "runs"

  /// `name` inside `folder` (created if missing); stops with a message when it cannot be made.
  public static func file(_ name: String, in folder: String) -> URL {
    let directory = URL(fileURLWithPath: folder, isDirectory: true)
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
      print("cannot create the output folder \(directory.path): \(error)")
      exit(1)
    }
    return directory.appendingPathComponent(name)
  }
}
