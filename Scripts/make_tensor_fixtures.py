"""Writes the reference values the Tensor tests compare against.

Run with a Python that has torch (see README): `.venv/bin/python Scripts/make_tensor_fixtures.py`.
Every file goes to Tests/TensorTests/Fixtures as .npy (inputs and expected outputs) or
text (printed forms, dtype tables). The tests never need torch; they read these files.
"""
import json
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "TensorTests", "Fixtures")
os.makedirs(OUT, exist_ok=True)
for f in os.listdir(OUT):
    os.remove(os.path.join(OUT, f))


def save(name, t):
    if isinstance(t, torch.Tensor):
        if t.dtype == torch.bfloat16:
            t = t.float()
        t = t.detach().numpy()
    np.save(os.path.join(OUT, name + ".npy"), np.array(t, order="C"))


rng = np.random.default_rng(0)
x345 = torch.tensor(rng.standard_normal((3, 4, 5)), dtype=torch.float32)
pos34 = torch.tensor(rng.uniform(0.1, 2.0, (3, 4)), dtype=torch.float32)
sgn34 = torch.tensor(rng.standard_normal((3, 4)) * 2, dtype=torch.float32)
a314 = torch.tensor(rng.standard_normal((3, 1, 4)), dtype=torch.float32)
b24 = torch.tensor(rng.uniform(0.5, 2.0, (2, 4)), dtype=torch.float32)
i34 = torch.tensor(rng.integers(-9, 10, (3, 4)), dtype=torch.int64)
j4 = torch.tensor([3, -2, 5, -4], dtype=torch.int64)
for name, t in [("x345", x345), ("pos34", pos34), ("sgn34", sgn34), ("a314", a314), ("b24", b24), ("i34", i34), ("j4", j4)]:
    save("in_" + name, t)

# Unary ops: on a signed input (or a positive one for restricted domains), and on a
# transposed (non-contiguous) view.
unary = {
    "abs": torch.abs, "neg": torch.neg, "sign": torch.sign, "floor": torch.floor, "ceil": torch.ceil,
    "round": torch.round, "trunc": torch.trunc, "exp": torch.exp, "expm1": torch.expm1,
    "log": torch.log, "log1p": torch.log1p, "log2": torch.log2, "sqrt": torch.sqrt, "rsqrt": torch.rsqrt,
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
    "relu": torch.relu, "gelu": torch.nn.functional.gelu, "silu": torch.nn.functional.silu,
    "erf": torch.erf, "reciprocal": torch.reciprocal,
}
positive_only = {"log", "log1p", "log2", "sqrt", "rsqrt"}
for name, f in unary.items():
    src = pos34 if name in positive_only else sgn34
    save("unary_" + name, f(src))
    save("unary_" + name + "_t", f(src.t()))
    save("unary_" + name + "_f64", f(src.double()))
# Integer inputs promote to float for float-only functions.
save("unary_exp_int", torch.exp(i34))
save("unary_abs_int", torch.abs(i34))

binary = {
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "pow": torch.pow,
    "remainder": torch.remainder, "maximum": torch.maximum, "minimum": torch.minimum,
    "floor_divide": torch.floor_divide,
    "eq": torch.eq, "ne": torch.ne, "lt": torch.lt, "le": torch.le, "gt": torch.gt, "ge": torch.ge,
}
for name, f in binary.items():
    save("binary_" + name, f(a314.abs() + 0.5 if name == "pow" else a314, b24))
for name in ["add", "sub", "mul", "remainder", "floor_divide", "maximum", "minimum", "pow"]:
    rhs = j4.abs() if name == "pow" else j4
    save("binary_int_" + name, binary[name](i34, rhs))
save("binary_int_div", torch.div(i34, j4))
save("binary_add_alpha", torch.add(a314, b24, alpha=2.5))
save("binary_scalar_rsub", 2.0 - a314)
save("binary_scalar_rdiv", 3 / b24)
save("binary_where", torch.where(a314 > 0, a314, b24))
save("binary_clamp", torch.clamp(sgn34, min=-1.0, max=0.5))

# Type promotion, tensor-tensor: one row per dtype pair; and tensor-scalar.
dtypes = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32,
          torch.int16, torch.int8, torch.uint8, torch.bool]
