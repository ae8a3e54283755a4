// A walk through PyTorch's "basics" tutorial, ported chapter by chapter to Swift.
// Run it with `swift run Tutorial`.
import Foundation
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

chapter(4, "NumPy bridge: shared memory both ways")
print("A tensor's memory can be read and written in place, and a tensor can wrap memory you own.")
let ones = Tensor.ones(5)
ones.withUnsafeBufferPointer(as: Float.self) { b in
  ones.add_(1)
  step("let a = Tensor.ones(5); a.withUnsafeBufferPointer(as: Float.self) { b in a.add_(1); Array(b) }", Array(b))
}
let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: 5)
buffer.initialize(repeating: 1)
let shared = Tensor(sharing: buffer, shape: [5], deallocator: .custom({ $0.deallocate() }))
for i in buffer.indices { buffer[i] += 1 }
step("let b = Tensor(sharing: buffer, shape: [5]); buffer[i] += 1 for every i; b", shared)
print("\nFiles NumPy opens too: .npy, .npz and safetensors, and .npy memory-mapped by both sides:")
let folder = FileManager.default.temporaryDirectory
let file = folder.appendingPathComponent("tutorial-\(ProcessInfo.processInfo.processIdentifier).npy")
do {
  try Tensor.arange(6).float().save(npy: file)
  let mapped = try Tensor(npy: file, mapping: .readWrite)
  mapped.mul_(10)
  try mapped.flush()
  let reread = try Tensor(npy: file)
  step("try x.save(npy: url); let m = try Tensor(npy: url, mapping: .readWrite); m.mul_(10); try Tensor(npy: url)", reread)
  try? FileManager.default.removeItem(at: file)
} catch {
  print("file step failed: \(error)")
}
