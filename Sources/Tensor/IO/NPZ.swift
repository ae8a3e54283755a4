import Foundation

extension Tensor {
  /// Reads the arrays of an `.npz` archive, written by `np.savez` (stored) or
  /// `np.savez_compressed` (deflated), keyed by name without `.npy` (NumPy: `np.load`).
  /// With `keys`, only those arrays are read (and inflated), as NumPy's lazy `NpzFile`
  /// reads only the members you index; a key the archive lacks throws.
  ///
  /// The file is mapped and each member is inflated straight into its tensor, so reading
  /// costs the tensors' memory and no more; no member inflates past its declared size.
  public static func load(npz url: URL, keys: Set<String>? = nil) throws -> [String: Tensor] {
    try readFile(url) { try loadNPZ($0, keys: keys, path: url.path) }
  }

  /// Reads the arrays of `.npz` bytes (all of them, or those named in `keys`).
  public static func load(npz data: Data, keys: Set<String>? = nil, path: String = "<memory>") throws -> [String:
    Tensor]
  {
    try data.withUnsafeBytes { try loadNPZ($0, keys: keys, path: path) }
  }

  /// Decodes the members of an archive held in `bytes`.
  static func loadNPZ(
    _ bytes: UnsafeRawBufferPointer, keys: Set<String>?, path: String, pieceSize: Int = 1 << 30
  ) throws -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    for member in try Zip.members(bytes, path: path) {
      let key = member.name.hasSuffix(".npy") ? String(member.name.dropLast(4)) : member.name
      if let keys, !keys.contains(key) { continue }
      let memberPath = "\(path)[\(member.name)]"
      result[key] = try Zip.read(member, of: bytes, path: memberPath, pieceSize: pieceSize) { source in
        try NPY.decode(from: &source, totalSize: member.size, path: memberPath)
      }
    }
    if let keys, let missing = keys.subtracting(result.keys).sorted().first {
      throw TensorFileError.malformed(
        path: path, reason: "the archive has no array '\(missing)' (it has \(result.count) of those asked for)")
    }
    return result
  }

  /// Writes tensors as an `.npz` archive, deflated when `compressed`
  /// (NumPy: `np.savez` / `np.savez_compressed`). Each tensor's data is streamed from its
  /// storage (deflated in pieces, so members over 4 GiB work), and the file is replaced
  /// atomically.
  public static func save(npz url: URL, _ tensors: [String: Tensor], compressed: Bool = false) throws {
    try writeAtomically(to: url) { file in
      var sink = file
      try writeNPZ(tensors, compressed: compressed, into: &sink, path: url.path)
    }
  }

  /// The bytes of an `.npz` archive holding `tensors`.
  public static func npzData(_ tensors: [String: Tensor], compressed: Bool = false) throws -> Data {
    var sink = MemorySink()
    try writeNPZ(tensors, compressed: compressed, into: &sink, path: "<memory>")
    return sink.data
  }

  /// Writes an `.npz` archive of `tensors` into `sink`, deflating in pieces of at most
  /// `pieceSize` bytes (tests lower it).
  static func writeNPZ<Sink: ByteSink>(
    _ tensors: [String: Tensor], compressed: Bool, into sink: inout Sink, path: String, pieceSize: Int = 1 << 30
  ) throws {
    var writer = Zip.Writer(into: sink, compress: compressed, pieceSize: pieceSize)
    for key in tensors.keys.sorted() {
      let host = tensors[key]!.movedTo(.cpu).contiguous()
      let header = try NPY.header(shape: host.shape, dtype: host.dtype, path: "\(path)[\(key)]")
      try header.withUnsafeBytes { try writer.add(name: key + ".npy", pieces: [$0, host.rawBytes]) }
    }
    try writer.finish()
    sink = writer.sink
  }

  /// Maps a file read-only and hands its bytes to `body`; throws an `io` error that says why
  /// when it cannot be opened, and `malformed` for an empty file.
  static func readFile<R>(_ url: URL, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
    let file = try MappedFile(url, mapping: .readOnly)
    defer { file.unmap() }
    return try body(file.bytes)
  }
}
