"""Trains the FineTune example's network on digits 0-4 in PyTorch and saves its state_dict
with torch.save, for `swift run -c release FineTune --pretrained runs/digits-resnet-0to4.pth`.

    .venv/bin/python Scripts/finetune_pretrain.py [--epochs 6] [--out runs/digits-resnet-0to4.pth]
        [--check FOLDER]   also write FOLDER/input.npy and FOLDER/logits.npy (eval mode)

The network has the module names of `SmallResNet` in Sources/ExampleSupport/DigitModels.swift,
so the file loads there with `strict: true`.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from torch_models import BasicBlock  # noqa: E402


class SmallResNet(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.layer1 = nn.Sequential(BasicBlock(16, 16), BasicBlock(16, 32, 2))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.layer1(self.relu(self.bn1(self.conv1(x))))), 1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--out", default="runs/digits-resnet-0to4.pth")
    parser.add_argument("--check")
    args = parser.parse_args()
    digits = np.load(os.path.join(os.path.dirname(__file__), "..", "Data", "digits.npz"))
    images = torch.tensor(digits["images"], dtype=torch.float32).unsqueeze(1) / 16
    labels = torch.tensor(digits["labels"], dtype=torch.int64)
    keep = labels < 5
    images, labels = images[keep], labels[keep]
    torch.manual_seed(1)
    model = SmallResNet(5)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, labels), batch_size=32, shuffle=True)
    for epoch in range(args.epochs):
        correct = 0
        for x, y in loader:
            optimizer.zero_grad()
            logits = model(x)
            nn.functional.cross_entropy(logits, y).backward()
            optimizer.step()
            correct += (logits.argmax(1) == y).sum().item()
        print(f"epoch {epoch + 1}/{args.epochs}: training accuracy {100 * correct / len(labels):.1f}%")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    torch.save(model.state_dict(), args.out)
    print(f"saved {args.out}")
    if args.check:
        model.eval()
        with torch.no_grad():
            x = images[:16]
            np.save(os.path.join(args.check, "input.npy"), x.numpy())
            np.save(os.path.join(args.check, "logits.npy"), model(x).numpy())


if __name__ == "__main__":
    main()
