// Runs distributed scenarios under a launcher and prints one line per check
// (`PASS name` or `FAIL name: why`), ending with `N passed, M failed`; the DistributedTests
// suite launches it with `mpirun` (build with `--traits MPI`).
//
//   mpirun -np 2 .build/debug/DistributedCheck collectives
//   mpirun -np 2 .build/debug/DistributedCheck ddp | cuda | fault-exit | fault-mismatch | bench
import CUDABackend
import Distributed
import Foundation
import Optim

/// Prints a line and sends it out at once (mpirun interleaves the ranks' output; a rank that
/// ends with `_exit` must not leave lines in its buffer).
func say(_ line: String) {
  print(line)
  fflush(nil)
}

let scenario = CommandLine.arguments.dropFirst().first ?? "collectives"
let group: ProcessGroup
do {
  group = try ProcessGroup(timeout: scenario.hasPrefix("fault") ? 5 : 300)
} catch {
  say("FAIL init: \(error)")
  exit(1)
}
let (rank, world) = (group.rank, group.worldSize)
// The machine's cores shared among its ranks (as the examples' --distributed does).
Tensor.setNumThreads(max(1, ProcessInfo.processInfo.activeProcessorCount / world))
var passed = 0
var failed = 0

@MainActor func check(
  _ name: String, _ condition: @autoclosure () throws -> Bool, _ detail: @autoclosure () -> String = ""
) {
  do {
    if try condition() {
      passed += 1
      say("PASS rank \(rank) \(name)")
    } else {
      failed += 1
      say("FAIL rank \(rank) \(name): \(detail())")
    }
  } catch {
    failed += 1
    say("FAIL rank \(rank) \(name): \(error)")
  }
}

/// `[0, 1, 2, 3] + 10 * rank` in `dtype`.
@MainActor func values(_ dtype: DType, rank r: Int) -> Tensor { (Tensor.arange(4) + 10 * r).to(dtype) }

