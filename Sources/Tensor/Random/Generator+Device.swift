import Foundation

// Devices' Philox generators: defaults per device, seeding, state, and drawing on the device.
extension Generator {
  private static let deviceLock = NSLock()
  nonisolated(unsafe) private static var deviceDefaults: [Device: Generator] = [:]
  /// The seed the next device default starts from: PyTorch's default seed until
  /// `Tensor.manualSeed` sets one.
  nonisolated(unsafe) private static var deviceSeed: UInt64 = 67_280_421_310_721

  /// The default generator of `device`: the process's Mersenne Twister for `.cpu` (or the
  /// one `withDefault` put in its place), else the device's own Philox generator, made on
  /// first use (PyTorch: `torch.default_generator`, `torch.cuda.default_generators[i]`).
  public static func `default`(for device: Device) -> Generator {
    if case .cpu = device { return global }
    return deviceLock.withLock {
      if let existing = deviceDefaults[device] { return existing }
      let made = Generator(device: device)
      made.manualSeed(deviceSeed)
      deviceDefaults[device] = made
      return made
    }
  }

  /// Seeds every device's default generator, and those made later (part of `Tensor.manualSeed`).
  static func seedDeviceGenerators(_ seed: UInt64) {
    deviceLock.withLock {
      deviceSeed = seed
      for generator in deviceDefaults.values { generator.manualSeed(seed) }
    }
  }

  /// `generator` (or the default one) for a draw on the host; stops, as PyTorch does, when it
  /// is a device's generator.
  static func host(_ generator: Generator?) -> Generator {
    let g = generator ?? global
    usageCheck(g.device == .cpu, "Expected a 'cpu' device type for generator but found '\(g.device.type)'")
    return g
  }

  /// The seed and offset of the next fill, advancing the offset.
  func reservePhiloxFill() -> (seed: UInt64, offset: UInt64) {
    lock.withLock {
      defer { philoxOffset &+= 1 }
      return (initialSeed, philoxOffset)
    }
  }

  /// A Philox generator's state: its seed and offset, 8 little-endian bytes each (the layout
  /// of PyTorch's `torch.cuda.get_rng_state()`).
  func philoxState() -> Tensor {
    let (seed, offset) = lock.withLock { (initialSeed, philoxOffset) }
    let bytes = [seed, offset].flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
    return Tensor(bytes, shape: [16])
  }

  /// Restores a state from `philoxState`.
  func setPhiloxState(_ saved: Tensor) {
    let bytes = saved.dtype == .uint8 ? saved.reshape(-1).toArray(UInt8.self) : []
    usageCheck(
      bytes.count == 16,
      "set_state: expected a uint8 tensor of 16 bytes (seed and offset) for the generator of \(device), got \(saved.dtype) of \(saved.numel) elements"
    )
    let words = [0, 8].map { start in (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[start + $1]) << (8 * UInt64($1)) } }
    lock.withLock {
      reseed(words[0])
      philoxOffset = words[1]
    }
  }
}

extension Tensor {
  /// Fills `self` from `distribution` on its device with the device's Philox generator (the
  /// given one, or the device's default); false for host tensors and when `generator` is the
  /// host's (which then draws on the host, and the values are copied over), so the caller
  /// draws on the host instead. Stops when the generator belongs to another device.
  func fillRandomOnDevice(_ distribution: RandomDistribution, generator: Generator?) -> Bool {
    if case .cpu = device { return false }
    if let generator, generator.device == .cpu { return false }
    let g = generator ?? Generator.default(for: device)
    usageCheck(
      g.device == device,
      "random fill: the generator belongs to \(g.device) but the tensor is on \(device); pass Generator.default(for: \(device)) or a Generator(device: \(device))"
    )
    let target = isContiguous ? self : Tensor.empty(shape, dtype: dtype, device: device)
    let (seed, offset) = g.reservePhiloxFill()
    guard backend.fillRandom(target, distribution, seed: seed, offset: offset) else { return false }
    if target !== self { backend.copy(target, into: self) }
    return true
  }
}
