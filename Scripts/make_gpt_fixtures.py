"""A tiny nanoGPT-architecture model trained for a few steps in PyTorch, for the Swift GPT
example's parity test: the initial weights (nanoGPT names), the batches, and the loss at each
step of AdamW (decay on matrices only) with warm-up then cosine and gradient clipping.

    .venv/bin/python Scripts/make_gpt_fixtures.py
"""
import os

import numpy as np
import torch

from nanogpt_reference import GPT, optimizer_for

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NNTests", "Fixtures")
VOCAB, BLOCK, LAYERS, HEADS, EMBD = 11, 8, 2, 2, 16


torch.manual_seed(0)
rng = np.random.default_rng(41)
model = GPT(VOCAB, BLOCK, layers=LAYERS, heads=HEADS, embd=EMBD)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.2, dtype=torch.float32))
arrays = {name: p.detach().clone().numpy() for name, p in model.named_parameters()}
steps = 12
# Rows that count up modulo the vocabulary from a random start: learnable, so the loss falls.
batches = (rng.integers(0, VOCAB, (steps, 4, 1)) + np.arange(BLOCK + 1)) % VOCAB
arrays["batches"] = batches.astype(np.int64)
optimizer = optimizer_for(model, lr=5e-2)
schedule = torch.optim.lr_scheduler.SequentialLR(optimizer, [
    torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.01, total_iters=2),
    torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps - 2, eta_min=1e-4)], milestones=[2])
losses, norms = [], []
for step in range(steps):
    batch = torch.tensor(batches[step])
    optimizer.zero_grad()
    loss = model(batch[:, :-1], batch[:, 1:])
    loss.backward()
    norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item())
    optimizer.step()
    schedule.step()
    losses.append(loss.item())
arrays["losses"] = np.array(losses, dtype=np.float64)
arrays["grad_norms"] = np.array(norms, dtype=np.float64)
arrays["final_wpe"] = model.transformer.wpe.weight.detach().numpy()
np.savez(os.path.join(OUT, "gpt_tiny.npz"), **arrays)
print("losses", losses)
