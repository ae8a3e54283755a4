"""nanoGPT's architecture in PyTorch, the reference the Swift GPT example is checked against
(Scripts/make_gpt_fixtures.py), measured against (Scripts/bench_torch.py), and compared with on
the full recipe:

    .venv/bin/python Scripts/nanogpt_reference.py        trains the example's recipe in PyTorch
"""
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class SelfAttention(nn.Module):
    def __init__(self, embd, heads):
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(embd, 3 * embd)
        self.c_proj = nn.Linear(embd, embd)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        q, k, v = (y.view(b, t, self.heads, c // self.heads).transpose(1, 2) for y in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))


class MLP(nn.Module):
    def __init__(self, embd):
        super().__init__()
        self.c_fc = nn.Linear(embd, 4 * embd)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * embd, embd)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, embd, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(embd)
        self.attn = SelfAttention(embd, heads)
        self.ln_2 = nn.LayerNorm(embd)
        self.mlp = MLP(embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab, block, layers=4, heads=4, embd=128):
        super().__init__()
        self.vocab = vocab
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, embd), wpe=nn.Embedding(block, embd),
            h=nn.ModuleList([Block(embd, heads) for _ in range(layers)]), ln_f=nn.LayerNorm(embd)))
        self.lm_head = nn.Linear(embd, vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * layers))
            elif p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.02)
            elif name.endswith(".bias") and "ln_" not in name:
                nn.init.zeros_(p)

    def forward(self, idx, targets):
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(idx.shape[1]))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return F.cross_entropy(logits.view(-1, self.vocab), targets.reshape(-1))


def optimizer_for(model, lr=1e-3, weight_decay=0.1, betas=(0.9, 0.99)):
    params = list(model.parameters())
    return torch.optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
                              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}], lr=lr, betas=betas)


if __name__ == "__main__":
    text = open(os.path.join(os.path.dirname(__file__), "..", "Data", "tinyshakespeare.txt")).read()
    chars = sorted(set(text))
    data = torch.tensor([chars.index(c) for c in text])
    split = len(data) * 9 // 10
    train, val = data[:split], data[split:]
    torch.manual_seed(1337)
    iters, batch, block = 2000, 12, 64
    model = GPT(len(chars), block)
    optimizer = optimizer_for(model)
    schedule = torch.optim.lr_scheduler.SequentialLR(optimizer, [
        torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.01, total_iters=100),
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=iters - 100, eta_min=1e-4)], milestones=[100])

    def get_batch(split_data):
        starts = torch.randint(len(split_data) - block, (batch,))
        return (torch.stack([split_data[i:i + block] for i in starts]), torch.stack([split_data[i + 1:i + block + 1] for i in starts]))

    start = time.time()
    for it in range(iters):
        x, y = get_batch(train)
        optimizer.zero_grad()
        loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if (it + 1) % 250 == 0:
            with torch.no_grad():
                model.eval()
                losses = [sum(model(*get_batch(d)).item() for _ in range(200)) / 200 for d in (train, val)]
                model.train()
            print(f"step {it + 1}: train loss {losses[0]:.4f}, val loss {losses[1]:.4f} ({time.time() - start:.0f}s)", flush=True)
