// A walk through PyTorch's "basics" tutorial, ported chapter by chapter to Swift.
// Run it with `swift run Tutorial`.
import CUDABackend
import Foundation
import NN
import Optim

/// Prints a chapter heading.
func chapter(_ number: Int, _ title: String) {
  print("\n== \(number). \(title) " + String(repeating: "=", count: max(0, 60 - title.count)))
}

/// Prints a step: the Swift code, then what it produced.
func step(_ code: String, _ result: @autoclosure () -> Any) {
  print("\n>>> \(code)")
  print(result())
}

// The tutorial runs itself with this flag to show an error that stops a program.
if CommandLine.arguments.contains("--leaf-in-place") {
  Tensor.ones(3, requiresGrad: true).add_(1)
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
  step(
    "try x.save(npy: url); let m = try Tensor(npy: url, mapping: .readWrite); m.mul_(10); try Tensor(npy: url)", reread)
  try? FileManager.default.removeItem(at: file)
} catch {
  print("file step failed: \(error)")
}

chapter(5, "CUDA tensors")
print("Tensors move to a GPU with .cuda(); ops then run there, autograd included.")
if CUDA.isAvailable, let gx = try? x.cuda(), let gy = try? y.cuda() {
  step("CUDA.isAvailable", true)
  step("let gx = try x.cuda(); let gy = try y.cuda(); gx + gy", gx + gy)
  step("try (gx + gy).cpu().device", (try? (gx + gy).cpu().device).map { "\($0)" } ?? "?")
} else {
  step("CUDA.isAvailable", false)
  print("No GPU here (\(CUDA.unavailableReason ?? "unknown reason")); the tutorial carries on on the CPU.")
}

chapter(6, "Autograd mechanics")
print("An op's output requires grad if any input does; with none, no graph is recorded.")
let gx = Tensor.randn(5, 5)
let gy = Tensor.randn(5, 5)
let gz = Tensor.randn(5, 5, requiresGrad: true)
let ga = gx + gy
step("let a = x + y; a.requiresGrad", ga.requiresGrad)
let gb = ga + gz
step("let b = a + z; b.requiresGrad", gb.requiresGrad)
step(
  "b.gradFn, b.gradFn!.nextFunctions",
  "\(gb.gradFn!) \(gb.gradFn!.nextFunctions.map { $0.function?.description ?? "nil" })")

print("\nThe graph is recorded as the code runs, so Swift control flow shapes it anew each time:")
let w = Tensor([1.5], requiresGrad: true)
for steps in 1...3 {
  var power = w
  for _ in 0..<steps { power = power * w }
  w.grad = nil
  power.sum().backward()
  step("w^\(steps + 1): d/dw at 1.5", w.grad!)
}

print("\nFreezing: parameters with requiresGrad = false get no gradient, and a new layer")
print("(new modules require grad by default) is the only thing the optimizer trains.")
final class TinyNet: Module {
  var features = Sequential(Linear(4, 8), ReLU())
  var fc = Linear(8, 3)
  override func forward(_ x: Tensor) -> Tensor { fc(features(x)) }
}
let net = TinyNet()
for param in net.parameters() { param.requiresGrad = false }
net.fc = Linear(8, 2)
let headOptimizer = SGD(net.fc.parameters(), lr: 1e-2, momentum: 0.9)
crossEntropy(net(Tensor.randn(6, 4)), Tensor([0, 1, 1, 0, 1, 0])).backward()
headOptimizer.step()
step("net.namedParameters() with a gradient", net.namedParameters().filter { $0.1.grad != nil }.map(\.0))

print("\nIn-place rules. Modifying a tensor that backward needs is caught when backward runs:")
let leaf = Tensor.randn(5, 5, requiresGrad: true)
let doubled = leaf * 1
doubled.mul_(2)
let squared = doubled * doubled
doubled.add_(1)
do {
  try squared.sum().backwardThrowing()
} catch {
  print("error: \(error)")
}
print("\nSaved values are freed by backward; a second backward through them is an error:")
let once = (leaf * leaf).sum()
once.backward()
do {
  try once.backwardThrowing()
} catch {
  print("error: \(String(describing: error).prefix(90))...")
}
print("\nAn in-place op on a leaf that requires grad stops the program; here is the message,")
print("from a child process so that this tutorial carries on:")
let child = Process()
child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
child.arguments = ["--leaf-in-place"]
let pipe = Pipe()
child.standardOutput = FileHandle.nullDevice
child.standardError = pipe
if (try? child.run()) != nil {
  let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  child.waitUntilExit()
  let line = output.split(separator: "\n").first { $0.contains("leaf Variable") } ?? "(no message captured)"
  print(line.replacingOccurrences(of: #"^.*Fatal error: "#, with: "error: ", options: .regularExpression))
}
print("\nwithNoGrad { } (the old volatile=True) records nothing, and allows updating leaves:")
withNoGrad { leaf.sub_(leaf.grad! * 0.1) }
step("withNoGrad { (leaf * 2).requiresGrad }", withNoGrad { (leaf * 2).requiresGrad })
