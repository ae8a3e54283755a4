"""Runs the Swift benchmarks and the PyTorch ones in turn on this machine and prints a table
of ratios (PyTorch time / Swift time: above 1 means Swift is faster).
Run: `.venv/bin/python Scripts/compare.py` (builds the Swift side with -c release)."""
import json
import os
import subprocess
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
swift = json.loads(subprocess.run(["swift", "run", "-c", "release", "Benchmarks"], cwd=root, check=True,
                                  capture_output=True, text=True).stdout)
torch = json.loads(subprocess.run([sys.executable, os.path.join(root, "Scripts", "bench_torch.py")], check=True,
                                  capture_output=True, text=True).stdout)
print(f"{'case':40} {'swift':>12} {'torch':>12} {'torch/swift':>12}")
for case in sorted(swift):
    s, t = swift[case], torch.get(case)
    ratio = f"{t / s:12.2f}" if t else f"{'-':>12}"
    print(f"{case:40} {s * 1e6:10.2f}us {t * 1e6 if t else float('nan'):10.2f}us {ratio}")
