"""Writes PyTorch's F.interpolate outputs and input gradients for the resampling tests.

Run with the package's Python: `.venv/bin/python Scripts/make_interpolate_fixtures.py`.
Files go to Tests/NNTests/Fixtures as interp_<case>_{in,out,grad}.npy; interp_cases.json
lists each case's settings.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NNTests", "Fixtures")
rng = np.random.default_rng(41)
cases = {
    "nearest_size": ([2, 3, 4, 6], dict(size=[5, 7], mode="nearest")),
    "nearest_scale": ([1, 2, 5, 4], dict(scale_factor=1.7, mode="nearest")),
    "nearest_exact_1d": ([2, 2, 7], dict(size=[4], mode="nearest-exact")),
    "nearest_3d": ([1, 2, 3, 4, 5], dict(size=[5, 2, 7], mode="nearest")),
    "linear": ([2, 3, 5], dict(scale_factor=2.5, mode="linear")),
    "linear_corners": ([2, 3, 5], dict(size=[9], mode="linear", align_corners=True)),
    "bilinear": ([2, 3, 4, 6], dict(size=[7, 5], mode="bilinear")),
    "bilinear_corners": ([2, 3, 4, 6], dict(size=[7, 5], mode="bilinear", align_corners=True)),
    "bilinear_scale": ([1, 2, 6, 5], dict(scale_factor=[0.5, 1.5], mode="bilinear")),
    "bilinear_recompute": ([1, 2, 6, 5], dict(scale_factor=[0.7, 1.3], mode="bilinear", recompute_scale_factor=True)),
    "bicubic": ([1, 2, 5, 6], dict(size=[9, 4], mode="bicubic")),
    "bicubic_corners": ([1, 2, 5, 6], dict(size=[8, 11], mode="bicubic", align_corners=True)),
    "trilinear": ([1, 2, 3, 4, 5], dict(size=[5, 3, 8], mode="trilinear")),
    "area": ([2, 2, 7, 9], dict(size=[3, 4], mode="area")),
    "antialias_bilinear": ([1, 3, 10, 13], dict(size=[3, 4], mode="bilinear", antialias=True)),
    "antialias_bicubic": ([1, 2, 16, 17], dict(size=[5, 6], mode="bicubic", antialias=True)),
    "antialias_mixed": ([1, 2, 9, 4], dict(size=[4, 7], mode="bilinear", antialias=True)),
}
for name, (shape, kwargs) in cases.items():
    x = torch.tensor(rng.standard_normal(shape), dtype=torch.float32, requires_grad=True)
    y = F.interpolate(x, **kwargs)
    g = torch.tensor(rng.standard_normal(list(y.shape)), dtype=torch.float32)
    y.backward(g)
    for suffix, t in [("in", x), ("out", y), ("upstream", g), ("grad", x.grad)]:
        np.save(os.path.join(OUT, f"interp_{name}_{suffix}.npy"), t.detach().numpy())
with open(os.path.join(OUT, "interp_cases.json"), "w") as f:
    json.dump({k: json.dumps(v[1]) for k, v in cases.items()}, f, indent=1, sort_keys=True)
