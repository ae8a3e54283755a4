#if CUDA
  import CCUDA
  import Tensor

  extension CUDADeviceBackend {
    /// Sorts each row with the bitonic network of `KernelSource.sortModule`: the keys widened
    /// into a padded scratch, one launch per network stage, then the permutation gathered.
    func sortPermutation(_ rows: Tensor, descending: Bool) -> Tensor? {
      guard rows.dim == 2, rows.isContiguous else { return nil }
      let (count, width) = (rows.shape[0], rows.shape[1])
      let out = Tensor.empty([count, width], dtype: .int64, device: rows.device)
      guard count > 0 && width > 0 else { return out }
      let padded = 1 << (Int.bitWidth - (width - 1).leadingZeroBitCount)
      let keys = Tensor.empty(
        [count * padded], dtype: rows.dtype.isFloatingPoint ? .float64 : .int64, device: rows.device)
      let indices = Tensor.empty([count * padded], dtype: .int64, device: rows.device)
      func values(block: Int, distance: Int) -> [KernelArguments.Value] {
        [
          .pointer(rows.firstElement), .pointer(keys.firstElement), .pointer(indices.firstElement),
          .pointer(out.firstElement),
          .int64(count), .int64(width), .int64(padded), .int64(block), .int64(distance), .int64(descending ? 1 : 0),
        ]
      }
      launch(
        .sort, KernelSource.kernelName("sort", "init", rows.dtype), threads: count * padded,
        values(block: 0, distance: 0))
      let step = "sort_step_" + KernelSource.sortKeyType(rows.dtype)
      for stage in KernelSource.bitonicStages(padded: padded) {
        launch(.sort, step, threads: count * padded / 2, values(block: stage.block, distance: stage.distance))
      }
      launch(.sort, "sort_gather", threads: count * width, values(block: 0, distance: 0))
      return out
    }
  }
#endif
