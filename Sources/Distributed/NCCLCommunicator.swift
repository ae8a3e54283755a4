#if canImport(CMPI) && canImport(CNCCL)
  import CNCCL

  /// NCCL for CUDA tensors: one communicator per group, made on first use from a unique id
  /// that rank 0 draws and broadcasts over MPI; every operation is queued on the default
  /// stream and polled with `cudaStreamQuery`, so `Work` can time out (then the communicator
  /// is aborted, as PyTorch's NCCL watchdog does).
  final class NCCLCommunicator: Communicator {
    let rank: Int
    let size: Int
    private var comm: ncclComm_t?
    private var barrierFlag: UnsafeMutableRawPointer?

    init(over host: Communicator, device: Int) throws {
      rank = host.rank
      size = host.size
      guard cudaSetDevice(Int32(device)) == cudaSuccess else {
        throw DistributedError.engine(op: "init_process_group (nccl)", message: "cudaSetDevice(\(device)) failed")
      }
      var id = ncclUniqueId()
      if rank == 0 { try check(ncclGetUniqueId(&id), "ncclGetUniqueId") }
      try withUnsafeMutableBytes(of: &id) { bytes in
        let poll = try host.broadcast(bytes.baseAddress!, bytes: bytes.count, root: 0, name: "nccl unique id")
        while try !poll() {}
      }
      try check(ncclCommInitRank(&comm, Int32(size), id, Int32(rank)), "ncclCommInitRank")
    }

    deinit { finalize() }

    func finalize() {
      if let comm { ncclCommDestroy(comm) }
      comm = nil
      if let barrierFlag { cudaFree(barrierFlag) }
      barrierFlag = nil
    }

    private func check(_ result: ncclResult_t, _ name: String) throws {
      guard result != ncclSuccess else { return }
      throw DistributedError.engine(op: name, message: "NCCL: \(String(cString: ncclGetErrorString(result)))")
    }

    /// Queues `body` (NCCL calls) and returns a poll of the stream.
    private func start(_ name: String, _ body: () -> ncclResult_t) throws -> () throws -> Bool {
      guard comm != nil else { throw DistributedError.engine(op: name, message: "the process group was destroyed") }
      try check(body(), name)
      return { [self] in
        switch cudaStreamQuery(nil) {
        case cudaSuccess: return true
        case cudaErrorNotReady: return false
        case let error:
          if let comm { ncclCommAbort(comm) }
          comm = nil
          throw DistributedError.engine(op: name, message: "CUDA: \(String(cString: cudaGetErrorString(error)))")
        }
      }
    }

    private func type(_ dtype: DType, _ name: String) throws -> ncclDataType_t {
      switch dtype {
      case .float32: ncclFloat32
      case .float64: ncclFloat64
      case .float16: ncclFloat16
      case .bfloat16: ncclBfloat16
      case .int64: ncclInt64
      case .int32: ncclInt32
      case .int8: ncclInt8
      case .uint8, .bool: ncclUint8
      case .int16: throw DistributedError.engine(op: name, message: "NCCL has no int16; convert the tensor to int32")
      }
    }

    private func operation(_ op: ReduceOp, _ dtype: DType) -> ncclRedOp_t {
      if dtype == .bool { return op == .min || op == .product ? ncclMin : ncclMax }
      switch op {
      case .sum: return ncclSum
      case .avg: return ncclSum  // divided by the world size afterwards, as on the host
      case .product: return ncclProd
      case .min: return ncclMin
      case .max: return ncclMax
      }
    }

    func allReduce(_ buffer: UnsafeMutableRawPointer, count: Int, dtype: DType, op: ReduceOp, name: String) throws -> ()
      throws -> Bool
    {
      let t = try type(dtype, name)
      return try start(name) { ncclAllReduce(buffer, buffer, count, t, operation(op, dtype), comm, nil) }
    }

    func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int, name: String) throws -> () throws -> Bool {
      try start(name) { ncclBroadcast(buffer, buffer, bytes, ncclUint8, Int32(root), comm, nil) }
    }

    func allGather(_ send: UnsafeRawPointer, _ receive: UnsafeMutableRawPointer, bytes: Int, name: String) throws -> ()
      throws -> Bool
    {
      try start(name) { ncclAllGather(send, receive, bytes, ncclUint8, comm, nil) }
    }

    func gather(_ send: UnsafeRawPointer, _ receive: UnsafeMutableRawPointer?, bytes: Int, root: Int, name: String)
      throws -> () throws -> Bool
    {
      try start(name) {
        ncclGroupStart()
        if rank == root, let receive {
          for r in 0..<size { ncclRecv(receive + r * bytes, bytes, ncclUint8, Int32(r), comm, nil) }
        }
        ncclSend(send, bytes, ncclUint8, Int32(root), comm, nil)
        return ncclGroupEnd()
      }
    }

    func scatter(_ send: UnsafeRawPointer?, _ receive: UnsafeMutableRawPointer, bytes: Int, root: Int, name: String)
      throws -> () throws -> Bool
    {
      try start(name) {
        ncclGroupStart()
        if rank == root, let send {
          for r in 0..<size { ncclSend(send + r * bytes, bytes, ncclUint8, Int32(r), comm, nil) }
        }
        ncclRecv(receive, bytes, ncclUint8, Int32(root), comm, nil)
        return ncclGroupEnd()
      }
    }

    func reduce(_ buffer: UnsafeMutableRawPointer, count: Int, dtype: DType, op: ReduceOp, root: Int, name: String)
      throws -> () throws -> Bool
    {
      let t = try type(dtype, name)
      return try start(name) { ncclReduce(buffer, buffer, count, t, operation(op, dtype), Int32(root), comm, nil) }
    }

    func reduceScatter(
      _ send: UnsafeRawPointer, _ receive: UnsafeMutableRawPointer, count: Int, dtype: DType, op: ReduceOp, name: String
    )
      throws -> () throws -> Bool
    {
      let t = try type(dtype, name)
      return try start(name) { ncclReduceScatter(send, receive, count, t, operation(op, dtype), comm, nil) }
    }

    func barrier(name: String) throws -> () throws -> Bool {
      if barrierFlag == nil {
        var pointer: UnsafeMutableRawPointer?
        guard cudaMalloc(&pointer, 4) == cudaSuccess else {
          throw DistributedError.engine(op: name, message: "cudaMalloc failed")
        }
        barrierFlag = pointer
      }
      return try start(name) { ncclAllReduce(barrierFlag, barrierFlag, 1, ncclInt32, ncclSum, comm, nil) }
    }

    func send(_ buffer: UnsafeRawPointer, bytes: Int, to: Int, tag: Int, name: String) throws -> () throws -> Bool {
      try start(name) { ncclSend(buffer, bytes, ncclUint8, Int32(to), comm, nil) }
    }

    func receive(_ buffer: UnsafeMutableRawPointer, bytes: Int, from: Int?, tag: Int, name: String) throws -> () throws
      -> Bool
    {
      guard let from else {
        throw DistributedError.engine(op: name, message: "NCCL cannot receive from any rank; name the source")
      }
      return try start(name) { ncclRecv(buffer, bytes, ncclUint8, Int32(from), comm, nil) }
    }

    func exchange(
      _ send: UnsafeRawPointer, sendBytes: Int, to: Int, _ receive: UnsafeMutableRawPointer, receiveBytes: Int,
      from: Int, tag: Int, name: String
    ) throws -> () throws -> Bool {
      try start(name) {
        ncclGroupStart()
        ncclRecv(receive, receiveBytes, ncclUint8, Int32(from), comm, nil)
        ncclSend(send, sendBytes, ncclUint8, Int32(to), comm, nil)
        return ncclGroupEnd()
      }
    }
  }

  func makeDeviceCommunicator(over host: Communicator, device: Int) throws -> Communicator? {
    try NCCLCommunicator(over: host, device: device)
  }
#else
  func makeDeviceCommunicator(over host: Communicator, device: Int) throws -> Communicator? { nil }
#endif
