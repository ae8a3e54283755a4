import Foundation

/// Finds a Python that has the given modules: `$SWIFT_TENSOR_PYTHON`, the package's `.venv`
/// (which `.ci/run` makes), or `python3` on the PATH.
public enum Interop {
  /// The package's root folder.
  public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent()
    .deletingLastPathComponent()

  /// A Python that imports all of `modules`, or `nil`.
  public static func python(with modules: [String]) -> String? {
    var candidates: [String] = []
    if let env = ProcessInfo.processInfo.environment["SWIFT_TENSOR_PYTHON"] { candidates.append(env) }
    candidates.append(packageRoot.appendingPathComponent(".venv/bin/python").path)
    candidates.append("/usr/bin/env")
    for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
      let arguments =
        (candidate == "/usr/bin/env" ? ["python3"] : []) + [
          "-c", modules.map { "import \($0)" }.joined(separator: "; "),
        ]
      if (try? run(candidate, arguments))?.status == 0 {
        return candidate == "/usr/bin/env" ? "python3" : candidate
      }
    }
    return nil
  }

  /// A Python with NumPy.
  public static let numpyPython = python(with: ["numpy"])
  /// A Python with NumPy and safetensors.
  public static let safetensorsPython = python(with: ["numpy", "safetensors"])
  /// A Python with NumPy, safetensors and PyTorch.
  public static let torchPython = python(with: ["numpy", "safetensors", "torch"])

  /// Runs a program and returns its exit status and output.
  @discardableResult
  public static func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program.hasPrefix("/") ? program : "/usr/bin/env")
    process.arguments = program.hasPrefix("/") ? arguments : [program] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, output)
  }
}
