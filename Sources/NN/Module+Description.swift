/// A module that shows its settings in `print(model)` (PyTorch: `extra_repr()`); the
/// library's layers conform, and so can a user's.
public protocol ModuleSettingsDescribing {
  /// The settings, as PyTorch prints them inside the module's parentheses.
  var settingsDescription: String { get }
}

extension Module: CustomStringConvertible {
  /// The module tree in PyTorch's format (`print(model)`): the type name, its settings,
  /// and each child as `(name): ...`, indented two spaces per level. Children that come
  /// from an array property are grouped as PyTorch groups a `ModuleList`, with runs of
  /// identical children shown once (`(0-2): 3 x Linear(...)`).
  public var description: String {
    let settings = (self as? ModuleSettingsDescribing)?.settingsDescription ?? ""
    var childLines: [String] = []
    var lists: [String: [(index: String, module: Module)]] = [:]
    var order: [String] = []
    for (name, child) in namedChildren() {
      let parts = name.split(separator: ".", maxSplits: 1)
      if parts.count == 2, !(self is Sequential) {
        let list = String(parts[0])
        if lists[list] == nil { order.append(list) }
        lists[list, default: []].append((String(parts[1]), child))
      } else {
        order.append(name)
        lists[name] = [("", child)]
      }
    }
    for name in order {
      let entries = lists[name]!
      if entries.count == 1 && entries[0].index.isEmpty {
        childLines.append("(\(name)): " + Module.indented(entries[0].module.description))
      } else {
        childLines.append("(\(name)): " + Module.indented(Module.listDescription(entries.map(\.module))))
      }
    }
    return Module.render(String(describing: type(of: self)), settings: settings, children: childLines)
  }

  /// PyTorch's layout: one settings line alone stays inside the parentheses; otherwise
  /// every line goes on its own, indented.
  static func render(_ name: String, settings: String, children: [String]) -> String {
    let settingLines = settings.isEmpty ? [] : settings.split(separator: "\n").map(String.init)
    let lines = settingLines + children
    if lines.isEmpty { return name + "()" }
    if settingLines.count == 1 && children.isEmpty { return "\(name)(\(settingLines[0]))" }
    return name + "(\n  " + lines.joined(separator: "\n  ") + "\n)"
  }

  /// Every line after the first indented two more spaces (PyTorch: `_addindent`).
  static func indented(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
      .map { $0.offset == 0 ? String($0.element) : "  " + $0.element }.joined(separator: "\n")
  }

  /// A `ModuleList` of `modules`, runs of identical ones compressed as PyTorch does.
  static func listDescription(_ modules: [Module]) -> String {
    let texts = modules.map(\.description)
    var lines: [String] = []
    var start = 0
    while start < texts.count {
      var end = start
      while end + 1 < texts.count && texts[end + 1] == texts[start] { end += 1 }
      let label = end == start ? "(\(start))" : "(\(start)-\(end)): \(end - start + 1) x"
      lines.append(end == start ? "\(label): " + indented(texts[start]) : "\(label) " + indented(texts[start]))
      start = end + 1
    }
    return render("ModuleList", settings: "", children: lines)
  }
}

/// Python's spelling of a tuple of ints: `(3, 3)`, `(3,)`.
func pythonTuple(_ values: [Int]) -> String {
  values.count == 1 ? "(\(values[0]),)" : "(" + values.map(String.init).joined(separator: ", ") + ")"
}

/// Python's spelling of a bool.
func pythonBool(_ value: Bool) -> String { value ? "True" : "False" }

/// One int when every entry is the same (as a layer made with an int prints), else a tuple.
func pythonIntOrTuple(_ values: [Int]) -> String {
  Set(values).count == 1 ? "\(values[0])" : pythonTuple(values)
}

/// PyTorch's convolution settings: channels, kernel and stride always; padding, dilation,
/// output padding, groups and a missing bias only when they differ from the defaults.
func convolutionDescription(
  weight: Tensor, transposed: Bool, groups: Int, stride: [Int], padding: String?, dilation: [Int], outputPadding: [Int],
  bias: Bool
) -> String {
  let kernel = Array(weight.shape.dropFirst(2))
  let (inChannels, outChannels) =
    transposed ? (weight.shape[0], weight.shape[1] * groups) : (weight.shape[1] * groups, weight.shape[0])
  var text = "\(inChannels), \(outChannels), kernel_size=\(pythonTuple(kernel)), stride=\(pythonTuple(stride))"
  if let padding { text += ", padding=\(padding)" }
  if dilation.contains(where: { $0 != 1 }) { text += ", dilation=\(pythonTuple(dilation))" }
  if outputPadding.contains(where: { $0 != 0 }) { text += ", output_padding=\(pythonTuple(outputPadding))" }
  if groups != 1 { text += ", groups=\(groups)" }
  if !bias { text += ", bias=False" }
  return text
}

extension Linear: ModuleSettingsDescribing {
  /// `in_features=…, out_features=…, bias=…`.
  public var settingsDescription: String {
    "in_features=\(weight.shape[1]), out_features=\(weight.shape[0]), bias=\(pythonBool(bias != nil))"
  }
}

