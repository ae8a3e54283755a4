/// A value as `torch.save` stores it and `torch.load(weights_only=True)` returns it: tensors,
/// numbers, strings and bytes, nested in dicts, lists and tuples. `Tensor.loadObject(pt:)`
/// reads one, `Tensor.save(pt:object:)` writes one (a checkpoint with `model`, `optimizer`
/// and `epoch`, for instance). Literals build trees:
///
///     let checkpoint: SavedValue = ["model": .stateDict(model.stateDict()), "epoch": 3]
public enum SavedValue {
  /// Python's `None`.
  case none
  /// A `bool`.
  case bool(Bool)
  /// An `int` (that fits in 64 bits).
  case int(Int)
  /// A `float`.
  case double(Double)
  /// A `str`.
  case string(String)
  /// A `bytes` object.
  case bytes([UInt8])
  /// A tensor (or a `Parameter`, read as its tensor).
  case tensor(Tensor)
  /// A `list`.
  case list([SavedValue])
  /// A `tuple` (or a `torch.Size`).
  case tuple([SavedValue])
  /// A `dict` or `OrderedDict`, in its order.
  case dict([(key: SavedValue, value: SavedValue)])

  /// A dict of tensors by name, keys sorted (the form of `state_dict()`).
  public static func stateDict(_ tensors: [String: Tensor]) -> SavedValue {
    .dict(tensors.keys.sorted().map { (key: .string($0), value: .tensor(tensors[$0]!)) })
  }

  /// The tensor, when this is one.
  public var tensor: Tensor? {
    if case .tensor(let t) = self { return t }
    return nil
  }

  /// The integer, when this is one.
  public var int: Int? {
    if case .int(let v) = self { return v }
    return nil
  }

  /// The number as a `Double`, when this is an `int` or a `float`.
  public var double: Double? {
    switch self {
    case .double(let v): v
    case .int(let v): Double(v)
    default: nil
    }
  }

  /// The string, when this is one.
  public var string: String? {
    if case .string(let v) = self { return v }
    return nil
  }

  /// The bool, when this is one.
  public var bool: Bool? {
    if case .bool(let v) = self { return v }
    return nil
  }

  /// The elements of a list or a tuple.
  public var elements: [SavedValue]? {
    switch self {
    case .list(let items), .tuple(let items): items
    default: nil
    }
  }

  /// The entries of a dict, in order.
  public var entries: [(key: SavedValue, value: SavedValue)]? {
    if case .dict(let entries) = self { return entries }
    return nil
  }

  /// The value under a string key of a dict (`nil` when this is not a dict or lacks it).
  public subscript(key: String) -> SavedValue? {
    entries?.first { $0.key.string == key }?.value
  }

  /// The value under an integer key of a dict (an optimizer's per-parameter `state`).
  public subscript(intKey key: Int) -> SavedValue? {
    entries?.first { $0.key.int == key }?.value
  }

  /// A dict whose keys are all strings and whose values are all tensors, as a state dict;
  /// `nil` otherwise.
  public var tensorDict: [String: Tensor]? {
    guard let entries else { return nil }
    var result: [String: Tensor] = [:]
    for (key, value) in entries {
      guard let name = key.string, let t = value.tensor else { return nil }
      result[name] = t
    }
    return result
  }

  /// What kind of value this is, in Python's words (for messages).
  public var kindName: String {
    switch self {
    case .none: "None"
    case .bool: "bool"
    case .int: "int"
    case .double: "float"
    case .string: "str"
    case .bytes: "bytes"
    case .tensor: "Tensor"
    case .list: "list"
    case .tuple: "tuple"
    case .dict: "dict"
    }
  }
}

extension SavedValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
  ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
  /// An `int`.
  public init(integerLiteral value: Int) { self = .int(value) }
  /// A `float`.
  public init(floatLiteral value: Double) { self = .double(value) }
  /// A `str`.
  public init(stringLiteral value: String) { self = .string(value) }
  /// A `bool`.
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  /// A `list`.
  public init(arrayLiteral elements: SavedValue...) { self = .list(elements) }
  /// A `dict` in the literal's order.
  public init(dictionaryLiteral elements: (SavedValue, SavedValue)...) {
    self = .dict(elements.map { (key: $0.0, value: $0.1) })
  }
  /// `None`.
  public init(nilLiteral: ()) { self = .none }
}
