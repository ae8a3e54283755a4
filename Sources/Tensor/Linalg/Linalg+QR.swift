import Foundation

// QR by Householder reflections and the least-squares solver, on the host in double
// precision (a CUDA tensor is copied there and back), with PyTorch's gradients.

extension Linalg {
  /// Which factors `qr` returns (PyTorch: `mode=` of `torch.linalg.qr`).
  public enum QRMode: String, Sendable {
    /// `Q` is `m x k` and `R` is `k x n`, `k = min(m, n)` (PyTorch: 'reduced').
    case reduced
    /// `Q` is `m x m` and `R` is `m x n` (PyTorch: 'complete').
    case complete
    /// Only `R` (`k x n`); `Q` is an empty tensor (PyTorch: 'r').
    case r
  }

  /// The QR factorization `A = Q R` of each matrix: `Q` with orthonormal columns, `R` upper
  /// triangular with LAPACK's signs (so both equal PyTorch's), by Householder reflections in
  /// double on the host (PyTorch: `torch.linalg.qr(A, mode:)`). The gradient is PyTorch's; as
  /// in PyTorch, a backward through mode `.r`, or through mode `.complete` of a matrix with
  /// more rows than columns, stops with PyTorch's message (those factors are not unique).
  public static func qr(_ a: Tensor, mode: QRMode = .reduced, out: (Q: Tensor, R: Tensor)? = nil) -> (
    Q: Tensor, R: Tensor
  ) {
    Tensor.writing(into: out.map { ($0.0, $0.1) }, op: "linalg.qr") {
      usageCheck(a.dim >= 2, "linalg.qr: The input tensor A must have at least 2 dimensions.")
      usageCheck(
        a.dtype == .float32 || a.dtype == .float64,
        "linalg.qr: Expected a floating point tensor as input. Got \(a.dtype.scalarTypeName)")
      let (m, n) = (a.shape[a.dim - 2], a.shape[a.dim - 1])
      let needsQ = mode != .r
      let (q0, r0) = householderQR(a, completeQ: mode == .complete, formQ: needsQ)
      guard tracked(a) else { return (q0, r0) }
      switch mode {
      case .r:
        return (
          q0,
          r0.notDifferentiable(
            from: a, name: "LinalgQrBackward0",
            message:
              "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
          )
        )
      case .complete where m > n:
        let message = "The QR decomposition is not differentiable when mode='complete' and nrows > ncols."
        return (
          q0.notDifferentiable(from: a, name: "LinalgQrBackward0", message: message),
          r0.notDifferentiable(from: a, name: "LinalgQrBackward0", message: message)
        )
      default:
        if m < n {
          // A = [X | Y] with X square: X = Q R_X, and R = [R_X | Qᵀ Y] (autograd composes it).
          let (q, rx) = qr(a.narrow(dim: -1, start: 0, length: m))
          return (q, Tensor.cat([rx, q.mT.matmul(a.narrow(dim: -1, start: m, length: n - m))], dim: -1))
        }
        // With X = Qᵀ dA R⁻¹ and Ω its strictly lower part minus that part's transpose:
        // dQ = Q Ω + (I - Q Qᵀ) dA R⁻¹, dR = (X - Ω) R.
        let results = Tensor.linearized([q0, r0], of: [a], name: "LinalgQrBackward0") { _, outputs, t in
          let (q, r, change) = (outputs[0], outputs[1], t[0]!)
          let rInverse = inv(r)
          let x = q.mT.matmul(change).matmul(rInverse)
          let lower = x.tril(diagonal: -1)
          let omega = lower - lower.mT
          let projector = Tensor.eye(m, dtype: q.dtype, device: q.device) - q.matmul(q.mT)
          return [q.matmul(omega) + projector.matmul(change).matmul(rInverse), (x - omega).matmul(r)]
        }
        return (results[0], results[1])
      }
    }
  }

