import Foundation

/// The collectives, as `torch.distributed` has them (`async_op=True` is the `...Async`
/// form, returning a `Work`). Tensors are host tensors of any dtype; results are written in
/// place (`allReduce`, `broadcast`, `reduce` on the root, `scatter`, `recv`) or returned
/// (`allGather`, `gather`). float16 and bfloat16 are reduced in float32.
extension ProcessGroup {
  /// A tensor's memory for a collective: the tensor's own when it is contiguous on the host
  /// (and, for reductions, of a type the engine adds), else a staging copy written back at
  /// the end.
  struct Staged {
    let original: Tensor
    let buffer: Tensor
    var pointer: UnsafeMutableRawPointer { buffer.storage.data + buffer.storageOffset * buffer.dtype.itemSize }
    var bytes: Int { buffer.numel * buffer.dtype.itemSize }

    init(_ t: Tensor, reducing: Bool) {
      original = t
      let wide = reducing && (t.dtype == .float16 || t.dtype == .bfloat16)
      buffer = wide ? t.to(.float32).contiguous() : (t.isContiguous ? t : t.contiguous())
    }

    /// Writes the result back when the buffer is a copy.
    func writeBack() {
      if buffer !== original { withNoGrad { _ = original.detach().copy_(buffer) } }
    }
  }

  /// The engine for a tensor: MPI for host tensors, NCCL (made on first use, on the
  /// tensor's GPU) for CUDA tensors.
  private func channel(_ t: Tensor, _ op: String) throws -> Communicator {
    guard t.device != .cpu else { return communicator }
    if let deviceCommunicator { return deviceCommunicator }
    guard case .cuda(let index) = t.device, let made = try makeDeviceCommunicator(over: communicator, device: index)
    else {
      throw DistributedError.unavailable(
        "\(op): the tensor is on \(t.device), which needs NCCL: build with `--traits CUDA,MPI` (NCCL from the nvidia-nccl-cu13 "
          + "wheel, see Scripts/cuda-env.sh), or move the tensor to the host with .cpu()")
    }
    deviceCommunicator = made
    return made
  }

  /// Checks that every rank called `op` with the same shape, dtype and root (one small
  /// all-gather), so a mismatch throws a message instead of hanging or corrupting memory.
  func checkArguments(_ op: String, _ t: Tensor?, root: Int = -1) throws {
    guard checksArguments, worldSize > 1 else { return }
    let shape = t?.shape ?? []
    usageCheck(shape.count <= 8, "\(op): tensors of more than 8 dims cannot be checked across ranks; flatten first")
    // The op's name as a number that is the same in every process (Swift's hashValue is seeded per process).
    let opCode = op.utf8.reduce(Int64(0)) { $0 &* 31 &+ Int64($1) }
    var mine: [Int64] = [
      opCode, Int64(t.map { DType.allCases.firstIndex(of: $0.dtype)! } ?? -1), Int64(root), Int64(shape.count),
    ]
    mine += (0..<8).map { $0 < shape.count ? Int64(shape[$0]) : -1 }
    var all = [Int64](repeating: 0, count: mine.count * worldSize)
    let poll = try mine.withUnsafeBytes { send in
      try all.withUnsafeMutableBytes { receive in
        try communicator.allGather(send.baseAddress!, receive.baseAddress!, bytes: send.count, name: op)
      }
    }
    try Work(op: op, timeout: timeout, poll: poll, finish: {}).wait()
    let rows = stride(from: 0, to: all.count, by: mine.count).map { Array(all[$0..<($0 + mine.count)]) }
    guard rows.allSatisfy({ $0 == rows[0] }) else {
      let described = rows.enumerated().map { rank, row -> String in
        let dims = row[4..<(4 + Int(max(row[3], 0)))].map(String.init).joined(separator: ", ")
        let dtype = row[1] >= 0 ? "\(DType.allCases[Int(row[1])])" : "none"
        return "rank \(rank): [\(dims)] \(dtype)" + (row[2] >= 0 ? " root \(row[2])" : "")
      }
      throw DistributedError.mismatch(
        op: op, details: described.joined(separator: "; ") + " (every rank must pass the same shape and dtype)")
    }
  }

  // MARK: Reductions

