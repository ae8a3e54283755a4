/// Which cases a run of `Benchmarks` measures, from its first argument:
/// - none: every case;
/// - `text`: the cases whose names contain `text`;
/// - `=name`: the case `name` alone, and only its group's set-up runs (what
///   `Scripts/compare.py` uses to alternate with PyTorch case by case);
/// - `--list`: nothing is measured; the names of every case print as a JSON array.
struct CaseSelection {
  private enum Mode {
    case all
    case containing(String)
    case exactly(String)
    case listing
  }

  private let mode: Mode

  init(_ argument: String?) {
    switch argument {
    case nil: mode = .all
    case "--list": mode = .listing
    case let text? where text.hasPrefix("="): mode = .exactly(String(text.dropFirst()))
    case let text?: mode = .containing(text)
    }
  }

  /// Whether the run only lists the cases' names.
  var isListing: Bool {
    if case .listing = mode { return true }
    return false
  }

  /// Whether case `name` is measured.
  func includes(_ name: String) -> Bool {
    switch mode {
    case .all: true
    case .containing(let text): name.contains(text)
    case .exactly(let wanted): name == wanted
    case .listing: false
    }
  }

  /// Whether a group of cases whose names start with one of `prefixes` may hold a measured
  /// case (or, when listing, a name to list), so that its set-up must run.
  func mayInclude(prefixes: [String]) -> Bool {
    guard case .exactly(let wanted) = mode else { return true }
    return prefixes.contains { wanted.hasPrefix($0) }
  }
}
