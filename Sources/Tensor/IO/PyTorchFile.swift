import Foundation

/// PyTorch's own file format (`torch.save` since 1.6): a zip archive holding `data.pkl`, a
/// pickle of the saved object in which each tensor refers to a storage by key, and one member
/// `data/<key>` per storage with its raw little-endian bytes (64-byte aligned).
enum PyTorchFile {
  /// The storage class that `torch.save` names for each dtype.
  static func storageType(_ dtype: DType) -> String {
    Unpickler.storageTypes.first { $0.value == dtype }!.key
  }

  // MARK: Reading

  /// The object saved in the archive held by `bytes`.
  static func read(_ bytes: UnsafeRawBufferPointer, path: String) throws -> SavedValue {
    func fail(_ reason: String) -> TensorFileError { .malformed(path: path, reason: reason) }
    if bytes.count >= 2, bytes[0] == 0x80, bytes[1] <= 5 {
      throw fail(
        "this is a torch.save file in the legacy format (before PyTorch 1.6); load it in PyTorch and save it again")
    }
    let members = try Zip.members(bytes, path: path)
    guard
      let pickle = members.first(where: { $0.name.hasSuffix("/data.pkl") && $0.name.split(separator: "/").count == 2 })
    else {
      if members.contains(where: { $0.name.hasSuffix("constants.pkl") }) {
        throw fail(
          "this is a TorchScript archive (torch.jit.save), not a torch.save file; save the model's state_dict instead")
      }
      throw fail("the archive has no <name>/data.pkl member, so it was not written by torch.save")
    }
    let prefix = String(pickle.name.dropLast("data.pkl".count))
    var byName: [String: Zip.Member] = [:]
    for member in members { byName[member.name] = member }
    func contents(_ member: Zip.Member) throws -> [UInt8] {
      try Zip.read(member, of: bytes, path: "\(path)[\(member.name)]") { source in try source.read(member.size) }
    }
    if let order = byName[prefix + "byteorder"] {
      let text = String(decoding: try contents(order), as: UTF8.self)
      guard text == "little" else {
        throw fail(
          text == "big"
            ? "written on a big-endian machine (byteorder 'big'); only little-endian files are read: load it there and save it again"
            : "unknown byteorder '\(text)'")
      }
    }
    var storages: [String: Tensor] = [:]
    var unpickler = Unpickler(try contents(pickle), path: path) { key, dtype, count in
      if let known = storages[key] {
        guard known.dtype == dtype, known.numel == count else {
          throw fail("storage '\(key)' is read as \(dtype) x \(count) after \(known.dtype) x \(known.numel)")
        }
        return known
      }
      guard let member = byName[prefix + "data/" + key] else {
        throw fail("the storage '\(key)' has no data/\(key) member")
      }
      let (bytesNeeded, overflow) = count.multipliedReportingOverflow(by: dtype.itemSize)
      guard !overflow, bytesNeeded == member.size else {
        throw fail("storage '\(key)' should hold \(count) \(dtype) elements but its member has \(member.size) bytes")
      }
      let storage = try Tensor.allocatedForReading([count], dtype: dtype, path: "\(path)[\(member.name)]")
      try Zip.copy(member, of: bytes, path: "\(path)[\(member.name)]", into: storage.storage.data)
      storages[key] = storage
      return storage
    }
    return try unpickler.run()
  }

  // MARK: Writing

  /// A storage to write: a run of elements of one dtype, from a tensor's memory.
  private struct StorageEntry {
    var key: String
    var dtype: DType
    var start: UnsafeRawPointer
    var count: Int
    /// Keeps the memory alive until it is written.
    var owner: Tensor
  }

  /// Builds the pickle of an object and the storages its tensors use. Tensors on one CPU
  /// storage share it in the file (with their offsets and strides, as PyTorch saves views);
  /// tensors on another device, or on a mapped file, are written as contiguous copies.
  private struct Pickler {
    var out: [UInt8] = [0x80, 0x02]
    var storages: [StorageEntry] = []
    var keys: [String: String] = [:]

    mutating func string(_ s: String) {
      let utf8 = Array(s.utf8)
      out.append(0x58)
      withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { out.append(contentsOf: $0) }
      out.append(contentsOf: utf8)
    }

