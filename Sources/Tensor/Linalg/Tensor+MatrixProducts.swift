// Fused-looking matrix products (`addmm` and friends), chains of products, matrix powers and
// the norms of `torch.linalg` that need no factorization, composed from matmul.

extension Tensor {
  /// `beta * self + alpha * (mat1 @ mat2)` (PyTorch: `torch.addmm`).
  public func addmm(_ mat1: Tensor, _ mat2: Tensor, beta: Double = 1, alpha: Double = 1, out: Tensor? = nil) -> Tensor {
    if out == nil,
      let cast = Autocast.run(
        .lowerPrecision, [self, mat1, mat2], { $0[0]!.addmm($0[1]!, $0[2]!, beta: beta, alpha: alpha) })
    {
      return cast
    }
    return Tensor.writing(into: out, op: "addmm") {
      Tensor.scaledSum(self, beta, mat1.mm(mat2), alpha)
    }
  }

  /// `beta * self + alpha * sum over the batch of batch1[i] @ batch2[i]` (PyTorch: `torch.addbmm`).
  public func addbmm(_ batch1: Tensor, _ batch2: Tensor, beta: Double = 1, alpha: Double = 1, out: Tensor? = nil)
    -> Tensor
  {
    Tensor.writing(into: out, op: "addbmm") {
      Tensor.scaledSum(self, beta, batch1.bmm(batch2).sum(dim: 0), alpha)
    }
  }

  /// `beta * self + alpha * (batch1 @ batch2)`, per batch (PyTorch: `torch.baddbmm`).
  public func baddbmm(_ batch1: Tensor, _ batch2: Tensor, beta: Double = 1, alpha: Double = 1, out: Tensor? = nil)
    -> Tensor
  {
    if out == nil,
      let cast = Autocast.run(
        .lowerPrecision, [self, batch1, batch2], { $0[0]!.baddbmm($0[1]!, $0[2]!, beta: beta, alpha: alpha) })
    {
      return cast
    }
    return Tensor.writing(into: out, op: "baddbmm") {
      Tensor.scaledSum(self, beta, batch1.bmm(batch2), alpha)
    }
  }

  /// `beta * self + alpha * (mat @ vec)` (PyTorch: `torch.addmv`).
  public func addmv(_ mat: Tensor, _ vec: Tensor, beta: Double = 1, alpha: Double = 1, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "addmv") {
      Tensor.scaledSum(self, beta, mat.mv(vec), alpha)
    }
  }

  /// `beta * self + alpha * outer(vec1, vec2)` (PyTorch: `torch.addr`).
  public func addr(_ vec1: Tensor, _ vec2: Tensor, beta: Double = 1, alpha: Double = 1, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "addr") {
      Tensor.scaledSum(self, beta, vec1.outer(vec2), alpha)
    }
  }

  /// `beta * a + alpha * b`, where `beta = 0` ignores `a` (NaN included), as PyTorch's
  /// `add*` ops do.
  private static func scaledSum(_ a: Tensor, _ beta: Double, _ b: Tensor, _ alpha: Double) -> Tensor {
    let product = alpha == 1 ? b : b * alpha
    if beta == 0 { return product + Tensor.zeros(like: a) }
    return (beta == 1 ? a : a * beta) + product
  }

  /// The matrix raised to the integer power `n` by repeated squaring (of the inverse for
  /// negative `n`); `n = 0` gives the identity (PyTorch: `torch.linalg.matrix_power`).
  public func matrixPower(_ n: Int, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "matrix_power") {
      usageCheck(
        dim >= 2 && shape[dim - 1] == shape[dim - 2],
        "linalg.matrix_power: A must be batches of square matrices, but they are \(shape.count >= 2 ? "\(shape[dim - 2]) by \(shape[dim - 1])" : "\(dim)-D")"
      )
      if n < 0 { return Linalg.inv(self).matrixPower(-n) }
      let size = shape[dim - 1]
      if n == 0 { return Tensor.eye(size, dtype: dtype, device: device).expand(shape).contiguous() }
      // Square-and-multiply.
      var result: Tensor?
      var base = self
      var k = n
      while k > 0 {
        if k & 1 == 1 { result = result.map { $0.matmul(base) } ?? base }
        k >>= 1
        if k > 0 { base = base.matmul(base) }
      }
      return result!
    }
  }

  /// The product of matrices, left to right (PyTorch: `torch.linalg.multi_dot`; a 1-d first
  /// or last operand is a row or column vector).
  public static func multiDot(_ tensors: [Tensor], out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "linalg.multi_dot") {
      usageCheck(tensors.count >= 2, "multi_dot(): expected at least 2 tensors but got \(tensors.count)")
      var parts = tensors
      let firstIsVector = parts[0].dim == 1
      let lastIsVector = parts[parts.count - 1].dim == 1
      if firstIsVector { parts[0] = parts[0].unsqueeze(0) }
      if lastIsVector { parts[parts.count - 1] = parts[parts.count - 1].unsqueeze(1) }
      for (i, t) in parts.enumerated() {
        usageCheck(t.dim == 2, "multi_dot(): tensor \(i) must be 2D but got \(t.dim)D")
      }
      var result = parts.dropFirst().reduce(parts[0]) { $0.mm($1) }
      if firstIsVector { result = result.squeeze(dim: 0) }
      if lastIsVector { result = result.squeeze(dim: -1) }
      return result
    }
  }

  /// `multiDot` of matrices (PyTorch: `torch.chain_matmul`).
  public static func chainMatmul(_ matrices: [Tensor], out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "chain_matmul") {
      matrices.count == 1 ? matrices[0] : multiDot(matrices)
    }
  }
}