  /// Householder QR of every matrix of the batch: `k = min(m, n)` reflections zero the
  /// columns below the diagonal (each chosen as LAPACK's, so `R`'s signs are LAPACK's);
  /// `Q` is their product applied to the first `k` (or, complete, all `m`) columns of the
  /// identity. Returns `Q` (empty unless `formQ`) and `R` (`k x n`, or `m x n` complete).
  private static func householderQR(_ a: Tensor, completeQ: Bool, formQ: Bool) -> (Tensor, Tensor) {
    let (m, n) = (a.shape[a.dim - 2], a.shape[a.dim - 1])
    let k = Swift.min(m, n)
    let qColumns = completeQ ? m : k
    let rRows = completeQ ? m : k
    let batch = Array(a.shape.dropLast(2))
    let count = batch.reduce(1, *)
    let host = a.detach().movedTo(.cpu).to(.float64).contiguous().toArray(Double.self)
    var qs: [Double] = []
    var rs: [Double] = []
    for b in 0..<count {
      var r = Array(host[(b * m * n)..<((b + 1) * m * n)])
      var reflectors: [[Double]] = []
      for j in 0..<k {
        var v = (j..<m).map { r[$0 * n + j] }
        // As LAPACK's dlarfg: no reflection (H = I) when the entries below the diagonal are
        // zero, so the last diagonal entry of a square or wide matrix keeps its sign.
        let below = v.dropFirst().reduce(0) { $0 + $1 * $1 }
        let norm = (below + v[0] * v[0]).squareRoot()
        if below > 0 {
          v[0] += v[0] >= 0 ? norm : -norm
          let length = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
          v = v.map { $0 / length }
          reflect(&r, columns: j..<n, width: n, rows: j..<m, by: v)
        }
        reflectors.append(below > 0 ? v : [])
      }
      if formQ {
        // Q = H_0 H_1 ... H_(k-1) applied to the first qColumns columns of the identity.
        var q = (0..<(m * qColumns)).map { $0 / qColumns == $0 % qColumns ? 1.0 : 0.0 }
        for j in stride(from: k - 1, through: 0, by: -1) where !reflectors[j].isEmpty {
          reflect(&q, columns: 0..<qColumns, width: qColumns, rows: j..<m, by: reflectors[j])
        }
        qs += q
      }
      rs += (0..<rRows).flatMap { i in (0..<n).map { j in j >= i ? r[i * n + j] : 0 } }
    }
    let q = Tensor(qs, shape: formQ ? batch + [m, qColumns] : [0]).to(a.dtype).movedTo(a.device)
    let r = Tensor(rs, shape: batch + [rRows, n]).to(a.dtype).movedTo(a.device)
    return (q, r)
  }

  /// Applies the reflection `I - 2 v vᵀ` (unit `v` over `rows`) to `columns` of a row-major
  /// matrix `width` wide.
  private static func reflect(
    _ matrix: inout [Double], columns: Range<Int>, width: Int, rows: Range<Int>, by v: [Double]
  ) {
    let first = rows.lowerBound
    for c in columns {
      let dot = rows.reduce(0.0) { $0 + v[$1 - first] * matrix[$1 * width + c] }
      if dot != 0 { for i in rows { matrix[i * width + c] -= 2 * v[i - first] * dot } }
    }
  }
}

extension Linalg {
  /// The LAPACK routine whose outputs `lstsq` reproduces (PyTorch: `driver=`).
  public enum LstsqDriver: String, Sendable {
    /// QR, assuming full rank: solution and, when `m > n`, residuals (CUDA's only driver).
    case gels
    /// QR with column pivoting: solution and rank (the CPU default).
    case gelsy
    /// SVD (divide and conquer): solution, rank, singular values and residuals.
    case gelsd
    /// SVD: as `gelsd`.
    case gelss
  }

  /// The outputs of `lstsq`, as PyTorch's named tuple; the ones a driver does not compute
  /// are empty tensors.
  public struct LstsqResult {
    /// The least-squares solution `X` (`n x k`, or `n` for a vector right-hand side).
    public let solution: Tensor
    /// `‖A X - B‖²` per column of `B`, when `m > n`, the driver is not `gelsy` and every
    /// matrix has full rank (always for `gels`).
    public let residuals: Tensor
    /// The numerical rank of each matrix (int64), for drivers other than `gels`.
    public let rank: Tensor
    /// The singular values of each matrix, descending, for `gelsd` and `gelss`.
    public let singularValues: Tensor
  }