    mutating func int(_ v: Int) {
      if (0...255).contains(v) {
        out += [0x4B, UInt8(v)]
      } else if let small = Int32(exactly: v) {
        out.append(0x4A)
        withUnsafeBytes(of: small.littleEndian) { out.append(contentsOf: $0) }
      } else {
        out += [0x8A, 8]
        withUnsafeBytes(of: Int64(v).littleEndian) { out.append(contentsOf: $0) }
      }
    }

    mutating func global(_ module: String, _ name: String) {
      out.append(0x63)
      out.append(contentsOf: Array("\(module)\n\(name)\n".utf8))
    }

    mutating func tuple(_ items: [Int]) {
      if items.isEmpty {
        out.append(0x29)
        return
      }
      out.append(0x28)
      for v in items { int(v) }
      out.append(0x74)
    }

    mutating func value(_ saved: SavedValue) {
      switch saved {
      case .none: out.append(0x4E)
      case .bool(let b): out.append(b ? 0x88 : 0x89)
      case .int(let v): int(v)
      case .double(let d):
        out.append(0x47)
        withUnsafeBytes(of: d.bitPattern.bigEndian) { out.append(contentsOf: $0) }
      case .string(let s): string(s)
      case .bytes(let b):
        // Protocol 2 has no bytes opcode: PyTorch (and Python) write _codecs.encode(str, 'latin1').
        global("_codecs", "encode")
        string(String(String.UnicodeScalarView(b.map { Unicode.Scalar($0) })))
        string("latin1")
        out += [0x86, 0x52]
      case .tensor(let t): tensor(t)
      case .list(let items):
        out.append(0x5D)
        if !items.isEmpty {
          out.append(0x28)
          for item in items { value(item) }
          out.append(0x65)
        }
      case .tuple(let items):
        out.append(0x28)
        for item in items { value(item) }
        out.append(0x74)
      case .dict(let entries):
        out.append(0x7D)
        if !entries.isEmpty {
          out.append(0x28)
          for (k, v) in entries {
            value(k)
            value(v)
          }
          out.append(0x75)
        }
      }
    }

    mutating func tensor(_ original: Tensor) {
      var host = original.movedTo(.cpu)
      let key: String
      let offset: Int
      let strides: [Int]
      if host.storage.isFileMapping || host.device != original.device {
        host = host.contiguous()
        key = "\(storages.count)"
        storages.append(
          StorageEntry(
            key: key, dtype: host.dtype,
            start: UnsafeRawPointer(host.storage.data + host.layout.offset * host.dtype.itemSize),
            count: host.numel, owner: host))
        offset = 0
        strides = Layout.contiguousStrides(host.shape)
      } else {
        let identity = "\(ObjectIdentifier(host.storage).hashValue)/\(host.dtype)"
        if let known = keys[identity] {
          key = known
        } else {
          key = "\(storages.count)"
          keys[identity] = key
          storages.append(
            StorageEntry(
              key: key, dtype: host.dtype, start: UnsafeRawPointer(host.storage.data),
              count: host.storage.byteCount / host.dtype.itemSize, owner: host))
        }
        offset = host.layout.offset
        strides = host.layout.strides
      }
      let entry = storages[Int(key)!]
      global("torch._utils", "_rebuild_tensor_v2")
      out.append(0x28)
      out.append(0x28)
      string("storage")
      let storageClass = PyTorchFile.storageType(entry.dtype).split(separator: ".")
      global(String(storageClass[0]), String(storageClass[1]))
      string(key)
      string("cpu")
      int(entry.count)
      out += [0x74, 0x51]
      int(offset)
      tuple(host.shape)
      tuple(strides)
      out.append(0x89)
      global("collections", "OrderedDict")
      out += [0x29, 0x52, 0x74, 0x52]
    }
  }

