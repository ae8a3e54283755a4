/// Where a tensor's memory lives (PyTorch: `torch.device`).
public enum Device: Sendable, Hashable, CustomStringConvertible {
  /// Host memory.
  case cpu
  /// The CUDA device with the given ordinal.
  case cuda(Int)
  /// A test device with the given ordinal (`TestDevice.deviceCount` of them): host memory
  /// behind a backend and allocator of its own, so that code which moves tensors between
  /// devices (autograd across devices, `Module.to`, optimizers, data loading) can be tested
  /// on a machine without a GPU. Ops run the CPU's kernels; moves, the same-device checks and
  /// the memory statistics behave as on a separate device.
  case test(Int)

  /// Parses PyTorch's spelling (`torch.device("cuda:1")`): `cpu`, `cuda`, `cuda:N`, `test`,
  /// `test:N`; a kind without an ordinal means ordinal 0. `nil` for anything else.
  public init?(_ description: String) {
    let parts = description.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
    let ordinal: Int
    if parts.count == 2 {
      guard let n = Int(parts[1]), n >= 0, parts[1].allSatisfy(\.isNumber) else { return nil }
      ordinal = n
    } else {
      ordinal = 0
    }
    switch parts[0] {
    case "cpu" where parts.count == 1 || ordinal == 0: self = .cpu
    case "cuda": self = .cuda(ordinal)
    case "test": self = .test(ordinal)
    default: return nil
    }
  }

  /// PyTorch's spelling: `cpu`, `cuda:0`; the test device is `test:0`.
  public var description: String {
    switch self {
    case .cpu: "cpu"
    case .cuda(let i): "cuda:\(i)"
    case .test(let i): "test:\(i)"
    }
  }

  /// The device's kind without its ordinal: `cpu`, `cuda`, `test` (PyTorch: `device.type`).
  public var type: String {
    switch self {
    case .cpu: "cpu"
    case .cuda: "cuda"
    case .test: "test"
    }
  }

  /// Whether this is a CUDA device.
  public var isCUDA: Bool { if case .cuda = self { true } else { false } }
}