names = [str(d).replace("torch.", "") for d in dtypes]
promotion = {}
for da, na in zip(dtypes, names):
    for db, nb in zip(dtypes, names):
        promotion[f"{na},{nb}"] = str(torch.promote_types(da, db)).replace("torch.", "")
    for label, scalar in [("int", 2), ("float", 2.5), ("bool", True)]:
        promotion[f"{na},{label}"] = str((torch.ones(2, dtype=da) * scalar).dtype).replace("torch.", "") \
            if not (da == torch.bool and label == "bool") else "bool"
    promotion[f"{na},0d_float64"] = str(torch.result_type(torch.ones(2, dtype=da), torch.tensor(1.0, dtype=torch.float64))).replace("torch.", "")
    promotion[f"{na},0d_int64"] = str(torch.result_type(torch.ones(2, dtype=da), torch.tensor(1))).replace("torch.", "")
    promotion[f"{na},div"] = str(torch.div(torch.ones(2, dtype=da), torch.ones(2, dtype=da)).dtype).replace("torch.", "")
with open(os.path.join(OUT, "promotion.json"), "w") as f:
    json.dump(promotion, f, indent=0, sort_keys=True)

# Conversions between dtypes, including float -> int truncation and float16/bfloat16 rounding.
conv = torch.tensor([-2.7, -0.5, 0.0, 0.4, 1.5, 2.5, 3.99, 1000.123, 65504.0, 1e-3])
save("conv_src", conv)
for d, n in zip(dtypes, names):
    save("conv_" + n, conv.to(d).to(torch.float64) if d != torch.bool else conv.to(d))

# Reductions on a [3, 4, 5] input.
red = {
    "sum_all": x345.sum(), "sum_d1": x345.sum(1), "sum_d02_keep": x345.sum((0, 2), keepdim=True),
    "mean_all": x345.mean(), "mean_d2": x345.mean(2), "prod_d1": x345.prod(1),
    "amax_d1": x345.amax(1), "amin_d02": x345.amin((0, 2)), "max_all": x345.max(), "min_all": x345.min(),
    "var_d1": x345.var(1), "var_d1_c0": x345.var(1, correction=0), "std_all": x345.std(),
    "std_d2_keep": x345.std(2, keepdim=True),
    "norm_2": x345.norm(), "norm_1_d1": torch.linalg.vector_norm(x345, 1, dim=1),
    "norm_inf_d2": torch.linalg.vector_norm(x345, float("inf"), dim=2),
    "norm_3_d0": torch.linalg.vector_norm(x345, 3, dim=0),
    "logsumexp_d2": x345.logsumexp(2), "logsumexp_d01": x345.logsumexp((0, 1)),
    "softmax_d1": x345.softmax(1), "softmax_dm1": x345.softmax(-1), "log_softmax_d1": x345.log_softmax(1),
    "cumsum_d1": x345.cumsum(1), "cumprod_d2": x345.cumprod(2),
    "max_d1_values": x345.max(1).values, "max_d1_indices": x345.max(1).indices,
    "min_d2_values": x345.min(2, keepdim=True).values, "min_d2_indices": x345.min(2, keepdim=True).indices,
    "argmax_all": x345.argmax(), "argmax_d2": x345.argmax(2), "argmin_d0": x345.argmin(0),
    "all_d1": (x345 > -1).all(1), "any_d2": (x345 > 1.5).any(2),
    "sum_t": x345.transpose(0, 2).sum(1), "softmax_t": x345.transpose(1, 2).softmax(1),
    "sum_int": i34.sum(0), "cumsum_int": i34.cumsum(1), "prod_int": i34.prod(1),
}
for name, t in red.items():
    save("reduce_" + name, t)

# Matrix products with every rank combination and strided operands.
def mat(*shape):
    return torch.tensor(rng.standard_normal(shape), dtype=torch.float32)

mm_cases = {
    "dot": (mat(3), mat(3)), "mm": (mat(2, 3), mat(3, 4)), "vm": (mat(3), mat(3, 4)), "mv": (mat(2, 3), mat(3)),
    "bmm_bcast": (mat(2, 2, 3), mat(3, 4)), "batch_bcast": (mat(5, 1, 2, 3), mat(4, 3, 2)),
    "vec_batch": (mat(3), mat(2, 3, 4)), "batch_vec": (mat(2, 3, 4), mat(4)),
    "mm_t": (mat(3, 2).t(), mat(4, 3).t()), "odd": (mat(17, 33), mat(33, 9)),
}
for name, (a, b) in mm_cases.items():
    save(f"mm_{name}_a", a)
    save(f"mm_{name}_b", b)
    save(f"mm_{name}_out", a @ b)
save("mm_int_out", torch.arange(6).view(2, 3) @ torch.arange(12).view(3, 4))
save("mm_f64_out", mm_cases["mm"][0].double() @ mm_cases["mm"][1].double())
save("outer_out", torch.outer(mm_cases["dot"][0], mm_cases["dot"][1]))

