// `einsum`, lowered to diagonals, sums, permutes, reshapes and batched matrix products, so its
// gradient and its device path are theirs.

extension Tensor {
  /// Einstein summation with PyTorch's subscripts: letters name dims, `...` stands for
  /// broadcast dims, a letter repeated in one operand takes a diagonal, and without `->`
  /// the output has the letters used once, in alphabetical order, after the ellipsis dims
  /// (PyTorch: `torch.einsum("ij,jk->ik", a, b)`).
  public static func einsum(_ equation: String, _ operands: Tensor...) -> Tensor { einsum(equation, operands) }

  /// `einsum` with the operands as an array.
  public static func einsum(_ equation: String, _ operands: [Tensor]) -> Tensor {
    if let cast = Autocast.run(.lowerPrecision, operands, { einsum(equation, $0.map { $0! }) }) { return cast }
    let spec = EinsumSpec(equation, operands: operands)
    // Each operand as (tensor, labels): diagonals taken, then the dims no one else needs summed.
    var terms = zip(operands, spec.inputs).map { t, labels in EinsumTerm.diagonalized(t, labels) }
    let sizes = spec.broadcastSizes(terms)
    for i in terms.indices {
      let needed = spec.output + terms.indices.filter { $0 != i }.flatMap { terms[$0].labels }
      terms[i] = terms[i].expanded(to: sizes).summing(keeping: Set(needed))
    }
    var result = terms[0]
    for i in 1..<terms.count {
      let later = spec.output + terms[(i + 1)...].flatMap(\.labels)
      result = EinsumTerm.contract(result, terms[i], keeping: Set(later))
    }
    result = result.summing(keeping: Set(spec.output))
    return result.tensor.permute(spec.output.map { result.labels.firstIndex(of: $0)! })
  }
}

/// A parsed equation: one label list per operand and the output's, with ellipsis dims as
/// negative labels (-1 the last ellipsis dim, -2 the one before, ...), letters as their code.
struct EinsumSpec {
  var inputs: [[Int]]
  var output: [Int]

  init(_ equation: String, operands: [Tensor]) {
    let text = equation.filter { $0 != " " }
    let sides = text.components(separatedBy: "->")
    usageCheck(sides.count <= 2, "einsum(): more than one '->' in the equation \(equation)")
    let terms = sides[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    usageCheck(
      terms.count == operands.count,
      "einsum(): more operands were provided than specified in the equation (\(terms.count) subscripts, \(operands.count) operands)"
    )
    usageCheck(!operands.isEmpty, "einsum(): must provide at least one operand")
    var ellipsisRank = 0
    inputs = zip(terms, operands).map { term, operand in
      let parsed = EinsumSpec.labels(term, equation: equation)
      let letters = parsed.filter { $0 >= 0 }.count
      let hasEllipsis = parsed.contains(-1)
      usageCheck(
        hasEllipsis ? operand.dim >= letters : operand.dim == letters,
        "einsum(): the number of subscripts in the equation (\(letters)) does not match the number of dimensions (\(operand.dim)) for operand \(operands.firstIndex { $0 === operand } ?? 0)\(hasEllipsis ? "" : " and no ellipsis was given")"
      )
      let span = operand.dim - letters
      ellipsisRank = Swift.max(ellipsisRank, hasEllipsis ? span : 0)
      // Replace the ellipsis marker by its dims, numbered from the right.
      return parsed.flatMap { $0 == -1 ? (0..<span).map { -(span - $0) } : [$0] }
    }
    if sides.count == 2 {
      let parsed = EinsumSpec.labels(sides[1], equation: equation)
      output = parsed.flatMap { $0 == -1 ? (0..<ellipsisRank).map { -(ellipsisRank - $0) } : [$0] }
      for label in output where label >= 0 {
        usageCheck(
          inputs.contains { $0.contains(label) },
          "einsum(): output subscript \(Character(UnicodeScalar(UInt8(label)))) does not appear in the equation for any input operand"
        )
        usageCheck(
          output.filter { $0 == label }.count == 1,
          "einsum(): output subscript \(Character(UnicodeScalar(UInt8(label)))) appears more than once in the output")
      }
    } else {
      // Implicit output: ellipsis dims, then the letters used exactly once, alphabetically.
      let all = inputs.flatMap { $0 }
      output =
        (0..<ellipsisRank).map { -(ellipsisRank - $0) }
        + Set(all.filter { $0 >= 0 }).filter { l in all.filter { $0 == l }.count == 1 }.sorted()
    }
  }

  /// Letter codes of one subscript, with -1 for `...`.
  private static func labels(_ term: String, equation: String) -> [Int] {
    var result: [Int] = []
    var rest = Substring(term)
    while let c = rest.first {
      if rest.hasPrefix("...") {
        usageCheck(
          !result.contains(-1), "einsum(): found '.' for operand that is not part of any ellipsis in \(equation)")
        result.append(-1)
        rest = rest.dropFirst(3)
        continue
      }
      usageCheck(
        c.isASCII && c.isLetter,
        "einsum(): invalid subscript given: \(c) in \(equation); subscripts must be in [a-zA-Z]")
      result.append(Int(c.asciiValue!))
      rest = rest.dropFirst()
    }
    return result
  }

  /// Each label's size across operands: equal, or 1 where it broadcasts.
  func broadcastSizes(_ terms: [EinsumTerm]) -> [Int: Int] {
    var sizes: [Int: Int] = [:]
    for term in terms {
      for (label, size) in zip(term.labels, term.tensor.shape) {
        let known = sizes[label] ?? 1
        usageCheck(
          known == size || known == 1 || size == 1,
          "einsum(): operands do not broadcast with remapped shapes (original->remapped): a dim of size \(size) meets one of size \(known)"
        )
        sizes[label] = Swift.max(known, size)
      }
    }
    return sizes
  }
}

/// One operand or intermediate result, each dim named by a label.
struct EinsumTerm {
  var tensor: Tensor
  var labels: [Int]