/// The `torch.linalg` functions, as a namespace (PyTorch: `torch.linalg.*`).
public enum Linalg {
  /// The vector `ord`-norm over `dim` (all elements when nil) (PyTorch: `torch.linalg.vector_norm`).
  public static func vectorNorm(
    _ x: Tensor, ord: Double = 2, dim: [Int]? = nil, keepdim: Bool = false, out: Tensor? = nil
  ) -> Tensor {
    Tensor.writing(into: out, op: "linalg.vector_norm") {
      x.norm(p: ord, dim: dim, keepdim: keepdim)
    }
  }

  /// Matrix norms that need no factorization (PyTorch: `torch.linalg.matrix_norm`).
  public enum MatrixNorm: Sendable {
    /// Frobenius: the root of the sum of squares.
    case frobenius
    /// The largest column sum of absolute values (`ord=1`).
    case one
    /// The smallest column sum (`ord=-1`).
    case negativeOne
    /// The largest row sum (`ord=inf`).
    case infinity
    /// The smallest row sum (`ord=-inf`).
    case negativeInfinity
    /// The sum of the singular values (`ord='nuc'`).
    case nuclear
    /// The largest singular value (`ord=2`).
    case two
    /// The smallest singular value (`ord=-2`).
    case negativeTwo
  }

  /// A matrix norm over the last two dims (or `dim`) (PyTorch: `torch.linalg.matrix_norm`).
  public static func matrixNorm(
    _ x: Tensor, ord: MatrixNorm = .frobenius, dim: (Int, Int) = (-2, -1), keepdim: Bool = false, out: Tensor? = nil
  ) -> Tensor {
    Tensor.writing(into: out, op: "linalg.matrix_norm") {
      usageCheck(x.dim >= 2, "linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
      let rows = x.normalizedDim(dim.0)
      let cols = x.normalizedDim(dim.1)
      let a = x.abs()
      let result: Tensor
      switch ord {
      case .frobenius: return x.norm(p: 2, dim: [rows, cols], keepdim: keepdim)
      case .nuclear, .two, .negativeTwo:
        let s = svdvals(x.movedim([rows, cols], [x.dim - 2, x.dim - 1]))
        let value = ord == .nuclear ? s.sum(dim: [-1]) : (ord == .two ? s.amax(dim: [-1]) : s.amin(dim: [-1]))
        guard keepdim else { return value }
        return value.unsqueeze(-1).unsqueeze(-1).movedim([x.dim - 2, x.dim - 1], [rows, cols])
      case .one: result = a.sum(dim: [rows], keepdim: true).amax(dim: [cols], keepdim: true)
      case .negativeOne: result = a.sum(dim: [rows], keepdim: true).amin(dim: [cols], keepdim: true)
      case .infinity: result = a.sum(dim: [cols], keepdim: true).amax(dim: [rows], keepdim: true)
      case .negativeInfinity: result = a.sum(dim: [cols], keepdim: true).amin(dim: [rows], keepdim: true)
      }
      return keepdim ? result : result.squeeze(dims: [rows, cols])
    }
  }

  /// `Tensor.matrixPower` (PyTorch: `torch.linalg.matrix_power`).
  public static func matrixPower(_ x: Tensor, _ n: Int, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "linalg.matrix_power") { x.matrixPower(n) }
  }

  /// `Tensor.multiDot` (PyTorch: `torch.linalg.multi_dot`).
  public static func multiDot(_ tensors: [Tensor], out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "linalg.multi_dot") { Tensor.multiDot(tensors) }
  }

  /// The cross product along `dim` (PyTorch: `torch.linalg.cross`).
  public static func cross(_ a: Tensor, _ b: Tensor, dim: Int = -1, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "linalg.cross") { a.cross(b, dim: dim) }
  }
}

extension Tensor {
  /// The lower triangle of the last two dims, on and below diagonal `diagonal` (above it for
  /// positive values); zeros elsewhere (PyTorch: `torch.tril`).
  public func tril(diagonal: Int = 0, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "tril") { triangle(diagonal: diagonal, lower: true) }
  }

  /// The upper triangle, on and above diagonal `diagonal` (PyTorch: `torch.triu`).
  public func triu(diagonal: Int = 0, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "triu") { triangle(diagonal: diagonal, lower: false) }
  }

  private func triangle(diagonal: Int, lower: Bool) -> Tensor {
    usageCheck(dim >= 2, "\(lower ? "tril" : "triu"): input tensor must have at least 2 dimensions")
    let (rows, cols) = (shape[dim - 2], shape[dim - 1])
    let offset = Tensor.arange(cols, device: device).view(1, cols) - Tensor.arange(rows, device: device).view(rows, 1)
    let keep = lower ? offset .<= diagonal : offset .>= diagonal
    return Tensor.where(keep, self, Tensor.zeros([], dtype: dtype, device: device))
  }
}