# Indexing: basic views, advanced (adjacent / separated / masks), gather, scatter, index_put.
ar = torch.arange(60).view(3, 4, 5)
idx = torch.tensor([[0, 2], [1, 1]])
idx2 = torch.tensor([4, -1])
ix = {
    "basic": ar[1, 1:3, ::2], "neg": ar[-1, :, -2], "ellipsis_none": ar[..., None, 1],
    "adv0": ar[idx], "adv1": ar[:, idx], "adv_pair": ar[idx[0], :, idx2], "adv_adjacent": ar[:, idx[0], idx2],
    "mask": ar[ar % 7 == 0], "mask2d": ar[:, (torch.arange(20).view(4, 5) % 3 == 0)],
    "index_select": ar.index_select(1, torch.tensor([3, 0, 3])),
    "gather": ar.gather(2, torch.tensor([[[0, 4], [1, 1], [2, 0], [3, 3]]] * 3)),
    "scatter": torch.zeros(3, 5, dtype=torch.int64).scatter(1, torch.tensor([[0, 4], [1, 1], [2, 0]]), torch.tensor([[1, 2], [3, 4], [5, 6]])),
    "scatter_add": torch.zeros(3, 5, dtype=torch.int64).scatter_add(1, torch.tensor([[0, 4], [1, 1], [2, 0]]), torch.tensor([[1, 2], [3, 4], [5, 6]])),
    "masked_fill": ar.masked_fill(ar > 30, -1),
}
for name, t in ix.items():
    save("index_" + name, t)
put = ar.clone()
put[idx[0], 1:3, idx2] = torch.tensor([100, 200])
save("index_put_pair", put)
put = ar.clone()
put[ar > 50] = 0
save("index_put_mask", put)
put = ar.clone()
put[:, 1] = torch.tensor([7, 8, 9, 10, 11])
save("index_put_basic", put)

# Random numbers for a fixed seed.
torch.manual_seed(0)
save("random_rand5", torch.rand(5))
save("random_randn5", torch.randn(5))
save("random_randn37", torch.randn(37))
save("random_rand_f64", torch.rand(4, dtype=torch.float64))
save("random_randint", torch.randint(0, 10, (6,)))
save("random_randn_f64_20", torch.randn(20, dtype=torch.float64))
save("random_uniform", torch.empty(5).uniform_(-2, 3))
save("random_normal", torch.empty(18).normal_(1.0, 0.5))

# Creation helpers.
save("create_linspace", torch.linspace(-1, 2, 7))
save("create_arange_float", torch.arange(0, 1, 0.1))
save("create_arange_step", torch.arange(10, -3, -3))
save("create_eye", torch.eye(3, 4))

# Printed forms: the repr of tensors the Swift test rebuilds from the listed .npy inputs.
printed = {
    "float": torch.tensor([[1.0, 2.5], [-3.25, 4.0]]),
    "whole": torch.tensor([1.0, -2.0, 30.0]),
    "sci": torch.tensor([1e-5, 1.0, 123456.0]),
    "nonfinite": torch.tensor([float("nan"), float("inf"), -1.5]),
    "int": torch.tensor([[1, -20], [300, 4]]),
    "bool": torch.tensor([True, False, True]),
    "scalar": torch.tensor(3.5),
    "f64": torch.tensor([1.5, 2.0], dtype=torch.float64),
    "int32": torch.tensor([1, 2], dtype=torch.int32),
    "long_row": torch.arange(30).float() / 7,
    "summarized": torch.arange(1200).view(30, 40),
    "summarized_float": torch.arange(2000).float(),
    "cube": torch.arange(8).view(2, 2, 2),
    "empty": torch.zeros(0),
    "empty2d": torch.zeros(0, 3, dtype=torch.int64),
    "f16": torch.tensor([0.1, 2.0], dtype=torch.float16),
    "zeros": torch.zeros(2, 2),
}
reprs = {}
for name, t in printed.items():
    save("print_" + name, t)
    reprs[name] = repr(t)
with open(os.path.join(OUT, "printed.json"), "w") as f:
    json.dump(reprs, f, indent=0, sort_keys=True)

# npy round trips written by NumPy: byte orders and Fortran order.
np.save(os.path.join(OUT, "npy_big_endian.npy"), np.arange(6, dtype=">i4").reshape(2, 3))
np.save(os.path.join(OUT, "npy_fortran.npy"), np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3)))
np.save(os.path.join(OUT, "npy_bool.npy"), np.array([True, False, True]))
np.save(os.path.join(OUT, "npy_f16.npy"), np.array([1.5, -2.0], dtype=np.float16))
print("wrote", len(os.listdir(OUT)), "files to", os.path.normpath(OUT))
