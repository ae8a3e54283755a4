// Misuses the library on purpose, one case per run, so that a test can check the message a
// user sees in the build configuration this binary was built with (`-c release` included):
// `UsageProbe <case>` must stop with the case's PyTorch-worded message on standard error.
// `UsageProbe --list` prints the case names.
import Autograd
import NN

/// Each case's misuse. The expected messages live in the test that runs this binary.
let cases: [(name: String, misuse: () -> Void)] = [
  ("shape-mismatch", { _ = Tensor.ones(2, 3) + Tensor.ones(4, 3) }),
  ("view-of-transposed", { _ = Tensor.ones(2, 3).t().view(6) }),
  ("in-place-on-leaf", { _ = Tensor.ones(2, requiresGrad: true).add_(1) }),
  (
    "backward-twice",
    {
      let x = Tensor.ones(2, requiresGrad: true)
      let y = (x * x).sum()
      y.backward()
      y.backward()
    }
  ),
  ("cat-zero-dim", { _ = Tensor.cat([Tensor(1.0), Tensor(2.0)]) }),
  ("empty-overflow", { _ = Tensor.empty([Int.max, 2]) }),
  ("linear-shape", { _ = Linear(3, 2)(Tensor.ones(4, 5)) }),
]

let arguments = CommandLine.arguments.dropFirst()
if arguments.first == "--list" {
  for c in cases { print(c.name) }
} else if let name = arguments.first, let found = cases.first(where: { $0.name == name }) {
  found.misuse()
  print("\(name): the misuse did not stop the program")
} else {
  print("usage: UsageProbe <case> | --list")
}
