import NN

/// The `Train` example's classifier: a two-layer perceptron over flattened images.
public final class MLP: Module {
  var flatten = Flatten()
  var fc1: Linear
  var relu = ReLU()
  var fc2: Linear

  /// A perceptron from `inputs` pixels through `hidden` units to `classes` logits.
  public init(inputs: Int, hidden: Int, classes: Int) {
    fc1 = Linear(inputs, hidden)
    fc2 = Linear(hidden, classes)
  }

  /// The logits.
  public override func forward(_ x: Tensor) -> Tensor { fc2(relu(fc1(flatten(x)))) }
}

/// The `FineTune` example's network for 1×8×8 images, built from torchvision's
/// `BasicBlock` (the same module names as `SmallResNet` in `Scripts/finetune_pretrain.py`,
/// so PyTorch's `state_dict` loads with `strict: true`).
public final class SmallResNet: Module {
  var conv1 = Conv2d(1, 16, kernelSize: 3, padding: 1, bias: false)
  var bn1 = BatchNorm2d(16)
  var relu = ReLU()
  var layer1 = Sequential(BasicBlock(16, 16), BasicBlock(16, 32, stride: 2))
  var avgpool = AdaptiveAvgPool2d(1)
  /// The classifier head, replaced when fine-tuning.
  public var fc: Linear

  /// A network with `classes` outputs.
  public init(classes: Int) { fc = Linear(32, classes) }

  /// The logits.
  public override func forward(_ x: Tensor) -> Tensor {
    fc(avgpool(layer1(relu(bn1(conv1(x))))).flatten(startDim: 1))
  }
}
