import Foundation

/// PyTorch's print options (`torch.set_printoptions` defaults).
enum PrintOptions {
  static let precision = 4
  static let threshold = 1000
  static let edgeItems = 3
  static let lineWidth = 80
}

/// Decides how every element of a tensor is printed, as PyTorch's `_Formatter`: integers
/// as they are; floats in fixed point with 4 decimals, as whole numbers with a trailing
/// `.` when all values are whole, or in scientific notation when the range is wide.
struct ElementFormatter {
  let floating: Bool
  var intMode = true
  var sciMode = false
  var maxWidth = 1

  init(values: [Double], dtype: DType) {
    floating = dtype.isFloatingPoint
    if !floating {
      for v in values { maxWidth = Swift.max(maxWidth, ElementFormatter.plain(v, dtype: dtype).count) }
      return
    }
    let finite = values.filter { $0.isFinite && $0 != 0 }
    if finite.isEmpty { return }
    let magnitudes = finite.map(Swift.abs)
    let lo = magnitudes.min()!
    let hi = magnitudes.max()!
    intMode = finite.allSatisfy { $0 == $0.rounded(.up) }
    if intMode {
      if hi / lo > 1000 || hi > 1e8 {
        sciMode = true
        for v in finite { maxWidth = Swift.max(maxWidth, ElementFormatter.scientific(v).count) }
      } else {
        for v in finite { maxWidth = Swift.max(maxWidth, String(format: "%.0f", v).count + 1) }
      }
    } else if hi / lo > 1000 || hi > 1e8 || lo < 1e-4 {
      sciMode = true
      for v in finite { maxWidth = Swift.max(maxWidth, ElementFormatter.scientific(v).count) }
    } else {
      for v in finite { maxWidth = Swift.max(maxWidth, String(format: "%.\(PrintOptions.precision)f", v).count) }
    }
  }

  static func plain(_ v: Double, dtype: DType) -> String {
    dtype == .bool ? (v != 0 ? "True" : "False") : String(Int64(v))
  }

  static func scientific(_ v: Double) -> String {
    String(format: "%.\(PrintOptions.precision)e", v)
  }

  static func nonFinite(_ v: Double) -> String? {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    return nil
  }

  func format(_ v: Double, dtype: DType) -> String {
    var s: String
    if !floating {
      s = ElementFormatter.plain(v, dtype: dtype)
    } else if let special = ElementFormatter.nonFinite(v) {
      s = special
    } else if sciMode {
      s = ElementFormatter.scientific(v)
    } else if intMode {
      s = String(format: "%.0f", v) + "."
    } else {
      s = String(format: "%.\(PrintOptions.precision)f", v)
    }
    if s.count < maxWidth { s = String(repeating: " ", count: maxWidth - s.count) + s }
    return s
  }
}

extension Tensor: CustomStringConvertible {
  /// PyTorch's printed form: `tensor([[1.0000, 2.0000], ...])` with `dtype=`, `device=` and
  /// autograd suffixes as PyTorch shows them.
  public var description: String {
    let prefix = "tensor("
    let indent = prefix.count
    var suffixes: [String] = []
    if device != .cpu { suffixes.append("device='\(device)'") }
    let body: String
    if numel == 0 {
      if dim != 1 { suffixes.append("size=(" + shape.map(String.init).joined(separator: ", ") + ")") }
      if dtype != .float32 { suffixes.append("dtype=\(dtype)") }
      body = "[]"
    } else {
      if ![.float32, .int64, .bool].contains(dtype) { suffixes.append("dtype=\(dtype)") }
      body = formattedBody(indent: indent)
    }
    suffixes.append(contentsOf: Tensor.recorder?.descriptionSuffixes(for: self) ?? [])
    var out = prefix + body
    // PyTorch: len(s) - s.rfind("\n") + 1.
    var lastLineLength =
      out.count - (out.lastIndex(of: "\n").map { out.distance(from: out.startIndex, to: $0) } ?? -1) + 1
    for suffix in suffixes {
      if lastLineLength + suffix.count + 2 > PrintOptions.lineWidth {
        out += ",\n" + String(repeating: " ", count: indent) + suffix
        lastLineLength = indent + suffix.count
      } else {
        out += ", " + suffix
        lastLineLength += suffix.count + 2
      }
    }
    return out + ")"
  }

  private func formattedBody(indent: Int) -> String {
    let host = movedTo(.cpu).detach()
    let summarize = numel > PrintOptions.threshold
    let sample = summarize ? host.summarizedValues() : host.toArray(Double.self)
    let formatter = ElementFormatter(values: sample, dtype: dtype)
    return host.formatNested(indent: indent, summarize: summarize, formatter: formatter)
  }

  /// The values PyTorch's formatter looks at when summarizing: the edge items of each dim.
  private func summarizedValues() -> [Double] {
    if dim == 0 { return toArray(Double.self) }
    let e = PrintOptions.edgeItems
    let n = shape[0]
    let rows = n > 2 * e ? Array(0..<e) + Array((n - e)..<n) : Array(0..<n)
    if dim == 1 { return rows.map { select(dim: 0, index: $0).toArray(Double.self)[0] } }
    return rows.flatMap { select(dim: 0, index: $0).summarizedValues() }
  }

  private func formatNested(indent: Int, summarize: Bool, formatter: ElementFormatter) -> String {
    let e = PrintOptions.edgeItems
    if dim == 0 { return formatter.format(toArray(Double.self)[0], dtype: dtype) }
    let n = shape[0]
    let elided = summarize && n > 2 * e
    if dim == 1 {
      let values = toArray(Double.self)
      var items: [String]
      if elided {
        items =
          values[0..<e].map { formatter.format($0, dtype: dtype) } + [" ..."]
          + values[(n - e)...].map { formatter.format($0, dtype: dtype) }
      } else {
        items = values.map { formatter.format($0, dtype: dtype) }
      }
      let perLine = Swift.max(1, (PrintOptions.lineWidth - indent) / (formatter.maxWidth + 2))
      var lines: [String] = []
      var i = 0
      while i < items.count {
        lines.append(items[i..<Swift.min(i + perLine, items.count)].joined(separator: ", "))
        i += perLine
      }
      return "[" + lines.joined(separator: ",\n" + String(repeating: " ", count: indent + 1)) + "]"
    }
    var slices: [String]
    let inner = { (i: Int) in
      self.select(dim: 0, index: i).formatNested(indent: indent + 1, summarize: summarize, formatter: formatter)
    }
    if elided {
      slices = (0..<e).map(inner) + ["..."] + ((n - e)..<n).map(inner)
    } else {
      slices = (0..<n).map(inner)
    }
    let separator = "," + String(repeating: "\n", count: dim - 1) + String(repeating: " ", count: indent + 1)
    return "[" + slices.joined(separator: separator) + "]"
  }
}
