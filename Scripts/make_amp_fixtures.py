"""Writes PyTorch's mixed-precision behaviour for the MixedPrecisionTests (GradScaler and CPU
autocast with bfloat16).

Run with the package's Python: `.venv/bin/python Scripts/make_amp_fixtures.py`. Files go to
Tests/NNTests/Fixtures as amp_*.npy and amp_*.json (this script touches no other file there).
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NNTests", "Fixtures")
rng = np.random.default_rng(17)


def save(name, t):
    np.save(os.path.join(OUT, f"amp_{name}.npy"), np.array(t.detach().float().numpy(), order="C"))


def rand(*shape):
    return torch.tensor(rng.standard_normal(shape), dtype=torch.float32)


# ---- GradScaler: a linear model trained with SGD + momentum for seven steps; step 2's loss
# overflows (inf), step 4's is NaN; growth every 2 clean steps; step 5 unscales first and clips.
w, b = rand(2, 3), rand(2)
save("scaler_w0", w)
save("scaler_b0", b)
inputs = [rand(4, 3) for _ in range(7)]
for i, x in enumerate(inputs):
    save(f"scaler_x{i}", x)
model = nn.Linear(3, 2)
with torch.no_grad():
    model.weight.copy_(w)
    model.bias.copy_(b)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_factor=2.0, backoff_factor=0.5, growth_interval=2)
record = []
for i, x in enumerate(inputs):
    optimizer.zero_grad()
    loss = model(x).pow(2).mean()
    if i == 2:
        loss = loss * float("inf")
    if i == 4:
        loss = loss * float("nan")
    scaler.scale(loss).backward()
    if i == 5:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    stepped = scaler.step(optimizer) is None and not any(
        v.item() for v in scaler._per_optimizer_states[id(optimizer)]["found_inf_per_device"].values())
    scaler.update()
    record.append({"scale": scaler.get_scale(), "growth_tracker": scaler.state_dict()["_growth_tracker"], "stepped": bool(stepped)})
    save(f"scaler_w{i + 1}", model.weight)
    save(f"scaler_b{i + 1}", model.bias)
with open(os.path.join(OUT, "amp_scaler.json"), "w") as f:
    json.dump({"steps": json.dumps(record), "state": json.dumps(scaler.state_dict())}, f, indent=1)

# ---- CPU autocast with bfloat16: the output dtype of each op the tests run (float32 inputs,
# and bfloat16 ones for the ops that keep their input's type on the CPU).
x, w, xb = rand(4, 8), rand(8, 8), rand(4, 8).bfloat16()
image, kernel = rand(2, 3, 6, 6), rand(4, 3, 3, 3)
volume, kernel3 = rand(1, 2, 4, 4, 4), rand(3, 2, 2, 2, 2)
labels = torch.tensor([1, 0, 7, 3])
ops = {
    "matmul": lambda: x @ w, "mm": lambda: x.mm(w), "bmm": lambda: x[None].bmm(w[None]),
    "addmm": lambda: torch.addmm(x, x, w), "baddbmm": lambda: torch.baddbmm(x[None], x[None], w[None]),
    "einsum": lambda: torch.einsum("ij,jk->ik", x, w), "linear": lambda: F.linear(x, w, w[0]),
    "conv1d": lambda: F.conv1d(image[:, :, 0], kernel[:, :, 0]), "conv2d": lambda: F.conv2d(image, kernel, padding=1),
    "conv3d": lambda: F.conv3d(volume, kernel3), "conv_transpose2d": lambda: F.conv_transpose2d(image, kernel.transpose(0, 1)),
    "sdpa": lambda: F.scaled_dot_product_attention(x[None], x[None], x[None]),
    "cross_entropy": lambda: F.cross_entropy(x, labels), "nll_loss": lambda: F.nll_loss(x, labels),
    "mse_loss": lambda: F.mse_loss(x, w[:4]), "l1_loss": lambda: F.l1_loss(x, w[:4]),
    "bce_with_logits": lambda: F.binary_cross_entropy_with_logits(x, w[:4].sigmoid()), "huber_loss": lambda: F.huber_loss(x, w[:4]),
    "smooth_l1_loss": lambda: F.smooth_l1_loss(x, w[:4]), "kl_div": lambda: F.kl_div(x, w[:4], reduction="batchmean"),
    "prod": lambda: x.prod(),
    "softmax_bf16": lambda: xb.softmax(1), "log_softmax_bf16": lambda: xb.log_softmax(1), "layer_norm_bf16": lambda: F.layer_norm(xb, [8]),
    "exp_bf16": lambda: xb.exp(), "sum_bf16": lambda: xb.sum(), "relu": lambda: x.relu(), "cat_mixed": lambda: torch.cat([xb, x]),
    "add_mixed": lambda: xb + x,
}
with torch.autocast("cpu", dtype=torch.bfloat16):
    dtypes = {name: str(f().dtype).replace("torch.", "") for name, f in ops.items()}

# ---- A small network's step under CPU autocast: conv -> relu -> linear in bfloat16, the loss
# in float32; the float32 parameters get float32 gradients.
images, targets = rand(3, 2, 5, 5), torch.tensor([2, 0, 1])
conv = nn.Conv2d(2, 4, 3, padding=1)
head = nn.Linear(100, 3)
with torch.no_grad():
    for name, p in [("conv_w", conv.weight), ("conv_b", conv.bias), ("head_w", head.weight), ("head_b", head.bias)]:
        p.copy_(rand(*p.shape) * 0.3)
        save(f"net_{name}", p)
save("net_images", images)
with torch.autocast("cpu", dtype=torch.bfloat16):
    features = conv(images).relu()
    logits = head(features.flatten(1))
    loss = F.cross_entropy(logits, targets)
loss.backward()
dtypes["net_features"] = str(features.dtype).replace("torch.", "")
dtypes["net_logits"] = str(logits.dtype).replace("torch.", "")
dtypes["net_loss"] = str(loss.dtype).replace("torch.", "")
dtypes["net_grad"] = str(conv.weight.grad.dtype).replace("torch.", "")
save("net_logits", logits)
save("net_loss", loss.reshape(1))
for name, p in [("conv_w", conv.weight), ("conv_b", conv.bias), ("head_w", head.weight), ("head_b", head.bias)]:
    save(f"net_grad_{name}", p.grad)
with open(os.path.join(OUT, "amp_cpu_dtypes.json"), "w") as f:
    json.dump(dtypes, f, indent=1)
