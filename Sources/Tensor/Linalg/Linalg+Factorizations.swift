import Foundation

// LU with partial pivoting and Cholesky, and the solves, inverses and determinants built on
// them. The factorizations run on the host in double precision, one matrix of the batch at a
// time (a CUDA tensor is copied there and back). Each is recorded as one node with its linear
// map (`Tensor.linearized`: for the inverse, dY = -Y dA Y), from which autograd derives the
// gradient; the map reads the results, linked to the graph when a gradient graph is built, so
// second and higher derivatives are exact too.

extension Linalg {
  /// A batch of square matrices as host rows of doubles.
  private struct Matrices {
    var values: [Double]
    let count: Int
    let n: Int

    init(_ a: Tensor, op: String) {
      usageCheck(
        a.dim >= 2 && a.shape[a.dim - 1] == a.shape[a.dim - 2],
        "\(op): A must be batches of square matrices, but they are \(a.dim >= 2 ? "\(a.shape[a.dim - 2]) by \(a.shape[a.dim - 1])" : "\(a.dim)-D") matrices"
      )
      usageCheck(
        a.dtype == .float32 || a.dtype == .float64,
        "\(op): Expected a floating point tensor as input. Got \(a.dtype.scalarTypeName)")
      n = a.shape[a.dim - 1]
      values = a.detach().movedTo(.cpu).to(.float64).contiguous().toArray(Double.self)
      count = n == 0 ? 0 : values.count / (n * n)
    }
  }

  /// LU factorization with partial pivoting of each matrix, in place: returns the pivot rows,
  /// the permutation's sign and the first zero pivot (if any) per matrix.
  private static func factorLU(_ m: inout Matrices) -> [(pivots: [Int], sign: Double, singularAt: Int?)] {
    let n = m.n
    return (0..<m.count).map { b in
      var pivots = [Int](repeating: 0, count: n)
      var sign = 1.0
      var singularAt: Int?
      m.values.withUnsafeMutableBufferPointer { all in
        let a = all.baseAddress! + b * n * n
        for k in 0..<n {
          var best = k
          for r in (k + 1)..<Swift.max(n, k + 1) where Swift.abs(a[r * n + k]) > Swift.abs(a[best * n + k]) { best = r }
          pivots[k] = best
          if best != k {
            sign = -sign
            for c in 0..<n { Swift.swap(&a[k * n + c], &a[best * n + c]) }
          }
          let pivot = a[k * n + k]
          if pivot == 0 {
            if singularAt == nil { singularAt = k }
            continue
          }
          for r in (k + 1)..<Swift.max(n, k + 1) {
            let factor = a[r * n + k] / pivot
            a[r * n + k] = factor
            if factor != 0 { for c in (k + 1)..<n { a[r * n + c] -= factor * a[k * n + c] } }
          }
        }
      }
      return (pivots, sign, singularAt)
    }
  }

  /// Solves `A X = B` for every matrix of the batch from its LU factors (`B` as `n x k` rows).
  private static func luSolve(
    _ lu: Matrices, _ factors: [(pivots: [Int], sign: Double, singularAt: Int?)], _ rhs: [Double], columns k: Int
  ) -> [Double] {
    let n = lu.n
    var x = rhs
    for b in 0..<lu.count {
      let base = b * n * n
      let xb = b * n * k
      for (row, pivot) in factors[b].pivots.enumerated() where pivot != row {
        for c in 0..<k { x.swapAt(xb + row * k + c, xb + pivot * k + c) }
      }
      for r in 0..<n {  // L y = P b (unit diagonal)
        for j in 0..<r {
          let f = lu.values[base + r * n + j]
          if f != 0 { for c in 0..<k { x[xb + r * k + c] -= f * x[xb + j * k + c] } }
        }
      }
      for r in stride(from: n - 1, through: 0, by: -1) {  // U x = y
        for j in (r + 1)..<Swift.max(n, r + 1) {
          let f = lu.values[base + r * n + j]
          for c in 0..<k { x[xb + r * k + c] -= f * x[xb + j * k + c] }
        }
        let d = lu.values[base + r * n + r]
        for c in 0..<k { x[xb + r * k + c] /= d }
      }
    }
    return x
  }

