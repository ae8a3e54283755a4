import Autograd
import CUDABackend
import Dispatch
import Foundation

/// Runs the same ops on the CPU and on a device and compares the results: what the
/// `CUDACheck` executable and the device tests share.
public enum DeviceParity {
  /// One comparison: a name and a function from host inputs to host results of both runs.
  public struct Case: Sendable {
    /// What is compared.
    public let name: String
    let inputs: @Sendable () -> [Tensor]
    let run: @Sendable ([Tensor]) -> Tensor
    let tolerance: Double
  }

  /// The outcome of one case.
  public struct Outcome: Sendable, CustomStringConvertible {
    /// The case's name.
    public let name: String
    /// `nil` when the results agree, else why not.
    public let failure: String?
    /// `PASS name` or `FAIL name: why`.
    public var description: String { failure.map { "FAIL \(name): \($0)" } ?? "PASS \(name)" }
  }

  static func seeded(_ shape: Int..., dtype: DType = .float32) -> Tensor {
    Tensor.randn(shape, dtype: dtype == .float64 ? .float64 : .float32).to(dtype)
  }

  /// Every case: elementwise (all unary ops, binary ops with broadcasting and strides, every
  /// dtype conversion), reductions, matmul in each dtype, indexing, joins, in-place ops, a
  /// backward pass, and the `NN` families (`nnCases`).
  public static var cases: [Case] {
    var list: [Case] = []
    func add(
      _ name: String, tolerance: Double = 1e-5, _ inputs: @autoclosure @escaping @Sendable () -> [Tensor],
      _ run: @escaping @Sendable ([Tensor]) -> Tensor
    ) {
      list.append(Case(name: name, inputs: inputs, run: run, tolerance: tolerance))
    }
    let unary: [(String, @Sendable (Tensor) -> Tensor)] = [
      ("abs", { $0.abs() }), ("neg", { $0.neg() }), ("sign", { $0.sign() }), ("floor", { $0.floor() }),
      ("ceil", { $0.ceil() }), ("round", { $0.round() }), ("exp", { $0.exp() }), ("log", { $0.abs().log() }),
      ("sqrt", { $0.abs().sqrt() }), ("sin", { $0.sin() }), ("tanh", { $0.tanh() }), ("sigmoid", { $0.sigmoid() }),
      ("relu", { $0.relu() }), ("gelu", { $0.gelu() }), ("silu", { $0.silu() }), ("erf", { $0.erf() }),
      ("isnan", { $0.isnan() }), ("logical_not", { $0.logicalNot() }),
      ("exp2", { $0.exp2() }), ("log10", { $0.abs().log10() }), ("asin", { $0.tanh().asin() }),
      ("acos", { $0.tanh().acos() }), ("atan", { $0.atan() }), ("sinh", { $0.sinh() }), ("cosh", { $0.cosh() }),
      ("asinh", { $0.asinh() }), ("acosh", { ($0.abs() + 1).acosh() }), ("atanh", { $0.tanh().atanh() }),
      ("erfc", { $0.erfc() }), ("erfinv", { $0.tanh().erfinv() }), ("lgamma", { $0.lgamma() }),
      ("digamma", { $0.digamma() }),
    ]
    for (name, f) in unary {
      add("unary \(name)", [seeded(33, 17)]) { f($0[0].t()) }
    }
    let binary: [(String, @Sendable (Tensor, Tensor) -> Tensor)] = [
      ("add", { $0 + $1 }), ("sub", { $0 - $1 }), ("mul", { $0 * $1 }), ("div", { $0 / $1 }),
      ("pow", { $0.abs().pow($1) }), ("remainder", { $0 % $1 }), ("maximum", { $0.maximum($1) }),
      ("lt", { $0 .< $1 }), ("eq", { $0 .== $1 }),
      ("atan2", { $0.atan2($1) }), ("fmod", { $0.fmod($1) }), ("hypot", { $0.hypot($1) }),
      ("copysign", { $0.copysign($1) }),
    ]
    for (name, f) in binary {
      add("binary \(name) broadcast", [seeded(4, 1, 9), seeded(3, 9)]) { f($0[0], $0[1]) }
    }
    add("binary int64 ops", [Tensor.randint(-50, 50, [64]), Tensor.randint(1, 9, [64])]) {
      Tensor.stack([
        $0[0] + $0[1], $0[0] * $0[1], $0[0] % $0[1], $0[0].floorDivide($0[1]), $0[0].pow(2), $0[0].fmod($0[1]),
        $0[0] << ($0[1] - 3), $0[0] >> ($0[1] - 3),
      ])
    }
    for from in DType.allCases {
      for to in DType.allCases {
        add("convert \(from.name) -> \(to.name)", [(seeded(5, 6) * 4).to(from)]) { $0[0].t().to(to) }
      }
    }
    add("where and clamp", [seeded(7, 8), seeded(7, 8)]) {
      Tensor.where($0[0] .> 0, $0[0], $0[1]).clamp(min: -0.5, max: 0.5)
    }
    add("sum dims", [seeded(6, 7, 8)]) { $0[0].sum(dim: [0, 2]) }
    add("mean and var", [seeded(6, 7, 8)]) { Tensor.stack([$0[0].mean(dim: 1), $0[0].var(dim: 1)]) }
    add("amax argmax", [seeded(6, 7, 8)]) { Tensor.stack([$0[0].amax(dim: 2), $0[0].argmax(dim: 2).float()]) }
    add("min with indices", [seeded(6, 7)]) { $0[0].min(dim: 0).indices }
    add("softmax logsumexp", [seeded(9, 10)]) {
      Tensor.cat([$0[0].softmax(dim: 1), $0[0].logsumexp(dim: 1, keepdim: true)], dim: 1)
    }
    add("cumsum int", [Tensor.randint(0, 5, [4, 9])]) { $0[0].cumsum(dim: 1) }
    add("all any", [seeded(5, 5)]) { Tensor.stack([($0[0] .> -3).all(dim: 1), ($0[0] .> 1).any(dim: 1)]) }
    // Long rows: a block per output row, warp shuffles (the kernel choice depends on the row length).
    add("long-row reductions", tolerance: 1e-4, [seeded(3, 5000)]) { xs in
      let x = xs[0]
      return Tensor.cat([
        x.sum(dim: 1), x.amax(dim: 1), x.amin(dim: 1), x.mean().view(1), (x.t() * 0.5).sum(dim: 0),
        (x / 64).exp().prod(dim: 1),
      ])
    }
    add("long-row int and bool reductions", [Tensor.randint(-3, 4, [2, 3000])]) { xs in
      Tensor.cat([
        xs[0].sum(dim: 1), xs[0].amax(dim: 1), (xs[0] .> -3).all(dim: 1).long(), (xs[0] .== 3).any(dim: 1).long(),
      ])
    }
    add("long-row float16 sum", tolerance: 2e-2, [seeded(2, 4096, dtype: .float16)]) { $0[0].sum(dim: 1) }
    // Contiguous operands take the vector-load kernels: odd lengths (a partial last pack) and a
    // view starting one element in (not aligned for vector loads) take the scalar paths.
    add("contiguous elementwise, odd length and unaligned", [seeded(1001), seeded(1001)]) { xs in
      let (a, b) = (xs[0], xs[1])
      let shifted = a[1...]
      return Tensor.cat([
        (a * b + 1).exp(), a.sigmoid(), shifted * b[..<1000], shifted.to(.float16).to(.float32),
        Tensor.where(a .> 0, a, b),
      ])
    }
    // Repeated indices accumulate with atomics (a thread per value).
    for dtype in [DType.float32, .float16, .bfloat16, .float64, .int64, .int32, .int16, .int8, .uint8] {
      let tolerance = dtype == .float16 || dtype == .bfloat16 ? 5e-2 : 1e-4
      add(
        "index_put accumulate repeated \(dtype.name)", tolerance: tolerance,
        [Tensor.randint(0, 3, [4096]).to(dtype), Tensor.randint(0, 13, [4096])]
      ) { xs in
        let target = Tensor.zeros([13], dtype: dtype, device: xs[0].device)
        return target.indexPut_([xs[1]], xs[0], accumulate: true).to(.float64)
      }
    }
    add("index_put accumulate repeated bool", [Tensor.randint(0, 2, [999]).to(.bool), Tensor.randint(0, 7, [999])]) {
      xs in
      Tensor.zeros([7], dtype: .bool, device: xs[0].device).indexPut_([xs[1]], xs[0], accumulate: true)
    }
    add("embedding backward", tolerance: 1e-4, [seeded(11, 8), Tensor.randint(0, 11, [300])]) { xs in
      let weight = xs[0].detach().requiresGrad_()
      weight[xs[1]].pow(2).sum().backward()
      return weight.grad!
    }
    for dtype in [DType.float32, .float64] {
      add(
        "matmul \(dtype.name) batched broadcast", tolerance: 1e-4,
        [seeded(3, 1, 20, 30, dtype: dtype), seeded(4, 30, 10, dtype: dtype)]
      ) {
        $0[0].matmul($0[1])
      }
      add(
        "matmul \(dtype.name) transposed", tolerance: 1e-4,
        [seeded(40, 33, dtype: dtype), seeded(50, 40, dtype: dtype)]
      ) {
        $0[0].t().matmul($0[1].t())
      }
    }
    add("matmul float16", tolerance: 2e-2, [seeded(16, 32, dtype: .float16), seeded(32, 8, dtype: .float16)]) {
      $0[0].mm($0[1])
    }
    add("matmul bfloat16", tolerance: 5e-2, [seeded(16, 32, dtype: .bfloat16), seeded(32, 8, dtype: .bfloat16)]) {
      $0[0].mm($0[1])
    }
    add("matmul int64", [Tensor.randint(-5, 5, [2, 7, 9]), Tensor.randint(-5, 5, [2, 9, 4])]) { $0[0].bmm($0[1]) }
    add("advanced indexing", [seeded(5, 6, 7)]) { $0[0][Tensor([4, 0, 2]), .all, Tensor([1, 6, 6])] }
    add("mask indexing", [seeded(5, 6)]) { $0[0][$0[0] .> 0.3] }
    add("gather scatter", [seeded(4, 6)]) { xs in
      let x = xs[0]
      let index = Tensor([[0, 5], [1, 1], [2, 4], [3, 0]], device: x.device)
      return Tensor.cat(
        [x.gather(dim: 1, index: index), x.scatter(dim: 1, index: index, src: x.narrow(dim: 1, start: 0, length: 2))],
        dim: 1)
    }
    add("index put", [seeded(8)]) { xs in
      let y = xs[0].clone()
      y[Tensor([1, 1, 3])] = Tensor([10.0, 20.0, 30.0], device: y.device)
      return y
    }
    add("cat stack narrow", [seeded(3, 4), seeded(2, 4)]) {
      Tensor.stack([Tensor.cat($0, dim: 0).narrow(dim: 0, start: 1, length: 3)])
    }
    add("repeat tile repeatInterleave", [seeded(3, 4)]) { xs in
      Tensor.cat([
        xs[0].repeat(2, 1, 2).reshape(-1), xs[0].tile(2).reshape(-1),
        xs[0].repeatInterleave(Tensor([1, 0, 2], device: xs[0].device), dim: 0).reshape(-1),
      ])
    }
    add("flip roll rot90", [seeded(3, 4, 5)]) { xs in
      Tensor.cat([
        xs[0].flip(0, 2).reshape(-1), xs[0].roll(shifts: [1, -2], dims: [0, 2]).reshape(-1),
        xs[0].rot90(1, dims: (1, 2)).reshape(-1),
      ])
    }
    add("sort topk median quantile", [seeded(6, 9)]) { xs in
      Tensor.cat([
        xs[0].sort(dim: 1).values.reshape(-1), xs[0].topk(3, dim: 0).values.reshape(-1), xs[0].median(dim: 1).values,
        xs[0].quantile(0.3, dim: 1), xs[0].unique().values,
      ])
    }
    // The device's bitonic sort: NaN, ties (stable), both directions, a width that is not a
    // power of two, integers.
    add(
      "stable sort with NaN and ties",
      [Tensor([[3, .nan, 1, 3, -2, 1, .nan], [0, 0, 5, 5, -1, 2, 2]] as [[Double]]).to(.float32)]
    ) { xs in
      let x = xs[0]
      return Tensor.cat([
        x.argsort(dim: 1, stable: true).reshape(-1), x.argsort(dim: 1, descending: true, stable: true).reshape(-1),
        x.long().argsort(dim: 0, stable: true).reshape(-1), x.sort(dim: 1).indices.reshape(-1),
      ]).float()
    }
    add("einsum", tolerance: 1e-4, [seeded(2, 3, 4), seeded(4, 5), seeded(2, 5)]) { xs in
      Tensor.einsum("bij,jk,bk->bi", xs[0], xs[1], xs[2])
    }
    add("index ops", [seeded(4, 5), seeded(4, 3)]) { xs in
      Tensor.cat([
        xs[0].indexAdd(dim: 1, index: Tensor([0, 4, 0], device: xs[0].device), source: xs[1]).reshape(-1),
        xs[0].scatterReduce(
          dim: 1, index: Tensor([[0, 4, 0]], device: xs[0].device).expand(4, 3).contiguous(), src: xs[1], reduce: .amax
        )
        .reshape(-1),
        xs[0].takeAlongDim(Tensor([[1], [0], [4], [2]], device: xs[0].device), dim: 1).reshape(-1),
      ])
    }
    add("linalg solve inv det cholesky", tolerance: 1e-4, [seeded(3, 3), seeded(3, 2)]) { xs in
      let a = xs[0].matmul(xs[0].mT) + Tensor.eye(3, device: xs[0].device) * 2
      return Tensor.cat([
        Linalg.solve(a, xs[1]).reshape(-1), Linalg.inv(a).reshape(-1), Linalg.det(a).view(1),
        Linalg.cholesky(a).reshape(-1),
      ])
    }
    add("diag_embed trace unfold", [seeded(4, 5)]) { xs in
      Tensor.cat([
        xs[0].diagEmbed(offset: 1).reshape(-1), xs[0].t().diag(-1), xs[0][..<4].trace().view(1),
        xs[0].unfold(dimension: 1, size: 3, step: 2).reshape(-1),
      ])
    }
    add("in-place ops", [seeded(6, 6)]) { xs in
      let y = xs[0].clone()
      y.mul_(2).add_(1).exp_()
      y[0].fill_(3)
      y.t()[1].zero_()
      return y
    }
    add("backward", tolerance: 1e-4, [seeded(8, 5), seeded(5, 3)]) { xs in
      let a = xs[0].detach().requiresGrad_()
      let b = xs[1].detach().requiresGrad_()
      a.matmul(b).relu().softmax(dim: 1).log().mean().backward()
      return Tensor.cat([a.grad!.flatten(), b.grad!.flatten()])
    }
    return list + nnCases
  }

