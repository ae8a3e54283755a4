import Foundation

/// Data-parallel training (PyTorch: `torch.nn.parallel.DistributedDataParallel`): every rank
/// holds a replica, trains on its own shard of each batch, and the gradients are averaged
/// across the ranks during `backward()`, so the optimizers (unchanged) take the same step
/// everywhere.
///
///     let group = try ProcessGroup()
///     let model = try DistributedDataParallel(Net())      // over the default group
///     let optimizer = SGD(model.parameters(), lr: 0.1, momentum: 0.9)
///     crossEntropy(model(x), y).backward()     // gradients averaged over the ranks
///     optimizer.step()
///
/// At construction rank 0's parameters and buffers are copied to every rank. Gradients are
/// grouped into buckets of about `bucketCapMB` megabytes in reverse order of the
/// parameters (the order backward produces them); when the last gradient of a bucket has
/// been accumulated, the bucket's all-reduce starts asynchronously while backward goes on,
/// and at the end of backward the results are written back as averages. Buckets start in
/// the same order on every rank. Parameters that received no gradient are an error unless
/// `findUnusedParameters` (then they count as zero). `noSync { }` accumulates gradients
/// locally, for gradient accumulation; the next synchronised backward averages the total.
/// The state dict has PyTorch's `module.` prefix.
public final class DistributedDataParallel: Module {
  /// The replica.
  public let module: Module
  let group: ProcessGroup
  /// Whether parameters without a gradient in a backward pass are reduced as zeros.
  public let findUnusedParameters: Bool
  /// Whether rank 0's buffers (batch-norm statistics) are copied to every rank before each
  /// forward pass in training mode.
  public let broadcastBuffers: Bool
  private let buckets: [Bucket]
  private var syncing = true
  private var pass: Pass?
  private var hooks: [Tensor.HookHandle] = []

  /// The parameters whose gradients travel together.
  final class Bucket {
    let index: Int
    let params: [Tensor]
    init(index: Int, params: [Tensor]) {
      self.index = index
      self.params = params
    }
  }

  /// One backward pass's progress: gradients ready per bucket, and the started reductions.
  final class Pass {
    var ready: [Int]
    var started: [(bucket: Bucket, flat: Tensor, work: Work)] = []
    init(buckets: Int) { ready = [Int](repeating: 0, count: buckets) }
  }

  /// Wraps `module` for training over `group`'s ranks (the default group when `nil`);
  /// copies rank 0's state to every rank.
  public init(
    _ module: Module, group: ProcessGroup? = nil, bucketCapMB: Double = 25, findUnusedParameters: Bool = false,
    broadcastBuffers: Bool = true
  ) throws {
    guard let group = group ?? ProcessGroup.defaultGroup else {
      usageFailure(
        "Default process group has not been initialized, please make sure to call ProcessGroup() (init_process_group) first"
      )
    }
    self.module = module
    self.group = group
    self.findUnusedParameters = findUnusedParameters
    self.broadcastBuffers = broadcastBuffers
    let trainable = module.parameters().filter(\.requiresGrad)
    var groups: [[Tensor]] = [[]]
    var bytes = 0
    for p in trainable.reversed() {
      if bytes > 0 && bytes + p.numel * p.dtype.itemSize > Int(bucketCapMB * 1_048_576) {
        groups.append([])
        bytes = 0
      }
      groups[groups.count - 1].append(p)
      bytes += p.numel * p.dtype.itemSize
    }
    buckets = groups.filter { !$0.isEmpty }.enumerated().map { Bucket(index: $0.offset, params: $0.element) }
    super.init()
    for tensor in module.parameters() + module.namedBuffers().map(\.1) { try group.broadcast(tensor.detach(), src: 0) }
    for bucket in buckets {
      for p in bucket.params {
        hooks.append(p.registerPostAccumulateGradHook { [unowned self] _ in self.gradientReady(in: bucket) })
      }
    }
  }

  deinit {
    for hook in hooks { hook.remove() }
  }

  /// Runs the replica (after copying rank 0's buffers, in training mode).
  public override func forward(_ input: Tensor) -> Tensor {
    if broadcastBuffers && training && group.worldSize > 1 {
      for (_, buffer) in module.namedBuffers() {
        do { try group.broadcast(buffer.detach(), src: 0) } catch { usageFailure("DistributedDataParallel: \(error)") }
      }
    }
    return module(input)
  }

  /// Runs `body` without averaging gradients (PyTorch: `with model.no_sync():`): backward
  /// passes inside accumulate locally, and the first synchronised one averages the total.
  public func noSync<R>(_ body: () throws -> R) rethrows -> R {
    syncing = false
    defer { syncing = true }
    return try body()
  }

  private func gradientReady(in bucket: Bucket) {
    guard syncing, group.worldSize > 1 else { return }
    if pass == nil {
      pass = Pass(buckets: buckets.count)
      Autograd.queueCallback { [unowned self] in try self.finishPass() }
    }
    pass!.ready[bucket.index] += 1
    // Start buckets strictly in order, so that every rank issues the same collectives.
    while let next = nextBucket(), pass!.ready[next.index] == next.params.count {
      do { try start(next) } catch { usageFailure("DistributedDataParallel: \(error)") }
    }
    // MPI moves a non-blocking operation on only inside its calls: polling the started
    // buckets from each hook lets their transfers proceed while backward goes on. An error
    // surfaces again at the final wait.
    for started in pass!.started { _ = try? started.work.isCompleted() }
  }

  private func nextBucket() -> Bucket? {
    let index = pass!.started.count
    return index < buckets.count ? buckets[index] : nil
  }

  private func start(_ bucket: Bucket) throws {
    let flat = withNoGrad {
      Tensor.cat(bucket.params.map { ($0.grad ?? Tensor.zeros($0.shape, dtype: $0.dtype)).detach().reshape(-1) })
    }
    // The buckets are the same on every rank by construction: no per-bucket check.
    let checking = group.checksArguments
    group.checksArguments = false
    defer { group.checksArguments = checking }
    pass!.started.append((bucket, flat, try group.allReduceAsync(flat, op: .sum)))
  }

  /// At the end of backward: starts what is left (unused parameters), waits, and writes the
  /// averages back into the gradients.
  private func finishPass() throws {
    guard let current = pass else { return }
    defer { pass = nil }
    while let next = nextBucket() {
      if current.ready[next.index] < next.params.count && !findUnusedParameters {
        let missing = module.namedParameters().filter { named in
          next.params.contains { $0 === named.1 } && named.1.grad == nil
        }.map(\.0)
        throw DistributedError.engine(
          op: "DistributedDataParallel",
          message:
            "Expected to have finished reduction in the prior iteration before starting a new one. This error indicates that "
            + "your module has parameters that were not used in producing loss (\(missing.joined(separator: ", "))). Enable unused "
            + "parameter detection with DistributedDataParallel(..., findUnusedParameters: true), or make sure every parameter "
            + "takes part in the loss")
      }
      try start(next)
    }
    let scale = 1 / Double(group.worldSize)
    for (bucket, flat, work) in current.started {
      try work.wait()
      var offset = 0
      withNoGrad {
        for p in bucket.params {
          let slice = flat.narrow(dim: 0, start: offset, length: p.numel).view(p.shape) * scale
          if let grad = p.grad { _ = grad.copy_(slice) } else { p.grad = slice }
          offset += p.numel
        }
      }
    }
  }
}
