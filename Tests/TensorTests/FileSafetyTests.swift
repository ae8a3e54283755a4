import Foundation
import TestSupport
import Testing

@testable import Tensor

#if canImport(Glibc)
  import Glibc
#endif

/// Saves never lose a file: every format replaces its target atomically.
@Suite struct AtomicSaveTests {
  /// Each format: a file name, a save and a load.
  static let formats:
    [(name: String, save: @Sendable (Tensor, URL) throws -> Void, load: @Sendable (URL) throws -> Tensor)] = [
      ("x.npy", { try $0.save(npy: $1) }, { try Tensor(npy: $0) }),
      ("x.npz", { try Tensor.save(npz: $1, ["x": $0]) }, { try Tensor.load(npz: $0)["x"]! }),
      ("z.npz", { try Tensor.save(npz: $1, ["x": $0], compressed: true) }, { try Tensor.load(npz: $0)["x"]! }),
      ("x.safetensors", { try Tensor.save(safetensors: $1, ["x": $0]) }, { try Tensor.load(safetensors: $0)["x"]! }),
    ]

  @Test(arguments: 0..<4)
  func savingTwiceToOnePathKeepsTheNewFile(format: Int) throws {
    let (name, save, load) = AtomicSaveTests.formats[format]
    let folder = ScratchFolder()
    defer { folder.cleanUp() }
    let url = folder.file(name)
    try save(Tensor.full([3, 4], 1.0), url)
    try save(Tensor.full([3, 4], 2.0), url)
    try save(Tensor.full([5], 3.0), url)
    #expect(try load(url) == Tensor.full([5], 3.0))
    #expect(folder.contents == [name])
  }

  @Test func savingThroughASymbolicLinkReplacesItsTarget() throws {
    let folder = ScratchFolder()
    defer { folder.cleanUp() }
    let real = folder.file("real.npy")
    let link = folder.file("link.npy")
    try Tensor.ones(2).save(npy: real)
    try FileManager.default.createSymbolicLink(at: link, withDestinationURL: real)
    try Tensor.zeros(3).save(npy: link)
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == real.path)
    #expect(try Tensor(npy: real) == Tensor.zeros(3))
  }

  @Test func temporariesOfEndedProcessesAreRemovedByTheNextSave() throws {
    let folder = ScratchFolder()
    defer { folder.cleanUp() }
    let url = folder.file("x.npy")
    // A process that has ended, and one that is still running (this one's parent).
    let ended = try endedProcessID()
    let stale = ".x.npy.tensor-save-\(ended)-1.tmp"
    let live = ".x.npy.tensor-save-\(getppid())-2.tmp"
    let other = ".y.npy.tensor-save-\(ended)-3.tmp"
    for name in [stale, live, other] {
      _ = FileManager.default.createFile(atPath: folder.file(name).path, contents: Data([1]))
    }
    try Tensor.ones(2).save(npy: url)
    #expect(Set(folder.contents) == ["x.npy", live, other])
  }

  /// The id of a child process that has exited and been reaped.
  private func endedProcessID() throws -> pid_t {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try process.run()
    process.waitUntilExit()
    return process.processIdentifier
  }

  /// A child process saves a large tensor over a good file and is killed with SIGKILL at a
  /// random moment; the target must then hold the old file or the complete new one, every
  /// time, and the next save clears the temporaries that the killed ones left.
  @Test(arguments: 0..<4)
  func aSaveKilledAtARandomMomentLeavesTheOldOrTheNewFile(format: Int) async throws {
    let (name, save, load) = AtomicSaveTests.formats[format]
    let folder = ScratchFolder()
    defer { folder.cleanUp() }
    let url = folder.file(name)
    // 96 MB of float32 by default; SWIFT_TENSOR_KILL_TEST_MB=400 runs the 400 MB.
    let megabytes = ProcessInfo.processInfo.environment["SWIFT_TENSOR_KILL_TEST_MB"].flatMap { Int($0) } ?? 96
    let elements = megabytes << 18
    let old = Tensor.full([elements], 1.0)
    let started = Date()
    try save(old, url)
    let saveTime = Date().timeIntervalSince(started)
    var rng = SeededGenerator(seed: UInt64(17 + format))
    var interrupted = 0
    for _ in 0..<3 {
      // Kill anywhere from the start of a save to well after it should have ended.
      let delay = Int(Double.random(in: 0...1.5, using: &rng) * saveTime * 1_000_000) + 1000
      let path = url.path
      await #expect(processExitsWith: .signal(SIGKILL)) {
        [path = path as String, format = format as Int, elements = elements as Int, delay = delay as Int] in
        let new = Tensor.full([elements], 2.0)
        // The clock starts with the first save; later kills land in later saves of the loop.
        let killer = Thread {
          usleep(UInt32(delay))
          kill(getpid(), SIGKILL)
        }
        killer.start()
        while true { try? AtomicSaveTests.formats[format].save(new, URL(fileURLWithPath: path)) }
      }
      let found = try load(url)
      #expect(found.shape == [elements])
      let low = found.min().item()
      let high = found.max().item()
      #expect(low == high && (low == 1 || low == 2), "the target holds a mix of old and new, or neither")
      if folder.contents.count > 1 { interrupted += 1 }
    }
    #expect(interrupted > 0, "no kill landed inside a save: the test did not test anything")
    try save(old, url)
    #expect(folder.contents == [name])
  }
}
