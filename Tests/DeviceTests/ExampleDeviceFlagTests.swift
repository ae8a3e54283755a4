import Foundation
import TestSupport
import Testing

/// The examples' `--device` flag on the test device: the GPT example (built beside this test
/// bundle) trains the same on `--device test` as on the CPU, line for line, and a run resumed
/// on the device from a CPU checkpoint (its optimizer state restored on the host, then moved
/// with the model) continues exactly as the same resume on the CPU.
@Suite(.serialized) struct ExampleDeviceFlagTests {
  static let gpt = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
    "GPT")

  /// The evaluation lines (`step N: train loss ..., val loss ...`) of one GPT run.
  static func evaluations(_ arguments: [String], checkpoint: URL) throws -> [String] {
    let (status, text) = try Interop.run(
      gpt.path,
      arguments + [
        "--eval-interval", "1", "--eval-iters", "1", "--final-eval-iters", "1", "--length", "4", "--checkpoint",
        checkpoint.path,
      ])
    #expect(status == 0, "GPT \(arguments.joined(separator: " ")) failed:\n\(text)")
    return text.split(separator: "\n").map(String.init).filter { $0.hasPrefix("step ") }
  }

  @Test func trainingAndResumingOnTheTestDeviceMatchTheCPU() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("device-flag-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let onCPU = try Self.evaluations(
      ["--iters", "3", "--device", "cpu"], checkpoint: folder.appendingPathComponent("cpu.pt"))
    #expect(onCPU.count == 3)
    let onDevice = try Self.evaluations(
      ["--iters", "3", "--device", "test"], checkpoint: folder.appendingPathComponent("test.pt"))
    #expect(onDevice == onCPU)
    let (hostCopy, deviceCopy) = (folder.appendingPathComponent("host.pt"), folder.appendingPathComponent("device.pt"))
    #expect(try Self.evaluations(["--iters", "2", "--device", "cpu"], checkpoint: hostCopy).count == 2)
    try FileManager.default.copyItem(at: hostCopy, to: deviceCopy)
    let resumedOnCPU = try Self.evaluations(["--iters", "4", "--device", "cpu", "--resume"], checkpoint: hostCopy)
    let resumedOnDevice = try Self.evaluations(
      ["--iters", "4", "--device", "test:1", "--resume"], checkpoint: deviceCopy)
    #expect(resumedOnCPU.count == 2 && resumedOnDevice == resumedOnCPU)
  }
}
