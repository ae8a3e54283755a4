"""Runs the distributed benchmarks of both sides on this machine, 2 local ranks each, and
prints a Markdown table (torch/swift above 1 means Swift is faster): the Swift side is
`DistributedCheck bench` under mpirun (built with -c release --traits MPI in .build-mpi),
PyTorch's is torch.distributed with gloo. Run: `.venv/bin/python Scripts/compare_distributed.py`."""
import json
import os
import subprocess
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
subprocess.run(["swift", "build", "-c", "release", "--build-path", ".build-mpi", "--traits", "MPI", "--product", "DistributedCheck"],
               cwd=root, check=True, capture_output=True)
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
run = subprocess.run(["mpirun", "--oversubscribe", "--allow-run-as-root", "-np", "2",
                      os.path.join(root, ".build-mpi", "release", "DistributedCheck"), "bench"],
                     cwd=root, check=True, capture_output=True, text=True, env=env)
swift = json.loads(next(line for line in run.stdout.splitlines() if line.startswith("{")))
torch = json.loads(subprocess.run([sys.executable, os.path.join(root, "Scripts", "bench_torch_distributed.py")], check=True,
                                  capture_output=True, text=True).stdout)
print("| case (2 ranks) | Swift (MPI) | PyTorch (gloo) | torch/swift |")
print("|---|---|---|---|")
for case in sorted(swift):
    s, t = swift[case], torch[case]
    extra = f" ({100e6 / s / 1e9:.2f} / {100e6 / t / 1e9:.2f} GB/s)" if case == "allreduce_100mb" else ""
    print(f"| {case}{extra} | {s * 1e3:.3f} ms | {t * 1e3:.3f} ms | {t / s:.2f} |")