  /// The inverse of each matrix (PyTorch: `torch.linalg.inv`); a singular matrix stops with
  /// PyTorch's message.
  public static func inv(_ a: Tensor, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "linalg.inv") {
      var lu = Matrices(a, op: "linalg.inv")
      let factors = factorLU(&lu)
      if let (b, zero) = factors.enumerated().compactMap({ i, f in f.singularAt.map { (i, $0) } }).first {
        usageFailure(
          "linalg.inv: \(lu.count > 1 ? "(Batch element \(b)): " : "")The diagonal element \(zero + 1) is zero, the inversion could not be completed because the input matrix is singular."
        )
      }
      // d(A^-1) = -A^-1 dA A^-1.
      return Tensor.linearized([inverse(lu, factors, like: a)], of: [a], name: "LinalgInvExBackward0") { _, y, t in
        [-y[0].matmul(t[0]!).matmul(y[0])]
      }[0]
    }
  }

  /// The inverses from LU factors, as a tensor like `a`.
  private static func inverse(
    _ lu: Matrices, _ factors: [(pivots: [Int], sign: Double, singularAt: Int?)], like a: Tensor
  ) -> Tensor {
    let n = lu.n
    let identity = (0..<lu.count).flatMap { _ in (0..<(n * n)).map { $0 / n == $0 % n ? 1.0 : 0.0 } }
    return Tensor(luSolve(lu, factors, identity, columns: n), shape: a.shape).to(a.dtype).movedTo(a.device)
  }

  /// Whether autograd may need a result's gradient terms: the zero-valued terms (and the
  /// inverses they need) are built only then, not on every call.
  static func tracked(_ tensors: Tensor...) -> Bool { tensors.contains { $0.hasAutogradState } }

  /// The solution `X` of `A X = B` (`B` a batch of matrices, or of vectors when it has one dim
  /// fewer than `A`) (PyTorch: `torch.linalg.solve`).
  public static func solve(_ a: Tensor, _ b: Tensor, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "linalg.solve") {
      var lu = Matrices(a, op: "linalg.solve")
      let vector = b.dim == a.dim - 1
      let rhs = vector ? b.unsqueeze(-1) : b
      usageCheck(
        rhs.dim == a.dim && Array(rhs.shape.dropLast(2)) == Array(a.shape.dropLast(2))
          && rhs.shape[rhs.dim - 2] == lu.n,
        "linalg.solve: Incompatible shapes of A and B for the equation AX = B (\(shapeString(a.shape)) and \(shapeString(b.shape)))"
      )
      let factors = factorLU(&lu)
      usageCheck(
        factors.allSatisfy { $0.singularAt == nil },
        "linalg.solve: The solver failed because the input matrix is singular.")
      let k = rhs.shape[rhs.dim - 1]
      let values = rhs.detach().movedTo(.cpu).to(.float64).contiguous().toArray(Double.self)
      let x0 = Tensor(luSolve(lu, factors, values, columns: k), shape: rhs.shape).to(DType.promote(a.dtype, b.dtype))
        .movedTo(a.device)
      // dX = A^-1 (dB - dA X), by the inverse (a solve here would transpose itself forever).
      let x = Tensor.linearized([x0], of: [a, rhs], name: "LinalgSolveExBackward0") { inputs, x, t in
        var change = t[1] ?? Tensor.zeros(like: x[0])
        if let da = t[0] { change = change - da.matmul(x[0]) }
        return [inv(inputs[0]).matmul(change)]
      }[0]
      return vector ? x.squeeze(dim: -1) : x
    }
  }

  /// The determinant of each matrix (PyTorch: `torch.linalg.det`).
  public static func det(_ a: Tensor, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "linalg.det") {
      let (sign, logAbs) = slogdet(a)
      return sign * logAbs.exp()
    }
  }

  /// The sign and the log of the absolute value of each determinant, without overflow
  /// (PyTorch: `torch.linalg.slogdet`); a singular matrix gives sign 0 and -inf.
  public static func slogdet(_ a: Tensor, out: (sign: Tensor, logAbsDet: Tensor)? = nil) -> (
    sign: Tensor, logAbsDet: Tensor
  ) {
    Tensor.writing(into: out.map { ($0.0, $0.1) }, op: "linalg.slogdet") {
      var lu = Matrices(a, op: "linalg.slogdet")
      let factors = factorLU(&lu)
      let n = lu.n
      var signs: [Double] = []
      var logs: [Double] = []
      for (b, f) in factors.enumerated() {
        var sign = f.sign
        var log = 0.0
        for i in 0..<n {
          let d = lu.values[b * n * n + i * n + i]
          if d < 0 { sign = -sign }
          log += Foundation.log(Swift.abs(d))
        }
        signs.append(f.singularAt == nil ? sign : 0)
        logs.append(f.singularAt == nil ? log : -.infinity)
      }
      let batch = Array(a.shape.dropLast(2))
      let sign = Tensor(signs, shape: batch).to(a.dtype).movedTo(a.device)
      let log0 = Tensor(logs, shape: batch).to(a.dtype).movedTo(a.device)
      // d log|det A| = trace(A^-1 dA), for invertible A.
      guard factors.allSatisfy({ $0.singularAt == nil }) else { return (sign, log0) }
      let logAbsDet = Tensor.linearized([log0], of: [a], name: "LinalgSlogdetBackward0") { inputs, _, t in
        [inv(inputs[0]).matmul(t[0]!).diagonal(dim1: -2, dim2: -1).sum(dim: [-1])]
      }[0]
      return (sign, logAbsDet)
    }
  }

  /// The lower-triangular `L` with `L Lᵀ = A` for symmetric positive-definite `A` (only the
  /// lower triangle is read; the gradient is symmetric, as PyTorch's) (PyTorch: `torch.linalg.cholesky`).
  public static func cholesky(_ a: Tensor, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "linalg.cholesky") {
      let m = Matrices(a, op: "linalg.cholesky")
      let n = m.n
      var l = [Double](repeating: 0, count: m.values.count)
      for b in 0..<m.count {
        let base = b * n * n
        for j in 0..<n {
          var diagonal = m.values[base + j * n + j]
          for k in 0..<j { diagonal -= l[base + j * n + k] * l[base + j * n + k] }
          usageCheck(
            diagonal > 0,
            "linalg.cholesky: \(m.count > 1 ? "(Batch element \(b)): " : "")The factorization could not be completed because the input is not positive-definite (the leading minor of order \(j + 1) is not positive-definite)."
          )
          let root = diagonal.squareRoot()
          l[base + j * n + j] = root
          for i in (j + 1)..<Swift.max(n, j + 1) {
            var s = m.values[base + i * n + j]
            for k in 0..<j { s -= l[base + i * n + k] * l[base + j * n + k] }
            l[base + i * n + j] = s / root
          }
        }
      }
      let l0 = Tensor(l, shape: a.shape).to(a.dtype).movedTo(a.device)
      // dL = L Φ(L⁻¹ dA L⁻ᵀ), Φ taking the lower triangle with the diagonal halved; dA is taken
      // symmetric, (dA + dAᵀ) / 2, so the gradient is symmetric as PyTorch's.
      return Tensor.linearized([l0], of: [a], name: "LinalgCholeskyExBackward0") { _, l, t in
        let symmetricChange = (t[0]! + t[0]!.mT) * 0.5
        let lInverse = inv(l[0])
        let inner = lInverse.matmul(symmetricChange).matmul(lInverse.mT)
        let phi = inner.tril() - inner.diagonal(dim1: -2, dim2: -1).diagEmbed() * 0.5
        return [l[0].matmul(phi)]
      }[0]
    }
  }
}