@MainActor func collectives() throws {
  let ranks = Array(0..<world)
  for dtype in [DType.float32, .float64, .int64, .bfloat16] {
    let name = "\(dtype)"
    let sumExpected = ranks.map { values(.float64, rank: $0) }.reduce(Tensor.zeros(4, dtype: .float64), +)
    let t = values(dtype, rank: rank)
    try group.allReduce(t, op: .sum)
    check("all_reduce sum \(name)", t.to(.float64).equal(sumExpected), "\(t)")
    for (op, expected) in [
      (ReduceOp.max, values(.float64, rank: world - 1)), (.min, values(.float64, rank: 0)),
      (.product, ranks.map { values(.float64, rank: $0) }.reduce(Tensor.ones(4, dtype: .float64), *)),
    ] {
      let x = values(dtype, rank: rank)
      try group.allReduce(x, op: op)
      check("all_reduce \(op) \(name)", x.equal(expected.to(dtype)), "\(x)")
    }
    if dtype.isFloatingPoint {
      let x = values(dtype, rank: rank)
      try group.allReduce(x, op: .avg)
      check("all_reduce avg \(name)", x.to(.float64).equal(sumExpected / Double(world)), "\(x)")
    }
    let b = rank == 1 % world ? values(dtype, rank: 7) : Tensor.zeros(4, dtype: dtype)
    try group.broadcast(b, src: 1 % world)
    check("broadcast \(name)", b.equal(values(dtype, rank: 7)))
    let gathered = try group.allGather(values(dtype, rank: rank))
    check(
      "all_gather \(name)",
      gathered.count == world && zip(gathered, ranks).allSatisfy { $0.equal(values(dtype, rank: $1)) })
    let out = Tensor.zeros(4, dtype: dtype)
    try group.reduceScatter(out, ranks.map { values(dtype, rank: $0 + rank) })
    let rsExpected = ranks.map { values(.float64, rank: rank + $0) }.reduce(Tensor.zeros(4, dtype: .float64), +)
    check("reduce_scatter \(name)", out.to(.float64).equal(rsExpected), "\(out)")
    let r = values(dtype, rank: rank)
    try group.reduce(r, dst: 0)
    if rank == 0 { check("reduce \(name)", r.to(.float64).equal(sumExpected)) }
    let g = try group.gather(values(dtype, rank: rank), dst: world - 1)
    if rank == world - 1 {
      check("gather \(name)", g?.count == world && zip(g!, ranks).allSatisfy { $0.equal(values(dtype, rank: $1)) })
    } else {
      check("gather \(name) (not the root)", g == nil)
    }
    let s = Tensor.zeros(4, dtype: dtype)
    try group.scatter(s, rank == 0 ? ranks.map { values(dtype, rank: 3 * $0) } : nil, src: 0)
    check("scatter \(name)", s.equal(values(dtype, rank: 3 * rank)))
  }
  // Point to point around the ring, an asynchronous all-reduce, a non-contiguous tensor, a barrier.
  let incoming = Tensor.zeros(3, dtype: .int64)
  if rank % 2 == 0 {
    try group.send(Tensor([Int64(rank), 1, 2]), dst: (rank + 1) % world)
    try group.recv(incoming, src: (rank + world - 1) % world)
  } else {
    try group.recv(incoming, src: (rank + world - 1) % world)
    try group.send(Tensor([Int64(rank), 1, 2]), dst: (rank + 1) % world)
  }
  check("send/recv ring", incoming.toArray(Int64.self) == [Int64((rank + world - 1) % world), 1, 2], "\(incoming)")
  // The asynchronous forms: both directions posted before either waits.
  let box = Tensor.zeros(2, dtype: .float64)
  let receiving = try group.recvAsync(box, src: (rank + world - 1) % world, tag: 5)
  let sending = try group.sendAsync(Tensor([Double(rank), -1], dtype: .float64), dst: (rank + 1) % world, tag: 5)
  let (gathering, pieces) = try group.allGatherAsync(Tensor([Int64(rank)]))
  let barrier = try group.barrierAsync()
  for work in [receiving, sending, gathering, barrier] { try work.wait() }
  check(
    "async isend/irecv, all_gather, barrier",
    box.toArray(Double.self) == [Double((rank + world - 1) % world), -1]
      && pieces.map { $0.item(Int64.self) } == ranks.map(Int64.init))
  let a = Tensor.ones(1000) * Double(rank + 1)
  let work = try group.allReduceAsync(a)
  try work.wait()
  check(
    "all_reduce async",
    try work.isCompleted() && a.toArray(Float.self).allSatisfy { $0 == Float(world * (world + 1) / 2) })
  let strided = Tensor.arange(12).float().view(3, 4).t()
  try group.allReduce(strided)
  check("all_reduce non-contiguous", strided.equal(Tensor.arange(12).float().view(3, 4).t() * Double(world)))
  // Large tensors take the ring (200,003 elements: chunks of unequal length).
  let n = 200_003
  let index = Tensor.arange(n)
  for (op, dtype) in [
    (ReduceOp.sum, DType.float32), (.avg, .float64), (.max, .int64), (.min, .int32), (.product, .int64),
    (.sum, .bfloat16),
  ] {
    let x = ((index % 7) + rank).to(dtype)
    try group.allReduce(x, op: op)
    let each = ranks.map { ((index % 7) + $0).to(.float64) }
    let expected: Tensor =
      switch op {
      case .sum: each.reduce(Tensor.zeros(n, dtype: .float64), +)
      case .avg: each.reduce(Tensor.zeros(n, dtype: .float64), +) / Double(world)
      case .max: each.reduce(each[0]) { $0.maximum($1) }
      case .min: each.reduce(each[0]) { $0.minimum($1) }
      case .product: each.reduce(Tensor.ones(n, dtype: .float64), *)
      }
    check("ring all_reduce \(op) \(dtype)", x.equal(expected.to(dtype)), "\(x)")
  }
  let flags = (index % (rank + 2)).eq(0)
  try group.allReduce(flags, op: .sum)
  check(
    "ring all_reduce bool",
    flags.equal(ranks.map { (index % ($0 + 2)).eq(0) }.reduce(Tensor.zeros(n, dtype: .bool)) { $0.logicalOr($1) }))
  try group.barrier()
  check("barrier", true)
}