  /// Starts reducing `tensor` across the ranks in place.
  public func allReduceAsync(_ tensor: Tensor, op: ReduceOp = .sum) throws -> Work {
    let link = try channel(tensor, "all_reduce")
    usageCheck(
      op != .avg || tensor.dtype.isFloatingPoint,
      "all_reduce: ReduceOp.AVG needs a floating-point tensor, got \(tensor.dtype)")
    try checkArguments("all_reduce", tensor)
    let staged = Staged(tensor, reducing: link === communicator)
    let poll =
      link === communicator && staged.buffer.numel >= ProcessGroup.ringThreshold && worldSize > 1
      ? try ringAllReduce(staged.buffer.detach().reshape(-1), op: op)
      : try link.allReduce(
        staged.pointer, count: staged.buffer.numel, dtype: staged.buffer.dtype, op: op, name: "all_reduce")
    return Work(op: "all_reduce", timeout: timeout, poll: poll) { [worldSize] in
      if op == .avg { withNoGrad { _ = staged.buffer.detach().div_(Double(worldSize)) } }
      staged.writeBack()
    }
  }

  /// Reduces `tensor` across the ranks in place: afterwards every rank holds the sum (or
  /// mean, product, min, max) of all ranks' values (PyTorch: `dist.all_reduce`).
  public func allReduce(_ tensor: Tensor, op: ReduceOp = .sum) throws { try allReduceAsync(tensor, op: op).wait() }

  /// Starts reducing onto rank `dst`.
  public func reduceAsync(_ tensor: Tensor, dst: Int, op: ReduceOp = .sum) throws -> Work {
    let link = try channel(tensor, "reduce")
    checkRank(dst, "reduce")
    try checkArguments("reduce", tensor, root: dst)
    let staged = Staged(tensor, reducing: link === communicator)
    let poll = try link.reduce(
      staged.pointer, count: staged.buffer.numel, dtype: staged.buffer.dtype, op: op, root: dst, name: "reduce")
    return Work(op: "reduce", timeout: timeout, poll: poll) { [rank, worldSize] in
      guard rank == dst else { return }
      if op == .avg { withNoGrad { _ = staged.buffer.detach().div_(Double(worldSize)) } }
      staged.writeBack()
    }
  }

  /// Reduces onto rank `dst`, whose tensor receives the result (PyTorch: `dist.reduce`).
  public func reduce(_ tensor: Tensor, dst: Int, op: ReduceOp = .sum) throws {
    try reduceAsync(tensor, dst: dst, op: op).wait()
  }

  /// Starts a reduce-scatter.
  public func reduceScatterAsync(_ output: Tensor, _ inputs: [Tensor], op: ReduceOp = .sum) throws -> Work {
    usageCheck(
      inputs.count == worldSize, "reduce_scatter: expected one input per rank (\(worldSize)), got \(inputs.count)")
    usageCheck(
      inputs.allSatisfy { $0.shape == output.shape && $0.dtype == output.dtype },
      "reduce_scatter: every input must have the output's shape \(output.shape) and dtype \(output.dtype)")
    let link = try channel(output, "reduce_scatter")
    try checkArguments("reduce_scatter", output)
    let joined = Staged(Tensor.cat(inputs.map { $0.flatten() }), reducing: link === communicator)
    let result = Staged(output, reducing: link === communicator)
    let target = result.buffer === output ? output : result.buffer
    let poll = try link.reduceScatter(
      joined.pointer, result.pointer, count: target.numel, dtype: joined.buffer.dtype, op: op, name: "reduce_scatter")
    return Work(op: "reduce_scatter", timeout: timeout, poll: poll) { [worldSize] in
      withExtendedLifetime(joined) {}
      if op == .avg { withNoGrad { _ = result.buffer.detach().div_(Double(worldSize)) } }
      result.writeBack()
    }
  }

  /// Reduces `inputs` (one tensor per rank) across the ranks and leaves the reduction of
  /// entry `rank` in `output` (PyTorch: `dist.reduce_scatter`).
  public func reduceScatter(_ output: Tensor, _ inputs: [Tensor], op: ReduceOp = .sum) throws {
    try reduceScatterAsync(output, inputs, op: op).wait()
  }

  /// Tensors of at least this many elements are all-reduced by the ring below: MPI's
  /// non-blocking all-reduce took twice as long as its blocking one on 100 MB, and the
  /// blocking one cannot time out.
  static let ringThreshold = 1 << 16