extension Linalg {
  /// The eigenvalues (ascending) and orthonormal eigenvectors (columns) of each symmetric
  /// matrix, reading its lower triangle (PyTorch: `torch.linalg.eigh`). Cyclic Jacobi
  /// rotations on the host in double precision, to full accuracy. Eigenvector signs are
  /// arbitrary, as LAPACK's. The gradient is PyTorch's: exact where eigenvalues are distinct.
  public static func eigh(_ a: Tensor, out: (eigenvalues: Tensor, eigenvectors: Tensor)? = nil) -> (
    eigenvalues: Tensor, eigenvectors: Tensor
  ) {
    Tensor.writing(into: out.map { ($0.0, $0.1) }, op: "linalg.eigh") {
      let m = Matrices(a, op: "linalg.eigh")
      let n = m.n
      var values: [Double] = []
      var vectors: [Double] = []
      for b in 0..<m.count {
        // The symmetric matrix from the lower triangle.
        var s = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
          for j in 0...i {
            s[i * n + j] = m.values[b * n * n + i * n + j]
            s[j * n + i] = s[i * n + j]
          }
        }
        let (w, v) = jacobiEigen(s, n: n)
        values += w
        vectors += v
      }
      let batch = Array(a.shape.dropLast(2))
      let w0 = Tensor(values, shape: batch + [n]).to(a.dtype).movedTo(a.device)
      let v0 = Tensor(vectors, shape: a.shape).to(a.dtype).movedTo(a.device)
      // dΛ = diag(Vᵀ dA V), dV = V (F ∘ Vᵀ dA V) with F_ij = 1 / (λ_j - λ_i) off the diagonal.
      let results = Tensor.linearized([w0, v0], of: [a], name: "LinalgEighBackward0") { _, outputs, t in
        let (w, v) = (outputs[0], outputs[1])
        let projected = v.mT.matmul((t[0]! + t[0]!.mT) * 0.5).matmul(v)
        let f = offDiagonalReciprocal(w.unsqueeze(-2) - w.unsqueeze(-1))
        return [projected.diagonal(dim1: -2, dim2: -1), v.matmul(f * projected)]
      }
      return (results[0], results[1])
    }
  }

  /// `1 / gaps` off the diagonal of the last two dims and 0 on it, differentiable: the
  /// diagonal's zero gaps are replaced before the division, so no infinity meets a zero
  /// gradient there (which would make NaN in a second derivative).
  static func offDiagonalReciprocal(_ gaps: Tensor) -> Tensor {
    let n = gaps.shape[gaps.dim - 1]
    let diagonal = Tensor.eye(n, dtype: .bool, device: gaps.device)
    return Tensor.where(diagonal, 0.0, Tensor.where(diagonal, 1.0, gaps).reciprocal())
  }

  /// The eigenvalues of each symmetric matrix, ascending (PyTorch: `torch.linalg.eigvalsh`).
  public static func eigvalsh(_ a: Tensor, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "linalg.eigvalsh") { eigh(a).eigenvalues }
  }

  /// Cyclic Jacobi: rotates `s` (symmetric, row-major n x n) to diagonal, accumulating the
  /// rotations; eigenvalues ascending with their eigenvectors as columns.
  private static func jacobiEigen(_ matrix: [Double], n: Int) -> (values: [Double], vectors: [Double]) {
    var s = matrix
    var v = (0..<(n * n)).map { $0 / n == $0 % n ? 1.0 : 0.0 }
    for _ in 0..<100 {
      var off = 0.0
      for i in 0..<n { for j in 0..<n where i != j { off += s[i * n + j] * s[i * n + j] } }
      let scale = (0..<n).reduce(0.0) { $0 + s[$1 * n + $1] * s[$1 * n + $1] } + off
      if off <= 1e-30 * Swift.max(scale, Double.leastNormalMagnitude) { break }
      for p in 0..<n {
        for q in (p + 1)..<Swift.max(n, p + 1) where s[p * n + q] != 0 {
          // The rotation that zeroes s[p][q] (Golub and Van Loan, symmetric Schur): S J, Jᵀ S, V J.
          let (c, sn) = rotation((s[q * n + q] - s[p * n + p]) / (2 * s[p * n + q]))
          rotate(&s, count: n, at: { $0 * n + p }, and: { $0 * n + q }, c, sn)
          rotate(&s, count: n, at: { p * n + $0 }, and: { q * n + $0 }, c, sn)
          rotate(&v, count: n, at: { $0 * n + p }, and: { $0 * n + q }, c, sn)
        }
      }
    }
    let order = (0..<n).sorted { s[$0 * n + $0] < s[$1 * n + $1] }
    let values = order.map { s[$0 * n + $0] }
    var vectors = [Double](repeating: 0, count: n * n)
    for (column, source) in order.enumerated() { for k in 0..<n { vectors[k * n + column] = v[k * n + source] } }
    return (values, vectors)
  }
}