  /// Runs every case on `device` and compares with the CPU.
  ///
  /// Each case draws its inputs, and runs on each side, with a generator of its own, so that
  /// random initialisation inside a case (layers) is the same on both sides even while other
  /// threads draw random numbers.
  public static func run(on device: Device) -> [Outcome] {
    cases.map { c in
      let inputs = Generator.withDefault(Generator(seed: 7)) { c.inputs() }
      let expected = Generator.withDefault(Generator(seed: 11)) { c.run(inputs) }
      let result: Tensor
      do {
        result = try Generator.withDefault(Generator(seed: 11)) { try c.run(inputs.map { try $0.to(device) }).cpu() }
      } catch {
        return Outcome(name: c.name, failure: "\(error)")
      }
      guard result.shape == expected.shape, result.dtype == expected.dtype else {
        return Outcome(
          name: c.name, failure: "got \(result.dtype) \(result.shape), expected \(expected.dtype) \(expected.shape)")
      }
      let a = result.toArray(Double.self)
      let e = expected.toArray(Double.self)
      for i in a.indices where !(abs(a[i] - e[i]) <= c.tolerance * (1 + abs(e[i])) || (a[i].isNaN && e[i].isNaN)) {
        return Outcome(name: c.name, failure: "element \(i): \(a[i]) vs CPU \(e[i])")
      }
      return Outcome(name: c.name, failure: nil)
    }
  }

  /// Seconds per call of `body`, after a warm-up, synchronising the device.
  public static func time(_ iterations: Int, _ body: () -> Void) -> Double {
    body()
    try? CUDA.synchronize()
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<iterations { body() }
    try? CUDA.synchronize()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(iterations)
  }
}
