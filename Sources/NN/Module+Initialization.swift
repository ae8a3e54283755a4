import Autograd

/// PyTorch's default initialisation of a layer's weight of `weightShape` and its bias of
/// `biasCount` elements (Linear and every convolution): uniform in ±1/sqrt(fan_in), fan_in
/// being the weight's dim 1 times its kernel area (`kaiming_uniform_(a=sqrt(5))`), drawn weight
/// first, so a seed gives PyTorch's numbers.
func defaultParameters(weightShape: [Int], biasCount: Int?) -> (weight: Tensor, bias: Tensor?) {
  let fanIn = weightShape.dropFirst().reduce(1, *)
  let bound = 1 / Double(fanIn).squareRoot()
  let weight = Tensor.empty(weightShape).uniform_(from: -bound, to: bound).requiresGrad_()
  let bias = biasCount.map { Tensor.empty($0).uniform_(from: -bound, to: bound).requiresGrad_() }
  return (weight, bias)
}

/// Stops unless both channel counts divide into `groups` (PyTorch's message).
func checkGroups(_ layer: String, _ inChannels: Int, _ outChannels: Int, _ groups: Int) {
  usageCheck(
    groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
    "\(layer): in_channels (\(inChannels)) and out_channels (\(outChannels)) must be divisible by groups (\(groups))")
}

/// The weight, bias and settings (one value for every spatial dim) that `Conv3d` and the
/// transposed convolution layers store, initialised as PyTorch does; each layer's `forward`
/// says how it uses them.
public class ConvolutionLayer: Module {
  /// The kernels: `[out, in / groups, *kernel]` (transposed layers: `[in, out / groups, *kernel]`).
  public var weight: Tensor
  /// `[outChannels]`, or `nil`.
  public var bias: Tensor?
  let stride: Int
  let padding: Int
  let outputPadding: Int
  let groups: Int
  let dilation: Int

  init(
    _ layer: String, inChannels: Int, outChannels: Int, weightShape: [Int], bias: Bool, stride: Int, padding: Int,
    outputPadding: Int = 0,
    groups: Int, dilation: Int
  ) {
    checkGroups(layer, inChannels, outChannels, groups)
    (weight, self.bias) = defaultParameters(weightShape: weightShape, biasCount: bias ? outChannels : nil)
    self.stride = stride
    self.padding = padding
    self.outputPadding = outputPadding
    self.groups = groups
    self.dilation = dilation
  }

  /// A setting repeated for each of `count` spatial dims.
  func each(_ value: Int, _ count: Int) -> [Int] { [Int](repeating: value, count: count) }
}
