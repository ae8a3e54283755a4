"""Writes PyTorch's gradients for the Autograd tests.

Run with a Python that has torch (see README): `.venv/bin/python Scripts/make_autograd_fixtures.py`.
For each case: inputs (`<case>_in<i>.npy`), an upstream gradient for the output (`<case>_up.npy`),
the output (`<case>_out.npy`) and the gradient of every input (`<case>_grad<i>.npy`), computed as
`(f(*inputs) * up).sum().backward()`. The Swift tests run the same function and compare.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "AutogradTests", "Fixtures")
rng = np.random.default_rng(1)


def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), np.array(t.detach().numpy(), order="C"))


def make(spec):
    shape, kind = spec
    if kind == "p":
        data = rng.uniform(0.5, 2.0, shape)
    elif kind == "u":  # inside (-1, 1), for asin, acos, atanh, erfinv
        data = rng.uniform(-0.9, 0.9, shape)
    elif kind == "g":  # above 1, for acosh
        data = rng.uniform(1.2, 3.0, shape)
    elif kind == "i":  # distinct values, so max/min have one winner
        data = rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 1.0
    else:
        data = rng.standard_normal(shape)
    return torch.tensor(data, dtype=torch.float32, requires_grad=True)


A, B = ((3, 1, 4), "n"), ((2, 4), "p")
X = ((3, 4), "n")
P = ((3, 4), "p")
X345 = ((3, 4, 5), "i")

cases = {
    # Elementwise, unary.
    **{f"unary_{n}": ([P if n in ("log", "log1p", "log2", "sqrt", "rsqrt", "reciprocal") else X], getattr(torch, n))
       for n in ["abs", "neg", "exp", "expm1", "log", "log1p", "log2", "sqrt", "rsqrt", "sin", "cos", "tan",
                 "tanh", "sigmoid", "relu", "erf", "reciprocal", "floor", "sign"]},
    "unary_gelu": ([X], F.gelu),
    "unary_silu": ([X], F.silu),
    "unary_exp_t": ([X], lambda x: x.t().exp()),
    # Elementwise, binary with broadcasting.
    "binary_add": ([A, B], torch.add), "binary_sub": ([A, B], torch.sub), "binary_mul": ([A, B], torch.mul),
    "binary_div": ([A, B], torch.div), "binary_pow": ([((3, 1, 4), "p"), B], torch.pow),
    "binary_maximum": ([A, B], torch.maximum), "binary_minimum": ([A, B], torch.minimum),
    "binary_add_alpha": ([A, B], lambda a, b: torch.add(a, b, alpha=2.5)),
    "binary_scalar": ([X], lambda x: (2.0 - x) * 3 / (x * x + 1) + x ** 2),
    "binary_pow_scalar": ([P], lambda x: x.pow(2.5)),
    "binary_remainder": ([X, ((4,), "p")], torch.remainder),
    "where": ([A, B], lambda a, b: torch.where(a > 0, a, b)),
    "clamp": ([X], lambda x: x.clamp(-0.5, 0.5)),
    "clamp_min": ([X], lambda x: x.clamp(min=0.0)),
    "clamp_tensor": ([X, ((4,), "n"), ((4,), "p")], lambda x, lo, hi: torch.clamp(x, lo, hi)),
    # Reductions.
    "sum_all": ([X345], lambda x: x.sum()), "sum_d1": ([X345], lambda x: x.sum(1)),
    "sum_d02_keep": ([X345], lambda x: x.sum((0, 2), keepdim=True)),
    "mean_all": ([X345], lambda x: x.mean()), "mean_d2": ([X345], lambda x: x.mean(2)),
    "prod_d1": ([X345], lambda x: x.prod(1)),
    "amax_d1": ([X345], lambda x: x.amax(1)), "amin_d02": ([X345], lambda x: x.amin((0, 2))),
    "max_all": ([X345], lambda x: x.max()),
    "max_d1": ([X345], lambda x: x.max(1).values), "min_d2_keep": ([X345], lambda x: x.min(2, keepdim=True).values),
    "var_d1": ([X345], lambda x: x.var(1)), "std_all": ([X345], lambda x: x.std()),
    "norm_2": ([X345], lambda x: x.norm()), "norm_1_d1": ([X345], lambda x: torch.linalg.vector_norm(x, 1, dim=1)),
    "logsumexp_d2": ([X345], lambda x: x.logsumexp(2)),
    "softmax_d1": ([X345], lambda x: x.softmax(1)), "log_softmax_d2": ([X345], lambda x: x.log_softmax(2)),
    "cumsum_d1": ([X345], lambda x: x.cumsum(1)), "cumprod_d2": ([X345], lambda x: x.cumprod(2)),
    # Matrix products.
    "mm": ([((2, 3), "n"), ((3, 4), "n")], torch.mm),
    "bmm": ([((2, 2, 3), "n"), ((2, 3, 4), "n")], torch.bmm),
    "matmul_bcast": ([((5, 1, 2, 3), "n"), ((4, 3, 2), "n")], torch.matmul),
    "mv": ([((2, 3), "n"), ((3,), "n")], torch.mv), "dot": ([((3,), "n"), ((3,), "n")], torch.dot),
    "mm_t": ([((3, 2), "n"), ((4, 3), "n")], lambda a, b: a.t() @ b.t()),
    "outer": ([((3,), "n"), ((4,), "n")], torch.outer),
    # Views.
    "view": ([X345], lambda x: x.view(12, 5) * 1),
    "reshape_t": ([X345], lambda x: x.transpose(0, 2).reshape(-1)),
    "permute": ([X345], lambda x: x.permute(2, 0, 1)), "t": ([X], lambda x: x.t()),
    "expand": ([((3, 1), "n")], lambda x: x.expand(2, 3, 4)),
    "squeeze_unsqueeze": ([((3, 1, 4), "n")], lambda x: x.squeeze(1).unsqueeze(0)),
    "narrow": ([X345], lambda x: x.narrow(1, 1, 2)), "select": ([X345], lambda x: x.select(2, 3)),
    "diagonal": ([X345], lambda x: x.diagonal(offset=1, dim1=1, dim2=2)),
    "flatten": ([X345], lambda x: x.flatten(1)),
    "slice_step": ([X345], lambda x: x[1:, ::2, -2]),
    "as_strided": ([((4, 4), "n")], lambda x: x.as_strided((3, 2), (4, 1), 1)),
    "chunk_cat": ([X345], lambda x: torch.cat(list(reversed(x.chunk(2, 1))), 1)),
    "stack": ([X, X], lambda a, b: torch.stack([a, b * 2], 1)),
    "unbind": ([X], lambda x: x.unbind(0)[1] * x.unbind(1)[2].sum()),
    # Indexing.
    "index_adv": ([X345], lambda x: x[torch.tensor([[0, 2], [2, 2]]), :, torch.tensor([4, 0])]),
    "index_mask": ([X345], lambda x: x[x > 0.5]),
    "gather": ([X345], lambda x: x.gather(2, torch.tensor([[[0, 4], [1, 1], [2, 0], [3, 3]]] * 3))),
    "index_select": ([X345], lambda x: x.index_select(1, torch.tensor([3, 0, 3]))),
    "scatter_src": ([((3, 2), "n")], lambda s: torch.zeros(3, 5).scatter(1, torch.tensor([[0, 4], [1, 3], [2, 0]]), s)),
    "masked_fill": ([X], lambda x: x.masked_fill(x > 0, 0.0)),
    "to_double": ([X], lambda x: x.double() * 2),
    # In-place ops rebase the graph.
    "inplace_chain": ([X, X], lambda x, w: (x * 1).add_(w).mul_(w).exp_()),
    "inplace_view": ([X, ((4,), "n")], lambda x, r: _inplace_view(x, r)),
    "index_put": ([X, ((2,), "n")], lambda x, v: _index_put(x, v)),
    # Rearranging (composed from views, cat and index selection).
    "repeat": ([((2, 3), "n")], lambda x: x.repeat(2, 1, 2)),
    "tile": ([((2, 3), "n")], lambda x: x.tile((3,))),
    "repeat_interleave": ([X], lambda x: x.repeat_interleave(2, dim=1)),
    "repeat_interleave_tensor": ([X], lambda x: x.repeat_interleave(torch.tensor([1, 0, 3]), dim=0)),
    "repeat_interleave_flat": ([X], lambda x: x.repeat_interleave(2)),
    "flip": ([X345], lambda x: x.flip(0, 2)), "fliplr": ([X], torch.fliplr), "flipud": ([X], torch.flipud),
    "roll": ([X345], lambda x: x.roll((1, -2), (0, 2))), "roll_flat": ([X], lambda x: x.roll(5)),
    "rot90": ([X345], lambda x: x.rot90(1, (1, 2))), "rot90_k3": ([X], lambda x: x.rot90(3)),
    "rot90_k2": ([X], lambda x: x.rot90(2)),
    "movedim": ([X345], lambda x: x.movedim((0, 1), (2, 0))), "swapaxes": ([X345], lambda x: x.swapaxes(0, 2)),
    "atleast_3d": ([X], lambda x: torch.atleast_3d(x) * 1),
    "hstack": ([X, ((3, 2), "n")], lambda a, b: torch.hstack([a, b])),
    "vstack": ([((4,), "n"), X], lambda a, b: torch.vstack([a, b])),
    "dstack": ([X, X], lambda a, b: torch.dstack([a, b])),
    "tensor_split": ([X345], lambda x: torch.cat([p * (i + 1) for i, p in enumerate(torch.tensor_split(x, 3, dim=2))], 2)),
    "tensor_split_idx": ([X345], lambda x: torch.tensor_split(x, [1, -1], dim=1)[1] * 2),
    "trace": ([X], torch.trace),
    "diag_vec": ([((3,), "n")], lambda x: torch.diag(x, 1)), "diag_mat": ([X], lambda x: torch.diag(x, -1)),
    "diag_embed": ([X], lambda x: torch.diag_embed(x, offset=-1, dim1=0, dim2=2)),
    "diagflat": ([((2, 2), "n")], torch.diagflat),
    "unfold": ([X345], lambda x: x.unfold(2, 3, 1)),
    "meshgrid_xy": ([((3,), "n"), ((2,), "n")], lambda a, b: torch.stack(torch.meshgrid(a, b, indexing="xy")) * 1),
    # More elementwise functions.
    **{f"unary_{n}": ([((3, 4), "u") if n in ("asin", "acos", "atanh", "erfinv") else
                       ((3, 4), "g") if n == "acosh" else P if n == "log10" else X], getattr(torch, n))
       for n in ["exp2", "log10", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "erfc", "erfinv"]},
    "atan2": ([A, B], torch.atan2), "fmod": ([X, ((4,), "p")], torch.fmod), "hypot": ([A, B], torch.hypot),
    "copysign": ([X, ((4,), "n")], torch.copysign),
    "lerp": ([X, ((4,), "n"), ((3, 1), "n")], torch.lerp),
    "logaddexp": ([A, B], torch.logaddexp), "xlogy": ([X, P], torch.xlogy),
    "frac": ([X], lambda x: (x * 3).frac()), "square": ([X], torch.square),
    "div_trunc": ([X, ((4,), "p")], lambda a, b: torch.div(a * 3, b, rounding_mode="trunc") + a),
    # Sorting and order statistics (distinct values: one winner each).
    "sort": ([X345], lambda x: x.sort(1, descending=True).values),
    "topk": ([X345], lambda x: x.topk(2, 2).values), "kthvalue": ([X345], lambda x: x.kthvalue(3, 1).values),
    "median_d": ([X345], lambda x: x.median(2).values), "median_all": ([X345], lambda x: x.median()),
    "quantile": ([X345], lambda x: torch.quantile(x, torch.tensor([0.1, 0.5, 0.8]), dim=1)),
    "quantile_mid": ([X345], lambda x: torch.quantile(x, 0.3, dim=2, keepdim=True, interpolation="midpoint")),
    "cummax": ([X345], lambda x: x.cummax(1).values), "cummin": ([X345], lambda x: x.cummin(2).values),
    "cross": ([((1, 2, 3), "n"), ((4, 1, 3), "n")], torch.linalg.cross),
    "cosine_similarity": ([X345, X345], lambda a, b: F.cosine_similarity(a, b * 2 + 1, dim=1)),
    "pairwise_distance": ([X, X], lambda a, b: F.pairwise_distance(a, b * 2)),
    "einsum_mm": ([((2, 3), "n"), ((3, 4), "n")], lambda a, b: torch.einsum("ij,jk->ik", a, b)),
    "einsum_implicit": ([((2, 3), "n"), ((3, 4), "n")], lambda a, b: torch.einsum("ij,jk", a, b)),
    "einsum_diag_trace": ([((3, 3), "n")], lambda a: torch.einsum("ii->i", a) * torch.einsum("ii", a)),
    "einsum_outer_dot": ([((3,), "n"), ((4,), "n")], lambda a, b: torch.einsum("i,j->ij", a, b) * torch.einsum("i,i", a, a)),
    "einsum_ellipsis": ([((2, 1, 3, 4), "n"), ((5, 4, 2), "n")], lambda a, b: torch.einsum("...ij,...jk->...ik", a, b)),
    "einsum_three": ([((2, 3), "n"), ((4, 3, 5), "n"), ((2, 5), "n")], lambda a, b, c: torch.einsum("bn,anm,bm->ba", a, b, c)),
    "einsum_sum_permute": ([X345], lambda x: torch.einsum("ijk->kj", x)),
    "einsum_repeated_kept": ([((3, 3, 2), "n")], lambda x: torch.einsum("iij->ji", x)),
    "nansum": ([X345], lambda x: x.nansum((0, 2))), "nanmean": ([X345], lambda x: x.nanmean(1, keepdim=True)),
    # Indexing ops.
    "index_add": ([X, ((3, 3), "n")], lambda x, s: x.index_add(1, torch.tensor([0, 3, 0]), s, alpha=2.0)),
    "index_copy": ([X, ((2, 4), "n")], lambda x, s: x.index_copy(0, torch.tensor([2, 0]), s)),
    "index_fill": ([X], lambda x: x.index_fill(1, torch.tensor([1, 3]), -1.0)),
    **{f"scatter_reduce_{r}{'' if inc else '_exclude'}": (
        [((3, 5), "i"), ((3, 2), "p" if r == "prod" else "n")],
        (lambda r, inc: lambda x, s: x.scatter_reduce(1, torch.tensor([[0, 4], [1, 1], [2, 0]]), s, r, include_self=inc))(r, inc))
       for r in ["sum", "prod", "mean", "amax", "amin"] for inc in [True, False]},
    "take_along_dim": ([X345], lambda x: torch.take_along_dim(x, torch.tensor([[[0], [2], [4], [1]]]), 2)),
    "put": ([X, ((3,), "n")], lambda x, s: (x * 1).put_(torch.tensor([0, -1, 5]), s)),
    "put_accumulate": ([X, ((3,), "n")], lambda x, s: (x * 1).put_(torch.tensor([1, 1, 5]), s, accumulate=True)),
    "masked_scatter": ([X, ((12,), "n")], lambda x, s: x.masked_scatter(torch.tensor([True, False, True, False]), s)),
    # Matrix products and norms.
    "addmm": ([((2, 4), "n"), ((2, 3), "n"), ((3, 4), "n")], lambda c, a, b: c.addmm(a, b, beta=0.5, alpha=2.0)),
    "addbmm": ([((2, 4), "n"), ((3, 2, 3), "n"), ((3, 3, 4), "n")], lambda c, a, b: c.addbmm(a, b, alpha=0.5)),
    "baddbmm": ([((3, 2, 4), "n"), ((3, 2, 3), "n"), ((3, 3, 4), "n")], lambda c, a, b: c.baddbmm(a, b, beta=2.0)),
    "addmv": ([((2,), "n"), ((2, 3), "n"), ((3,), "n")], lambda c, a, b: c.addmv(a, b, beta=0.0)),
    "addr": ([((3, 4), "n"), ((3,), "n"), ((4,), "n")], lambda c, a, b: c.addr(a, b, beta=-1.0, alpha=3.0)),
    "matrix_power": ([((2, 3, 3), "n")], lambda a: torch.linalg.matrix_power(a * 0.5, 3)),
    "multi_dot": ([((3,), "n"), ((3, 4), "n"), ((4, 2), "n"), ((2,), "n")], lambda a, b, c, d: torch.linalg.multi_dot([a, b, c, d])),
    **{f"matrix_norm_{name}": ([X345], (lambda o: lambda x: torch.linalg.matrix_norm(x, ord=o))(o))
       for name, o in [("fro", "fro"), ("one", 1), ("negone", -1), ("inf", float("inf")), ("neginf", -float("inf"))]},
    "vector_norm_3": ([X345], lambda x: torch.linalg.vector_norm(x, 3, dim=(0, 2))),
    # Factorizations (matrices kept well conditioned: a random one plus 3 I).
    "tril_triu": ([X345], lambda x: x.tril(1) + x.triu(-1) * 2),
    "inv": ([((2, 3, 3), "n")], lambda a: torch.linalg.inv(a + 3 * torch.eye(3))),
    "solve": ([((2, 3, 3), "n"), ((2, 3, 2), "n")], lambda a, b: torch.linalg.solve(a + 3 * torch.eye(3), b)),
    "solve_vector": ([((3, 3), "n"), ((3,), "n")], lambda a, b: torch.linalg.solve(a + 3 * torch.eye(3), b)),
    "det": ([((2, 3, 3), "n")], lambda a: torch.linalg.det(a + 2 * torch.eye(3))),
    "slogdet": ([((2, 3, 3), "n")], lambda a: torch.linalg.slogdet(a - 3 * torch.eye(3)).logabsdet),
    "cholesky": ([((2, 3, 3), "n")], lambda m: torch.linalg.cholesky(m @ m.mT + 3 * torch.eye(3))),
    "matrix_power_negative": ([((3, 3), "n")], lambda a: torch.linalg.matrix_power(a + 3 * torch.eye(3), -2)),
    "lgamma": ([P], torch.lgamma), "digamma": ([P], torch.digamma), "polygamma_1": ([P], lambda x: torch.polygamma(1, x)),
    "logcumsumexp": ([X345], lambda x: torch.logcumsumexp(x * 5, 1)),
    "cdist": ([((2, 3, 4), "n"), ((2, 5, 4), "n")], lambda a, b: torch.cdist(a, b)),
    "cdist_p1": ([((3, 4), "n"), ((5, 4), "n")], lambda a, b: torch.cdist(a, b, p=1)),
    "mode": ([X345], lambda x: x.round().mode(2).values + x.mode(1).values.sum()),
    "eigvalsh": ([((2, 4, 4), "n")], lambda m: torch.linalg.eigvalsh(m + m.mT)),
    "eigh_vectors": ([((4, 4), "n")], lambda m: torch.linalg.eigh(m + m.mT).eigenvectors.pow(2)),
    # SVD cases in double (PyTorch's float32 SVD gradient is off by 1e-4 here; the library
    # factors in double), saved as float32.
    "svdvals": ([((2, 5, 3), "n")], lambda a: torch.linalg.svdvals(a.double()).float()),
    "svd_wide": ([((3, 5), "n")], lambda a: (lambda u, s, vh: torch.cat([u.pow(2).flatten(), s, vh.pow(2).flatten()]))(*torch.linalg.svd(a.double(), full_matrices=False)).float()),
    "pinv": ([((4, 3), "n")], lambda a: torch.linalg.pinv(a.double()).float()),
    "pinv_wide_batched": ([((2, 2, 4), "n")], lambda a: torch.linalg.pinv(a.double()).float()),
    "matrix_norm_nuc": ([X345], lambda x: torch.linalg.matrix_norm(x.double(), ord="nuc").float()),
    "matrix_norm_two": ([X345], lambda x: torch.linalg.matrix_norm(x.double(), ord=2, dim=(0, 2), keepdim=True).float()),
    "qr": ([((2, 5, 3), "n")], lambda a: (lambda q, r: torch.cat([q.flatten(), r.flatten()]))(*torch.linalg.qr(a.double())).float()),
    "lstsq": ([((5, 3), "n"), ((5, 2), "n")], lambda a, b: torch.linalg.lstsq(a.double(), b.double()).solution.float()),
    "matrix_exp": ([((2, 3, 3), "n")], lambda a: torch.linalg.matrix_exp(a.double()).float()),
    "svd_tall": ([((5, 3), "n")], lambda a: (lambda u, s, vh: (u * s) @ vh + u.pow(2).sum() + vh[0].pow(2).sum())(*torch.linalg.svd(a.double(), full_matrices=False)).float()),
    "qr_wide": ([((2, 3, 5), "n")], lambda a: (lambda q, r: torch.cat([q.flatten(), r.flatten()]))(*torch.linalg.qr(a.double())).float()),
    "qr_complete_wide": ([((3, 4), "n")], lambda a: (lambda q, r: torch.cat([q.flatten(), r.flatten()]))(*torch.linalg.qr(a.double(), mode="complete")).float()),
    "lstsq_gelsd": ([((2, 5, 3), "n"), ((2, 5, 2), "n")], lambda a, b: (lambda r: torch.cat([r.solution.flatten(), r.residuals.flatten()]))(torch.linalg.lstsq(a.double(), b.double(), driver="gelsd")).float()),
    "lstsq_wide_vector": ([((3, 5), "n"), ((3,), "n")], lambda a, b: torch.linalg.lstsq(a.double(), b.double(), driver="gelsd").solution.float()),
    # Added with the second-derivative sweep (every elementwise op has a case).
    **{f"unary_{n}": ([X], getattr(torch, n)) for n in ["ceil", "round", "trunc"]},
}


def _inplace_view(x, r):
    y = x * 1
    y[1].mul_(r)
    y[:, 0].add_(1)
    return y


def _index_put(x, v):
    y = x.clone()
    y[torch.tensor([0, 2]), torch.tensor([1, 3])] = v
    return y


def main():
    """Writes every case's fixtures (the cases above are also read by make_gradgrad_fixtures.py)."""
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    for name, (specs, fn) in cases.items():
        inputs = [make(s) for s in specs]
        out = fn(*inputs)
        up = torch.tensor(rng.standard_normal(tuple(out.shape)), dtype=out.dtype)
        (out * up).sum().backward()
        for i, t in enumerate(inputs):
            save(f"{name}_in{i}", t)
            save(f"{name}_grad{i}", t.grad if t.grad is not None else torch.zeros_like(t))
        save(f"{name}_up", up)
        save(f"{name}_out", out)

    # Names PyTorch gives the nodes.
    x = torch.randn(3, requires_grad=True)
    names = {
        "add": (x + x).grad_fn.name(), "mul": (x * 2).grad_fn.name(), "sum": x.sum().grad_fn.name(),
        "view": x.view(3, 1).grad_fn.name(), "t": x.view(3, 1).t().grad_fn.name(), "exp": x.exp().grad_fn.name(),
        "mean": x.mean().grad_fn.name(), "select": x[0].grad_fn.name(), "slice": x[1:].grad_fn.name(),
        "index": x[torch.tensor([0])].grad_fn.name(), "mm": x.view(3, 1).mm(x.view(1, 3)).grad_fn.name(),
        "cat": torch.cat([x, x]).grad_fn.name(), "clone": x.clone().grad_fn.name(),
        "where": torch.where(x > 0, x, x).grad_fn.name(), "pow": x.pow(2).grad_fn.name(),
        "softmax": x.softmax(0).grad_fn.name(), "expand": x.expand(2, 3).grad_fn.name(),
        "unsqueeze": x.unsqueeze(0).grad_fn.name(), "permute": x.view(3, 1).permute(1, 0).grad_fn.name(),
    }
    import json
    with open(os.path.join(OUT, "node_names.json"), "w") as f:
        json.dump(names, f, indent=0, sort_keys=True)
    print("wrote", len(os.listdir(OUT)), "files to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
