#if CUDA
  import CCUDA
  import Foundation
  import Tensor

  /// Floating-point batched matmul through `cublasGemmStridedBatchedEx`, with transposes and
  /// leading dimensions taken from the strides (a transposed operand is not copied).
  enum CUBLAS {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var handles: [Int: cublasHandle_t] = [:]

    static func handle(_ device: Int) -> cublasHandle_t {
      lock.withLock {
        if let h = handles[device] { return h }
        Runtime.setDevice(device)
        var h: cublasHandle_t?
        let status = cublasCreate_v2(&h)
        usageCheck(status == CUBLAS_STATUS_SUCCESS, "cublasCreate failed with status \(status.rawValue)")
        handles[device] = h!
        return h!
      }
    }

    /// How one row-major operand `[rows, cols]` with strides (row, col) looks to column-major
    /// cuBLAS: `nil` when neither stride is 1 (the caller copies it first).
    static func view(rows: Int, cols: Int, rowStride: Int, colStride: Int) -> (op: cublasOperation_t, ld: Int)? {
      if colStride == 1 && rowStride >= max(cols, 1) { return (CUBLAS_OP_N, rowStride) }
      if rowStride == 1 && colStride >= max(rows, 1) { return (CUBLAS_OP_T, colStride) }
      if rows == 1 && colStride == 1 { return (CUBLAS_OP_N, max(cols, 1)) }
      if cols == 1 && rowStride == 1 { return (CUBLAS_OP_T, max(rows, 1)) }
      return nil
    }

    static func dataType(_ dtype: DType) -> cudaDataType {
      switch dtype {
      case .float64: CUDA_R_64F
      case .float16: CUDA_R_16F
      case .bfloat16: CUDA_R_16BF
      default: CUDA_R_32F
      }
    }

    static func gemm(_ a: Tensor, _ b: Tensor, into out: Tensor, device: Int) {
      let (batch, m, n, k) = (out.shape[0], out.shape[1], out.shape[2], a.shape[2])
      // Row-major C = A B is column-major Cᵀ = Bᵀ Aᵀ: cuBLAS's first operand is B.
      guard let bView = view(rows: k, cols: n, rowStride: b.stride(1), colStride: b.stride(2)) else {
        return gemm(a, b.contiguous(), into: out, device: device)
      }
      guard let aView = view(rows: m, cols: k, rowStride: a.stride(1), colStride: a.stride(2)) else {
        return gemm(a.contiguous(), b, into: out, device: device)
      }
      guard out.stride(2) == 1 && out.stride(1) >= max(n, 1) else {
        let temporary = Tensor.empty(out.shape, dtype: out.dtype, device: out.device)
        gemm(a, b, into: temporary, device: device)
        out.backend.copy(temporary, into: out)
        return
      }
      Runtime.setDevice(device)
      let type = dataType(a.dtype)
      // float16/bfloat16 operands accumulate in float32; float32 may use TF32 tensor cores
      // when allowed (off by default, as `torch.backends.cuda.matmul.allow_tf32`).
      let compute =
        a.dtype == .float64
        ? CUBLAS_COMPUTE_64F
        : (a.dtype == .float32 && CUDA.allowTF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F)
      let cublas = handle(device)
      let streamStatus = cublasSetStream_v2(cublas, Runtime.currentStream(device))
      usageCheck(streamStatus == CUBLAS_STATUS_SUCCESS, "cublasSetStream failed with status \(streamStatus.rawValue)")
      var alpha64 = 1.0
      var beta64 = 0.0
      var alpha32: Float = 1
      var beta32: Float = 0
      let item = a.dtype.itemSize
      let status = withUnsafeMutablePointer(to: &alpha64) { al64 in
        withUnsafeMutablePointer(to: &beta64) { be64 in
          withUnsafeMutablePointer(to: &alpha32) { al32 in
            withUnsafeMutablePointer(to: &beta32) { be32 in
              let alpha = a.dtype == .float64 ? UnsafeRawPointer(al64) : UnsafeRawPointer(al32)
              let beta = a.dtype == .float64 ? UnsafeRawPointer(be64) : UnsafeRawPointer(be32)
              return cublasGemmStridedBatchedEx(
                cublas, bView.op, aView.op, Int32(n), Int32(m), Int32(k), alpha,
                b.storage.data + b.storageOffset * item, type, Int32(bView.ld), Int64(b.stride(0)),
                a.storage.data + a.storageOffset * item, type, Int32(aView.ld), Int64(a.stride(0)), beta,
                out.storage.data + out.storageOffset * item, type, Int32(out.stride(1)), Int64(out.stride(0)),
                Int32(batch), compute, CUBLAS_GEMM_DEFAULT)
            }
          }
        }
      }
      usageCheck(
        status == CUBLAS_STATUS_SUCCESS,
        "cublasGemmStridedBatchedEx failed with status \(status.rawValue) for [\(batch), \(m), \(k)] x [\(batch), \(k), \(n)]"
      )
    }
  }
#endif