extension Linalg {
  /// The reduced singular value decomposition `A = U diag(S) Vh` of each matrix: `U` is
  /// `m x k`, `S` descending, `Vh` is `k x n`, `k = min(m, n)` (PyTorch:
  /// `torch.linalg.svd(A, full_matrices=False)`). One-sided Jacobi rotations on the host in
  /// double precision; singular vector signs are arbitrary, as LAPACK's. The gradient is
  /// PyTorch's, exact for distinct nonzero singular values.
  public static func svd(_ a: Tensor, out: (U: Tensor, S: Tensor, Vh: Tensor)? = nil) -> (
    U: Tensor, S: Tensor, Vh: Tensor
  ) {
    Tensor.writing(into: out.map { ($0.0, $0.1, $0.2) }, op: "linalg.svd") {
      usageCheck(a.dim >= 2, "linalg.svd: The input tensor A must have at least 2 dimensions.")
      usageCheck(
        a.dtype == .float32 || a.dtype == .float64,
        "linalg.svd: Expected a floating point tensor as input. Got \(a.dtype.scalarTypeName)")
      let (rows, cols) = (a.shape[a.dim - 2], a.shape[a.dim - 1])
      // Work on the tall orientation: the SVD of Aᵀ is V S Uᵀ.
      if rows < cols {
        let (u, s, vh) = svd(a.mT)
        return (vh.mT, s, u.mT)
      }
      let host = a.detach().movedTo(.cpu).to(.float64).contiguous().toArray(Double.self)
      let count = rows * cols == 0 ? 0 : host.count / (rows * cols)
      var us: [Double] = []
      var ss: [Double] = []
      var vs: [Double] = []
      for b in 0..<count {
        let (u, s, v) = jacobiSVD(Array(host[(b * rows * cols)..<((b + 1) * rows * cols)]), rows: rows, cols: cols)
        us += u
        ss += s
        vs += v
      }
      let batch = Array(a.shape.dropLast(2))
      let u0 = Tensor(us, shape: batch + [rows, cols]).to(a.dtype).movedTo(a.device)
      let s0 = Tensor(ss, shape: batch + [cols]).to(a.dtype).movedTo(a.device)
      let v0 = Tensor(vs, shape: batch + [cols, cols]).to(a.dtype).movedTo(a.device)
      // With J = Uᵀ dA V: dS = diag(J); dU = U (F ∘ (J S + S Jᵀ)) + (I - U Uᵀ) dA V S⁻¹;
      // dV = V (F ∘ (S J + Jᵀ S)), F_ij = 1 / (s_j² - s_i²) off the diagonal (V is square here).
      let results = Tensor.linearized([u0, s0, v0], of: [a], name: "LinalgSvdBackward0") { _, outputs, t in
        let (u, s, v) = (outputs[0], outputs[1], outputs[2])
        let j = u.mT.matmul(t[0]!).matmul(v)
        let (sRow, sColumn) = (s.unsqueeze(-2), s.unsqueeze(-1))
        let squares = s * s
        let f = offDiagonalReciprocal(squares.unsqueeze(-2) - squares.unsqueeze(-1))
        let projector = Tensor.eye(rows, dtype: u.dtype, device: u.device) - u.matmul(u.mT)
        return [
          u.matmul(f * (j * sRow + j.mT * sColumn)) + projector.matmul(t[0]!).matmul(v) / sRow,
          j.diagonal(dim1: -2, dim2: -1),
          v.matmul(f * (j * sColumn + j.mT * sRow)),
        ]
      }
      return (results[0], results[1], results[2].mT)
    }
  }

