import Foundation
@_exported import NN

#if canImport(CMPI)
  import CMPI
#endif

/// Why a collective or the group itself failed.
public enum DistributedError: Error, CustomStringConvertible {
  /// The library was built without a communication backend.
  case unavailable(String)
  /// A peer did not take part within the group's timeout (it may have exited or hung).
  case timeout(op: String, seconds: Double)
  /// The ranks called a collective with different tensors (shapes, dtypes or roots).
  case mismatch(op: String, details: String)
  /// The engine reported an error.
  case engine(op: String, message: String)

  /// A message a user can act on.
  public var description: String {
    switch self {
    case .unavailable(let why): why
    case .timeout(let op, let seconds):
      "\(op): timed out after \(seconds) s waiting for the other ranks (a peer exited, crashed or is stuck; "
        + "ProcessGroup(timeout:) sets the limit)"
    case .mismatch(let op, let details): "\(op): the ranks passed different tensors: \(details)"
    case .engine(let op, let message): "\(op): \(message)"
    }
  }
}

/// How a reduction combines the ranks' tensors (PyTorch: `dist.ReduceOp`).
public enum ReduceOp: Sendable {
  /// The sum (for bool: any).
  case sum
  /// The mean: the sum divided by the world size (floating-point dtypes).
  case avg
  /// The product (for bool: all).
  case product
  /// The smallest value.
  case min
  /// The largest value.
  case max
}

/// A pending collective (PyTorch: the `Work` handle of `async_op=True`).
public final class Work {
  let op: String
  let deadline: Double
  let timeout: Double
  let poll: () throws -> Bool
  let finish: () throws -> Void
  private var done = false

  init(op: String, timeout: Double, poll: @escaping () throws -> Bool, finish: @escaping () throws -> Void) {
    self.op = op
    self.timeout = timeout
    deadline = Date().timeIntervalSince1970 + timeout
    self.poll = poll
    self.finish = finish
  }

  /// Whether the collective has finished (without waiting).
  public func isCompleted() throws -> Bool {
    if !done, try poll() {
      done = true
      try finish()
    }
    return done
  }

  /// Waits until the collective has finished and its results are in place; throws
  /// `DistributedError.timeout` when the group's timeout passes first.
  public func wait() throws {
    // MPI's non-blocking collectives advance only inside its calls, so the wait polls
    // without sleeping (as a blocking MPI call spins), checking the clock now and then.
    var polls = 0
    while try !isCompleted() {
      polls += 1
      if polls % 1024 == 0, Date().timeIntervalSince1970 > deadline {
        throw DistributedError.timeout(op: op, seconds: timeout)
      }
    }
  }
}

/// The ranks of a distributed job and their collectives (PyTorch: `torch.distributed` with
/// its default group). Host tensors go through MPI (build with `--traits MPI` and launch with
/// `mpirun`); CUDA tensors through NCCL (build with `--traits CUDA,MPI`), whose communicator
/// is made on first use from a unique id rank 0 broadcasts over MPI.
///
///     let group = try ProcessGroup()              // after mpirun -np 4 ...
///     try group.allReduce(t, op: .avg)           // in place on every rank
///     let parts = try group.allGather(t)          // one tensor per rank
public final class ProcessGroup {
  /// This process's rank, `0..<worldSize`.
  public let rank: Int
  /// The number of processes.
  public let worldSize: Int
  /// This process's rank among those on its machine (`LOCAL_RANK` or Open MPI's
  /// `OMPI_COMM_WORLD_LOCAL_RANK`), to choose a GPU.
  public let localRank: Int
  /// How long a collective may wait for the other ranks before it throws.
  public let timeout: Double
  /// Whether every collective first checks that all ranks passed matching tensors (one
  /// small all-gather); a mismatch then throws instead of hanging or corrupting.
  public var checksArguments = true
  let communicator: Communicator
  /// NCCL, for CUDA tensors, once one has been used.
  var deviceCommunicator: Communicator?
  /// Numbers the library's point-to-point operations (the same on every rank, since ranks
  /// issue collectives in the same order), so that outstanding ones never match each other.
  var sequence = 0

