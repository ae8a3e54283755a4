"""Runs the Swift benchmarks and the PyTorch ones in turn on this machine and prints a table
(Markdown) of times and ratios: torch/swift above 1 means Swift is faster. Matmul rows also
show GFLOP/s. Run: `.venv/bin/python Scripts/compare.py [text]` (builds the Swift side with -c release);
with `text`, only the cases whose names contain it."""
import json
import os
import re
import subprocess
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
only = sys.argv[1:2]
swift = json.loads(subprocess.run(["swift", "run", "-c", "release", "Benchmarks", *only], cwd=root, check=True,
                                  capture_output=True, text=True).stdout)
torch = json.loads(subprocess.run([sys.executable, os.path.join(root, "Scripts", "bench_torch.py"), *only], check=True,
                                  capture_output=True, text=True).stdout)


def show(seconds):
    return f"{seconds * 1e6:.2f} us" if seconds < 1e-3 else f"{seconds * 1e3:.3f} ms"


print("| case | Swift | PyTorch | torch/swift | GFLOP/s Swift / PyTorch |")
print("|---|---|---|---|---|")
for case in sorted(swift, key=lambda c: (re.sub(r"\d+", lambda m: m.group().zfill(6), c))):
    s, t = swift[case], torch.get(case)
    flops = ""
    m = re.match(r"matmul_n(\d+)_t\d+", case)
    if m and t:
        f = 2 * int(m.group(1)) ** 3
        flops = f"{f / s / 1e9:.1f} / {f / t / 1e9:.1f}"
    ratio = f"{t / s:.2f}" if t else "-"
    print(f"| {case} | {show(s)} | {show(t) if t else '-'} | {ratio} | {flops} |")
