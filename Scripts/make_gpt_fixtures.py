"""A tiny nanoGPT-architecture model trained for a few steps in PyTorch, for the Swift GPT
example's parity test: the initial weights (nanoGPT names), the batches, and the loss at each
step of AdamW (decay on matrices only) with warm-up then cosine and gradient clipping.

    .venv/bin/python Scripts/make_gpt_fixtures.py
"""
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NNTests", "Fixtures")
VOCAB, BLOCK, LAYERS, HEADS, EMBD = 11, 8, 2, 2, 16


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(EMBD, 3 * EMBD)
        self.c_proj = nn.Linear(EMBD, EMBD)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        q, k, v = (y.view(b, t, HEADS, c // HEADS).transpose(1, 2) for y in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(EMBD, 4 * EMBD)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * EMBD, EMBD)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(EMBD)
        self.attn = SelfAttention()
        self.ln_2 = nn.LayerNorm(EMBD)
        self.mlp = MLP()

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(VOCAB, EMBD), wpe=nn.Embedding(BLOCK, EMBD),
            h=nn.ModuleList([Block() for _ in range(LAYERS)]), ln_f=nn.LayerNorm(EMBD)))
        self.lm_head = nn.Linear(EMBD, VOCAB, bias=False)
        self.transformer.wte.weight = self.lm_head.weight

    def forward(self, idx, targets):
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(idx.shape[1]))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return F.cross_entropy(logits.view(-1, VOCAB), targets.reshape(-1))


torch.manual_seed(0)
rng = np.random.default_rng(41)
model = GPT()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.2, dtype=torch.float32))
arrays = {name: p.detach().clone().numpy() for name, p in model.named_parameters()}
steps = 12
# Rows that count up modulo the vocabulary from a random start: learnable, so the loss falls.
batches = (rng.integers(0, VOCAB, (steps, 4, 1)) + np.arange(BLOCK + 1)) % VOCAB
arrays["batches"] = batches.astype(np.int64)
params = list(model.parameters())
optimizer = torch.optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
                               {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}], lr=5e-2, betas=(0.9, 0.99))
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