  /// `tensor` with each repeated label reduced to its diagonal (one dim, moved last).
  static func diagonalized(_ tensor: Tensor, _ labels: [Int]) -> EinsumTerm {
    var term = EinsumTerm(tensor: tensor, labels: labels)
    while let (i, j) = term.firstRepeat() {
      term.tensor = term.tensor.diagonal(dim1: i, dim2: j)
      let label = term.labels[i]
      term.labels.remove(at: j)
      term.labels.remove(at: i)
      term.labels.append(label)
    }
    return term
  }

  private func firstRepeat() -> (Int, Int)? {
    for i in labels.indices {
      if let j = labels[(i + 1)...].firstIndex(of: labels[i]) { return (i, j) }
    }
    return nil
  }

  /// Size-1 dims expanded to the label's size elsewhere.
  func expanded(to sizes: [Int: Int]) -> EinsumTerm {
    EinsumTerm(tensor: tensor.expand(labels.map { sizes[$0]! }), labels: labels)
  }

  /// Sums out the dims whose labels are not in `keeping`.
  func summing(keeping: Set<Int>) -> EinsumTerm {
    let drop = labels.indices.filter { !keeping.contains(labels[$0]) }
    guard !drop.isEmpty else { return self }
    return EinsumTerm(
      tensor: tensor.sum(dim: drop), labels: labels.enumerated().filter { !drop.contains($0.offset) }.map(\.element))
  }

  /// `a` and `b` multiplied and summed over the labels they share that are not kept, as one
  /// batched matrix product: [batch, left, contracted] x [batch, contracted, right].
  static func contract(_ a: EinsumTerm, _ b: EinsumTerm, keeping: Set<Int>) -> EinsumTerm {
    let shared = a.labels.filter { b.labels.contains($0) }
    let batch = shared.filter { keeping.contains($0) }
    let contracted = shared.filter { !keeping.contains($0) }
    let left = a.labels.filter { !shared.contains($0) }
    let right = b.labels.filter { !shared.contains($0) }
    func size(_ t: EinsumTerm, _ label: Int) -> Int { t.tensor.shape[t.labels.firstIndex(of: label)!] }
    func product(_ t: EinsumTerm, _ labels: [Int]) -> Int { labels.reduce(1) { $0 * size(t, $1) } }
    let lhs = a.tensor.permute((batch + left + contracted).map { a.labels.firstIndex(of: $0)! })
      .reshape(product(a, batch), product(a, left), product(a, contracted))
    let rhs = b.tensor.permute((batch + contracted + right).map { b.labels.firstIndex(of: $0)! })
      .reshape(product(b, batch), product(b, contracted), product(b, right))
    let shape = batch.map { size(a, $0) } + left.map { size(a, $0) } + right.map { size(b, $0) }
    return EinsumTerm(tensor: lhs.bmm(rhs).reshape(shape), labels: batch + left + right)
  }
}
