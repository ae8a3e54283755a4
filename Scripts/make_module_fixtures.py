"""Writes PyTorch's values for the module-utility tests: `torch.nn.init` under fixed seeds,
and `print(model)` for a few models.

Run with the package's Python: `.venv/bin/python Scripts/make_module_fixtures.py`. Files go to
Tests/NNTests/Fixtures (init_*.npy and module_repr.json); other fixtures are left alone.
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NNTests", "Fixtures")


def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), np.array(t.detach().numpy(), order="C"))


# Each initialiser fills a fresh [6, 4, 3] or [5, 7] tensor after manual_seed(11).
cases = {
    "uniform": lambda t: nn.init.uniform_(t, -0.5, 2.0),
    "normal": lambda t: nn.init.normal_(t, 0.5, 2.0),
    "xavier_uniform": lambda t: nn.init.xavier_uniform_(t, gain=1.5),
    "xavier_normal": lambda t: nn.init.xavier_normal_(t),
    "kaiming_uniform": lambda t: nn.init.kaiming_uniform_(t, a=5 ** 0.5),
    "kaiming_normal_fan_out_relu": lambda t: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
    "trunc_normal": lambda t: nn.init.trunc_normal_(t, mean=0.1, std=0.5, a=-0.4, b=0.9),
    "trunc_normal_tail": lambda t: nn.init.trunc_normal_(t, mean=0.0, std=1.0, a=1.5, b=3.0),
    "orthogonal": lambda t: nn.init.orthogonal_(t, gain=2.0),
}
for name, fill in cases.items():
    for shape in [(6, 4, 3), (5, 7)]:
        torch.manual_seed(11)
        t = torch.empty(shape)
        fill(t)
        save(f"init_{name}_{'x'.join(map(str, shape))}", t)


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, stride=2, bias=False, groups=2, dilation=2), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())
        self.blocks = nn.ModuleList([nn.Linear(16, 16) for _ in range(3)] + [nn.Linear(16, 4)])
        self.norm = nn.LayerNorm(4)
        self.drop = nn.Dropout(0.25)
        self.act = nn.GELU(approximate="tanh")
        self.embed = nn.Embedding(10, 4, padding_idx=0)
        self.rnn = nn.LSTM(4, 8, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Sequential(nn.Linear(4, 2), nn.LeakyReLU(0.2), nn.Softmax(dim=1), nn.Identity())


reprs = {
    "mlp": str(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3, bias=False))),
    "small": str(Small()),
    "conv1d": str(nn.Conv1d(2, 4, 5, stride=2, padding=2)),
    "conv_transpose": str(nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)),
    "pool": str(nn.AvgPool2d(3, stride=2, padding=1)),
}
with open(os.path.join(OUT, "module_repr.json"), "w") as f:
    json.dump(reprs, f, indent=1, sort_keys=True)
print(reprs["small"])
