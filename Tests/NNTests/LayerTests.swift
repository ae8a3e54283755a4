import Foundation
import NN
import TestSupport
import Testing

private let fixtures = Fixtures()

/// Loads a layer case's parameters into `module` (by PyTorch name), runs it and compares
/// output and gradients with PyTorch's.
private func check(_ name: String, _ module: Module, sourceLocation: SourceLocation = #_sourceLocation) throws {
  var state: [String: Tensor] = [:]
  for key in module.stateDictKeys() {
    let param = "layer_\(name)_param_\(key)"
    // Parameters come from PyTorch; buffers keep their initial values, as in PyTorch.
    let isParameter = FileManager.default.fileExists(
      atPath: fixtures.directory.appendingPathComponent(param + ".npy").path)
    state[key] = isParameter ? fixtures.tensor(param) : module.stateDict()[key]
  }
  try module.loadStateDict(state)
  let x = fixtures.tensor("layer_\(name)_in").requiresGrad_()
  let out = module(x)
  expectClose(out, fixtures.tensor("layer_\(name)_out"), rtol: 1e-4, atol: 1e-5, sourceLocation: sourceLocation)
  (out * fixtures.tensor("layer_\(name)_up")).sum().backward()
  expectClose(x.grad!, fixtures.tensor("layer_\(name)_gradin"), rtol: 1e-4, atol: 1e-5, sourceLocation: sourceLocation)
  for (key, p) in module.namedParameters() {
    expectClose(
      p.grad!, fixtures.tensor("layer_\(name)_grad_\(key)"), rtol: 1e-4, atol: 1e-4, sourceLocation: sourceLocation)
  }
  for (key, b) in module.namedBuffers() where key != "num_batches_tracked" {
    expectClose(
      b, fixtures.tensor("layer_\(name)_buffer_\(key)"), rtol: 1e-5, atol: 1e-6, sourceLocation: sourceLocation)
  }
}

/// The activation modules, as PyTorch's fixture script builds them.
private let activationModules: [String: @Sendable () -> Module] = [
  "leaky_relu": { LeakyReLU(negativeSlope: 0.2) }, "elu": { ELU(alpha: 0.7) }, "selu": { SELU() },
  "celu": { CELU(alpha: 1.3) },
  "hardtanh": { Hardtanh(minVal: -0.5, maxVal: 0.8) }, "relu6": { ReLU6() },
  "softplus": { Softplus(beta: 2, threshold: 1) },
  "softsign": { Softsign() }, "mish": { Mish() }, "glu": { GLU(dim: 1) }, "logsigmoid": { LogSigmoid() },
  "hardsigmoid": { Hardsigmoid() }, "hardswish": { Hardswish() }, "tanhshrink": { Tanhshrink() },
  "softshrink": { Softshrink(lambd: 0.3) }, "hardshrink": { Hardshrink(lambd: 0.3) },
  "threshold": { Threshold(threshold: 0.1, value: -2) }, "silu": { SiLU() }, "log_softmax": { LogSoftmax(dim: 1) },
]

