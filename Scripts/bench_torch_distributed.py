"""PyTorch's side of the distributed benchmarks: torch.distributed with the gloo backend on
2 local ranks (threads per rank: the cores shared among the ranks, as the Swift side does).
Prints one JSON object of seconds: allreduce_100mb (25M float32) and ddp_mlp_step (a
784-128-10 MLP, batch 64 per rank, SGD with momentum).
Run: `.venv/bin/python Scripts/bench_torch_distributed.py`."""
import json
import os
import sys
import tempfile
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def median(repeats, body):
    body()
    samples = []
    for _ in range(repeats):
        dist.barrier()
        start = time.perf_counter()
        body()
        samples.append(time.perf_counter() - start)
    return sorted(samples)[len(samples) // 2]


def worker(rank, world, rendezvous, out):
    torch.set_num_threads(max(1, os.cpu_count() // world))
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world)
    big = torch.ones(25_000_000)
    allreduce = median(7, lambda: dist.all_reduce(big))
    model = torch.nn.parallel.DistributedDataParallel(
        torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)))
    sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.randn(64, 784), torch.randint(0, 10, (64,))

    def steps():
        for _ in range(10):
            sgd.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            sgd.step()

    step = median(21, steps) / 10
    if rank == 0:
        with open(out, "w") as f:
            json.dump({"allreduce_100mb": allreduce, "ddp_mlp_step": step}, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    folder = tempfile.mkdtemp()
    out = os.path.join(folder, "result.json")
    mp.spawn(worker, args=(2, os.path.join(folder, "rendezvous"), out), nprocs=2)
    with open(out) as f:
        print(f.read())