  /// A ring all-reduce over `flat` (a contiguous 1-D view), driven one step per poll:
  /// `worldSize - 1` steps of reduce-scatter (send one chunk right, receive the next from the
  /// left and combine it), then `worldSize - 1` of all-gather (pass the reduced chunks on).
  /// Each step is a non-blocking exchange, so `Work` can time out; the combining is a tensor op.
  func ringAllReduce(_ flat: Tensor, op: ReduceOp) throws -> () throws -> Bool {
    let world = worldSize
    let base = flat.numel / world
    let extra = flat.numel % world
    let starts = (0...world).map { $0 * base + min($0, extra) }
    func chunk(_ k: Int) -> Tensor {
      let c = ((k % world) + world) % world
      return flat.narrow(dim: 0, start: starts[c], length: starts[c + 1] - starts[c])
    }
    let scratch = Tensor.empty([base + 1], dtype: flat.dtype)
    let (right, left) = ((rank + 1) % world, (rank + world - 1) % world)
    let item = flat.dtype.itemSize
    func address(_ t: Tensor) -> UnsafeMutableRawPointer { t.storage.data + t.storageOffset * item }
    sequence += 1
    let tag = sequence % 32_000
    var step = 0
    var pending: (() throws -> Bool)?
    func post() throws {
      let reducing = step < world - 1
      let s = reducing ? step : step - (world - 1)
      let outgoing = reducing ? chunk(rank - s) : chunk(rank + 1 - s)
      let incoming = reducing ? chunk(rank - s - 1) : chunk(rank - s)
      let target = reducing ? scratch.narrow(dim: 0, start: 0, length: incoming.numel) : incoming
      pending = try communicator.exchange(
        UnsafeRawPointer(address(outgoing)), sendBytes: outgoing.numel * item, to: right, address(target),
        receiveBytes: incoming.numel * item,
        from: left, tag: tag, name: "all_reduce")
    }
    func combine() {
      let incoming = chunk(rank - step - 1)
      let received = scratch.narrow(dim: 0, start: 0, length: incoming.numel)
      withNoGrad {
        switch (op, flat.dtype == .bool) {
        case (.sum, true), (.avg, true), (.max, true): _ = incoming.copy_(incoming.logicalOr(received))
        case (.product, true), (.min, true): _ = incoming.copy_(incoming.logicalAnd(received))
        case (.sum, false), (.avg, false): _ = incoming.add_(received)
        case (.product, false): _ = incoming.mul_(received)
        case (.min, false): _ = incoming.copy_(incoming.minimum(received))
        case (.max, false): _ = incoming.copy_(incoming.maximum(received))
        }
      }
    }
    try post()
    return {
      guard let current = pending else { return true }
      guard try current() else { return false }
      if step < world - 1 { combine() }
      step += 1
      if step < 2 * (world - 1) { try post() } else { pending = nil }
      withExtendedLifetime(scratch) {}
      return pending == nil
    }
  }

  // MARK: Moving data

  /// Starts a broadcast from `src`.
  public func broadcastAsync(_ tensor: Tensor, src: Int) throws -> Work {
    let link = try channel(tensor, "broadcast")
    checkRank(src, "broadcast")
    try checkArguments("broadcast", tensor, root: src)
    let staged = Staged(tensor, reducing: false)
    let poll = try link.broadcast(staged.pointer, bytes: staged.bytes, root: src, name: "broadcast")
    return Work(op: "broadcast", timeout: timeout, poll: poll) { staged.writeBack() }
  }

  /// Copies rank `src`'s tensor into every rank's (PyTorch: `dist.broadcast`).
  public func broadcast(_ tensor: Tensor, src: Int) throws { try broadcastAsync(tensor, src: src).wait() }

  /// Starts an all-gather; `outputs` (one per rank) hold the tensors once the work is done.
  public func allGatherAsync(_ tensor: Tensor) throws -> (work: Work, outputs: [Tensor]) {
    let link = try channel(tensor, "all_gather")
    try checkArguments("all_gather", tensor)
    let staged = Staged(tensor, reducing: false)
    let all = Tensor.empty([worldSize] + tensor.shape, dtype: tensor.dtype, device: tensor.device)
    let poll = try link.allGather(
      UnsafeRawPointer(staged.pointer), all.storage.data, bytes: staged.bytes, name: "all_gather")
    return (
      Work(op: "all_gather", timeout: timeout, poll: poll) { withExtendedLifetime(staged) {} },
      (0..<worldSize).map { all[$0] }
    )
  }

  /// Every rank's `tensor`, in rank order, on every rank (PyTorch: `dist.all_gather`).
  public func allGather(_ tensor: Tensor) throws -> [Tensor] {
    let (work, outputs) = try allGatherAsync(tensor)
    try work.wait()
    return outputs
  }