  /// The least-squares solution of `A X = B`: the minimum-norm one when `A` is wide or rank
  /// deficient (PyTorch: `torch.linalg.lstsq(A, B, rcond=, driver=)`). Every driver computes
  /// the solution from the SVD on the host (singular values at or below `rcond` times the
  /// largest count as zero; default: the dtype's epsilon times `max(m, n)`); the driver
  /// chooses which other outputs are filled, as in PyTorch. The default driver is `gelsy`
  /// on the CPU and `gels` on CUDA, the only one CUDA accepts (as PyTorch). `gelsy`'s rank
  /// here comes from the singular values rather than LAPACK's pivoted-QR estimate (they
  /// agree unless a singular value sits at the threshold). The gradient flows through the
  /// solution and the residuals, as PyTorch's.
  public static func lstsq(_ a: Tensor, _ b: Tensor, rcond: Double? = nil, driver: LstsqDriver? = nil) -> LstsqResult {
    let op = "torch.linalg.lstsq"
    usageCheck(a.dim >= 2, "\(op): input must have at least 2 dimensions.")
    usageCheck(
      a.dtype == .float32 || a.dtype == .float64,
      "\(op): Expected a floating point tensor as input. Got \(a.dtype.scalarTypeName)")
    usageCheck(
      a.dtype == b.dtype,
      "\(op): Expected input and other to have the same dtype, but got input's dtype \(a.dtype.scalarTypeName) and other's dtype \(b.dtype.scalarTypeName)"
    )
    usageCheck(
      a.device == b.device,
      "\(op): Expected input and other to be on the same device, but got input on \(a.device) and other on \(b.device)")
    let driver = driver ?? (a.device == .cpu ? .gelsy : .gels)
    usageCheck(a.device == .cpu || driver == .gels, "\(op): `driver` other than `gels` is not supported on CUDA")
    let vector = b.dim == a.dim - 1
    let rhs = vector ? b.unsqueeze(-1) : b
    let (m, n) = (a.shape[a.dim - 2], a.shape[a.dim - 1])
    usageCheck(rhs.dim >= 2 && rhs.shape[rhs.dim - 2] == m, "\(op): input.size(-2) should match other.size(-2)")
    let (u, s, vh) = svd(a.detach())
    let epsilon = a.dtype == .float64 ? Double.ulpOfOne : Double(Float.ulpOfOne)
    let relative = rcond ?? epsilon * Double(Swift.max(m, n))
    let largest = s.numel == 0 ? s : s.amax(dim: [-1], keepdim: true)
    let kept = s .> largest * relative
    let rank = kept.sum(dim: [-1], dtype: .int64)
    let solution: Tensor
    if tracked(a) {
      solution = pinv(a, rtol: relative).matmul(rhs)
    } else {
      // X = V diag(1/s) Uᵀ B over the kept singular values.
      let inverted = Tensor.where(kept, s.reciprocal(), 0.0)
      solution = vh.mT.matmul(inverted.unsqueeze(-1) * u.mT.matmul(rhs))
    }
    let fullRank = driver == .gels || rank.movedTo(.cpu).toArray(Int64.self).allSatisfy { $0 == n }
    let residuals: Tensor
    if m > n && driver != .gelsy && fullRank {
      residuals = (a.matmul(solution) - rhs).square().sum(dim: [-2])
    } else {
      residuals = Tensor.empty([0], dtype: a.dtype, device: a.device)
    }
    let empty = Tensor.empty([0], dtype: a.dtype, device: a.device)
    return LstsqResult(
      solution: vector ? solution.squeeze(dim: -1) : solution,
      residuals: residuals,
      rank: driver == .gels ? Tensor.empty([0], dtype: .int64, device: a.device) : rank.movedTo(a.device),
      singularValues: driver == .gelsd || driver == .gelss ? s.detach() : empty)
  }
}