/// The data of the equivalence runs: 50 batches of 64 (float32), the same on every rank.
@MainActor func batches() -> [(Tensor, Tensor)] {
  let g = Generator(seed: 11)
  return (0..<50).map { _ in (Tensor.randn([64, 20], generator: g), Tensor.randint(0, 5, [64], generator: g)) }
}

@MainActor func makeModel() -> Sequential {
  Generator.withDefault(Generator(seed: 5)) { Sequential(Linear(20, 32), ReLU(), Linear(32, 5)) }
}

@MainActor func maxRelativeDifference(_ a: Module, _ b: Module) -> Double {
  zip(a.parameters(), b.parameters()).map { x, y in ((x - y).abs().max().item() / max(y.abs().max().item(), 1e-12)) }
    .max()!
}

/// 2 ranks x batch 32 with DistributedDataParallel equal 1 process x batch 64, after 50 SGD
/// momentum steps; and again with the 32 split into two noSync micro-batches of 16.
@MainActor func ddp() throws {
  let data = batches()
  let reference = makeModel()
  let referenceOptimizer = SGD(reference.parameters(), lr: 0.05, momentum: 0.9)
  for (x, y) in data {
    referenceOptimizer.zeroGrad()
    crossEntropy(reference(x), y).backward()
    referenceOptimizer.step()
  }
  let share = 64 / world
  for accumulate in [1, 2] {
    // Each rank starts from its own initialisation: the wrapper copies rank 0's.
    let local = Generator.withDefault(Generator(seed: UInt64(100 + rank))) {
      Sequential(Linear(20, 32), ReLU(), Linear(32, 5))
    }
    if rank == 0 { try local.loadStateDict(makeModel().stateDict()) }
    let model = try DistributedDataParallel(local, group: group, bucketCapMB: 0.002)
    let optimizer = SGD(model.parameters(), lr: 0.05, momentum: 0.9)
    for (x, y) in data {
      optimizer.zeroGrad()
      let mine = (
        x.narrow(dim: 0, start: rank * share, length: share), y.narrow(dim: 0, start: rank * share, length: share)
      )
      let micro = share / accumulate
      for k in 0..<accumulate {
        let loss =
          crossEntropy(
            model(mine.0.narrow(dim: 0, start: k * micro, length: micro)),
            mine.1.narrow(dim: 0, start: k * micro, length: micro)) / Double(accumulate)
        if k < accumulate - 1 { model.noSync { loss.backward() } } else { loss.backward() }
      }
      optimizer.step()
    }
    let difference = maxRelativeDifference(local, reference)
    check("ddp equals one process (accumulate \(accumulate))", difference <= 1e-6, "relative difference \(difference)")
    check("ddp state dict has the module. prefix", model.stateDict().keys.allSatisfy { $0.hasPrefix("module.") })
  }
  // A parameter without a gradient: an error, or zeros with findUnusedParameters.
  final class TwoHeads: Module {
    var used = Linear(3, 2)
    var unused = Linear(3, 2)
    override func forward(_ x: Tensor) -> Tensor { used(x) }
  }
  let partial = try DistributedDataParallel(TwoHeads(), findUnusedParameters: true)  // the default group
  partial(Tensor.ones(4, 3)).sum().backward()
  check("find unused parameters", (partial.module as! TwoHeads).unused.weight.grad?.abs().sum().item() == 0)
}

