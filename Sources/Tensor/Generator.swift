import Foundation

/// A Mersenne Twister (mt19937) seeded as PyTorch's CPU generator, with PyTorch's
/// transformations, so `Tensor.manualSeed(0); Tensor.rand(3)` gives torch's numbers.
final class Generator: @unchecked Sendable {
  private var state = [UInt32](repeating: 0, count: 624)
  private var index = 624
  /// PyTorch caches the second Box-Muller sample of a scalar normal draw.
  private var nextNormal: Double?
  let lock = NSLock()

  init(seed: UInt64) { reseed(seed) }

  func reseed(_ seed: UInt64) {
    state[0] = UInt32(truncatingIfNeeded: seed)
    for i in 1..<624 {
      state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
    }
    index = 624
    nextNormal = nil
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
  static let global = Generator(seed: 67_280_421_310_721)
}

extension Tensor {
  /// Seeds the default random generator (PyTorch: `torch.manual_seed`).
  public static func manualSeed(_ seed: UInt64) {
    Generator.global.lock.withLock { Generator.global.reseed(seed) }
  }

  /// Fills a new CPU tensor of `shape` with values drawn by `draw` in row-major order.
  static func randomCPU(_ shape: [Int], dtype: DType, _ draw: (Generator) -> Double) -> Tensor {
    let count = Layout.numel(of: shape)
    var values = [Double](repeating: 0, count: count)
    Generator.global.lock.withLock {
      for i in 0..<count { values[i] = draw(Generator.global) }
    }
    return Tensor(flat: values, shape: shape).to(dtype)
  }

  /// Standard normal values as PyTorch's CPU `normal_` draws them: fewer than 16 values
  /// come one by one from the double Box-Muller; 16 or more are made from uniform floats
  /// (of the tensor's type) transformed in blocks of 16.
  static func normalValues(count: Int, dtype: DType, mean: Double, std: Double) -> [Double] {
    let g = Generator.global
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
