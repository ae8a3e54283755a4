// A walk through PyTorch's "basics" tutorial, ported chapter by chapter to Swift.
// Run it with `swift run Tutorial`.
import Tensor

/// Prints a chapter heading.
func chapter(_ number: Int, _ title: String) {
  print("\n== \(number). \(title) " + String(repeating: "=", count: max(0, 60 - title.count)))
}

/// Prints a step: the Swift code, then what it produced.
func step(_ code: String, _ result: @autoclosure () -> Any) {
  print("\n>>> \(code)")
  print(result())
}

Tensor.manualSeed(0)

chapter(1, "Tensors")
print("Tensors are n-dimensional arrays, like NumPy's, that can also live on a GPU.")
let x = Tensor.empty(5, 3)
step("let x = Tensor.empty(5, 3)   // uninitialised memory: whatever was there", x)
let y = Tensor.rand(5, 3)
step("let y = Tensor.rand(5, 3)    // uniform in [0, 1); manualSeed(0) gives torch's numbers", y)
step("y.size()", y.size())

chapter(2, "Operations: four ways to add")
x.copy_(Tensor.ones(5, 3))
step("x.copy_(Tensor.ones(5, 3)); x + y", x + y)
step("x.add(y)", x.add(y))
let result = Tensor.empty(5, 3)
x.add(y, out: result)
step("let result = Tensor.empty(5, 3); x.add(y, out: result); result", result)
y.add_(x)
step("y.add_(x)    // the '_' suffix mutates y in place", y)
step("x[0..., 1]   // NumPy-style indexing: column 1 of every row (a view)", x[0..., 1])

chapter(3, "Resizing with view")
let a = Tensor.randn(4, 4)
let b = a.view(16)
let c = a.view(-1, 8)
step("let a = Tensor.randn(4, 4); let b = a.view(16); let c = a.view(-1, 8)", "")
step("(a.size(), b.size(), c.size())", (a.size(), b.size(), c.size()))
b[0] = Tensor(42.0)
step("b[0] = Tensor(42.0); a[0, 0]   // views share storage with their base", a[0, 0])
step("a.t().isContiguous   // a transpose is a strided view; reshape copies when it must", a.t().isContiguous)
step("a.t().reshape(16).shape", a.t().reshape(16).shape)
