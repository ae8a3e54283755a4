import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Where encoders put bytes: a file being written atomically, or memory.
protocol ByteSink {
  /// The number of bytes written so far.
  var position: Int { get }
  /// Appends `bytes`.
  mutating func write(_ bytes: UnsafeRawBufferPointer) throws
  /// Overwrites bytes already written, starting at `offset` (sizes known only afterwards).
  mutating func overwrite(at offset: Int, with bytes: [UInt8]) throws
}

extension ByteSink {
  /// Appends the bytes of an array.
  mutating func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
  /// Appends the bytes of `data`.
  mutating func write(_ data: Data) throws { try data.withUnsafeBytes { try write($0) } }
}

/// Bytes collected in memory (the `...Data()` forms of the encoders).
struct MemorySink: ByteSink {
  var data = Data()
  var position: Int { data.count }
  mutating func write(_ bytes: UnsafeRawBufferPointer) throws { data.append(contentsOf: bytes) }
  mutating func overwrite(at offset: Int, with bytes: [UInt8]) throws {
    data.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
  }
}

/// Writes a file so that its path only ever holds the old file or the complete new one.
///
/// The bytes go to a temporary file beside the target, named
/// `.<name>.tensor-save-<pid>-<random>.tmp`; `commit()` flushes it to disk (`fsync`),
/// renames it over the target (`rename(2)` replaces atomically) and flushes the directory,
/// so that the rename itself survives a crash. A save killed before the rename leaves the
/// old file and a temporary, which the next save to the same path removes once the process
/// that wrote it is gone. (`FileManager.replaceItemAt` is not used: on Linux it moved the
/// original aside and deleted it, so a second save to one path lost the file.)
final class AtomicFileWriter: ByteSink {
  /// The file the save replaces (symbolic links resolved: the link stays, its target is
  /// replaced, as when NumPy writes through a link).
  let target: URL
  /// The temporary file the bytes go to until `commit()`.
  let temporary: URL
  private var descriptor: Int32
  private(set) var position = 0

  /// The prefix of temporaries for `target`'s file name.
  static func temporaryPrefix(for name: String) -> String { ".\(name).tensor-save-" }

  /// Opens a new temporary file beside `url`, first removing temporaries that earlier,
  /// interrupted saves to the same path left behind.
  init(replacing url: URL) throws {
    target = url.resolvingSymlinksInPath()
    let folder = target.deletingLastPathComponent()
    let prefix = AtomicFileWriter.temporaryPrefix(for: target.lastPathComponent)
    AtomicFileWriter.removeStaleTemporaries(in: folder, prefix: prefix)
    temporary = folder.appendingPathComponent("\(prefix)\(getpid())-\(UInt64.random(in: 0...UInt64.max)).tmp")
    descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
    guard descriptor >= 0 else {
      throw TensorFileError.io(
        path: target.path, reason: "cannot create a temporary file beside it: \(AtomicFileWriter.lastError())")
    }
    // Keep an existing file's permissions, as writing it in place would.
    var existing = stat()
    if stat(target.path, &existing) == 0 { _ = fchmod(descriptor, existing.st_mode & 0o7777) }
  }

  deinit {
    if descriptor >= 0 {
      close(descriptor)
      unlink(temporary.path)
    }
  }

  func write(_ bytes: UnsafeRawBufferPointer) throws {
    guard var next = bytes.baseAddress else { return }
    var remaining = bytes.count
    while remaining > 0 {
      let written = Glibc.write(descriptor, next, min(remaining, 1 << 30))
      if written < 0 {
        if errno == EINTR { continue }
        throw failure("write failed")
      }
      next += written
      remaining -= written
      position += written
    }
  }

  func overwrite(at offset: Int, with bytes: [UInt8]) throws {
    let written = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
    guard written == bytes.count else { throw failure("write failed") }
  }

  /// Makes the new file durable and puts it in the target's place.
  func commit() throws {
    guard fsync(descriptor) == 0 else { throw failure("fsync failed") }
    let closed = close(descriptor)
    descriptor = -1
    guard closed == 0 else {
      unlink(temporary.path)
      throw TensorFileError.io(path: target.path, reason: "close failed: \(AtomicFileWriter.lastError())")
    }
    guard rename(temporary.path, target.path) == 0 else {
      let reason = AtomicFileWriter.lastError()
      unlink(temporary.path)
      throw TensorFileError.io(path: target.path, reason: "cannot replace the file: \(reason)")
    }
    // The rename is durable once the directory is.
    let folder = open(target.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if folder >= 0 {
      _ = fsync(folder)
      close(folder)
    }
  }

  private func failure(_ what: String) -> TensorFileError {
    .io(path: target.path, reason: "\(what) (the old file is kept): \(AtomicFileWriter.lastError())")
  }

  private static func lastError() -> String { String(cString: strerror(errno)) }

  /// Removes `prefix<pid>-<n>.tmp` files in `folder` whose writing process has ended.
  static func removeStaleTemporaries(in folder: URL, prefix: String) {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
    for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
      guard let pid = name.dropFirst(prefix.count).split(separator: "-").first.flatMap({ pid_t($0) }) else { continue }
      if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH {
        unlink(folder.appendingPathComponent(name).path)
      }
    }
  }
}

extension Tensor {
  /// Writes a file through `AtomicFileWriter`: `encode` writes the bytes, and the target is
  /// replaced only once they are all on disk. Any error leaves the old file as it was.
  static func writeAtomically(to url: URL, _ encode: (AtomicFileWriter) throws -> Void) throws {
    let writer = try AtomicFileWriter(replacing: url)
    try encode(writer)
    try writer.commit()
  }
}
