// Factories with `requiresGrad:`, as PyTorch's `requires_grad=` keyword.

extension Tensor {
  /// A tensor from a (nested) array literal that requires grad when asked
  /// (PyTorch: `torch.tensor(data, requires_grad=True)`).
  public convenience init<Data: NestedTensorData>(
    _ data: Data, dtype: DType? = nil, device: Device = .cpu, requiresGrad: Bool
  ) {
    self.init(data, dtype: dtype, device: device)
    self.requiresGrad = requiresGrad
  }

  /// A tensor from flat data and a shape that requires grad when asked.
  public convenience init<T: TensorElement>(
    _ data: [T], shape: [Int], dtype: DType? = nil, device: Device = .cpu, requiresGrad: Bool
  ) {
    self.init(data, shape: shape, dtype: dtype, device: device)
    self.requiresGrad = requiresGrad
  }

  private func requiring(_ flag: Bool) -> Tensor {
    if flag { requiresGrad = true }
    return self
  }

  /// Zeros that require grad when asked.
  public static func zeros(_ shape: Int..., dtype: DType = .float32, device: Device = .cpu, requiresGrad: Bool)
    -> Tensor
  {
    zeros(shape, dtype: dtype, device: device).requiring(requiresGrad)
  }
  /// Ones that require grad when asked.
  public static func ones(_ shape: Int..., dtype: DType = .float32, device: Device = .cpu, requiresGrad: Bool) -> Tensor
  {
    ones(shape, dtype: dtype, device: device).requiring(requiresGrad)
  }
  /// An uninitialised tensor that requires grad when asked.
  public static func empty(_ shape: Int..., dtype: DType = .float32, device: Device = .cpu, requiresGrad: Bool)
    -> Tensor
  {
    empty(shape, dtype: dtype, device: device).requiring(requiresGrad)
  }
  /// `value` everywhere, requiring grad when asked.
  public static func full(
    _ shape: [Int], _ value: some ScalarConvertible, dtype: DType? = nil, device: Device = .cpu, requiresGrad: Bool
  ) -> Tensor {
    full(shape, value, dtype: dtype, device: device).requiring(requiresGrad)
  }
  /// Uniform samples that require grad when asked.
  public static func rand(_ shape: Int..., dtype: DType = .float32, device: Device = .cpu, requiresGrad: Bool) -> Tensor
  {
    rand(shape, dtype: dtype, device: device).requiring(requiresGrad)
  }
  /// Normal samples that require grad when asked (PyTorch: `torch.randn(5, 5, requires_grad=True)`).
  public static func randn(_ shape: Int..., dtype: DType = .float32, device: Device = .cpu, requiresGrad: Bool)
    -> Tensor
  {
    randn(shape, dtype: dtype, device: device).requiring(requiresGrad)
  }
  /// Normal samples of `shape` that require grad when asked.
  public static func randn(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu, requiresGrad: Bool) -> Tensor
  {
    randn(shape, dtype: dtype, device: device).requiring(requiresGrad)
  }
  /// Evenly spaced values that require grad when asked.
  public static func linspace(
    _ start: Double, _ end: Double, count: Int, dtype: DType = .float32, device: Device = .cpu, requiresGrad: Bool
  ) -> Tensor {
    linspace(start, end, count: count, dtype: dtype, device: device).requiring(requiresGrad)
  }
  /// Zeros shaped like `other` that require grad when asked.
  public static func zeros(like other: Tensor, dtype: DType? = nil, device: Device? = nil, requiresGrad: Bool) -> Tensor
  {
    zeros(like: other, dtype: dtype, device: device).requiring(requiresGrad)
  }
  /// Ones shaped like `other` that require grad when asked.
  public static func ones(like other: Tensor, dtype: DType? = nil, device: Device? = nil, requiresGrad: Bool) -> Tensor
  {
    ones(like: other, dtype: dtype, device: device).requiring(requiresGrad)
  }
  /// Normal samples shaped like `other` that require grad when asked.
  public static func randn(like other: Tensor, dtype: DType? = nil, device: Device? = nil, requiresGrad: Bool) -> Tensor
  {
    randn(like: other, dtype: dtype, device: device).requiring(requiresGrad)
  }
  /// Uniform samples shaped like `other` that require grad when asked.
  public static func rand(like other: Tensor, dtype: DType? = nil, device: Device? = nil, requiresGrad: Bool) -> Tensor
  {
    rand(like: other, dtype: dtype, device: device).requiring(requiresGrad)
  }
}
