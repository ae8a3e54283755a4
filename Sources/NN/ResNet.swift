/// The two-convolution residual block of ResNet-18/34, with torchvision's structure and
/// parameter names (`conv1`, `bn1`, `conv2`, `bn2`, `downsample`).
public final class BasicBlock: Module {
  /// 3×3 convolution (strided when the block downsamples).
  public var conv1: Conv2d
  /// Normalization after `conv1`.
  public var bn1: BatchNorm2d
  /// The activation (shared, as in torchvision).
  public var relu = ReLU()
  /// Second 3×3 convolution.
  public var conv2: Conv2d
  /// Normalization after `conv2`.
  public var bn2: BatchNorm2d
  /// 1×1 convolution and normalization that match the shortcut's shape, when needed.
  public var downsample: Sequential?

  /// A block from `inPlanes` to `planes` channels.
  public init(_ inPlanes: Int, _ planes: Int, stride: Int = 1) {
    conv1 = Conv2d(inPlanes, planes, kernelSize: 3, stride: stride, padding: 1, bias: false)
    bn1 = BatchNorm2d(planes)
    conv2 = Conv2d(planes, planes, kernelSize: 3, padding: 1, bias: false)
    bn2 = BatchNorm2d(planes)
    if stride != 1 || inPlanes != planes {
      downsample = Sequential(Conv2d(inPlanes, planes, kernelSize: 1, stride: stride, bias: false), BatchNorm2d(planes))
    }
  }

  /// `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`.
  public override func forward(_ x: Tensor) -> Tensor {
    let out = bn2(conv2(relu(bn1(conv1(x)))))
    let identity = downsample.map { $0(x) } ?? x
    return relu(out + identity)
  }
}

/// ResNet-18 with torchvision's structure and names, so its state dicts load with
/// `strict: true` (torchvision: `resnet18`).
public final class ResNet18: Module {
  /// The 7×7 stem convolution.
  public var conv1: Conv2d
  /// Stem normalization.
  public var bn1: BatchNorm2d
  /// Stem activation.
  public var relu = ReLU()
  /// Stem pooling.
  public var maxpool = MaxPool2d(kernelSize: 3, stride: 2, padding: 1)
  /// Stage 1 (64 channels).
  public var layer1: Sequential
  /// Stage 2 (128 channels).
  public var layer2: Sequential
  /// Stage 3 (256 channels).
  public var layer3: Sequential
  /// Stage 4 (512 channels).
  public var layer4: Sequential
  /// Global average pooling.
  public var avgpool = AdaptiveAvgPool2d(1)
  /// The classifier; replace it to fine-tune for other classes.
  public var fc: Linear

  /// A ResNet-18 for `numClasses` classes and `inChannels` input channels.
  public init(numClasses: Int = 1000, inChannels: Int = 3) {
    conv1 = Conv2d(inChannels, 64, kernelSize: 7, stride: 2, padding: 3, bias: false)
    bn1 = BatchNorm2d(64)
    layer1 = Sequential(BasicBlock(64, 64), BasicBlock(64, 64))
    layer2 = Sequential(BasicBlock(64, 128, stride: 2), BasicBlock(128, 128))
    layer3 = Sequential(BasicBlock(128, 256, stride: 2), BasicBlock(256, 256))
    layer4 = Sequential(BasicBlock(256, 512, stride: 2), BasicBlock(512, 512))
    fc = Linear(512, numClasses)
  }

  /// Logits for a batch of NCHW images.
  public override func forward(_ x: Tensor) -> Tensor {
    var y = maxpool(relu(bn1(conv1(x))))
    y = layer4(layer3(layer2(layer1(y))))
    return fc(avgpool(y).flatten(startDim: 1))
  }
}
