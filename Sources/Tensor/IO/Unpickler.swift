/// A restricted unpickler for the `data.pkl` of a `torch.save` archive. It runs the pickle
/// virtual machine (protocols 2 to 5) over a closed set of globals: the ones
/// `torch.load(weights_only=True)` allows that stand for tensors, containers and numbers.
/// Any other global is refused by name before anything is called, so a file cannot make the
/// reader run code; every length is checked against the bytes present, and containers that
/// nest deeper than `maximumDepth` (or refer to themselves) throw.
struct Unpickler {
  /// Reads the storage a persistent id names: its key, its element type and element count.
  typealias StorageLoader = (_ key: String, _ dtype: DType, _ count: Int) throws -> Tensor

  /// A list or dict while it is being filled (pickles fill containers after making them,
  /// and may refer to one from several places through the memo).
  final class ListBox {
    var items: [Object] = []
  }
  final class DictBox {
    var entries: [(key: Object, value: Object)] = []
  }

  /// A value on the pickle machine's stack.
  enum Object {
    case value(SavedValue)
    case list(ListBox)
    case tuple([Object])
    case dict(DictBox)
    /// An allowed global, by its dotted name.
    case global(String)
    /// A storage from a persistent id.
    case storage(Tensor)
  }

  static let maximumDepth = 512

  /// Storage classes of the legacy typed storages that `torch.save` names in persistent ids.
  static let storageTypes: [String: DType] = [
    "torch.FloatStorage": .float32, "torch.DoubleStorage": .float64, "torch.HalfStorage": .float16,
    "torch.BFloat16Storage": .bfloat16, "torch.LongStorage": .int64, "torch.IntStorage": .int32,
    "torch.ShortStorage": .int16, "torch.CharStorage": .int8, "torch.ByteStorage": .uint8, "torch.BoolStorage": .bool,
  ]

  /// Globals this reader calls (the callables of tensors and containers).
  static let callables: Set<String> = [
    "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state", "_codecs.encode", "torch.Size", "builtins.set", "builtins.frozenset",
    "torch.device",
  ]

  /// `torch.float32` and the other dtypes, which a checkpoint may hold as values (read as
  /// their names).
  static let dtypeNames: Set<String> = [
    "torch.float32", "torch.float64", "torch.float16", "torch.bfloat16", "torch.int64", "torch.int32", "torch.int16",
    "torch.int8", "torch.uint8", "torch.bool", "torch.complex64", "torch.complex128",
  ]

  /// Globals that `torch.load(weights_only=True)` accepts but that stand for things this
  /// library has no form for, with what they are.
  static let unsupportedButSafe: [String: String] = [
    "torch._utils._rebuild_sparse_tensor": "a sparse tensor",
    "torch._utils._rebuild_sparse_csr_tensor": "a sparse tensor",
    "torch._utils._rebuild_qtensor": "a quantized tensor",
    "torch._utils._rebuild_nested_tensor": "a nested tensor",
    "torch._utils._rebuild_meta_tensor_no_storage": "a tensor on the meta device",
    "torch._utils._rebuild_wrapper_subclass": "a tensor subclass",
    "torch._utils._rebuild_device_tensor_from_numpy": "a tensor rebuilt from NumPy",
    "torch._utils._rebuild_tensor_v3": "a tensor with a dtype outside its storage",
    "torch._tensor._rebuild_from_type_v2": "a tensor subclass",
    "torch.serialization._get_layout": "a sparse layout",
    "torch.nn.parameter.Parameter": "a Parameter built by its class",
    "torch.Tensor": "a tensor built by its class",
    "builtins.complex": "a complex number",
    "builtins.bytearray": "a bytearray",
    "torch.ComplexFloatStorage": "a complex tensor",
    "torch.ComplexDoubleStorage": "a complex tensor",
    "torch.QInt8Storage": "a quantized tensor",
    "torch.QUInt8Storage": "a quantized tensor",
    "torch.QInt32Storage": "a quantized tensor",
    "torch.UntypedStorage": "an untyped storage",
  ]

  let bytes: [UInt8]
  let path: String
  let loadStorage: StorageLoader
  private var position = 0
  private var stack: [Object] = []
  private var marks: [Int] = []
  private var memo: [Int: Object] = [:]

