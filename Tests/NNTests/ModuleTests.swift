import NN
import Optim
import TestSupport
import Testing

private final class Net: Module {
  var fc1 = Linear(4, 8)
  var hiddenLayers: [Module] = [ReLU(), Linear(8, 8)]
  var head: Linear? = Linear(8, 2)
  var scale = Tensor.ones(1).requiresGrad_()
  var runningCount = Tensor.zeros(1)

  override init() {
    super.init()
    registerBuffer("runningCount")
  }

  override func forward(_ x: Tensor) -> Tensor {
    var y = fc1(x)
    for layer in hiddenLayers { y = layer(y) }
    return head!(y) * scale
  }
}

@Suite struct ModuleTests {
  @Test func parametersAreFoundByReflectionWithPyTorchNames() {
    let net = Net()
    // PyTorch's order: a module's own parameters, then each submodule's, depth first.
    #expect(
      net.namedParameters().map(\.0) == [
        "scale", "fc1.weight", "fc1.bias", "hidden_layers.1.weight", "hidden_layers.1.bias", "head.weight", "head.bias",
      ])
    #expect(net.namedBuffers().map(\.0) == ["running_count"])
    #expect(net.parameters().count == 7)
    #expect(Set(net.stateDict().keys) == Set(net.namedParameters().map(\.0) + ["running_count"]))
    #expect(net.namedModules().map(\.0) == ["", "fc1", "hidden_layers.0", "hidden_layers.1", "head"])
  }

  @Test func replacingALayerIsSeenAtOnce() {
    let net = Net()
    let old = net.head!.weight
    net.head = Linear(8, 5)
    #expect(net.parameters().contains { $0 === net.head!.weight })
    #expect(!net.parameters().contains { $0 === old })
    #expect(net(Tensor.randn(3, 4)).shape == [3, 5])
  }

  @Test func sequentialNamesChildrenByPosition() {
    let model = Sequential(Linear(2, 3), ReLU(), Sequential(Linear(3, 1)))
    #expect(model.namedParameters().map(\.0) == ["0.weight", "0.bias", "2.0.weight", "2.0.bias"])
    #expect(model(Tensor.ones(4, 2)).shape == [4, 1])
  }

  @Test func stateDictRoundTripsAndReportsProblems() throws {
    let a = Net()
    let b = Net()
    try b.loadStateDict(a.stateDict())
    #expect(b.fc1.weight.equal(a.fc1.weight))
    #expect(b.fc1.weight !== a.fc1.weight)
    var state = a.stateDict()
    state["fc1.weight"] = Tensor.zeros(3, 3)
    state["extra"] = Tensor.zeros(1)
    state["scale"] = nil
    do {
      try b.loadStateDict(state)
      Issue.record("expected an error")
    } catch let error as StateDictError {
      #expect(error.description.contains("Missing key(s) in state_dict: \"scale\"."))
      #expect(error.description.contains("Unexpected key(s) in state_dict: \"extra\"."))
      #expect(
        error.description.contains(
          "size mismatch for fc1.weight: copying a param with shape [3, 3] from checkpoint, the shape in current model is [8, 4]."
        ))
    }
    state["fc1.weight"] = a.fc1.weight.detach()
    try b.loadStateDict(state, strict: false)
  }

  @Test func trainEvalAndZeroGrad() {
    let net = Net()
    net.eval()
    #expect(net.namedModules().allSatisfy { !$0.1.training })
    net.train()
    #expect(net.fc1.training)
    net(Tensor.randn(2, 4)).sum().backward()
    #expect(net.fc1.weight.grad != nil)
    net.zeroGrad()
    #expect(net.parameters().allSatisfy { $0.grad == nil })
  }

  @Test func freezingAndReplacingTheHead() {
    // The tutorial's recipe: freeze everything, replace the last layer, train only it.
    let net = Net()
    for p in net.parameters() { p.requiresGrad = false }
    net.head = Linear(8, 3)
    let optimizer = SGD(net.head!.parameters(), lr: 1e-2, momentum: 0.9)
    let before = net.head!.weight.clone()
    let loss = crossEntropy(net(Tensor.randn(5, 4)), Tensor([0, 1, 2, 0, 1]))
    loss.backward()
    optimizer.step()
    #expect(net.fc1.weight.grad == nil)
    #expect(!net.head!.weight.equal(before))
  }

  @Test func movingToTheCPUKeepsTheTensors() throws {
    let net = Net()
    let w = net.fc1.weight
    try net.to(.cpu)
    #expect(net.fc1.weight === w)
  }

  @Test func forwardMustBeOverridden() async {
    await #expect(processExitsWith: .failure) { _ = Module()(Tensor.ones(1)) }
  }
}