  /// Starts a gather onto `dst`; there `outputs` hold the tensors once the work is done.
  public func gatherAsync(_ tensor: Tensor, dst: Int) throws -> (work: Work, outputs: [Tensor]?) {
    let link = try channel(tensor, "gather")
    checkRank(dst, "gather")
    try checkArguments("gather", tensor, root: dst)
    let staged = Staged(tensor, reducing: false)
    let all = rank == dst ? Tensor.empty([worldSize] + tensor.shape, dtype: tensor.dtype, device: tensor.device) : nil
    let poll = try link.gather(
      UnsafeRawPointer(staged.pointer), all?.storage.data, bytes: staged.bytes, root: dst, name: "gather")
    return (
      Work(op: "gather", timeout: timeout, poll: poll) { withExtendedLifetime(staged) {} },
      all.map { all in (0..<worldSize).map { all[$0] } }
    )
  }

  /// On `dst`, every rank's `tensor` in rank order; elsewhere `nil` (PyTorch: `dist.gather`).
  public func gather(_ tensor: Tensor, dst: Int) throws -> [Tensor]? {
    let (work, outputs) = try gatherAsync(tensor, dst: dst)
    try work.wait()
    return outputs
  }

  /// Starts a scatter from `src`.
  public func scatterAsync(_ output: Tensor, _ inputs: [Tensor]? = nil, src: Int) throws -> Work {
    let link = try channel(output, "scatter")
    checkRank(src, "scatter")
    if rank == src {
      usageCheck(
        inputs?.count == worldSize && inputs!.allSatisfy { $0.shape == output.shape && $0.dtype == output.dtype },
        "scatter: the source rank needs one input per rank (\(worldSize)), each of the output's shape \(output.shape) and dtype \(output.dtype)"
      )
    }
    try checkArguments("scatter", output, root: src)
    let joined = rank == src ? Tensor.cat(inputs!.map { $0.contiguous().flatten() }) : nil
    let staged = Staged(output, reducing: false)
    let poll = try link.scatter(
      joined.map { UnsafeRawPointer($0.storage.data + $0.storageOffset * $0.dtype.itemSize) }, staged.pointer,
      bytes: staged.bytes, root: src,
      name: "scatter")
    return Work(op: "scatter", timeout: timeout, poll: poll) {
      withExtendedLifetime(joined) {}
      staged.writeBack()
    }
  }

  /// Fills every rank's `output` with entry `rank` of `inputs`, given on `src` only
  /// (PyTorch: `dist.scatter`).
  public func scatter(_ output: Tensor, _ inputs: [Tensor]? = nil, src: Int) throws {
    try scatterAsync(output, inputs, src: src).wait()
  }

  /// Starts a barrier.
  public func barrierAsync() throws -> Work {
    Work(op: "barrier", timeout: timeout, poll: try communicator.barrier(name: "barrier"), finish: {})
  }

  /// Waits until every rank has arrived (PyTorch: `dist.barrier`).
  public func barrier() throws { try barrierAsync().wait() }

  /// Starts sending `tensor` to rank `dst` (PyTorch: `dist.isend`).
  public func sendAsync(_ tensor: Tensor, dst: Int, tag: Int = 0) throws -> Work {
    let link = try channel(tensor, "send")
    checkRank(dst, "send")
    let staged = Staged(tensor, reducing: false)
    let poll = try link.send(UnsafeRawPointer(staged.pointer), bytes: staged.bytes, to: dst, tag: tag, name: "send")
    return Work(op: "send", timeout: timeout, poll: poll) { withExtendedLifetime(staged) {} }
  }

  /// Sends `tensor` to rank `dst` (PyTorch: `dist.send`); the receiver's `recv` must
  /// expect the same number of bytes.
  public func send(_ tensor: Tensor, dst: Int, tag: Int = 0) throws { try sendAsync(tensor, dst: dst, tag: tag).wait() }

  /// Starts receiving into `tensor` (PyTorch: `dist.irecv`).
  public func recvAsync(_ tensor: Tensor, src: Int? = nil, tag: Int = 0) throws -> Work {
    let link = try channel(tensor, "recv")
    if let src { checkRank(src, "recv") }
    let staged = Staged(tensor, reducing: false)
    let poll = try link.receive(staged.pointer, bytes: staged.bytes, from: src, tag: tag, name: "recv")
    return Work(op: "recv", timeout: timeout, poll: poll) { staged.writeBack() }
  }

  /// Receives into `tensor` from rank `src` (any rank when `nil`) (PyTorch: `dist.recv`).
  public func recv(_ tensor: Tensor, src: Int? = nil, tag: Int = 0) throws {
    try recvAsync(tensor, src: src, tag: tag).wait()
  }

  private func checkRank(_ r: Int, _ op: String) {
    usageCheck(r >= 0 && r < worldSize, "\(op): rank \(r) is out of range for a group of \(worldSize)")
  }
}