/// The collectives on CUDA tensors (NCCL; `--traits CUDA,MPI`, one GPU per rank), against
/// the same collectives on host tensors.
@MainActor func cudaCollectives() throws {
  guard CUDA.deviceCount >= world else {
    say(
      "SKIP rank \(rank) cuda: \(CUDA.deviceCount) GPUs for \(world) ranks (\(CUDA.unavailableReason ?? "one per rank needed"))"
    )
    return
  }
  let device = Device.cuda(rank)
  for dtype in [DType.float32, .bfloat16, .int64] {
    for op in [ReduceOp.sum, .max] {
      let host = values(dtype, rank: rank)
      let gpu = try host.to(device)
      try group.allReduce(host, op: op)
      try group.allReduce(gpu, op: op)
      check("nccl all_reduce \(op) \(dtype)", try gpu.cpu().equal(host))
    }
  }
  let b = try (rank == 0 ? values(.float32, rank: 5) : Tensor.zeros(4)).to(device)
  try group.broadcast(b, src: 0)
  check("nccl broadcast", try b.cpu().equal(values(.float32, rank: 5)))
  let gathered = try group.allGather(try values(.float32, rank: rank).to(device))
  check(
    "nccl all_gather",
    try gathered.enumerated().allSatisfy { try $0.element.cpu().equal(values(.float32, rank: $0.offset)) })
  let big = try (Tensor.ones(300_000) * Double(rank + 1)).to(device)
  try group.allReduce(big, op: .avg)
  check("nccl all_reduce avg (large)", try big.cpu().equal(Tensor.ones(300_000) * (Double(world + 1) / 2)))
}

/// Rank 1 leaves; rank 0's next collective must throw a timeout instead of hanging.
@MainActor func faultExit() {
  if rank == 1 {
    group.destroy()
    exit(0)
  }
  let start = Date()
  do {
    try group.allReduce(Tensor.ones(4))
    say("FAIL rank \(rank) fault-exit: the all-reduce returned")
  } catch {
    let seconds = Date().timeIntervalSince(start)
    say("PASS rank \(rank) fault-exit after \(String(format: "%.1f", seconds)) s: \(error)")
  }
  say("1 passed, 0 failed")
  _exit(0)
}

/// Ranks pass different shapes: every rank gets a message naming them.
@MainActor func faultMismatch() {
  do {
    try group.allReduce(Tensor.ones(3 + rank))
    say("FAIL rank \(rank) fault-mismatch: the all-reduce returned")
  } catch {
    say("PASS rank \(rank) fault-mismatch: \(error)")
  }
}

/// `allreduce_100mb` and `ddp_mlp_step` (the Benchmarks' 784-128-10 MLP, batch 64 per rank),
/// as JSON from rank 0.
@MainActor func bench() throws {
  func median(_ repeats: Int, _ body: () throws -> Void) throws -> Double {
    try body()
    var samples: [Double] = []
    for _ in 0..<repeats {
      try group.barrier()
      let start = DispatchTime.now().uptimeNanoseconds
      try body()
      samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return samples.sorted()[samples.count / 2]
  }
  let big = Tensor.ones(25_000_000)
  let allreduce = try median(7) { try group.allReduce(big) }
  let mlp = try DistributedDataParallel(Sequential(Linear(784, 128), ReLU(), Linear(128, 10)), group: group)
  let sgd = SGD(mlp.parameters(), lr: 0.01, momentum: 0.9)
  let (x, y) = (Tensor.randn(64, 784), Tensor.randint(0, 10, [64]))
  let step = try median(21) {
    for _ in 0..<10 {
      sgd.zeroGrad()
      crossEntropy(mlp(x), y).backward()
      sgd.step()
    }
  }
  if rank == 0 { say("{\"allreduce_100mb\": \(allreduce), \"ddp_mlp_step\": \(step / 10)}") }
}

do {
  switch scenario {
  case "collectives": try collectives()
  case "ddp": try ddp()
  case "cuda": try cudaCollectives()
  case "fault-exit": faultExit()
  case "fault-mismatch": faultMismatch()
  case "bench": try bench()
  default: say("FAIL unknown scenario \(scenario)")
  }
} catch {
  failed += 1
  say("FAIL rank \(rank) \(scenario): \(error)")
}
if scenario != "bench" { say("rank \(rank): \(passed) passed, \(failed) failed") }
group.destroy()
exit(failed == 0 ? 0 : 1)