extension Conv2d: ModuleSettingsDescribing {
  /// PyTorch's convolution settings.
  public var settingsDescription: String {
    let pad: String? =
      switch paddingMode {
      case .same: "same"
      case .valid: "valid"
      case .explicit(let h, let w): h == 0 && w == 0 ? nil : pythonTuple([h, w])
      }
    return convolutionDescription(
      weight: weight, transposed: false, groups: groups, stride: [stride.0, stride.1], padding: pad,
      dilation: [dilation.0, dilation.1],
      outputPadding: [0], bias: bias != nil)
  }
}

extension Conv1d: ModuleSettingsDescribing {
  /// PyTorch's convolution settings.
  public var settingsDescription: String {
    let pad: String? =
      switch padding {
      case .same: "same"
      case .valid: "valid"
      case .explicit(let p, _): p == 0 ? nil : pythonTuple([p])
      }
    return convolutionDescription(
      weight: weight, transposed: false, groups: groups, stride: [stride], padding: pad, dilation: [dilation],
      outputPadding: [0],
      bias: bias != nil)
  }
}

extension ConvolutionLayer: ModuleSettingsDescribing {
  /// PyTorch's convolution settings.
  public var settingsDescription: String {
    let dims = weight.dim - 2
    let transposed = String(describing: type(of: self)).hasPrefix("ConvTranspose")
    return convolutionDescription(
      weight: weight, transposed: transposed, groups: groups, stride: each(stride, dims),
      padding: padding == 0 ? nil : pythonTuple(each(padding, dims)),
      dilation: each(dilation, dims), outputPadding: each(outputPadding, dims), bias: bias != nil)
  }
}

extension BatchNorm: ModuleSettingsDescribing {
  /// `features, eps=…, momentum=…, affine=…, bias=…, track_running_stats=True`.
  public var settingsDescription: String {
    "\(runningMean.shape[0]), eps=\(eps), momentum=\(momentum), affine=\(pythonBool(weight != nil)), bias=\(pythonBool(bias != nil)), "
      + "track_running_stats=True"
  }
}

extension LayerNorm: ModuleSettingsDescribing {
  /// `(shape), eps=…, elementwise_affine=…, bias=…`.
  public var settingsDescription: String {
    "\(pythonTuple(normalizedShape)), eps=\(eps), elementwise_affine=\(pythonBool(weight != nil)), bias=\(pythonBool(bias != nil))"
  }
}

extension Embedding: ModuleSettingsDescribing {
  /// `count, dim` and the padding index when there is one.
  public var settingsDescription: String {
    "\(weight.shape[0]), \(weight.shape[1])" + (paddingIdx.map { ", padding_idx=\($0)" } ?? "")
  }
}

extension Dropout: ModuleSettingsDescribing {
  /// `p=…, inplace=False`.
  public var settingsDescription: String { "p=\(p), inplace=False" }
}

extension GELU: ModuleSettingsDescribing {
  /// `approximate='none'` or `'tanh'`.
  public var settingsDescription: String { "approximate='\(approximate == .tanh ? "tanh" : "none")'" }
}

extension Softmax: ModuleSettingsDescribing {
  /// `dim=…`.
  public var settingsDescription: String { "dim=\(dim)" }
}

extension Flatten: ModuleSettingsDescribing {
  /// `start_dim=…, end_dim=…`.
  public var settingsDescription: String { "start_dim=\(startDim), end_dim=\(endDim)" }
}

extension MaxPool2d: ModuleSettingsDescribing {
  /// `kernel_size=…, stride=…, padding=…, dilation=…, ceil_mode=…`.
  public var settingsDescription: String {
    "kernel_size=\(pythonIntOrTuple([kernel.0, kernel.1])), stride=\(pythonIntOrTuple([stride.0, stride.1])), "
      + "padding=\(pythonIntOrTuple([padding.0, padding.1])), dilation=\(pythonIntOrTuple([dilation.0, dilation.1])), "
      + "ceil_mode=\(pythonBool(ceilMode))"
  }
}

extension AvgPool2d: ModuleSettingsDescribing {
  /// `kernel_size=…, stride=…, padding=…`.
  public var settingsDescription: String {
    "kernel_size=\(pythonIntOrTuple([kernel.0, kernel.1])), stride=\(pythonIntOrTuple([stride.0, stride.1])), "
      + "padding=\(pythonIntOrTuple([padding.0, padding.1]))"
  }
}

extension AdaptiveAvgPool2d: ModuleSettingsDescribing {
  /// `output_size=…`.
  public var settingsDescription: String { "output_size=\(pythonTuple([outputSize.0, outputSize.1]))" }
}

extension RecurrentLayer: ModuleSettingsDescribing {
  /// `input, hidden` and the settings that differ from the defaults.
  public var settingsDescription: String {
    var text = "\(inputSize), \(hiddenSize)"
    if projSize != 0 { text += ", proj_size=\(projSize)" }
    if numLayers != 1 { text += ", num_layers=\(numLayers)" }
    if !bias { text += ", bias=False" }
    if batchFirst { text += ", batch_first=True" }
    if dropout != 0 { text += ", dropout=\(dropout)" }
    if bidirectional { text += ", bidirectional=True" }
    return text
  }
}
extension FunctionModule: ModuleSettingsDescribing {}