  /// The singular values, descending (PyTorch: `torch.linalg.svdvals`).
  public static func svdvals(_ a: Tensor, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "linalg.svdvals") { svd(a).S }
  }

  /// One-sided Jacobi (Hestenes) on a tall `rows x cols` matrix: rotates column pairs until
  /// all are orthogonal; the column norms are the singular values.
  private static func jacobiSVD(_ matrix: [Double], rows m: Int, cols n: Int) -> (u: [Double], s: [Double], v: [Double])
  {
    var a = matrix
    var v = (0..<(n * n)).map { $0 / n == $0 % n ? 1.0 : 0.0 }
    for _ in 0..<100 {
      var rotated = false
      for p in 0..<n {
        for q in (p + 1)..<Swift.max(n, p + 1) {
          var (alpha, beta, gamma) = (0.0, 0.0, 0.0)
          for i in 0..<m {
            alpha += a[i * n + p] * a[i * n + p]
            beta += a[i * n + q] * a[i * n + q]
            gamma += a[i * n + p] * a[i * n + q]
          }
          if gamma == 0 || Swift.abs(gamma) <= 1e-15 * (alpha * beta).squareRoot() { continue }
          rotated = true
          let (c, s) = rotation((beta - alpha) / (2 * gamma))
          rotate(&a, count: m, at: { $0 * n + p }, and: { $0 * n + q }, c, s)
          rotate(&v, count: n, at: { $0 * n + p }, and: { $0 * n + q }, c, s)
        }
      }
      if !rotated { break }
    }
    let norms = (0..<n).map { p in (0..<m).reduce(0.0) { $0 + a[$1 * n + p] * a[$1 * n + p] }.squareRoot() }
    let order = (0..<n).sorted { norms[$0] > norms[$1] }
    var u = [Double](repeating: 0, count: m * n)
    var vSorted = [Double](repeating: 0, count: n * n)
    for (column, source) in order.enumerated() {
      let norm = norms[source]
      for i in 0..<m { u[i * n + column] = norm > 0 ? a[i * n + source] / norm : (i == column ? 1 : 0) }
      for i in 0..<n { vSorted[i * n + column] = v[i * n + source] }
    }
    return (u, order.map { norms[$0] }, vSorted)
  }
}

