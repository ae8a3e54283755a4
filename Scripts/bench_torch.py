"""Measures PyTorch on the cases of the Swift `Benchmarks` executable; prints one JSON object
of seconds per call. Run: `.venv/bin/python Scripts/bench_torch.py`."""
import json
import time

import torch

torch.set_num_threads(1)


def measure(fn, inner, repeats=7):
    for _ in range(max(1, inner // 10)):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter_ns() - start) / 1e9 / inner)
    return sorted(samples)[len(samples) // 2]


results = {}
one = torch.tensor([1.0])
one_grad = torch.tensor([1.0], requires_grad=True)
results["add_1elem"] = measure(lambda: one + one, 20_000)
results["add_1elem_requires_grad"] = measure(lambda: one_grad + one_grad, 20_000)

small = torch.randn(16)
small_grad = torch.randn(16, requires_grad=True)


def chain(x):
    y = x
    for i in range(50):
        y = y * 1.0001
        y = y + i * 1e-4
    return y


def forward_backward():
    chain(small_grad).sum().backward()
    small_grad.grad = None


results["chain100_forward"] = measure(lambda: chain(small), 200)
results["chain100_forward_requires_grad"] = measure(lambda: chain(small_grad), 200)
results["chain100_forward_backward"] = measure(forward_backward, 100)
mlp = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
sgd = torch.optim.SGD(mlp.parameters(), lr=0.01, momentum=0.9)
batch = torch.randn(64, 784)
targets = torch.randint(0, 10, (64,))


def mlp_step():
    sgd.zero_grad()
    torch.nn.functional.cross_entropy(mlp(batch), targets).backward()
    sgd.step()


results["mlp_sgd_step"] = measure(mlp_step, 50)
print(json.dumps(results, indent=1, sort_keys=True))