  /// Writes `object` as a `torch.save` archive into `sink`.
  static func write<Sink: ByteSink>(_ object: SavedValue, into sink: inout Sink) throws {
    var pickler = Pickler()
    pickler.value(object)
    pickler.out.append(0x2E)
    var writer = Zip.Writer(into: sink, compress: false)
    let prefix = "archive/"
    func add(_ name: String, _ text: String) throws {
      try Array(text.utf8).withUnsafeBytes { try writer.add(name: prefix + name, pieces: [$0]) }
    }
    try pickler.out.withUnsafeBytes { try writer.add(name: prefix + "data.pkl", pieces: [$0]) }
    try add(".format_version", "1")
    try add(".storage_alignment", "64")
    try add("byteorder", "little")
    for entry in pickler.storages {
      let raw = UnsafeRawBufferPointer(start: entry.start, count: entry.count * entry.dtype.itemSize)
      try writer.add(name: prefix + "data/" + entry.key, pieces: [raw], alignment: 64)
      withExtendedLifetime(entry.owner) {}
    }
    try add("version", "3\n")
    try writer.finish()
    sink = writer.sink
  }
}

extension Tensor {
  /// Reads a state dict saved by `torch.save(model.state_dict(), path)` (a `.pt` or `.pth`
  /// file; PyTorch: `torch.load(path, weights_only=True)`), so that
  /// `try model.loadStateDict(Tensor.load(pt: url))` loads PyTorch's weights. Tensors that
  /// shared a storage in PyTorch share one here, with their offsets and strides; CUDA tensors
  /// load onto the CPU. Only what `weights_only=True` allows is read: any other global in the
  /// file throws a `TensorFileError` naming it, before anything runs. A file that holds more
  /// than a dict of tensors (a checkpoint with an epoch, say) throws and says to use
  /// `loadObject(pt:)`.
  public static func load(pt url: URL) throws -> [String: Tensor] {
    try stateDict(of: loadObject(pt: url), path: url.path)
  }

  /// Reads a state dict from the bytes of a `torch.save` file.
  public static func load(pt data: Data, path: String = "<memory>") throws -> [String: Tensor] {
    try stateDict(of: loadObject(pt: data, path: path), path: path)
  }

  /// Reads whatever `torch.save` stored (dicts, lists, tuples, numbers, strings, bytes and
  /// tensors, nested), as `torch.load(path, weights_only=True)` returns it.
  public static func loadObject(pt url: URL) throws -> SavedValue {
    try readFile(url) { try PyTorchFile.read($0, path: url.path) }
  }

  /// Reads whatever the bytes of a `torch.save` file hold.
  public static func loadObject(pt data: Data, path: String = "<memory>") throws -> SavedValue {
    try data.withUnsafeBytes { try PyTorchFile.read($0, path: path) }
  }

  /// Writes a state dict as a file that `torch.load(path, weights_only=True)` reads back
  /// (PyTorch: `torch.save(state_dict, path)`), replacing `url` atomically.
  public static func save(pt url: URL, _ stateDict: [String: Tensor]) throws {
    try save(pt: url, object: .stateDict(stateDict))
  }

  /// Writes any tree of values (a checkpoint with a model, an optimizer and an epoch) as a
  /// `torch.save` file, replacing `url` atomically. Views keep their storage, offset and
  /// strides; tensors on other devices are saved as CPU tensors.
  public static func save(pt url: URL, object: SavedValue) throws {
    try writeAtomically(to: url) { file in
      var sink = file
      try PyTorchFile.write(object, into: &sink)
    }
  }

  /// The bytes of a `torch.save` file holding `object`.
  public static func ptData(_ object: SavedValue) throws -> Data {
    var sink = MemorySink()
    try PyTorchFile.write(object, into: &sink)
    return sink.data
  }

  private static func stateDict(of object: SavedValue, path: String) throws -> [String: Tensor] {
    guard let entries = object.entries else {
      throw TensorFileError.malformed(
        path: path, reason: "holds a \(object.kindName), not a dict of tensors; use Tensor.loadObject(pt:) to read it")
    }
    var result: [String: Tensor] = [:]
    for (key, value) in entries {
      guard let name = key.string else {
        throw TensorFileError.malformed(
          path: path, reason: "holds a dict with a \(key.kindName) key; use Tensor.loadObject(pt:) to read it")
      }
      guard let t = value.tensor else {
        throw TensorFileError.malformed(
          path: path,
          reason: "entry '\(name)' is a \(value.kindName), not a tensor; this is not a plain state dict. "
            + "Use Tensor.loadObject(pt:) and take the part you need (for example checkpoint[\"\(name)\"])")
      }
      result[name] = t
    }
    return result
  }
}
