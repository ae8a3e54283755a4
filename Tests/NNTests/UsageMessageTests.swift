import Foundation
import NN
import TestSupport
import Testing

/// Misuse messages reach the user in every build configuration: the `UsageProbe` executable
/// misuses the library on purpose, and these tests run it as a child process.
@Suite struct UsageMessageTests {
  /// Each probe case and the message it must print.
  static let expected: [String: String] = [
    "shape-mismatch": "The size of tensor a (2) must match the size of tensor b (4) at non-singleton dimension 0",
    "view-of-transposed": "view size is not compatible with input tensor's size and stride",
    "in-place-on-leaf": "a leaf Variable that requires grad is being used in an in-place operation.",
    "backward-twice": "Trying to backward through the graph a second time",
    "cat-zero-dim": "zero-dimensional tensor (at position 0) cannot be concatenated",
    "empty-overflow": "Storage size calculation overflowed with sizes=[9223372036854775807, 2]",
    "linear-shape": "mat1 and mat2 shapes cannot be multiplied (4x5 and 3x2)",
  ]

  /// The probe built with this test bundle (debug, as `swift test` builds it), and the one
  /// built with `swift build -c release --product UsageProbe` if there is one. CI builds the
  /// release probe first and sets SWIFT_TENSOR_REQUIRE_RELEASE_PROBE=1, so it cannot be missed.
  static func probes() -> [URL] {
    let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
      .deletingLastPathComponent()
    let buildFolder = bundleFolder.deletingLastPathComponent()
    return [
      bundleFolder.appendingPathComponent("UsageProbe"), buildFolder.appendingPathComponent("release/UsageProbe"),
    ]
    .filter { FileManager.default.isExecutableFile(atPath: $0.path) }
  }

  /// Runs `probe` with one case; its exit status and standard error.
  static func run(_ probe: URL, _ name: String) throws -> (
    status: Int32, reason: Process.TerminationReason, error: String
  ) {
    let process = Process()
    process.executableURL = probe
    process.arguments = [name]
    let pipe = Pipe()
    process.standardError = pipe
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let error = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, process.terminationReason, String(decoding: error, as: UTF8.self))
  }

  @Test func everyProbeCaseHasAnExpectedMessage() throws {
    guard let probe = UsageMessageTests.probes().first else {
      Issue.record("no UsageProbe beside the test bundle")
      return
    }
    let process = Process()
    process.executableURL = probe
    process.arguments = ["--list"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let names = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
      .map(String.init)
    process.waitUntilExit()
    #expect(Set(names) == Set(UsageMessageTests.expected.keys))
  }

  @Test func misuseStopsWithPyTorchsMessageInEveryBuild() throws {
    let probes = UsageMessageTests.probes()
    let releaseRequired = ProcessInfo.processInfo.environment["SWIFT_TENSOR_REQUIRE_RELEASE_PROBE"] == "1"
    #expect(
      !releaseRequired || probes.contains { $0.path.hasSuffix("release/UsageProbe") },
      "the release UsageProbe was not built")
    #expect(!probes.isEmpty)
    for probe in probes {
      for (name, message) in UsageMessageTests.expected.sorted(by: { $0.key < $1.key }) {
        let result = try UsageMessageTests.run(probe, name)
        #expect(result.reason == .uncaughtSignal, "\(probe.path) \(name) did not stop")
        #expect(result.error.contains(message), "\(probe.path) \(name) printed: \(result.error.prefix(300))")
      }
    }
  }

  @Test func binaryCrossEntropyRejectsInputsOutsideZeroToOne() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = binaryCrossEntropy(Tensor([1.5, 0.5] as [Float]), Tensor([1, 0] as [Float]))
    }
    #expect(standardError(of: result).contains("all elements of input should be between 0 and 1"))
    let nan = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = binaryCrossEntropy(Tensor([Float.nan, 0.5]), Tensor([1, 0] as [Float]))
    }
    #expect(standardError(of: nan).contains("all elements of input should be between 0 and 1"))
    let target = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = binaryCrossEntropy(Tensor([0.5, 0.5] as [Float]), Tensor([2, 0] as [Float]))
    }
    #expect(standardError(of: target).contains("all elements of target should be between 0 and 1"))
  }
}
