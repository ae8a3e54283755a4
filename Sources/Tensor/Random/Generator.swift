import Foundation

/// A random number generator: a Mersenne Twister (mt19937) seeded as PyTorch's CPU
/// generator, with PyTorch's transformations, so `Tensor.manualSeed(0); Tensor.rand(3)` gives
/// torch's numbers. Every random function takes one (`generator:`); without it they use the
/// process-wide default that `Tensor.manualSeed` seeds (PyTorch: `torch.Generator`).
///
/// ```swift
/// let g = Generator().manualSeed(42)
/// let a = Tensor.rand(3, generator: g)
/// ```
///
/// A generator of a device (`Generator(device: .cuda(0))`, and each device's default one,
/// `Generator.default(for:)`) is a counter-based Philox generator instead: a seed and an
/// offset that every fill advances, drawn on the device itself (see `Philox`), as PyTorch's
/// CUDA generators.
public final class Generator: @unchecked Sendable {
  /// The device whose tensors this generator fills: `.cpu` for the Mersenne Twister, a
  /// device for a Philox generator (PyTorch: `g.device`).
  public let device: Device
  /// A Philox generator's count of fills since seeding: the counter space of the next one.
  @exclusivity(unchecked) var philoxOffset: UInt64 = 0
  // The state is read and written only under `lock`; the runtime's dynamic exclusivity
  // checks on it cost more than the twister itself (a profile of `randn`).
  @exclusivity(unchecked) private var state = [UInt32](repeating: 0, count: 624)
  @exclusivity(unchecked) private var index = 624
  /// PyTorch caches the second Box-Muller sample of a scalar normal draw.
  @exclusivity(unchecked) private var nextNormal: Double?
  /// The seed of the last `manualSeed` (PyTorch: `g.initial_seed()`).
  public private(set) var initialSeed: UInt64 = 0
  let lock = NSLock()

  /// A generator seeded with PyTorch's default seed, 67280421310721
  /// (PyTorch: `torch.Generator()`).
  public convenience init() { self.init(seed: 67_280_421_310_721) }

  /// A generator seeded with `seed`.
  public init(seed: UInt64) {
    device = .cpu
    reseed(seed)
  }

  /// A generator for `device`'s tensors, seeded with PyTorch's default seed: the host's
  /// Mersenne Twister for `.cpu`, a Philox generator for a device (PyTorch:
  /// `torch.Generator(device="cuda")`).
  public init(device: Device) {
    self.device = device
    reseed(67_280_421_310_721)
  }

  /// Reseeds and returns the generator (PyTorch: `g.manual_seed(s)`).
  @discardableResult
  public func manualSeed(_ seed: UInt64) -> Generator {
    lock.withLock { reseed(seed) }
    return self
  }

  /// The generator's whole state as a uint8 tensor, for `setState` (PyTorch:
  /// `g.get_state()`; the bytes are this library's layout, not torch's).
  public func getState() -> Tensor {
    if device != .cpu { return philoxState() }
    return lock.withLock {
      var words: [UInt64] = [
        Generator.stateMagic, initialSeed, UInt64(index), nextNormal == nil ? 0 : 1, (nextNormal ?? 0).bitPattern,
      ]
      words += stride(from: 0, to: 624, by: 2).map { UInt64(state[$0]) | UInt64(state[$0 + 1]) << 32 }
      let bytes = words.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
      return Tensor(bytes, shape: [bytes.count])
    }
  }