  init(_ bytes: [UInt8], path: String, loadStorage: @escaping StorageLoader) {
    self.bytes = bytes
    self.path = path
    self.loadStorage = loadStorage
  }

  private func fail(_ reason: String) -> TensorFileError {
    .malformed(path: path, reason: "data.pkl: \(reason)")
  }

  // MARK: Reading the byte stream

  private mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
    guard count >= 0, count <= bytes.count - position else {
      throw fail("a \(count)-byte field at offset \(position) runs past the end (\(bytes.count) bytes)")
    }
    defer { position += count }
    return bytes[position..<(position + count)]
  }

  private mutating func unsigned(_ width: Int) throws -> UInt64 {
    try take(width).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
  }

  private mutating func line() throws -> String {
    guard let end = bytes[position...].firstIndex(of: 0x0A) else {
      throw fail("a text field at offset \(position) has no end")
    }
    defer { position = end + 1 }
    return String(decoding: bytes[position..<end], as: UTF8.self)
  }

  private mutating func text(lengthWidth: Int) throws -> String {
    let length = try unsigned(lengthWidth)
    guard length <= UInt64(bytes.count - position) else { throw fail("a string of \(length) bytes runs past the end") }
    return String(decoding: try take(Int(length)), as: UTF8.self)
  }

  private mutating func binary(lengthWidth: Int) throws -> [UInt8] {
    let length = try unsigned(lengthWidth)
    guard length <= UInt64(bytes.count - position) else {
      throw fail("a bytes field of \(length) bytes runs past the end")
    }
    return Array(try take(Int(length)))
  }

  // MARK: The stack

  private mutating func pop() throws -> Object {
    guard let top = stack.popLast(), stack.count >= (marks.last ?? 0) else {
      throw fail("an opcode at offset \(position - 1) pops from an empty stack")
    }
    return top
  }

  private mutating func popToMark() throws -> [Object] {
    guard let mark = marks.popLast(), mark <= stack.count else {
      throw fail("an opcode at offset \(position - 1) needs a MARK")
    }
    defer { stack.removeSubrange(mark...) }
    return Array(stack[mark...])
  }

  private mutating func push(_ value: SavedValue) { stack.append(.value(value)) }

  // MARK: Running

  /// Runs the pickle to its STOP and returns the value it leaves.
  mutating func run() throws -> SavedValue {
    while true {
      let opcode = try take(1).first!
      switch opcode {
      case 0x80:  // PROTO
        let version = try take(1).first!
        guard version <= 5 else { throw fail("pickle protocol \(version) is newer than 5") }
      case 0x95: _ = try take(8)  // FRAME: a length hint
      case 0x2E:  // STOP
        let result = try pop()
        var budget = 16 * bytes.count + 1024
        return try finished(result, depth: 0, budget: &budget)
      case 0x28: marks.append(stack.count)  // MARK
      case 0x4E: push(.none)  // NONE
      case 0x88: push(.bool(true))  // NEWTRUE
      case 0x89: push(.bool(false))  // NEWFALSE
      case 0x4A: push(.int(Int(Int32(truncatingIfNeeded: try unsigned(4)))))  // BININT
      case 0x4B: push(.int(Int(try unsigned(1))))  // BININT1
      case 0x4D: push(.int(Int(try unsigned(2))))  // BININT2
      case 0x8A: push(.int(try long(Int(try unsigned(1)))))  // LONG1
      case 0x8B: push(.int(try long(Int(clamping: try unsigned(4)))))  // LONG4
      case 0x49:  // INT (protocol 0): also True and False as I01 / I00
        let literal = try line()
        if literal == "01" || literal == "00" {
          push(.bool(literal == "01"))
        } else {
          guard let v = Int(literal) else { throw fail("INT '\(literal)' is not an integer") }
          push(.int(v))
        }
      case 0x47: push(.double(Double(bitPattern: try take(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))  // BINFLOAT
      case 0x58: push(.string(try text(lengthWidth: 4)))  // BINUNICODE
      case 0x8C: push(.string(try text(lengthWidth: 1)))  // SHORT_BINUNICODE
      case 0x8D: push(.string(try text(lengthWidth: 8)))  // BINUNICODE8
      case 0x54: push(.string(try text(lengthWidth: 4)))  // BINSTRING (Python 2)
      case 0x55: push(.string(try text(lengthWidth: 1)))  // SHORT_BINSTRING
      case 0x42: push(.bytes(try binary(lengthWidth: 4)))  // BINBYTES
      case 0x43: push(.bytes(try binary(lengthWidth: 1)))  // SHORT_BINBYTES
      case 0x8E: push(.bytes(try binary(lengthWidth: 8)))  // BINBYTES8
      case 0x7D: stack.append(.dict(DictBox()))  // EMPTY_DICT
      case 0x5D: stack.append(.list(ListBox()))  // EMPTY_LIST
      case 0x29: stack.append(.tuple([]))  // EMPTY_TUPLE
      case 0x8F: stack.append(.list(ListBox()))  // EMPTY_SET (read as a list)
      case 0x74: stack.append(.tuple(try popToMark()))  // TUPLE
      case 0x85: stack.append(.tuple([try pop()]))  // TUPLE1
      case 0x86:  // TUPLE2
        let b = try pop()
        let a = try pop()
        stack.append(.tuple([a, b]))
      case 0x87:  // TUPLE3
        let c = try pop()
        let b = try pop()
        let a = try pop()
        stack.append(.tuple([a, b, c]))
      case 0x6C:  // LIST
        let box = ListBox()
        box.items = try popToMark()
        stack.append(.list(box))
      case 0x64:  // DICT
        let items = try popToMark()
        let box = DictBox()
        try addPairs(items, to: box)
        stack.append(.dict(box))
      case 0x91:  // FROZENSET
        let box = ListBox()
        box.items = try popToMark()
        stack.append(.list(box))
      case 0x61:  // APPEND
        let item = try pop()
        try list(on: stack.last).items.append(item)
      case 0x65, 0x90:  // APPENDS, ADDITEMS
        let items = try popToMark()
        try list(on: stack.last).items.append(contentsOf: items)
      case 0x73:  // SETITEM
        let value = try pop()
        let key = try pop()
        try dict(on: stack.last).entries.append((key, value))
      case 0x75:  // SETITEMS
        let items = try popToMark()
        try addPairs(items, to: try dict(on: stack.last))
      case 0x71: memo[Int(try unsigned(1))] = try peek()  // BINPUT
      case 0x72: memo[Int(try unsigned(4))] = try peek()  // LONG_BINPUT
      case 0x94: memo[memo.count] = try peek()  // MEMOIZE
      case 0x68: try pushMemo(Int(try unsigned(1)))  // BINGET
      case 0x6A: try pushMemo(Int(try unsigned(4)))  // LONG_BINGET
      case 0x63:  // GLOBAL
        let module = try line()
        let name = try line()
        stack.append(try global(module: module, name: name))
      case 0x93:  // STACK_GLOBAL
        guard case .value(.string(let name)) = try pop(), case .value(.string(let module)) = try pop() else {
          throw fail("STACK_GLOBAL needs a module and a name")
        }
        stack.append(try global(module: module, name: name))
      case 0x51:  // BINPERSID
        stack.append(try persistent(try pop()))
      case 0x52, 0x81:  // REDUCE, NEWOBJ
        let arguments = try pop()
        let callable = try pop()
        guard case .tuple(let args) = arguments else { throw fail("REDUCE needs an argument tuple") }
        guard case .global(let name) = callable else {
          throw fail("REDUCE calls something that is not an allowed global")
        }
        stack.append(try call(name, args))
      case 0x62:  // BUILD: the state of an OrderedDict (its _metadata) or of a Parameter
        _ = try pop()
        switch stack.last {
        case .dict, .value(.tensor): break
        default: throw fail("BUILD sets the state of something other than a dict or a tensor")
        }
      case 0x30: _ = try pop()  // POP
      case 0x31: _ = try popToMark()  // POP_MARK
      case 0x32: stack.append(try peek())  // DUP
      default:
        throw fail(String(format: "unknown or unsupported pickle opcode 0x%02X at offset %d", opcode, position - 1))
      }
    }
  }

  /// A little-endian two's-complement integer of `count` bytes (LONG1, LONG4).
  private mutating func long(_ count: Int) throws -> Int {
    let digits = try take(count)
    guard count <= 8 else {
      // Wider encodings are fine when they only sign-extend a 64-bit value.
      let head = digits.prefix(8)
      let rest = digits.dropFirst(8)
      let fill: UInt8 = (head.last ?? 0) & 0x80 != 0 ? 0xFF : 0
      guard rest.allSatisfy({ $0 == fill }) else { throw fail("an integer of \(count) bytes does not fit in 64 bits") }
      return Int(bitPattern: UInt(head.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }))
    }
    guard count > 0 else { return 0 }
    var value = digits.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    if count < 8, digits.last! & 0x80 != 0 { value |= ~UInt64(0) << UInt64(8 * count) }
    return Int(bitPattern: UInt(value))
  }

  private func peek() throws -> Object {
    guard let top = stack.last else { throw fail("an opcode at offset \(position - 1) reads an empty stack") }
    return top
  }

  private mutating func pushMemo(_ index: Int) throws {
    guard let value = memo[index] else { throw fail("memo entry \(index) is read before it is written") }
    stack.append(value)
  }

  private func list(on object: Object?) throws -> ListBox {
    guard case .list(let box) = object else { throw fail("APPEND on something that is not a list") }
    return box
  }

  private func dict(on object: Object?) throws -> DictBox {
    guard case .dict(let box) = object else { throw fail("SETITEM on something that is not a dict") }
    return box
  }

  private func addPairs(_ items: [Object], to box: DictBox) throws {
    guard items.count % 2 == 0 else { throw fail("a dict's items come as an odd number of keys and values") }
    for i in stride(from: 0, to: items.count, by: 2) { box.entries.append((items[i], items[i + 1])) }
  }

  // MARK: Globals

  private func global(module: String, name: String) throws -> Object {
    let dotted = "\(module).\(name)"
    if Self.callables.contains(dotted) || Self.storageTypes[dotted] != nil { return .global(dotted) }
    if Self.dtypeNames.contains(dotted) { return .value(.string(dotted)) }
    if let what = Self.unsupportedButSafe[dotted] {
      throw fail(
        "holds \(what) ('\(dotted)'), which this library cannot represent; only dense tensors of its dtypes are read")
    }
    throw fail(
      "refuses the global '\(dotted)': torch.load(weights_only=True) does not allow it either, and loading it would run "
        + "code from the file. Only tensors, containers, numbers and strings are read; re-save the object as a state dict"
    )
  }

  /// Turns a persistent id `('storage', StorageType, key, location, count)` into the storage.
  private func persistent(_ id: Object) throws -> Object {
    guard case .tuple(let fields) = id, fields.count >= 5, case .value(.string("storage")) = fields[0],
      case .global(let typeName) = fields[1], let dtype = Self.storageTypes[typeName],
      case .value(.string(let key)) = fields[2], case .value(.int(let count)) = fields[4], count >= 0
    else { throw fail("a persistent id is not a ('storage', type, key, location, size) tuple") }
    return .storage(try loadStorage(key, dtype, count))
  }

  private func int(_ object: Object, _ what: String) throws -> Int {
    guard case .value(.int(let v)) = object else { throw fail("\(what) is not an integer") }
    return v
  }

  private func ints(_ object: Object, _ what: String) throws -> [Int] {
    guard case .tuple(let items) = object else { throw fail("\(what) is not a tuple") }
    return try items.map { try int($0, what) }
  }

  private func call(_ name: String, _ args: [Object]) throws -> Object {
    switch name {
    case "collections.OrderedDict":
      let box = DictBox()
      if let pairs = args.first {
        guard case .list(let items) = pairs else {
          throw fail("OrderedDict is called with something other than a list")
        }
        for item in items.items {
          guard case .tuple(let pair) = item, pair.count == 2 else { throw fail("OrderedDict's items are not pairs") }
          box.entries.append((pair[0], pair[1]))
        }
      }
      return .dict(box)
    case "torch._utils._rebuild_tensor_v2":
      guard args.count >= 4, case .storage(let storage) = args[0] else {
        throw fail("_rebuild_tensor_v2 needs (storage, offset, size, stride, ...)")
      }
      return .value(
        .tensor(
          try view(
            storage, offset: int(args[1], "a storage offset"), shape: ints(args[2], "a size"),
            strides: ints(args[3], "a stride"))))
    case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
      guard let data = args.first, case .value(.tensor) = data else { throw fail("\(name) needs a tensor") }
      return data
    case "_codecs.encode":
      guard args.count == 2, case .value(.string(let text)) = args[0], case .value(.string(let encoding)) = args[1]
      else {
        throw fail("_codecs.encode needs a string and an encoding")
      }
      if encoding == "latin1" || encoding == "latin-1" {
        let scalars = text.unicodeScalars.map(\.value)
        guard scalars.allSatisfy({ $0 < 256 }) else { throw fail("bytes encoded as latin1 hold a character past 255") }
        return .value(.bytes(scalars.map { UInt8($0) }))
      }
      return .value(.bytes(Array(text.utf8)))
    case "torch.Size", "builtins.set", "builtins.frozenset":
      guard let items = args.first else { return name == "torch.Size" ? .tuple([]) : .list(ListBox()) }
      switch items {
      case .tuple(let t):
        return name == "torch.Size"
          ? .tuple(t)
          : {
            let b = ListBox()
            b.items = t
            return .list(b)
          }()
      case .list(let box): return name == "torch.Size" ? .tuple(box.items) : .list(box)
      default: throw fail("\(name) is called with something that is not a sequence")
      }
    case "torch.device":
      guard case .value(.string(let kind)) = args.first else { throw fail("torch.device needs a string") }
      if args.count > 1, case .value(.int(let index)) = args[1] { return .value(.string("\(kind):\(index)")) }
      return .value(.string(kind))
    default:
      throw fail("'\(name)' cannot be called")
    }
  }

  /// The tensor `_rebuild_tensor_v2` describes: a view of `storage` (a 1-D tensor of its
  /// elements), checked to lie inside it.
  private func view(_ storage: Tensor, offset: Int, shape: [Int], strides: [Int]) throws -> Tensor {
    guard shape.count == strides.count, offset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 })
    else {
      throw fail("a tensor of size \(shape), stride \(strides), offset \(offset) is not a valid view")
    }
    guard Layout.byteCount(ofContiguous: shape, itemSize: storage.dtype.itemSize) != nil else {
      throw fail("a tensor of size \(shape) overflows")
    }
    if !shape.contains(0) {
      var last = offset
      for (size, stride) in zip(shape, strides) {
        let (step, o1) = (size - 1).multipliedReportingOverflow(by: stride)
        let (sum, o2) = last.addingReportingOverflow(step)
        guard !o1, !o2 else { throw fail("a tensor of size \(shape), stride \(strides) overflows") }
        last = sum
      }
      guard last < storage.numel else {
        throw fail(
          "a tensor of size \(shape), stride \(strides), offset \(offset) reaches element \(last) of a storage of \(storage.numel)"
        )
      }
    }
    return Tensor(
      storage: storage.storage, layout: Layout(shape: shape, strides: strides, offset: offset), dtype: storage.dtype)
  }

  /// The public value of a finished object; containers are copied out of their boxes.
  /// `budget` bounds the values made, so that a container shared many times over (a pickle
  /// can refer to one object from everywhere) cannot blow up into an exponential copy.
  private func finished(_ object: Object, depth: Int, budget: inout Int) throws -> SavedValue {
    budget -= 1
    guard depth < Self.maximumDepth, budget >= 0 else {
      throw fail(
        "containers nest deeper than \(Self.maximumDepth) levels, contain themselves, or repeat one another too often")
    }
    switch object {
    case .value(let v): return v
    case .list(let box): return .list(try box.items.map { try finished($0, depth: depth + 1, budget: &budget) })
    case .tuple(let items): return .tuple(try items.map { try finished($0, depth: depth + 1, budget: &budget) })
    case .dict(let box):
      return .dict(
        try box.entries.map {
          (
            key: try finished($0.key, depth: depth + 1, budget: &budget),
            value: try finished($0.value, depth: depth + 1, budget: &budget)
          )
        })
    case .global(let name): throw fail("the result holds the global '\(name)' itself, not a value")
    case .storage: throw fail("the result holds a bare storage, not a tensor")
    }
  }
}
