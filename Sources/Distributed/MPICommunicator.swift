#if canImport(CMPI)
  import CMPI

  /// The MPI engine (Open MPI): every operation is MPI's non-blocking form, polled by `Work`
  /// so that a timeout can end the wait. Errors return codes instead of aborting the job.
  final class MPICommunicator: Communicator {
    let rank: Int
    let size: Int
    private let comm = cmpi_comm_world()
    /// A duplicate of the world for the library's own point-to-point traffic.
    private var ring: MPI_Comm?
    private var finalized = false

    init() throws {
      var initialized: Int32 = 0
      MPI_Initialized(&initialized)
      if initialized == 0 {
        var provided: Int32 = 0
        guard MPI_Init_thread(nil, nil, cmpi_thread_funneled(), &provided) == cmpi_success() else {
          throw DistributedError.engine(op: "init_process_group", message: "MPI_Init_thread failed")
        }
      }
      MPI_Comm_set_errhandler(comm, cmpi_errors_return())
      MPI_Comm_dup(comm, &ring)
      MPI_Comm_set_errhandler(ring, cmpi_errors_return())
      var r: Int32 = 0
      var s: Int32 = 0
      MPI_Comm_rank(comm, &r)
      MPI_Comm_size(comm, &s)
      rank = Int(r)
      size = Int(s)
    }

    func finalize() {
      guard !finalized else { return }
      finalized = true
      MPI_Finalize()
    }

    private func check(_ code: Int32, _ name: String) throws {
      guard code != cmpi_success() else { return }
      var text = [CChar](repeating: 0, count: 512)
      var length: Int32 = 0
      MPI_Error_string(code, &text, &length)
      throw DistributedError.engine(
        op: name, message: String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// Starts an operation that fills `request`, and returns its poll.
    fileprivate func start(_ name: String, _ body: (UnsafeMutablePointer<MPI_Request?>) -> Int32) throws -> () throws ->
      Bool
    {
      guard !finalized else { throw DistributedError.engine(op: name, message: "the process group was destroyed") }
      let request = UnsafeMutablePointer<MPI_Request?>.allocate(capacity: 1)
      request.initialize(to: cmpi_request_null())
      do {
        try check(body(request), name)
      } catch {
        request.deallocate()
        throw error
      }
      var finished = false
      return { [self] in
        if finished { return true }
        var flag: Int32 = 0
        try self.check(MPI_Test(request, &flag, cmpi_status_ignore()), name)
        if flag != 0 {
          finished = true
          request.deallocate()
        }
        return finished
      }
    }

    private func type(_ dtype: DType) -> MPI_Datatype? {
      switch dtype {
      case .float32: cmpi_float()
      case .float64: cmpi_double()
      case .int64: cmpi_int64()
      case .int32: cmpi_int32()
      case .int16: cmpi_int16()
      case .int8: cmpi_int8()
      case .uint8: cmpi_uint8()
      case .bool: cmpi_bool()
      case .float16, .bfloat16: cmpi_uint16()
      }
    }

    private func operation(_ op: ReduceOp, _ dtype: DType) -> MPI_Op? {
      if dtype == .bool { return op == .min || op == .product ? cmpi_land() : cmpi_lor() }
      switch op {
      case .sum, .avg: return cmpi_sum()
      case .product: return cmpi_prod()
      case .min: return cmpi_min()
      case .max: return cmpi_max()
      }
    }

    func allReduce(_ buffer: UnsafeMutableRawPointer, count: Int, dtype: DType, op: ReduceOp, name: String) throws -> ()
      throws -> Bool
    {
      try start(name) {
        MPI_Iallreduce(cmpi_in_place(), buffer, Int32(count), type(dtype), operation(op, dtype), comm, $0)
      }
    }

    func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int, name: String) throws -> () throws -> Bool {
      try start(name) { MPI_Ibcast(buffer, Int32(bytes), cmpi_uint8(), Int32(root), comm, $0) }
    }

    func allGather(_ send: UnsafeRawPointer, _ receive: UnsafeMutableRawPointer, bytes: Int, name: String) throws -> ()
      throws -> Bool
    {
      try start(name) {
        MPI_Iallgather(send, Int32(bytes), cmpi_uint8(), receive, Int32(bytes), cmpi_uint8(), comm, $0)
      }
    }

    func gather(_ send: UnsafeRawPointer, _ receive: UnsafeMutableRawPointer?, bytes: Int, root: Int, name: String)
      throws -> () throws -> Bool
    {
      try start(name) {
        MPI_Igather(send, Int32(bytes), cmpi_uint8(), receive, Int32(bytes), cmpi_uint8(), Int32(root), comm, $0)
      }
    }

    func scatter(_ send: UnsafeRawPointer?, _ receive: UnsafeMutableRawPointer, bytes: Int, root: Int, name: String)
      throws -> () throws -> Bool
    {
      try start(name) {
        MPI_Iscatter(send, Int32(bytes), cmpi_uint8(), receive, Int32(bytes), cmpi_uint8(), Int32(root), comm, $0)
      }
    }

    func reduce(_ buffer: UnsafeMutableRawPointer, count: Int, dtype: DType, op: ReduceOp, root: Int, name: String)
      throws -> () throws -> Bool
    {
      try start(name) {
        rank == root
          ? MPI_Ireduce(cmpi_in_place(), buffer, Int32(count), type(dtype), operation(op, dtype), Int32(root), comm, $0)
          : MPI_Ireduce(buffer, nil, Int32(count), type(dtype), operation(op, dtype), Int32(root), comm, $0)
      }
    }

    func reduceScatter(
      _ send: UnsafeRawPointer, _ receive: UnsafeMutableRawPointer, count: Int, dtype: DType, op: ReduceOp, name: String
    )
      throws -> () throws -> Bool
    {
      try start(name) {
        MPI_Ireduce_scatter_block(send, receive, Int32(count), type(dtype), operation(op, dtype), comm, $0)
      }
    }

    func barrier(name: String) throws -> () throws -> Bool {
      try start(name) { MPI_Ibarrier(comm, $0) }
    }

    func send(_ buffer: UnsafeRawPointer, bytes: Int, to: Int, tag: Int, name: String) throws -> () throws -> Bool {
      try start(name) { MPI_Isend(buffer, Int32(bytes), cmpi_uint8(), Int32(to), Int32(tag), comm, $0) }
    }

    func receive(_ buffer: UnsafeMutableRawPointer, bytes: Int, from: Int?, tag: Int, name: String) throws -> () throws
      -> Bool
    {
      try start(name) {
        MPI_Irecv(buffer, Int32(bytes), cmpi_uint8(), Int32(from ?? Int(cmpi_any_source())), Int32(tag), comm, $0)
      }
    }
  }

  extension MPICommunicator {
    func exchange(
      _ send: UnsafeRawPointer, sendBytes: Int, to: Int, _ receive: UnsafeMutableRawPointer, receiveBytes: Int,
      from: Int, tag: Int, name: String
    ) throws -> () throws -> Bool {
      let receiving = try start(name) {
        MPI_Irecv(receive, Int32(receiveBytes), cmpi_uint8(), Int32(from), Int32(tag), ring, $0)
      }
      let sending = try start(name) { MPI_Isend(send, Int32(sendBytes), cmpi_uint8(), Int32(to), Int32(tag), ring, $0) }
      return {
        let sent = try sending()
        let received = try receiving()
        return sent && received
      }
    }
  }

  func makeCommunicator() throws -> Communicator { try MPICommunicator() }
#else
  func makeCommunicator() throws -> Communicator {
    throw DistributedError.unavailable(
      "init_process_group: this build has no communication backend; build with `--traits MPI` (Open MPI: apt-get install "
        + "openmpi-bin libopenmpi-dev) and launch with `mpirun -np N`")
  }
#endif
