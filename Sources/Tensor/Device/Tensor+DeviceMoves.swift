extension Device {
  /// Loads this device's backend and checks that the device exists, or throws a
  /// `DeviceError` with the reason: the runtime's (no driver, an ordinal past the device
  /// count), or the missing `CUDA` trait (PyTorch: `torch.cuda.init()`, which happens on first
  /// use there too). Moves call it; `Module.to` calls it so that a model can move before any
  /// tensor has. The CPU and test devices always pass.
  public func prepare() throws { _ = try BackendRegistry.backend(for: self) }
}

extension Tensor {
  /// A copy on `device` (or `self` when it is already there); throws when the device cannot
  /// be used, with the runtime's reason, or has no memory for the copy (PyTorch:
  /// `x.to("cuda:0")`). The move is recorded for autograd (`ToCopyBackward0`): gradients flow
  /// back to this tensor's device.
  public func to(_ target: Device) throws -> Tensor { try to(target, nonBlocking: false) }

  /// A copy on `device`; with `nonBlocking`, a copy between pinned host memory and a GPU is
  /// queued on the current stream and the call returns at once (PyTorch:
  /// `x.to(device, non_blocking=True)`): synchronize the stream (or record and wait for an
  /// event) before the host reads a copied-back result or writes the pinned source. Other
  /// copies, and every copy on devices without streams, finish before the call returns.
  public func to(_ target: Device, nonBlocking: Bool) throws -> Tensor {
    if target == device { return self }
    try target.prepare()
    return try moved(to: target, nonBlocking: nonBlocking)
  }

  /// A copy on CUDA device `index` (PyTorch: `x.cuda()`); `nonBlocking` as in `to(_:nonBlocking:)`.
  public func cuda(_ index: Int = 0, nonBlocking: Bool = false) throws -> Tensor {
    try to(.cuda(index), nonBlocking: nonBlocking)
  }

  /// A copy in host memory (PyTorch: `x.cpu()`).
  public func cpu() throws -> Tensor { try to(.cpu) }

  /// A copy of this host tensor in pinned (page-locked) memory, which `device` copies from
  /// directly (PyTorch: `x.pin_memory()`); `self` when already pinned. Throws when the device
  /// cannot be used (without a GPU, pin for the test device: `pinMemory(device: .test(0))`).
  public func pinMemory(device: Device = .cuda(0)) throws -> Tensor {
    try device.prepare()
    return try pinned(for: device)
  }
}
