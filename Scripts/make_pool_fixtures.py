"""Writes PyTorch's 2-D pooling outputs, indices and input gradients for the pooling tests.

Run with the package's Python: `.venv/bin/python Scripts/make_pool_fixtures.py`. Inputs are
float32 and PyTorch's float32 CPU kernels compute the fixtures (the order of a window's sum is
the same in its NCHW and channels-last kernels). Files go to Tests/NNTests/Fixtures as
pool_<case>_{x,up,y,idx,gx}.npy (idx for max pooling); pool_cases.json lists each case's
settings (op, kernel, stride, padding, dilation, ceil_mode, count_include_pad,
divisor_override, output_size, channels_last, and `slice`: the input is x[:, :, ::2] of the
stored tensor, a strided view).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NNTests", "Fixtures")
rng = np.random.default_rng(21)
# name: (input shape, settings)
cases = {
    "max_stem": ([2, 5, 9, 11], dict(op="max", kernel=[3, 3], stride=[2, 2], padding=[1, 1])),
    "max_stem_channels_last": ([2, 20, 9, 11], dict(op="max", kernel=[3, 3], stride=[2, 2], padding=[1, 1], channels_last=True)),
    "max_dilated_ceil": ([2, 3, 10, 9], dict(op="max", kernel=[3, 2], stride=[2, 3], padding=[1, 1], dilation=[2, 2], ceil_mode=True)),
    "max_dilated_ceil_channels_last": (
        [2, 17, 10, 9],
        dict(op="max", kernel=[3, 2], stride=[2, 3], padding=[1, 1], dilation=[2, 2], ceil_mode=True, channels_last=True),
    ),
    "max_ties_nan": ([2, 3, 6, 6], dict(op="max", kernel=[2, 2], stride=[1, 1], padding=[1, 0], ties=True)),
    "max_ties_nan_channels_last": ([2, 18, 6, 6], dict(op="max", kernel=[2, 2], stride=[1, 1], padding=[1, 0], ties=True, channels_last=True)),
    "max_strided_view": ([2, 3, 14, 8], dict(op="max", kernel=[2, 2], stride=[2, 2], slice=True)),
    "avg_exclude_pad_ceil": ([2, 3, 7, 8], dict(op="avg", kernel=[3, 3], stride=[2, 2], padding=[1, 1], ceil_mode=True, count_include_pad=False)),
    "avg_exclude_pad_ceil_channels_last": (
        [2, 19, 7, 8],
        dict(op="avg", kernel=[3, 3], stride=[2, 2], padding=[1, 1], ceil_mode=True, count_include_pad=False, channels_last=True),
    ),
    "avg_include_pad": ([2, 4, 8, 7], dict(op="avg", kernel=[3, 2], stride=[1, 2], padding=[1, 1])),
    "avg_divisor": ([2, 3, 6, 6], dict(op="avg", kernel=[2, 2], stride=[2, 2], padding=[1, 1], divisor_override=3)),
    "avg_divisor_channels_last": ([2, 16, 6, 6], dict(op="avg", kernel=[2, 2], stride=[2, 2], padding=[1, 1], divisor_override=3, channels_last=True)),
    "adaptive": ([2, 3, 9, 7], dict(op="adaptive", output_size=[5, 3])),
    "adaptive_channels_last": ([2, 21, 9, 7], dict(op="adaptive", output_size=[4, 5], channels_last=True)),
    "adaptive_tiling": ([2, 3, 8, 6], dict(op="adaptive", output_size=[4, 2])),
    "adaptive_strided_view": ([1, 4, 14, 6], dict(op="adaptive", output_size=[3, 4], slice=True)),
}
settings = {}
for name, (shape, kw) in cases.items():
    if kw.get("ties"):
        # Half-integers repeat within windows (ties go to the first maximum) and a NaN wins.
        x = torch.tensor(np.round(rng.standard_normal(shape) * 2) / 2, dtype=torch.float32)
        x[0, 1, 2, 3] = float("nan")
        x[1, -1, 4, 0] = float("nan")
    else:
        x = torch.tensor(rng.standard_normal(shape), dtype=torch.float32)
    v = x[:, :, ::2] if kw.get("slice") else x
    if kw.get("channels_last"):
        v = v.contiguous(memory_format=torch.channels_last)
    v = v.detach().requires_grad_()
    if kw["op"] == "max":
        y, idx = F.max_pool2d(
            v, kw["kernel"], kw["stride"], kw.get("padding", [0, 0]), kw.get("dilation", [1, 1]), ceil_mode=kw.get("ceil_mode", False),
            return_indices=True)
    elif kw["op"] == "avg":
        y = F.avg_pool2d(
            v, kw["kernel"], kw["stride"], kw.get("padding", [0, 0]), ceil_mode=kw.get("ceil_mode", False),
            count_include_pad=kw.get("count_include_pad", True), divisor_override=kw.get("divisor_override"))
        idx = None
    else:
        y = F.adaptive_avg_pool2d(v, kw["output_size"])
        idx = None
    assert y.is_contiguous(memory_format=torch.channels_last if kw.get("channels_last") else torch.contiguous_format)
    up = torch.tensor(rng.standard_normal(list(y.shape)), dtype=torch.float32)
    y.backward(up)
    files = {"x": x, "up": up, "y": y.detach(), "gx": v.grad}
    if idx is not None:
        files["idx"] = idx
    for suffix, t in files.items():
        np.save(os.path.join(OUT, f"pool_{name}_{suffix}.npy"), t.contiguous().numpy())
    settings[name] = json.dumps(kw, sort_keys=True)
with open(os.path.join(OUT, "pool_cases.json"), "w") as f:
    json.dump(settings, f, indent=1, sort_keys=True)
