import Distributed
import Foundation
import Testing

/// Launches `DistributedCheck` (built beside this test bundle) under `mpirun` and returns
/// its output. Open MPI runs as root only when asked, so the flags ask.
enum Launcher {
  static let check = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
    "DistributedCheck")
  static let mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first {
    FileManager.default.isExecutableFile(atPath: $0)
  }
  static var ready: Bool {
    ProcessGroup.isAvailable && mpirun != nil && FileManager.default.isExecutableFile(atPath: check.path)
  }

  static func run(ranks: Int, _ scenario: String) throws -> (status: Int32, output: String, seconds: Double) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: mpirun!)
    process.arguments = ["--oversubscribe", "--allow-run-as-root", "-np", "\(ranks)", check.path, scenario]
    var environment = ProcessInfo.processInfo.environment
    environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    let start = Date()
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, output, Date().timeIntervalSince(start))
  }
}

@Suite(.serialized) struct DistributedTests {
  /// CI sets `SWIFT_TENSOR_REQUIRE_MPI` where the MPI tests must run: a missing mpirun,
  /// MPI trait or `DistributedCheck` then fails instead of skipping them all.
  @Test(
    .enabled(if: ProcessInfo.processInfo.environment["SWIFT_TENSOR_REQUIRE_MPI"] != nil, "MPI is not required here"))
  func theMPITestsCanRun() {
    #expect(ProcessGroup.isAvailable, "this build lacks the MPI trait")
    #expect(Launcher.mpirun != nil, "mpirun was not found")
    #expect(
      FileManager.default.isExecutableFile(atPath: Launcher.check.path),
      "DistributedCheck is not built beside the tests")
  }

  @Test(.enabled(if: !ProcessGroup.isAvailable, "this build has the MPI trait"))
  func withoutABackendTheGroupSaysHowToGetOne() {
    #expect {
      _ = try ProcessGroup()
    } throws: {
      "\($0)".contains("build with `--traits MPI`") && "\($0)".contains("mpirun")
    }
  }

  /// Every collective, for float32, float64, int64 and bfloat16, on 2 and 3 ranks, with
  /// exact values (see `collectives()` in DistributedCheck).
  @Test(.enabled(if: Launcher.ready, "needs the MPI trait and mpirun"), arguments: [2, 3])
  func collectivesGiveExactValues(ranks: Int) throws {
    let result = try Launcher.run(ranks: ranks, "collectives")
    #expect(result.status == 0, "\(result.output)")
    let lines = result.output.split(separator: "\n")
    #expect(lines.filter { $0.hasPrefix("FAIL") }.isEmpty, "\(result.output)")
    // Per rank: 9 checks per dtype (4 dtypes), avg for the 3 floating ones, 5 others; rank 0 also
    // checks reduce's result for each dtype; 7 ring all-reduces of 200,003 elements.
    #expect(lines.filter { $0.hasPrefix("PASS") }.count == ranks * (4 * 9 + 3 + 5 + 7) + 4, "\(result.output)")
  }

  /// Two ranks at batch 32 with DistributedDataParallel end where one process at batch 64
  /// ends after 50 SGD-with-momentum steps, within 1e-6 relative (and with noSync).
  @Test(.enabled(if: Launcher.ready, "needs the MPI trait and mpirun"))
  func dataParallelEqualsOneProcess() throws {
    let result = try Launcher.run(ranks: 2, "ddp")
    #expect(result.status == 0, "\(result.output)")
    for rank in 0..<2 {
      for accumulate in [1, 2] {
        #expect(
          result.output.contains("PASS rank \(rank) ddp equals one process (accumulate \(accumulate))"),
          "\(result.output)")
      }
      #expect(result.output.contains("PASS rank \(rank) find unused parameters"), "\(result.output)")
    }
  }

  /// NCCL collectives on CUDA tensors equal the host's; without a GPU per rank (or without
  /// the CUDA trait) every rank says why it skips.
  @Test(.enabled(if: Launcher.ready, "needs the MPI trait and mpirun"))
  func cudaCollectivesMatchTheHostsOrSkip() throws {
    let result = try Launcher.run(ranks: 2, "cuda")
    #expect(result.status == 0, "\(result.output)")
    #expect(!result.output.contains("FAIL"), "\(result.output)")
    #expect(
      result.output.contains("SKIP rank 0 cuda") || result.output.contains("PASS rank 0 nccl all_reduce avg (large)"),
      "\(result.output)")
  }

  /// A rank that leaves makes the other's next collective throw within the timeout (5 s
  /// in the scenario); mismatched shapes are reported on every rank, naming them.
  @Test(.enabled(if: Launcher.ready, "needs the MPI trait and mpirun"))
  func faultsBecomeErrors() throws {
    let exited = try Launcher.run(ranks: 2, "fault-exit")
    #expect(exited.output.contains("PASS rank 0 fault-exit"), "\(exited.output)")
    #expect(exited.output.contains("all_reduce: timed out after 5.0 s waiting for the other ranks"), "\(exited.output)")
    #expect(exited.seconds < 30)
    let mismatched = try Launcher.run(ranks: 2, "fault-mismatch")
    for rank in 0..<2 {
      #expect(
        mismatched.output.contains(
          "PASS rank \(rank) fault-mismatch: all_reduce: the ranks passed different tensors: rank 0: [3] torch.float32; rank 1: [4] torch.float32"
        ),
        "\(mismatched.output)")
    }
  }
}
