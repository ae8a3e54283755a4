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
