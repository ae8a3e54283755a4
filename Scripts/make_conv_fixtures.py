"""Writes PyTorch's conv2d outputs and gradients for the convolution tests.

Run with the package's Python: `.venv/bin/python Scripts/make_conv_fixtures.py`. Operands are
float32; PyTorch computes in float64 so the fixtures hold the exact values rounded once. Files go
to Tests/NNTests/Fixtures as conv_<case>_{x,w,b,up,y,gx,gw,gb}.npy; conv_cases.json lists each
case's settings (stride, padding, dilation, groups, bias, channels_last).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NNTests", "Fixtures")
rng = np.random.default_rng(16)
# name: (input shape, weight shape, settings)
cases = {
    "basic": ([2, 5, 9, 11], [7, 5, 3, 3], dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1, bias=True)),
    "strided": ([2, 4, 10, 9], [6, 4, 3, 3], dict(stride=[2, 2], padding=[1, 1], dilation=[1, 1], groups=1, bias=False)),
    "dilated_rect": ([2, 3, 12, 10], [5, 3, 3, 2], dict(stride=[1, 2], padding=[2, 1], dilation=[2, 3], groups=1, bias=True)),
    "groups": ([2, 6, 8, 8], [4, 3, 3, 3], dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=2, bias=True)),
    "depthwise": ([2, 5, 11, 9], [10, 1, 3, 3], dict(stride=[2, 2], padding=[1, 1], dilation=[1, 1], groups=5, bias=True)),
    "depthwise_dilated": ([3, 4, 9, 9], [4, 1, 3, 3], dict(stride=[1, 1], padding=[2, 2], dilation=[2, 2], groups=4, bias=False)),
    "pointwise": ([2, 8, 7, 6], [5, 8, 1, 1], dict(stride=[1, 1], padding=[0, 0], dilation=[1, 1], groups=1, bias=True)),
    "pointwise_strided": ([2, 8, 7, 6], [5, 8, 1, 1], dict(stride=[2, 2], padding=[0, 0], dilation=[1, 1], groups=1, bias=False)),
    "one_image": ([1, 16, 24, 24], [32, 16, 3, 3], dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1, bias=True)),
    "blocked": ([2, 64, 40, 40], [20, 64, 3, 3], dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1, bias=False)),
    "stem": ([1, 3, 32, 32], [8, 3, 7, 7], dict(stride=[2, 2], padding=[3, 3], dilation=[1, 1], groups=1, bias=False)),
    "channels_last": ([2, 6, 8, 7], [5, 6, 3, 3], dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1, bias=True, channels_last=True)),
    # More images than threads, with pixels per image not a multiple of a panel: the forward
    # runs several images to one product, with panels that cross from one image into the next.
    "batched_images": ([5, 6, 7, 9], [8, 3, 3, 3], dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=2, bias=True)),
    "batched_strided": ([6, 4, 9, 8], [5, 4, 3, 3], dict(stride=[2, 2], padding=[1, 1], dilation=[1, 1], groups=1, bias=False)),
    # The column runs (conv_columns.c): a stride with no vector path; padding wider than the
    # kernel reaches (taps with no run); dilation with stride 2; output rows of one column
    # (a run per row, more runs than a chunk has lanes' worth of rows); images of 12 pixels
    # (a 32-column chunk spans three images); rows longer than a chunk.
    "stride3": ([2, 3, 11, 13], [4, 3, 3, 3], dict(stride=[3, 3], padding=[1, 2], dilation=[1, 1], groups=1, bias=True)),
    "wide_padding": ([2, 3, 5, 6], [4, 3, 3, 3], dict(stride=[2, 2], padding=[3, 3], dilation=[1, 2], groups=1, bias=False)),
    "one_column": ([3, 5, 9, 2], [4, 5, 3, 2], dict(stride=[1, 1], padding=[0, 0], dilation=[1, 1], groups=1, bias=False)),
    "tiny_images": ([7, 4, 3, 4], [6, 4, 3, 3], dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1, bias=True)),
    "wide_rows": ([1, 3, 4, 70], [5, 3, 3, 3], dict(stride=[1, 2], padding=[1, 1], dilation=[1, 1], groups=1, bias=False)),
    "wide_rows_batched": ([3, 3, 3, 45], [5, 3, 3, 3], dict(stride=[1, 1], padding=[1, 2], dilation=[1, 1], groups=1, bias=True)),
    # 128 or more output channels per group: the weight gradient accumulates in the weight's
    # own layout instead of transposed.
    "wide_out": ([2, 4, 6, 5], [130, 4, 3, 3], dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1, bias=False)),
    "wide_out_pointwise_groups": ([3, 6, 5, 4], [256, 3, 1, 1], dict(stride=[1, 1], padding=[0, 0], dilation=[1, 1], groups=2, bias=True)),
    "wide_out_strided_groups": ([1, 4, 9, 7], [256, 2, 3, 3], dict(stride=[2, 2], padding=[1, 1], dilation=[1, 1], groups=2, bias=False)),
    # Stride-1 depthwise in AVX-512 registers: a channel multiplier and rows longer than the
    # four vectors a pass holds; padding beyond the kernel's reach (negative padding for the
    # input gradient's flipped convolution) on one image split over threads.
    "depthwise_multiplier": ([2, 3, 7, 70], [6, 1, 3, 3], dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=3, bias=True)),
    "depthwise_wide_padding": ([1, 4, 6, 5], [4, 1, 3, 5], dict(stride=[1, 1], padding=[3, 1], dilation=[1, 1], groups=4, bias=False)),
    # The batched forward with k cut into blocks (360 > 256): tiles that cross from one image
    # into the next are accumulated through a local tile.
    "batched_deep": ([3, 40, 5, 7], [14, 40, 3, 3], dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1, bias=True)),
    # The direct kernels over 16-channel blocks (conv_direct.c), forward and input gradient:
    # 7-pixel rows in tiles of four output blocks; channel counts that are not a multiple of
    # 16 (partial blocks, an odd number of output blocks); a rectangular dilated kernel with
    # rows in three tiles of 12 whose last runs past the row; one image; channels-last input.
    "direct_narrow_rows": ([2, 32, 7, 7], [64, 32, 3, 3], dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1, bias=True)),
    "direct_partial_blocks": ([2, 48, 6, 5], [40, 48, 3, 3], dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1, bias=True)),
    "direct_dilated_rect": ([1, 24, 9, 33], [40, 24, 3, 5], dict(stride=[1, 1], padding=[2, 3], dilation=[2, 1], groups=1, bias=False)),
    "direct_channels_last": ([2, 32, 9, 16], [32, 32, 3, 3], dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1, bias=False, channels_last=True)),
}
settings = {}
for name, (xs, ws, kw) in cases.items():
    x = torch.tensor(rng.standard_normal(xs), dtype=torch.float32)
    w = torch.tensor(rng.standard_normal(ws) / np.sqrt(np.prod(ws[1:])), dtype=torch.float32)
    b = torch.tensor(rng.standard_normal(ws[0]), dtype=torch.float32) if kw["bias"] else None
    x64, w64 = x.double().requires_grad_(), w.double().requires_grad_()
    b64 = b.double().requires_grad_() if b is not None else None
    y = F.conv2d(x64, w64, b64, stride=kw["stride"], padding=kw["padding"], dilation=kw["dilation"], groups=kw["groups"])
    up = torch.tensor(rng.standard_normal(list(y.shape)), dtype=torch.float32)
    y.backward(up.double())
    files = {"x": x, "w": w, "up": up, "y": y.detach().float(), "gx": x64.grad.float(), "gw": w64.grad.float()}
    if b is not None:
        files.update(b=b, gb=b64.grad.float())
    for suffix, t in files.items():
        np.save(os.path.join(OUT, f"conv_{name}_{suffix}.npy"), t.numpy())
    settings[name] = json.dumps(kw, sort_keys=True)
with open(os.path.join(OUT, "conv_cases.json"), "w") as f:
    json.dump(settings, f, indent=1, sort_keys=True)
