import Autograd

/// The differentiable functions whose gradients `Scripts/make_autograd_fixtures.py` computed
/// with PyTorch, by the same names.
let formulaCases: [String: @Sendable ([Tensor]) -> Tensor] = {
  var cases: [String: @Sendable ([Tensor]) -> Tensor] = [
    "unary_abs": { $0[0].abs() }, "unary_neg": { $0[0].neg() }, "unary_exp": { $0[0].exp() },
    "unary_expm1": { $0[0].expm1() }, "unary_log": { $0[0].log() }, "unary_log1p": { $0[0].log1p() },
    "unary_log2": { $0[0].log2() }, "unary_sqrt": { $0[0].sqrt() }, "unary_rsqrt": { $0[0].rsqrt() },
    "unary_sin": { $0[0].sin() }, "unary_cos": { $0[0].cos() }, "unary_tan": { $0[0].tan() },
    "unary_tanh": { $0[0].tanh() }, "unary_sigmoid": { $0[0].sigmoid() }, "unary_relu": { $0[0].relu() },
    "unary_erf": { $0[0].erf() }, "unary_reciprocal": { $0[0].reciprocal() }, "unary_floor": { $0[0].floor() },
    "unary_sign": { $0[0].sign() }, "unary_gelu": { $0[0].gelu() }, "unary_silu": { $0[0].silu() },
    "unary_exp_t": { $0[0].t().exp() },
    "unary_ceil": { $0[0].ceil() }, "unary_round": { $0[0].round() }, "unary_trunc": { $0[0].trunc() },
    "binary_add": { $0[0] + $0[1] }, "binary_sub": { $0[0] - $0[1] }, "binary_mul": { $0[0] * $0[1] },
    "binary_div": { $0[0] / $0[1] }, "binary_pow": { $0[0].pow($0[1]) },
    "binary_maximum": { $0[0].maximum($0[1]) }, "binary_minimum": { $0[0].minimum($0[1]) },
    "binary_add_alpha": { $0[0].add($0[1], alpha: 2.5) },
    "binary_scalar": { x in (2.0 - x[0]) * 3 / (x[0] * x[0] + 1) + x[0].pow(2) },
    "binary_pow_scalar": { $0[0].pow(2.5) },
    "binary_remainder": { $0[0] % $0[1] },
    "where": { Tensor.where($0[0] .> 0, $0[0], $0[1]) },
    "clamp": { $0[0].clamp(min: -0.5, max: 0.5) },
    "clamp_min": { $0[0].clamp(min: 0.0) },
    "clamp_tensor": { $0[0].clamp(min: $0[1], max: $0[2]) },
    "sum_all": { $0[0].sum() }, "sum_d1": { $0[0].sum(dim: 1) },
    "sum_d02_keep": { $0[0].sum(dim: [0, 2], keepdim: true) },
    "mean_all": { $0[0].mean() }, "mean_d2": { $0[0].mean(dim: 2) }, "prod_d1": { $0[0].prod(dim: 1) },
    "amax_d1": { $0[0].amax(dim: 1) }, "amin_d02": { $0[0].amin(dim: [0, 2]) }, "max_all": { $0[0].max() },
    "max_d1": { $0[0].max(dim: 1).values }, "min_d2_keep": { $0[0].min(dim: 2, keepdim: true).values },
    "var_d1": { $0[0].var(dim: 1) }, "std_all": { $0[0].std() },
    "norm_2": { $0[0].norm() }, "norm_1_d1": { $0[0].norm(p: 1, dim: 1) },
    "logsumexp_d2": { $0[0].logsumexp(dim: 2) },
    "softmax_d1": { $0[0].softmax(dim: 1) }, "log_softmax_d2": { $0[0].logSoftmax(dim: 2) },
    "cumsum_d1": { $0[0].cumsum(dim: 1) }, "cumprod_d2": { $0[0].cumprod(dim: 2) },
    "mm": { $0[0].mm($0[1]) }, "bmm": { $0[0].bmm($0[1]) }, "matmul_bcast": { $0[0].matmul($0[1]) },
    "mv": { $0[0].mv($0[1]) }, "dot": { $0[0].dot($0[1]) }, "mm_t": { $0[0].t().matmul($0[1].t()) },
    "outer": { $0[0].outer($0[1]) },
    "view": { $0[0].view(12, 5) * 1 }, "reshape_t": { $0[0].transpose(0, 2).reshape(-1) },
    "permute": { $0[0].permute(2, 0, 1) }, "t": { $0[0].t() },
    "expand": { $0[0].expand(2, 3, 4) }, "squeeze_unsqueeze": { $0[0].squeeze(dim: 1).unsqueeze(0) },
    "narrow": { $0[0].narrow(dim: 1, start: 1, length: 2) }, "select": { $0[0].select(dim: 2, index: 3) },
    "diagonal": { $0[0].diagonal(offset: 1, dim1: 1, dim2: 2) }, "flatten": { $0[0].flatten(startDim: 1) },
    "slice_step": { $0[0][1..., .stride(by: 2), -2] },
    "as_strided": { $0[0].asStrided(size: [3, 2], stride: [4, 1], storageOffset: 1) },
    "chunk_cat": { Tensor.cat($0[0].chunk(2, dim: 1).reversed(), dim: 1) },
    "stack": { Tensor.stack([$0[0], $0[1] * 2], dim: 1) },
    "unbind": { $0[0].unbind(dim: 0)[1] * $0[0].unbind(dim: 1)[2].sum() },
    "repeat": { $0[0].repeat(2, 1, 2) }, "tile": { $0[0].tile(3) },
    "repeat_interleave": { $0[0].repeatInterleave(2, dim: 1) },
    "repeat_interleave_tensor": { $0[0].repeatInterleave(Tensor([1, 0, 3]), dim: 0) },
    "repeat_interleave_flat": { $0[0].repeatInterleave(2) },
    "flip": { $0[0].flip(0, 2) }, "fliplr": { $0[0].fliplr() }, "flipud": { $0[0].flipud() },
    "roll": { $0[0].roll(shifts: [1, -2], dims: [0, 2]) }, "roll_flat": { $0[0].roll(shifts: [5]) },
    "rot90": { $0[0].rot90(1, dims: (1, 2)) }, "rot90_k3": { $0[0].rot90(3) }, "rot90_k2": { $0[0].rot90(2) },
    "movedim": { $0[0].movedim([0, 1], [2, 0]) }, "swapaxes": { $0[0].swapaxes(0, 2) },
    "atleast_3d": { $0[0].atleast3d() * 1 },
    "hstack": { Tensor.hstack([$0[0], $0[1]]) }, "vstack": { Tensor.vstack([$0[0], $0[1]]) },
    "dstack": { Tensor.dstack([$0[0], $0[1]]) },
    "tensor_split": { x in
      Tensor.cat(x[0].tensorSplit(sections: 3, dim: 2).enumerated().map { $0.element * Double($0.offset + 1) }, dim: 2)
    },
    "tensor_split_idx": { $0[0].tensorSplit(indices: [1, -1], dim: 1)[1] * 2 },
    "trace": { $0[0].trace() },
    "diag_vec": { $0[0].diag(1) }, "diag_mat": { $0[0].diag(-1) },
    "diag_embed": { $0[0].diagEmbed(offset: -1, dim1: 0, dim2: 2) },
    "diagflat": { $0[0].diagflat() },
    "unfold": { $0[0].unfold(dimension: 2, size: 3, step: 1) },
    "meshgrid_xy": { Tensor.stack(Tensor.meshgrid([$0[0], $0[1]], indexing: .xy)) * 1 },
    "unary_exp2": { $0[0].exp2() }, "unary_log10": { $0[0].log10() }, "unary_asin": { $0[0].asin() },
    "unary_acos": { $0[0].acos() }, "unary_atan": { $0[0].atan() }, "unary_sinh": { $0[0].sinh() },
    "unary_cosh": { $0[0].cosh() }, "unary_asinh": { $0[0].asinh() }, "unary_acosh": { $0[0].acosh() },
    "unary_atanh": { $0[0].atanh() }, "unary_erfc": { $0[0].erfc() }, "unary_erfinv": { $0[0].erfinv() },
    "atan2": { $0[0].atan2($0[1]) }, "fmod": { $0[0].fmod($0[1]) }, "hypot": { $0[0].hypot($0[1]) },
    "copysign": { $0[0].copysign($0[1]) },
    "lerp": { $0[0].lerp($0[1], weight: $0[2]) },
    "logaddexp": { $0[0].logaddexp($0[1]) }, "xlogy": { $0[0].xlogy($0[1]) },
    "frac": { ($0[0] * 3).frac() }, "square": { $0[0].square() },
    "div_trunc": { ($0[0] * 3).div($0[1], roundingMode: .trunc) + $0[0] },
    "sort": { $0[0].sort(dim: 1, descending: true).values },
    "topk": { $0[0].topk(2, dim: 2).values }, "kthvalue": { $0[0].kthvalue(3, dim: 1).values },
    "median_d": { $0[0].median(dim: 2).values }, "median_all": { $0[0].median() },
    "quantile": { $0[0].quantile(Tensor([0.1, 0.5, 0.8], dtype: $0[0].dtype), dim: 1) },
    "quantile_mid": { $0[0].quantile(0.3, dim: 2, keepdim: true, interpolation: .midpoint) },
    "cummax": { $0[0].cummax(dim: 1).values }, "cummin": { $0[0].cummin(dim: 2).values },
    "cross": { $0[0].cross($0[1]) },
    "cosine_similarity": { Tensor.cosineSimilarity($0[0], $0[1] * 2 + 1, dim: 1) },
    "pairwise_distance": { Tensor.pairwiseDistance($0[0], $0[1] * 2) },
    "einsum_mm": { Tensor.einsum("ij,jk->ik", $0[0], $0[1]) },
    "einsum_implicit": { Tensor.einsum("ij,jk", $0[0], $0[1]) },
    "einsum_diag_trace": { Tensor.einsum("ii->i", $0[0]) * Tensor.einsum("ii", $0[0]) },
    "einsum_outer_dot": { Tensor.einsum("i,j->ij", $0[0], $0[1]) * Tensor.einsum("i,i", $0[0], $0[0]) },
    "einsum_ellipsis": { Tensor.einsum("...ij,...jk->...ik", $0[0], $0[1]) },
    "einsum_three": { Tensor.einsum("bn,anm,bm->ba", $0[0], $0[1], $0[2]) },
    "einsum_sum_permute": { Tensor.einsum("ijk->kj", $0[0]) },
    "einsum_repeated_kept": { Tensor.einsum("iij->ji", $0[0]) },
    "index_add": { $0[0].indexAdd(dim: 1, index: Tensor([0, 3, 0]), source: $0[1], alpha: 2) },
    "index_copy": { $0[0].indexCopy(dim: 0, index: Tensor([2, 0]), source: $0[1]) },
    "index_fill": { $0[0].indexFill(dim: 1, index: Tensor([1, 3]), value: -1.0) },
    "take_along_dim": { $0[0].takeAlongDim(Tensor([[[0], [2], [4], [1]]]), dim: 2) },
    "put": { ($0[0] * 1).put_(index: Tensor([0, -1, 5]), source: $0[1]) },
    "put_accumulate": { ($0[0] * 1).put_(index: Tensor([1, 1, 5]), source: $0[1], accumulate: true) },
    "masked_scatter": { $0[0].maskedScatter(Tensor([true, false, true, false]), $0[1]) },
    "addmm": { $0[0].addmm($0[1], $0[2], beta: 0.5, alpha: 2) }, "addbmm": { $0[0].addbmm($0[1], $0[2], alpha: 0.5) },
    "baddbmm": { $0[0].baddbmm($0[1], $0[2], beta: 2) }, "addmv": { $0[0].addmv($0[1], $0[2], beta: 0) },
    "addr": { $0[0].addr($0[1], $0[2], beta: -1, alpha: 3) },
    "matrix_power": { Linalg.matrixPower($0[0] * 0.5, 3) }, "multi_dot": { Linalg.multiDot($0) },
    "matrix_norm_fro": { Linalg.matrixNorm($0[0]) }, "matrix_norm_one": { Linalg.matrixNorm($0[0], ord: .one) },
    "matrix_norm_negone": { Linalg.matrixNorm($0[0], ord: .negativeOne) },
    "matrix_norm_inf": { Linalg.matrixNorm($0[0], ord: .infinity) },
    "matrix_norm_neginf": { Linalg.matrixNorm($0[0], ord: .negativeInfinity) },
    "vector_norm_3": { Linalg.vectorNorm($0[0], ord: 3, dim: [0, 2]) },
    "tril_triu": { $0[0].tril(diagonal: 1) + $0[0].triu(diagonal: -1) * 2 },
    "inv": { Linalg.inv($0[0] + Tensor.eye(3, dtype: $0[0].dtype) * 3) },
    "solve": { Linalg.solve($0[0] + Tensor.eye(3, dtype: $0[0].dtype) * 3, $0[1]) },
    "solve_vector": { Linalg.solve($0[0] + Tensor.eye(3, dtype: $0[0].dtype) * 3, $0[1]) },
    "det": { Linalg.det($0[0] + Tensor.eye(3, dtype: $0[0].dtype) * 2) },
    "slogdet": { Linalg.slogdet($0[0] - Tensor.eye(3, dtype: $0[0].dtype) * 3).logAbsDet },
    "cholesky": { Linalg.cholesky($0[0].matmul($0[0].mT) + Tensor.eye(3, dtype: $0[0].dtype) * 3) },
    "matrix_power_negative": { Linalg.matrixPower($0[0] + Tensor.eye(3, dtype: $0[0].dtype) * 3, -2) },
    "lgamma": { $0[0].lgamma() }, "digamma": { $0[0].digamma() }, "polygamma_1": { $0[0].polygamma(1) },
    "logcumsumexp": { ($0[0] * 5).logcumsumexp(dim: 1) },
    "cdist": { Tensor.cdist($0[0], $0[1]) }, "cdist_p1": { Tensor.cdist($0[0], $0[1], p: 1) },
    "mode": { $0[0].round().mode(dim: 2).values + $0[0].mode(dim: 1).values.sum() },
    "eigvalsh": { Linalg.eigvalsh($0[0] + $0[0].mT) },
    "eigh_vectors": { Linalg.eigh($0[0] + $0[0].mT).eigenvectors.pow(2) },
    "svdvals": { Linalg.svdvals($0[0]) },
    "pinv": { Linalg.pinv($0[0]) }, "pinv_wide_batched": { Linalg.pinv($0[0]) },
    "qr": { x in
      let (q, r) = Linalg.qr(x[0])
      return Tensor.cat([q.flatten(), r.flatten()])
    },
    "lstsq": { Linalg.lstsq($0[0], $0[1]).solution }, "matrix_exp": { Linalg.matrixExp($0[0]) },
    "matrix_norm_nuc": { Linalg.matrixNorm($0[0], ord: .nuclear) },
    "matrix_norm_two": { Linalg.matrixNorm($0[0], ord: .two, dim: (0, 2), keepdim: true) },
    "svd_wide": { x in
      let (u, s, vh) = Linalg.svd(x[0])
      return Tensor.cat([u.pow(2).flatten(), s, vh.pow(2).flatten()])
    },
    "svd_tall": { x in
      let (u, s, vh) = Linalg.svd(x[0])
      return (u * s).matmul(vh) + u.pow(2).sum() + vh[0].pow(2).sum()
    },
    "qr_wide": { x in
      let (q, r) = Linalg.qr(x[0])
      return Tensor.cat([q.flatten(), r.flatten()])
    },
    "qr_complete_wide": { x in
      let (q, r) = Linalg.qr(x[0], mode: .complete)
      return Tensor.cat([q.flatten(), r.flatten()])
    },
    "lstsq_gelsd": { x in
      let result = Linalg.lstsq(x[0], x[1], driver: .gelsd)
      return Tensor.cat([result.solution.flatten(), result.residuals.flatten()])
    },
    "lstsq_wide_vector": { Linalg.lstsq($0[0], $0[1], driver: .gelsd).solution },
    "nansum": { $0[0].nansum(dim: [0, 2]) }, "nanmean": { $0[0].nanmean(dim: [1], keepdim: true) },
    "index_adv": { $0[0][Tensor([[0, 2], [2, 2]]), .all, Tensor([4, 0])] },
    "index_mask": { $0[0][$0[0] .> 0.5] },
    "gather": {
      $0[0].gather(dim: 2, index: Tensor([[[0, 4], [1, 1], [2, 0], [3, 3]]]).expand(3, 4, 2).contiguous())
    },
    "index_select": { $0[0].indexSelect(dim: 1, index: Tensor([3, 0, 3])) },
    "scatter_src": {
      Tensor.zeros(3, 5, dtype: $0[0].dtype).scatter(dim: 1, index: Tensor([[0, 4], [1, 3], [2, 0]]), src: $0[0])
    },
    "masked_fill": { $0[0].maskedFill($0[0] .> 0, 0.0) },
    "to_double": { $0[0].double() * 2 },
    "inplace_chain": { x in (x[0] * 1).add_(x[1]).mul_(x[1]).exp_() },
    "inplace_view": { x in
      let y = x[0] * 1
      y[1].mul_(x[1])
      y[.all, 0].add_(1)
      return y
    },
    "index_put": { x in
      let y = x[0].clone()
      y[Tensor([0, 2]), Tensor([1, 3])] = x[1]
      return y
    },
  ]
  let reductions: [(String, Tensor.ScatterReduction)] = [
    ("sum", .sum), ("prod", .prod), ("mean", .mean), ("amax", .amax), ("amin", .amin),
  ]
  for (name, reduction) in reductions {
    for includeSelf in [true, false] {
      cases["scatter_reduce_\(name)\(includeSelf ? "" : "_exclude")"] = { x in
        x[0].scatterReduce(
          dim: 1, index: Tensor([[0, 4], [1, 1], [2, 0]]), src: x[1], reduce: reduction, includeSelf: includeSelf)
      }
    }
  }
  return cases
}()
