extension Tensor {
  /// The product of two matrices or two equal-sized batches of them (2-d or 3-d) through
  /// the backend's batched primitive, recorded as one op.
  private static func batchedProduct(_ a: Tensor, _ b: Tensor, name: String) -> Tensor {
    let device = commonDevice([a, b], op: name)
    usageCheck(
      a.dtype == b.dtype,
      "\(name): expected m1 and m2 to have the same dtype, but got: \(a.dtype.scalarTypeName) != \(b.dtype.scalarTypeName)"
    )
    func batched(_ t: Tensor) -> Tensor {
      t.dim == 3 ? t : t.aliased(as: Layout(shape: [1] + t.shape, strides: [0] + t.stride(), offset: t.storageOffset))
    }
    let (a3, b3) = (batched(a), batched(b))
    let out = Tensor(uninitializedShape: [a3.shape[0], a3.shape[1], b3.shape[2]], dtype: a.dtype, device: device)
    out.backend.matmul(a3, b3, into: out)
    let result = a.dim == 3 ? out : out.aliased(as: Layout(contiguous: [a.shape[0], b.shape[1]]))
    return result.recorded(.matmul, [a, b], result)
  }

  /// Matrix product with PyTorch's rules: 1-d·1-d is a dot product, 2-d·2-d a matrix
  /// product, 1-d operands gain and then lose a dim, and leading batch dims broadcast
  /// (PyTorch: `torch.matmul`, `@`).
  @discardableResult
  public func matmul(_ other: Tensor, out: Tensor? = nil) -> Tensor {
    if out == nil, let cast = Autocast.run(.lowerPrecision, [self, other], { $0[0]!.matmul($0[1]!) }) { return cast }
    usageCheck(
      dim > 0 && other.dim > 0,
      "both arguments to matmul need to be at least 1D, but they are \(dim)D and \(other.dim)D")
    let result: Tensor
    switch (dim, other.dim) {
    case (1, 1): result = dot(other)
    case (2, 2): result = mm(other)
    case (2, 1): result = mv(other)
    case (1, 2): result = unsqueeze(0).mm(other).squeeze(dim: 0)
    default: result = batchedMatmul(other)
    }
    return Tensor.deliver(result, into: out, op: "matmul")
  }

  private func batchedMatmul(_ other: Tensor) -> Tensor {
    if dim >= 3 && other.dim == 2 && shape[dim - 1] == other.shape[0] && numel > 0 {
      // A stack of rows times one matrix is one matrix product (as PyTorch folds it): the
      // weight's gradient is then one product too, not a product per batch and a sum.
      let rows = reshape(-1, shape[dim - 1]).mm(other)
      return rows.view(Array(shape.dropLast()) + [other.shape[1]])
    }
    let a = dim == 1 ? unsqueeze(0) : self
    let b = other.dim == 1 ? other.unsqueeze(1) : other
    let (n, k) = (a.shape[a.dim - 2], a.shape[a.dim - 1])
    let (k2, p) = (b.shape[b.dim - 2], b.shape[b.dim - 1])
    usageCheck(
      k == k2,
      "matmul: Expected size for first two dimensions of batch2 tensor to be: [\(k), \(k)] but got: [\(k2), \(p)] (shapes \(shapeString(shape)) and \(shapeString(other.shape)); the inner sizes \(k) and \(k2) must match)"
    )
    let batch = Tensor.broadcastShape(
      [Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2))], op: "matmul")
    let count = batch.reduce(1, *)
    let a3 = a.expand(batch + [n, k]).reshape(count, n, k)
    let b3 = b.expand(batch + [k, p]).reshape(count, k, p)
    var result = Tensor.batchedProduct(a3, b3, name: "matmul").view(batch + [n, p])
    if dim == 1 { result = result.squeeze(dim: -2) }
    if other.dim == 1 { result = result.squeeze(dim: -1) }
    return result
  }

  /// The product of two matrices (PyTorch: `torch.mm`).
  public func mm(_ other: Tensor) -> Tensor {
    if let cast = Autocast.run(.lowerPrecision, [self, other], { $0[0]!.mm($0[1]!) }) { return cast }
    usageCheck(dim == 2, "mm: self must be a matrix, got a \(dim)-D tensor of shape \(shapeString(shape))")
    usageCheck(
      other.dim == 2, "mm: mat2 must be a matrix, got a \(other.dim)-D tensor of shape \(shapeString(other.shape))")
    usageCheck(
      shape[1] == other.shape[0],
      "mat1 and mat2 shapes cannot be multiplied (\(shape[0])x\(shape[1]) and \(other.shape[0])x\(other.shape[1]))")
    return Tensor.batchedProduct(self, other, name: "mm")
  }

  /// Batched matrix product of 3-d tensors (PyTorch: `torch.bmm`).
  public func bmm(_ other: Tensor) -> Tensor {
    if let cast = Autocast.run(.lowerPrecision, [self, other], { $0[0]!.bmm($0[1]!) }) { return cast }
    usageCheck(dim == 3, "bmm: batch1 must be a 3D tensor, got shape \(shapeString(shape))")
    usageCheck(other.dim == 3, "bmm: batch2 must be a 3D tensor, got shape \(shapeString(other.shape))")
    usageCheck(
      shape[0] == other.shape[0] && shape[2] == other.shape[1],
      "bmm: Expected size for first two dimensions of batch2 tensor to be: [\(shape[0]), \(shape[2])] but got: [\(other.shape[0]), \(other.shape[1])]."
    )
    return Tensor.batchedProduct(self, other, name: "bmm")
  }

  /// Matrix-vector product (PyTorch: `torch.mv`).
  public func mv(_ vector: Tensor) -> Tensor {
    usageCheck(dim == 2 && vector.dim == 1, "mv: vector + matrix @ vector expected, got \(dim), \(vector.dim)")
    usageCheck(
      shape[1] == vector.shape[0],
      "size mismatch, got input (\(shape[0])), mat (\(shape[0])x\(shape[1])), vec (\(vector.shape[0]))")
    return mm(vector.unsqueeze(1)).squeeze(dim: 1)
  }

  /// The dot product of two vectors (PyTorch: `torch.dot`).
  public func dot(_ other: Tensor) -> Tensor {
    usageCheck(
      dim == 1 && other.dim == 1,
      "1D tensors expected, but got \(dim)D and \(other.dim)D tensors")
    usageCheck(
      dtype == other.dtype,
      "dot : expected both vectors to have same dtype, but found \(dtype.scalarTypeName) and \(other.dtype.scalarTypeName)"
    )
    usageCheck(
      numel == other.numel,
      "inconsistent tensor size, expected tensor [\(numel)] and src [\(other.numel)] to have the same number of elements, but got \(numel) and \(other.numel) elements respectively"
    )
    return unsqueeze(0).mm(other.unsqueeze(1)).view([])
  }

  /// The outer product of two vectors (PyTorch: `torch.outer`).
  public func outer(_ other: Tensor) -> Tensor {
    usageCheck(dim == 1 && other.dim == 1, "outer: expected 1D tensors, got \(dim)D and \(other.dim)D")
    return unsqueeze(1) * other.unsqueeze(0)
  }
}

/// Matrix product with PyTorch's broadcasting rules (PyTorch: `torch.matmul`).
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor { a.matmul(b) }