  /// The group collectives use when none is named (PyTorch: the default process group): the
  /// first one made, until it is destroyed.
  nonisolated(unsafe) public private(set) static var defaultGroup: ProcessGroup?

  /// Joins the job the launcher started: with `mpirun`, rank and size come from MPI (a
  /// process started alone is rank 0 of 1). `RANK` and `WORLD_SIZE`, when set, must agree.
  /// The first group made becomes `defaultGroup` (PyTorch: `init_process_group`).
  public init(timeout: Double = 1800) throws {
    communicator = try makeCommunicator()
    rank = communicator.rank
    worldSize = communicator.size
    self.timeout = timeout
    let environment = ProcessInfo.processInfo.environment
    localRank = Int(environment["LOCAL_RANK"] ?? environment["OMPI_COMM_WORLD_LOCAL_RANK"] ?? "") ?? 0
    if let r = environment["RANK"].flatMap(Int.init), r != rank {
      throw DistributedError.engine(op: "init_process_group", message: "RANK=\(r) but MPI says this is rank \(rank)")
    }
    if let w = environment["WORLD_SIZE"].flatMap(Int.init), w != worldSize {
      throw DistributedError.engine(op: "init_process_group", message: "WORLD_SIZE=\(w) but MPI has \(worldSize) ranks")
    }
    if Self.defaultGroup == nil { Self.defaultGroup = self }
  }

  /// Whether this build has a communication backend (the `MPI` trait).
  public static var isAvailable: Bool {
    #if canImport(CMPI)
      true
    #else
      false
    #endif
  }

  /// Leaves the group (PyTorch: `destroy_process_group`); later collectives stop.
  public func destroy() {
    deviceCommunicator?.finalize()
    communicator.finalize()
    if Self.defaultGroup === self { Self.defaultGroup = nil }
  }
}

/// The primitives a communication engine provides, each started without blocking.
protocol Communicator: AnyObject {
  var rank: Int { get }
  var size: Int { get }
  func finalize()
  /// Starts an operation and returns a poll that says when it is done.
  func allReduce(_ buffer: UnsafeMutableRawPointer, count: Int, dtype: DType, op: ReduceOp, name: String) throws -> ()
    throws -> Bool
  func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int, name: String) throws -> () throws -> Bool
  func allGather(_ send: UnsafeRawPointer, _ receive: UnsafeMutableRawPointer, bytes: Int, name: String) throws -> ()
    throws -> Bool
  func gather(_ send: UnsafeRawPointer, _ receive: UnsafeMutableRawPointer?, bytes: Int, root: Int, name: String) throws
    -> () throws -> Bool
  func scatter(_ send: UnsafeRawPointer?, _ receive: UnsafeMutableRawPointer, bytes: Int, root: Int, name: String)
    throws -> () throws -> Bool
  func reduce(_ buffer: UnsafeMutableRawPointer, count: Int, dtype: DType, op: ReduceOp, root: Int, name: String) throws
    -> () throws -> Bool
  func reduceScatter(
    _ send: UnsafeRawPointer, _ receive: UnsafeMutableRawPointer, count: Int, dtype: DType, op: ReduceOp, name: String
  ) throws
    -> () throws -> Bool
  func barrier(name: String) throws -> () throws -> Bool
  func send(_ buffer: UnsafeRawPointer, bytes: Int, to: Int, tag: Int, name: String) throws -> () throws -> Bool
  func receive(_ buffer: UnsafeMutableRawPointer, bytes: Int, from: Int?, tag: Int, name: String) throws -> () throws ->
    Bool
  /// Sends to one rank and receives from another at once, on a channel of the library's own
  /// (user `send`/`recv` tags cannot match it); the ring all-reduce's step.
  func exchange(
    _ send: UnsafeRawPointer, sendBytes: Int, to: Int, _ receive: UnsafeMutableRawPointer, receiveBytes: Int, from: Int,
    tag: Int, name: String
  ) throws -> () throws -> Bool
}
