import Autograd

/// Root-mean-square normalization over the trailing dims, then a per-element scale
/// (PyTorch: `nn.RMSNorm`; `eps` nil means the dtype's machine epsilon).
public final class RMSNorm: Module {
  /// Per-element scale (ones at first), or nil without `elementwiseAffine`.
  public var weight: Tensor?
  let normalizedShape: [Int]
  let eps: Double?

  /// Normalizes over trailing dims of `normalizedShape`.
  public init(_ normalizedShape: [Int], eps: Double? = nil, elementwiseAffine: Bool = true) {
    self.normalizedShape = normalizedShape
    self.eps = eps
    weight = elementwiseAffine ? Tensor.ones(normalizedShape).requiresGrad_() : nil
  }

  /// Applies the normalization.
  public override func forward(_ x: Tensor) -> Tensor {
    Functional.rmsNorm(x, normalizedShape: normalizedShape, weight: weight, eps: eps)
  }
}

extension Functional {
  /// `x / sqrt(mean(x²) + eps) * weight` over the trailing `normalizedShape` dims (PyTorch:
  /// `F.rms_norm`; `eps` nil means the dtype's machine epsilon).
  public static func rmsNorm(_ x: Tensor, normalizedShape: [Int], weight: Tensor? = nil, eps: Double? = nil) -> Tensor {
    if let cast = Autocast.run(
      .float32OnDevices, [x, weight], { c in rmsNorm(c[0]!, normalizedShape: normalizedShape, weight: c[1], eps: eps) })
    {
      return cast
    }
    usageCheck(
      Array(x.shape.suffix(normalizedShape.count)) == normalizedShape,
      "rms_norm: normalized_shape \(normalizedShape) does not match the trailing dims of input of shape \(x.shape)")
    let epsilon =
      eps
      ?? (x.dtype == .float64
        ? Double.ulpOfOne
        : x.dtype == .float16 ? 0.0009765625 : x.dtype == .bfloat16 ? 0.0078125 : Double(Float.ulpOfOne))
    let dims = Array((x.dim - normalizedShape.count)..<x.dim)
    let y = x * ((x * x).mean(dim: dims, keepdim: true) + epsilon).rsqrt()
    return weight.map { y * $0 } ?? y
  }

  /// GELU, exact (erf) or with PyTorch's tanh approximation
  /// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x³)))` (PyTorch: `F.gelu(x, approximate=)`).
  public static func gelu(_ x: Tensor, approximate: GELU.Approximation = .none) -> Tensor {
    switch approximate {
    case .none: return x.gelu()
    case .tanh: return x * 0.5 * (((x + x * x * x * 0.044715) * 0.7978845608028654).tanh() + 1)
    }
  }

  /// The rows of `weight` at `indices` (PyTorch: `F.embedding`); the row at `paddingIdx`
  /// gets no gradient.
  public static func embedding(_ indices: Tensor, weight: Tensor, paddingIdx: Int? = nil) -> Tensor {
    usageCheck(
      indices.dtype == .int64 || indices.dtype == .int32,
      "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got \(indices.dtype.scalarTypeName) instead (while checking arguments for embedding)"
    )
    let rows = weight[indices]
    guard let paddingIdx else { return rows }
    let keep = (indices .!= paddingIdx).unsqueeze(-1)
    return Tensor.where(keep, rows, weight.detach()[indices])
  }
}

/// Returns its input (PyTorch: `nn.Identity`).
public final class Identity: Module {
  /// Creates the layer.
  public override init() {}
  /// Returns `x` itself.
  public override func forward(_ x: Tensor) -> Tensor { x }
}

/// Submodules by name, in insertion order (PyTorch: `nn.ModuleDict`); parameters are named
/// `key.param`.
public final class ModuleDict: Module {
  private var entries: [(key: String, module: Module)] = []

  /// A dictionary of `modules`, in the given order.
  public init(_ modules: KeyValuePairs<String, Module> = [:]) {
    super.init()
    for (key, module) in modules { self[key] = module }
  }

  /// The module at `key`; assigning adds it (or replaces it in place).
  public subscript(key: String) -> Module? {
    get { entries.first { $0.key == key }?.module }
    set {
      if let index = entries.firstIndex(where: { $0.key == key }) {
        if let newValue { entries[index].module = newValue } else { entries.remove(at: index) }
      } else if let newValue {
        entries.append((key, newValue))
      }
    }
  }

  /// The keys, in order.
  public var keys: [String] { entries.map(\.key) }
  /// How many modules there are.
  public var count: Int { entries.count }

  /// Children named by key.
  public override func namedChildren() -> [(String, Module)] { entries.map { ($0.key, $0.module) } }

  /// A container has no computation of its own.
  public override func forward(_ input: Tensor) -> Tensor {
    usageFailure("ModuleDict has no forward; call one of its modules, e.g. dict[\"\(keys.first ?? "name")\"]!(x)")
  }
}