  /// Restores a state from `getState` (PyTorch: `g.set_state(t)`); stops with a message for a
  /// tensor that is not one.
  public func setState(_ saved: Tensor) {
    if device != .cpu { return setPhiloxState(saved) }
    let bytes = saved.dtype == .uint8 ? saved.reshape(-1).toArray(UInt8.self) : []
    usageCheck(
      bytes.count == Generator.stateByteCount,
      "set_state: expected a uint8 tensor of \(Generator.stateByteCount) bytes from getState(), got \(saved.dtype) of \(saved.numel) elements"
    )
    let words = stride(from: 0, to: bytes.count, by: 8).map { start in
      (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[start + $1]) << (8 * UInt64($1)) }
    }
    usageCheck(
      words[0] == Generator.stateMagic && words[2] <= 624,
      "set_state: the tensor is not a generator state from getState()")
    lock.withLock {
      initialSeed = words[1]
      index = Int(words[2])
      nextNormal = words[3] == 0 ? nil : Double(bitPattern: words[4])
      for (k, word) in words[5...].enumerated() {
        state[2 * k] = UInt32(truncatingIfNeeded: word)
        state[2 * k + 1] = UInt32(truncatingIfNeeded: word >> 32)
      }
    }
  }

  private static let stateMagic: UInt64 = 0x5354_4D54_3139_3337  // "STMT1937"
  private static let stateByteCount = (5 + 312) * 8

  func reseed(_ seed: UInt64) {
    initialSeed = seed
    state[0] = UInt32(truncatingIfNeeded: seed)
    for i in 1..<624 {
      state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
    }
    index = 624
    nextNormal = nil
    philoxOffset = 0
  }

  /// The next 32 random bits.
  func next32() -> UInt32 {
    if index >= 624 { twist() }
    var y = state[index]
    index += 1
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C_5680
    y ^= (y << 15) & 0xEFC6_0000
    y ^= y >> 18
    return y
  }

  /// 64 random bits from two draws, high word first (PyTorch's `random64`).
  func next64() -> UInt64 {
    let hi = UInt64(next32())
    let lo = UInt64(next32())
    return (hi << 32) | lo
  }

  private func twist() {
    for i in 0..<624 {
      let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
      var v = state[(i + 397) % 624] ^ (y >> 1)
      if y & 1 != 0 { v ^= 0x9908_B0DF }
      state[i] = v
    }
    index = 0
  }

  /// A uniform float in [0, 1) with `bits` random bits: the mantissa width of the target
  /// type (24 for float32, 11 for float16, 8 for bfloat16), as PyTorch's `uniform_real`.
  func uniformFloat(bits: Int = 24) -> Float {
    Float(next32() & UInt32((1 << bits) - 1)) / Float(1 << bits)
  }

  /// A uniform double in [0, 1) with 53 random bits (PyTorch's double path).
  func uniformDouble() -> Double { Double(next64() & ((1 << 53) - 1)) * 0x1p-53 }

  /// A standard normal draw by Box-Muller in double, caching the sine half (PyTorch's
  /// `normal_distribution<double>`).
  func normalDouble() -> Double {
    if let cached = nextNormal {
      nextNormal = nil
      return cached
    }
    let u1 = uniformDouble()
    let u2 = uniformDouble()
    let r = (-2.0 * Foundation.log1p(-u2)).squareRoot()
    let theta = 2.0 * Double.pi * u1
    nextNormal = r * Foundation.sin(theta)
    return r * Foundation.cos(theta)
  }

  /// The process-wide default generator (PyTorch seeds it with a fixed value too).
  static let process = Generator()

  /// A generator that stands in for the default one on this thread or task
  /// (`withDefault(_:_:)`); a `DataLoader` worker draws from its own this way.
  @TaskLocal static var override: Generator?

  /// The default generator where the caller runs: the process's, unless `withDefault` put
  /// another in its place.
  static var global: Generator { override ?? process }

  /// Runs `body` with `generator` as the default generator of this thread or task, so that
  /// random ops given no generator (dropout, `rand`, random transforms) draw from it
  /// (a `DataLoader` worker runs with its own, seeded as PyTorch seeds a worker process).
  public static func withDefault<R>(_ generator: Generator, _ body: () throws -> R) rethrows -> R {
    try $override.withValue(generator) { try body() }
  }

  /// Draws 64 random bits, to seed another generator with (PyTorch:
  /// `torch.empty((), dtype=torch.int64).random_(generator=g)`, as `DataLoader` draws its
  /// base seed).
  public func drawSeed() -> UInt64 {
    lock.withLock { next64() }
  }
}

extension Tensor {
  /// Seeds the default random generator and every device's (PyTorch: `torch.manual_seed`).
  public static func manualSeed(_ seed: UInt64) {
    Generator.global.manualSeed(seed)
    Generator.seedDeviceGenerators(seed)
  }

  /// The default generator's state (PyTorch: `torch.get_rng_state()`).
  public static func getRNGState() -> Tensor { Generator.global.getState() }

  /// Restores the default generator's state (PyTorch: `torch.set_rng_state(t)`).
  public static func setRNGState(_ state: Tensor) { Generator.global.setState(state) }

  /// The default generator (PyTorch: `torch.default_generator`).
  public static var defaultGenerator: Generator { Generator.global }

  /// Fills a new CPU tensor of `shape` with values drawn by `draw` in row-major order.
  static func randomCPU(_ shape: [Int], dtype: DType, generator: Generator?, _ draw: (Generator) -> Double) -> Tensor {
    // Drawn straight into a float64 tensor (no array and copy of it): the one conversion to
    // `dtype` happens where the values land.
    let values = Tensor(uninitializedShape: shape, dtype: .float64, device: .cpu)
    let g = Generator.host(generator)
    values.withUnsafeMutableBufferPointer(as: Double.self) { buffer in
      g.lock.withLock {
        for i in buffer.indices { buffer[i] = draw(g) }
      }
    }
    return values.to(dtype)
  }

  /// Standard normal values as PyTorch's CPU `normal_` draws them: fewer than 16 values
  /// come one by one from the double Box-Muller; 16 or more are made from uniform floats
  /// (of the tensor's type) transformed in blocks of 16.
  static func normalValues(count: Int, dtype: DType, mean: Double, std: Double, generator: Generator?) -> [Double] {
    let g = Generator.host(generator)
    return g.lock.withLock {
      if count < 16 {
        return (0..<count).map { _ in g.normalDouble() * std + mean }
      }
      let useDouble = dtype == .float64
      var data = (0..<count).map { _ in useDouble ? g.uniformDouble() : Double(g.uniformFloat()) }
      func block(_ start: Int) {
        for j in 0..<8 {
          let u1 = 1 - data[start + j]
          let u2 = data[start + j + 8]
          let radius = (-2 * Foundation.log(u1)).squareRoot()
          let theta = 2.0 * Double.pi * u2
          if useDouble {
            data[start + j] = radius * Foundation.cos(theta) * std + mean
            data[start + j + 8] = radius * Foundation.sin(theta) * std + mean
          } else {
            // PyTorch computes this block in float.
            let r = (-2 * Foundation.logf(Float(u1))).squareRoot()
            let t = Float(2.0 * Double.pi * u2)
            data[start + j] = Double(r * Foundation.cosf(t) * Float(std) + Float(mean))
            data[start + j + 8] = Double(r * Foundation.sinf(t) * Float(std) + Float(mean))
          }
        }
      }
      var i = 0
      while i + 16 <= count {
        block(i)
        i += 16
      }
      if count % 16 != 0 {
        // Recompute the last 16 from fresh uniforms, as PyTorch does for the tail.
        let start = count - 16
        for j in 0..<16 { data[start + j] = useDouble ? g.uniformDouble() : Double(g.uniformFloat()) }
        block(start)
      }
      return data
    }
  }
}