extension Linalg {
  /// The number of singular values above `max(atol, rtol * largest)`; without tolerances,
  /// `rtol` is the dtype's epsilon times the larger dimension (PyTorch: `torch.linalg.matrix_rank`).
  public static func matrixRank(_ a: Tensor, atol: Double? = nil, rtol: Double? = nil, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "linalg.matrix_rank") {
      let s = svdvals(a).detach()
      let epsilon = a.dtype == .float64 ? Double.ulpOfOne : Double(Float.ulpOfOne)
      let relative = rtol ?? (atol == nil ? epsilon * Double(Swift.max(a.shape[a.dim - 2], a.shape[a.dim - 1])) : 0)
      let largest = s.numel == 0 ? s.sum(dim: [-1], keepdim: true) : s.amax(dim: [-1], keepdim: true)
      let tolerance = (largest * relative).clamp(min: .double(atol ?? 0))
      return (s .> tolerance).sum(dim: [-1], dtype: .int64)
    }
  }

  /// The Moore-Penrose pseudo-inverse, dropping singular values at or below
  /// `rtol * largest` (default: epsilon times the larger dimension) (PyTorch:
  /// `torch.linalg.pinv`). Its gradient is the constant-rank formula, as PyTorch's.
  public static func pinv(_ a: Tensor, rtol: Double? = nil, out: Tensor? = nil) -> Tensor {
    Tensor.writing(into: out, op: "linalg.pinv") {
      let (u, s, vh) = svd(a.detach())
      let epsilon = a.dtype == .float64 ? Double.ulpOfOne : Double(Float.ulpOfOne)
      let relative = rtol ?? epsilon * Double(Swift.max(a.shape[a.dim - 2], a.shape[a.dim - 1]))
      let largest = s.numel == 0 ? s : s.amax(dim: [-1], keepdim: true)
      let inverted = Tensor.where(s .> largest * relative, s.reciprocal(), 0.0)
      let p0 = (vh.mT * inverted.unsqueeze(-2)).matmul(u.mT)
      // d(A⁺) = -A⁺ dA A⁺ + A⁺ A⁺ᵀ dAᵀ (I - A A⁺) + (I - A⁺ A) dAᵀ A⁺ᵀ A⁺.
      let (rows, cols) = (a.shape[a.dim - 2], a.shape[a.dim - 1])
      return Tensor.linearized([p0], of: [a], name: "LinalgPinvBackward0") { inputs, outputs, t in
        let (a, p, change) = (inputs[0], outputs[0], t[0]!)
        let leftProjector = Tensor.eye(rows, dtype: a.dtype, device: a.device) - a.matmul(p)
        let rightProjector = Tensor.eye(cols, dtype: a.dtype, device: a.device) - p.matmul(a)
        return [
          -p.matmul(change).matmul(p) + p.matmul(p.mT).matmul(change.mT).matmul(leftProjector)
            + rightProjector.matmul(change.mT).matmul(p.mT).matmul(p)
        ]
      }[0]
    }
  }

  /// The cosine and sine of the Jacobi rotation for `theta = (b - a) / (2 g)`, the smaller of
  /// the two angles that zero the off-diagonal `g` (Golub and Van Loan).
  private static func rotation(_ theta: Double) -> (c: Double, s: Double) {
    let t = (theta >= 0 ? 1.0 : -1.0) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
    let c = 1 / (t * t + 1).squareRoot()
    return (c, t * c)
  }

  /// Rotates the pairs of entries `(first(k), second(k))` for `k` in `0..<count` by (c, s).
  private static func rotate(
    _ m: inout [Double], count: Int, at first: (Int) -> Int, and second: (Int) -> Int, _ c: Double, _ s: Double
  ) {
    for k in 0..<count {
      let (x, y) = (m[first(k)], m[second(k)])
      m[first(k)] = c * x - s * y
      m[second(k)] = s * x + c * y
    }
  }
}

extension Linalg {
  /// The matrix exponential, by scaling and squaring a degree-18 Taylor polynomial (composed
  /// of matrix products, so its gradient is theirs) (PyTorch: `torch.linalg.matrix_exp`).
  public static func matrixExp(_ a: Tensor) -> Tensor {
    usageCheck(
      a.dim >= 2 && a.shape[a.dim - 1] == a.shape[a.dim - 2], "linalg.matrix_exp: A must be batches of square matrices")
    let n = a.shape[a.dim - 1]
    let norm = a.numel == 0 ? 0 : matrixNorm(a.detach(), ord: .one).max().item()
    let squarings = norm > 0.5 ? Int(Foundation.log2(norm / 0.5).rounded(.up)) : 0
    let scaled = a / Foundation.pow(2.0, Double(squarings))
    let identity = Tensor.eye(n, dtype: a.dtype, device: a.device).expand(a.shape)
    // Horner: I + B (I + B/2 (I + B/3 (... (I + B/18)))).
    var result = identity
    for k in stride(from: 18, through: 1, by: -1) { result = identity + scaled.matmul(result) / Double(k) }
    for _ in 0..<squarings { result = result.matmul(result) }
    return result
  }
}
