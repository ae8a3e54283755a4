import Foundation
import TestSupport
import Testing

@testable import Tensor

/// `torch.save` files: the committed ones in Fixtures/pt (written by `Scripts/pt_interop.py
/// fixtures`), and a round trip through a live PyTorch when the interop Python has torch.
@Suite struct PyTorchFileTests {
  static let folder = Fixtures().directory.appendingPathComponent("pt")
  static let script = Interop.packageRoot.appendingPathComponent("Scripts/pt_interop.py")
  static let dtypes: [(String, DType)] = [
    ("f32", .float32), ("f64", .float64), ("f16", .float16), ("bf16", .bfloat16), ("i64", .int64), ("i32", .int32),
    ("i16", .int16), ("i8", .int8), ("u8", .uint8), ("bool", .bool),
  ]

  static func file(_ name: String) -> URL { folder.appendingPathComponent(name) }

  static func reference(_ dtype: DType) -> Tensor { Tensor.arange(12).view(3, 4).to(dtype) }

  static func message(_ body: () throws -> Void) -> String {
    do {
      try body()
      return "no error"
    } catch {
      return "\(error)"
    }
  }

  @Test func readsEveryDType() throws {
    let loaded = try Tensor.load(pt: Self.file("dtypes.pt"))
    #expect(loaded.count == Self.dtypes.count)
    for (key, dtype) in Self.dtypes {
      let t = try #require(loaded[key], "\(key)")
      #expect(t.dtype == dtype, "\(key)")
      #expect(t.shape == [3, 4])
      #expect(t.toArray(Double.self) == Self.reference(dtype).toArray(Double.self), "\(key)")
    }
  }

