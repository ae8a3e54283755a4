import Foundation

/// A distribution that a device generates its random numbers from (`Backend.fillRandom`).
package enum RandomDistribution: Sendable, Equatable {
  /// Uniform on `[from, to)` (`rand`, `uniform_`, dropout's mask).
  case uniform(from: Double, to: Double)
  /// Normal with `mean` and `std` (`randn`, `normal_`).
  case normal(mean: Double, std: Double)
  /// 1 with probability `p`, else 0 (`bernoulli(p:)`).
  case bernoulli(p: Double)
}

/// The counter-based generator of devices (Philox4x32-10, Salmon et al., "Parallel Random
/// Numbers: As Easy as 1, 2, 3", SC 2011): a pure function of a 128-bit counter and a 64-bit
/// key, so every element of a tensor can be drawn in parallel, on any thread, in any order.
///
/// The stream of one fill (`fill(_:_:seed:offset:)`) — what the CUDA kernels compute and what
/// the test device computes with this reference, so that the two agree:
/// - key = (low, high) 32 bits of the generator's seed; counter = (block low, block high,
///   offset low, offset high), where the offset is the generator's call count (each fill
///   uses counters of its own) and block `b` gives the 4 words `w0...w3` of one Philox call.
/// - float32, float16, bfloat16 and every non-float type: block `b` makes elements `4b ..< 4b+4`;
///   element `4b+k` takes the uniform `u_k = (w_k & 0xFFFFFF) * 2^-24` in `float`. Uniform:
///   `fma(u, to - from, from)` in float, `from` where that rounds to `to` (after rounding to
///   the tensor's type). Normal: Box-Muller on the pairs (u0, u1) and (u2, u3):
///   `r = sqrt(-2 log(1 - u_even))`, `theta = 2 pi u_odd`, `r cos(theta)` then `r sin(theta)`,
///   then `fma(z, std, mean)`, in float. Bernoulli: `u_k < p` (as doubles).
/// - float64: block `b` makes elements `2b` and `2b+1`; element `2b+j` takes the uniform
///   `((w_{2j+1} << 32 | w_{2j}) & (2^53 - 1)) * 2^-53`, and the same transforms in double.
///
/// Uniform and Bernoulli values are bit-identical on every device; normal values agree to the
/// last bits of `log`, `sin` and `cos`, which differ between math libraries.
package enum Philox {
  /// The words of one Philox4x32-10 call.
  package static func block(counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32)) -> (
    UInt32, UInt32, UInt32, UInt32
  ) {
    var (c0, c1, c2, c3) = counter
    var (k0, k1) = key
    for round in 0..<10 {
      if round > 0 {
        k0 &+= 0x9E37_79B9
        k1 &+= 0xBB67_AE85
      }
      let p0 = UInt64(0xD251_1F53) &* UInt64(c0)
      let p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
      (c0, c1, c2, c3) = (
        UInt32(truncatingIfNeeded: p1 >> 32) ^ c1 ^ k0, UInt32(truncatingIfNeeded: p1),
        UInt32(truncatingIfNeeded: p0 >> 32) ^ c3 ^ k1, UInt32(truncatingIfNeeded: p0)
      )
    }
    return (c0, c1, c2, c3)
  }

  /// Elements one Philox call makes for `dtype`: 2 for float64, else 4.
  package static func elementsPerBlock(_ dtype: DType) -> Int { dtype == .float64 ? 2 : 4 }

  /// The 4 words of block `index` of the fill at `offset` with `seed`.
  static func words(_ index: Int, seed: UInt64, offset: UInt64) -> [UInt32] {
    let w = block(
      counter: (
        UInt32(truncatingIfNeeded: index), UInt32(truncatingIfNeeded: UInt64(index) >> 32),
        UInt32(truncatingIfNeeded: offset), UInt32(truncatingIfNeeded: offset >> 32)
      ),
      key: (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
    return [w.0, w.1, w.2, w.3]
  }

  /// The values of the first `count` elements of a fill, as `Double`s of the tensor's
  /// precision (computed in float for every type but float64, before rounding to the type).
  package static func values(count: Int, dtype: DType, _ distribution: RandomDistribution, seed: UInt64, offset: UInt64)
    -> [Double]
  {
    let perBlock = elementsPerBlock(dtype)
    var out = [Double](repeating: 0, count: count)
    for b in 0..<((count + perBlock - 1) / perBlock) {
      let w = words(b, seed: seed, offset: offset)
      let block = dtype == .float64 ? doubleBlock(w, distribution) : floatBlock(w, distribution, dtype)
      for k in 0..<perBlock where b * perBlock + k < count { out[b * perBlock + k] = block[k] }
    }
    return out
  }

  /// Writes a fill into contiguous `dst` (the test device's `fillRandom`).
  package static func fill(_ dst: Tensor, _ distribution: RandomDistribution, seed: UInt64, offset: UInt64) {
    let drawn = Tensor(
      flat: values(count: dst.numel, dtype: dst.dtype, distribution, seed: seed, offset: offset), shape: dst.shape)
    CPUBackend.shared.copy(drawn, into: dst)
  }

  /// `value` rounded to `dtype`'s precision (float16 and bfloat16 to nearest even).
  static func rounded(_ value: Float, to dtype: DType) -> Float {
    switch dtype {
    case .float16: Float(Float16(value))
    case .bfloat16: BFloat16(value).floatValue
    default: value
    }
  }

  /// 2 pi rounded to the nearest float, as the kernels' literal (`2 * Float.pi` is one ulp
  /// smaller: Swift rounds `pi` toward zero).
  static let twoPi32 = Float(6.283_185_307_179_586)

  private static func floatBlock(_ w: [UInt32], _ distribution: RandomDistribution, _ dtype: DType) -> [Double] {
    let u = w.map { Float($0 & 0xFF_FFFF) * 0x1p-24 }
    switch distribution {
    case .uniform(let from, let to):
      let (low, high) = (Float(from), Float(to))
      return u.map { u in
        let v = rounded(low.addingProduct(u, Float(to - from)), to: dtype)
        return Double(v >= high ? rounded(low, to: dtype) : v)
      }
    case .normal(let mean, let std):
      var z = [Float](repeating: 0, count: 4)
      for pair in 0..<2 {
        let r = (-2 * Foundation.logf(1 - u[2 * pair])).squareRoot()
        let theta = twoPi32 * u[2 * pair + 1]
        z[2 * pair] = r * Foundation.cosf(theta)
        z[2 * pair + 1] = r * Foundation.sinf(theta)
      }
      return z.map { Double(Float(mean).addingProduct($0, Float(std))) }
    case .bernoulli(let p):
      return u.map { Double($0) < p ? 1 : 0 }
    }
  }

  private static func doubleBlock(_ w: [UInt32], _ distribution: RandomDistribution) -> [Double] {
    let u = (0..<2).map { j in Double((UInt64(w[2 * j + 1]) << 32 | UInt64(w[2 * j])) & ((1 << 53) - 1)) * 0x1p-53 }
    switch distribution {
    case .uniform(let from, let to):
      return u.map { u in
        let v = from.addingProduct(u, to - from)
        return v >= to ? from : v
      }
    case .normal(let mean, let std):
      let r = (-2 * Foundation.log(1 - u[0])).squareRoot()
      let theta = 6.283_185_307_179_586 * u[1]
      return [mean.addingProduct(r * Foundation.cos(theta), std), mean.addingProduct(r * Foundation.sin(theta), std)]
    case .bernoulli(let p):
      return u.map { $0 < p ? 1 : 0 }
    }
  }
}
