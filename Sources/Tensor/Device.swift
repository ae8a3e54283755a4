/// Where a tensor's memory lives (PyTorch: `torch.device`).
public enum Device: Sendable, Hashable, CustomStringConvertible {
  /// Host memory.
  case cpu
  /// The CUDA device with the given ordinal.
  case cuda(Int)

  /// PyTorch's spelling: `cpu`, `cuda:0`.
  public var description: String {
    switch self {
    case .cpu: "cpu"
    case .cuda(let i): "cuda:\(i)"
    }
  }

  /// Whether this is a CUDA device.
  public var isCUDA: Bool { if case .cuda = self { true } else { false } }
}