  @Test func viewsKeepTheirStorageOffsetAndStrides() throws {
    let v = try Tensor.load(pt: Self.file("views.pt"))
    let base = try #require(v["base"])
    #expect(base.toArray(Float.self) == (0..<24).map(Float.init))
    #expect(v["row"]!.toArray(Float.self) == [6, 7, 8, 9, 10, 11])
    #expect(v["column"]!.toArray(Float.self) == [2, 8, 14, 20])
    #expect(v["column"]!.layout.strides == [6])
    #expect(v["stepped"]!.shape == [2, 2] && v["stepped"]!.layout.strides == [12, 3])
    #expect(v["stepped"]!.toArray(Float.self) == [1, 4, 13, 16])
    #expect(v["transposed"]!.layout.strides == [1, 6])
    #expect(
      v["expanded"]!.layout.strides == [0, 1]
        && v["expanded"]!.toArray(Float.self) == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])
    #expect(v["tail"]!.toArray(Int64.self) == [6, 7, 8, 9])
    #expect(v["tail"]!.layout.offset == 6)
    // One storage, as in PyTorch: writing through the base shows in every view.
    base[1, 0].fill_(100)
    #expect(v["row"]!.toArray(Float.self)[0] == 100)
    #expect(v["transposed"]![0, 1].item(Float.self) == 100)
  }

  @Test func readsACheckpointTree() throws {
    let c = try Tensor.loadObject(pt: Self.file("checkpoint.pt"))
    #expect(c["epoch"]?.int == 3)
    #expect(c["loss"]?.double == 0.25)
    #expect(c["name"]?.string == "run")
    #expect(c["shape"]?.elements?.compactMap(\.int) == [2, 3])
    if case .tuple(let tags) = c["tags"] {
      #expect(tags.count == 3 && tags[0].string == "a" && tags[1].int == 1)
      if case .none = tags[2] {} else { Issue.record("None became \(tags[2])") }
    } else {
      Issue.record("tags is not a tuple")
    }
    if case .bytes(let b) = c["blob"] { #expect(b == [0, 255]) } else { Issue.record("blob is not bytes") }
    #expect(c["big"]?.int == -(1 << 40))
    #expect(c["flag"]?.bool == false)
    #expect(c["dtype"]?.string == "torch.float32")
    #expect(c["device"]?.string == "cpu")
    #expect(c["nested"]?.elements?[1]["k"]?.elements?.first?.double == 1.5)
    let model = try #require(c["model"]?.tensorDict)
    #expect(
      Set(model.keys) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
      ])
    #expect(model["1.num_batches_tracked"]?.shape == [] && model["1.num_batches_tracked"]?.item(Int64.self) == 1)
    // The optimizer's state dict: per-parameter state keyed by integers, and its groups.
    let optimizer = try #require(c["optimizer"])
    #expect(optimizer["state"]?[intKey: 0]?["momentum_buffer"]?.tensor?.shape == [2, 3])
    let group = try #require(optimizer["param_groups"]?.elements?.first)
    #expect(group["lr"]?.double == 0.1 && group["momentum"]?.double == 0.9)
    #expect(group["params"]?.elements?.compactMap(\.int) == [0, 1, 2, 3])
    // A state dict entry point refuses the tree, saying what to use.
    let refusal = Self.message { _ = try Tensor.load(pt: Self.file("checkpoint.pt")) }
    #expect(
      refusal.contains("entry 'model' is a dict, not a tensor") && refusal.contains("Tensor.loadObject(pt:)"),
      "\(refusal)")
  }

  @Test func readsParametersAndEmptyTensors() throws {
    let items = try #require(try Tensor.loadObject(pt: Self.file("parameters.pt")).elements)
    #expect(items.count == 2)
    #expect(items[0].tensor?.toArray(Float.self) == [1, 1])
    #expect(items[1].tensor?.shape == [0, 3])
  }

  @Test func refusesGlobalsThatWeightsOnlyRefuses() {
    let m = Self.message { _ = try Tensor.loadObject(pt: Self.file("evil.pt")) }
    #expect(m.contains("refuses the global 'posix.system'"), "\(m)")
    #expect(m.contains("weights_only=True"), "\(m)")
  }

  @Test func refusesLegacyAndBigEndianFiles() {
    let legacy = Self.message { _ = try Tensor.load(pt: Self.file("legacy.pt")) }
    #expect(legacy.contains("legacy format"), "\(legacy)")
    let big = Self.message { _ = try Tensor.load(pt: Self.file("big_endian.pt")) }
    #expect(big.contains("big-endian"), "\(big)")
  }

  @Test func roundTripsTreesViewsAndDTypes() throws {
    let base = Tensor.arange(24).float().view(4, 6)
    let tree: SavedValue = [
      "views": ["row": .tensor(base[1]), "t": .tensor(base.t()), "base": .tensor(base)],
      "dtypes": .stateDict(Dictionary(uniqueKeysWithValues: Self.dtypes.map { ($0.0, Self.reference($0.1)) })),
      "n": -5, "big": .int(Int.min), "x": 0.1, "s": "é", "b": .bytes([0, 128, 255]), "none": nil, "yes": true,
      "tuple": .tuple([1, "two"]), 7: [1, 2],
    ]
    let back = try Tensor.loadObject(pt: try Tensor.ptData(tree))
    let views = try #require(back["views"]?.tensorDict)
    #expect(views["t"]!.layout.strides == [1, 6] && views["row"]!.layout.offset == 6)
    #expect(views["row"]!.storage === views["base"]!.storage)
    #expect(views["t"]!.contiguous().toArray(Float.self) == base.t().contiguous().toArray(Float.self))
    for (key, dtype) in Self.dtypes {
      #expect(back["dtypes"]?[key]?.tensor?.dtype == dtype)
      #expect(back["dtypes"]?[key]?.tensor?.toArray(Double.self) == Self.reference(dtype).toArray(Double.self))
    }
    #expect(back["n"]?.int == -5 && back["big"]?.int == Int.min && back["x"]?.double == 0.1 && back["s"]?.string == "é")
    if case .bytes(let b) = back["b"] { #expect(b == [0, 128, 255]) } else { Issue.record("bytes lost") }
    #expect(back["yes"]?.bool == true && back["tuple"]?.elements?.last?.string == "two")
    #expect(back[intKey: 7]?.elements?.compactMap(\.int) == [1, 2])
  }

  @Test func corruptFilesThrow() throws {
    let good = try Data(contentsOf: Self.file("dtypes.pt"))
    // Truncated anywhere, a wrong magic number, or bytes flipped: a TensorFileError, never a crash.
    for cut in [0, 1, 10, 100, good.count / 2, good.count - 30, good.count - 1] {
      #expect(throws: TensorFileError.self) { _ = try Tensor.loadObject(pt: good.prefix(cut)) }
    }
    var wrongMagic = good
    wrongMagic[0] = 0x51
    #expect(throws: TensorFileError.self) { _ = try Tensor.loadObject(pt: wrongMagic) }
    // Corrupt pickles inside a valid archive: unknown opcodes, huge lengths, huge storages.
    func archive(_ pickle: [UInt8], storage: [UInt8] = []) throws -> Data {
      var entries = [Zip.Entry(name: "a/data.pkl", data: Data(pickle))]
      if !storage.isEmpty { entries.append(Zip.Entry(name: "a/data/0", data: Data(storage))) }
      return try Zip.write(entries, compress: false)
    }
    let cases: [([UInt8], String)] = [
      ([0x80, 0x02, 0xFF], "unknown or unsupported pickle opcode 0xFF"),
      ([0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F], "runs past the end"),
      ([0x80, 0x02, 0x2E], "empty stack"),
      ([0x80, 0x02, 0x68, 0x05, 0x2E], "memo entry 5"),
      ([0x80, 0x02, 0x75, 0x2E], "needs a MARK"),
      ([0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E], "contain themselves"),
      ([0x80, 0x02, 0x4E, 0x4E, 0x52, 0x2E], "REDUCE needs an argument tuple"),
      ([0x80, 0x02] + Array("cbuiltins\neval\n".utf8), "refuses the global 'builtins.eval'"),
    ]
    for (pickle, expected) in cases {
      let m = Self.message { _ = try Tensor.loadObject(pt: try archive(pickle)) }
      #expect(m.contains(expected), "\(expected): \(m)")
    }
    // A storage that claims 2^60 elements: refused from the member's size, nothing allocated.
    var huge: [UInt8] = [0x80, 0x02] + Array("ctorch._utils\n_rebuild_tensor_v2\n".utf8) + [0x28, 0x28]
    huge += [0x58, 7, 0, 0, 0] + Array("storage".utf8) + Array("ctorch\nFloatStorage\n".utf8)
    huge +=
      [0x58, 1, 0, 0, 0, 0x30, 0x58, 3, 0, 0, 0] + Array("cpu".utf8) + [0x8A, 8, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x74, 0x51]
    huge += [0x4B, 0, 0x4B, 4, 0x85, 0x4B, 1, 0x85, 0x89, 0x29, 0x74, 0x52, 0x2E]
    let m = Self.message { _ = try Tensor.loadObject(pt: try archive(huge, storage: [0, 0, 0, 0])) }
    #expect(m.contains("should hold 1152921504606846976 torch.float32 elements but its member has 4 bytes"), "\(m)")
  }

  @Test(.enabled(if: Interop.torchPython != nil, "needs python3 with torch (.ci/run installs it)"))
  func pyTorchReadsWhatSwiftWrites() throws {
    let scratch = ScratchFolder()
    defer { scratch.cleanUp() }
    try Tensor.save(
      pt: scratch.file("swift_dtypes.pt"),
      Dictionary(uniqueKeysWithValues: Self.dtypes.map { ($0.0, Self.reference($0.1)) }))
    let base = Tensor.arange(24).float().view(4, 6)
    try Tensor.save(
      pt: scratch.file("swift_views.pt"),
      [
        "base": base, "row": base[1], "column": base[TensorIndex.all, 2],
        "stepped": base[TensorIndex.stride(by: 2), TensorIndex.slice(1, nil, 3)],
        "transposed": base.t(), "expanded": Tensor.arange(3).float().expand(4, 3), "tail": Tensor.arange(10)[6...],
      ])
    let checkpoint: SavedValue = [
      "epoch": 7, "lr": 0.5, "name": "swift", "flag": true, "none": nil, "tuple": 0, "tags": .tuple(["a", -3]),
      "big": .int(-(1 << 40)), "blob": .bytes([0, 127, 255]),
      "model": .stateDict(["w": Tensor([[1, 2], [3, 4]] as [[Float]])]),
      "state": [0: ["momentum": .tensor(Tensor([0.5, -0.5], dtype: .float64))]], "list": [1, 2.5, "x"],
    ]
    try Tensor.save(pt: scratch.file("swift_checkpoint.pt"), object: checkpoint)
    // Fixtures written by this PyTorch read the same as the committed ones.
    let result = try Interop.run(Interop.torchPython!, [Self.script.path, "check", scratch.url.path])
    #expect(result.status == 0, "\(result.output)")
    let fresh = try Interop.run(Interop.torchPython!, [Self.script.path, "fixtures", scratch.url.path])
    try #require(fresh.status == 0, "\(fresh.output)")
    let loaded = try Tensor.load(pt: scratch.file("dtypes.pt"))
    for (key, dtype) in Self.dtypes {
      #expect(loaded[key]?.toArray(Double.self) == Self.reference(dtype).toArray(Double.self))
    }
  }
}