@Suite struct LayerTests {
  @Test func defaultInitialisationDrawsPyTorchsNumbers() async {
    // In a child process: the generator is global, and other tests draw from it concurrently.
    await #expect(processExitsWith: .success) {
      Tensor.manualSeed(0)
      let linear = Linear(5, 3)
      let conv = Conv2d(2, 4, kernelSize: 3)
      let pairs = [
        (linear.weight, "init_linear_weight"), (linear.bias!, "init_linear_bias"),
        (conv.weight, "init_conv_weight"), (conv.bias!, "init_conv_bias"),
      ]
      for (t, name) in pairs where !t.equal(Fixtures().tensor(name)) {
        print("\(name) differs: \(t) vs \(Fixtures().tensor(name))")
        exit(1)
      }
    }
  }

  @Test func linear() throws { try check("linear", Linear(5, 3)) }
  @Test func conv() throws { try check("conv", Conv2d(3, 4, kernelSize: 3)) }
  @Test func convStrided() throws {
    try check("conv_strided", Conv2d(2, 4, kernelSize: (3, 2), stride: (2, 2), padding: (1, 1)))
  }
  @Test func convDilatedGroups() throws {
    try check("conv_dilated_groups", Conv2d(4, 6, kernelSize: 3, padding: 2, dilation: 2, groups: 2, bias: false))
  }
  @Test func maxPool() throws { try check("maxpool", MaxPool2d(kernelSize: 3, stride: 2, padding: 1)) }
  @Test func avgPool() throws { try check("avgpool", AvgPool2d(kernelSize: 2)) }
  @Test func adaptiveAvgPool() throws { try check("adaptive_avgpool", AdaptiveAvgPool2d((3, 2))) }
  @Test func batchNorm2dTrainingUpdatesRunningStats() throws { try check("batchnorm2d", BatchNorm2d(3)) }
  @Test func batchNorm1d() throws { try check("batchnorm1d", BatchNorm1d(5)) }
  @Test func layerNorm() throws { try check("layernorm", LayerNorm([4, 3])) }
  @Test func gelu() throws { try check("gelu", GELU()) }
  @Test func convTranspose() throws {
    try check("convt", ConvTranspose2d(3, 4, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1))
  }
  @Test func conv3d() throws {
    try check("conv3d_strided", Conv3d(4, 6, kernelSize: 2, stride: 2, padding: 1, groups: 2))
    try check("conv3d_dilated", Conv3d(3, 2, kernelSize: 2, padding: 1, dilation: 2))
  }
  @Test func convTranspose3d() throws {
    try check("convt3d", ConvTranspose3d(4, 6, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, groups: 2))
    try check("convt3d_dilated", ConvTranspose3d(3, 2, kernelSize: 2, padding: 2, bias: false, dilation: 2))
  }
  @Test func convTranspose1d() throws {
    try check("convt1d", ConvTranspose1d(3, 4, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1))
  }
  @Test func convTransposeGroupsDilated() throws {
    try check(
      "convt_groups_dilated", ConvTranspose2d(4, 6, kernelSize: 3, padding: 2, groups: 2, bias: false, dilation: 2))
  }
  @Test(arguments: activationModules.keys.sorted())
  func activationsMatchPyTorch(name: String) throws { try check(name, activationModules[name]!()) }
  @Test func softmax() throws { try check("softmax", Softmax(dim: 1)) }
  @Test func flatten() throws { try check("flatten", Flatten()) }

  @Test func batchNormEvalUsesRunningStats() throws {
    let bn = BatchNorm2d(3)
    try bn.loadStateDict([
      "weight": fixtures.tensor("bn_eval_weight"), "bias": fixtures.tensor("bn_eval_bias"),
      "running_mean": fixtures.tensor("bn_eval_running_mean"), "running_var": fixtures.tensor("bn_eval_running_var"),
      "num_batches_tracked": Tensor(0),
    ])
    bn.eval()
    expectClose(bn(fixtures.tensor("bn_eval_in")), fixtures.tensor("bn_eval_out"), rtol: 1e-5, atol: 1e-6)
    expectClose(bn.runningMean, fixtures.tensor("bn_eval_running_mean"), rtol: 0, atol: 0)
    #expect(bn.numBatchesTracked.item() == 0)
  }

  @Test func embeddingLooksUpAndScattersGradients() throws {
    let emb = Embedding(6, 3)
    try emb.loadStateDict(["weight": fixtures.tensor("embedding_weight")])
    let out = emb(Tensor([[1, 5, 1], [0, 2, 2]]))
    expectClose(out, fixtures.tensor("embedding_out"))
    (out * fixtures.tensor("embedding_up")).sum().backward()
    expectClose(emb.weight.grad!, fixtures.tensor("embedding_grad"), rtol: 1e-5, atol: 1e-6)
  }

  @Test func dropoutScalesInTrainingAndPassesInEval() {
    let d = Dropout(0.5)
    let x = Tensor.ones(1000)
    let y = d(x)
    let kept = (y .!= 0).sum().item()
    #expect(kept > 400 && kept < 600)
    #expect(Set(y.toArray(Float.self)) == [0, 2])
    d.eval()
    #expect(d(x).equal(x))
  }

  @Test func activations() {
    let x = Tensor([-1.0, 0.5])
    #expect(ReLU()(x).toArray(Float.self) == [0, 0.5])
    #expect(Tanh()(x).equal(x.tanh()))
    #expect(Sigmoid()(x).equal(x.sigmoid()))
  }

  @Test func convWithWrongChannelsStops() async {
    await #expect(processExitsWith: .failure) { _ = Conv2d(3, 4, kernelSize: 3)(Tensor.zeros(1, 2, 5, 5)) }
  }
}
