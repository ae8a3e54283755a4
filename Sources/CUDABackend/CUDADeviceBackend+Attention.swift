#if CUDA
  import CCUDA
  import Tensor

  extension CUDADeviceBackend {
    func fusedAttention(_ problem: AttentionProblem) -> Bool {
      guard let head = KernelSource.attentionHead(problem),
        problem.logsumexp.dtype == KernelSource.attentionStatisticsType(problem.query.dtype)
      else { return false }
      let p = problem
      let l = p.query.shape[p.query.dim - 2]
      launch(
        .attention, KernelSource.attentionKernel("forward", p.query.dtype, head: head), threads: l, rows: p.slices,
        KernelSource.attentionForwardValues(p) { $0?.storage.data })
      return true
    }

    func fusedAttentionBackward(
      _ problem: AttentionProblem, gradOut: Tensor, gradQuery: Tensor, gradKey: Tensor, gradValue: Tensor
    ) -> Bool {
      guard let head = KernelSource.attentionHead(problem),
        problem.logsumexp.dtype == KernelSource.attentionStatisticsType(problem.query.dtype)
      else { return false }
      let p = problem
      let (l, s) = (p.query.shape[p.query.dim - 2], p.key.shape[p.key.dim - 2])
      let delta = Tensor.empty([p.slices * l], dtype: p.logsumexp.dtype, device: p.query.device)
      let values = KernelSource.attentionBackwardValues(
        p, gradOut: gradOut, gradQuery: gradQuery, gradKey: gradKey, gradValue: gradValue, delta: delta
      ) { $0?.storage.data }
      launch(
        .attention, KernelSource.attentionKernel("dq", p.query.dtype, head: head), threads: l, rows: p.slices, values)
      launch(
        .attention, KernelSource.attentionKernel("dkdv", p.query.dtype, head: head), threads: s, rows: p.slices, values)
      return true
    }
  }
#endif
