"""Compares this library with PyTorch on the `Benchmarks` cases, alternating the two sides case
by case over several rounds, and prints a Markdown table of the median ratio per case with its
spread: torch/swift above 1 means Swift is faster.

    .venv/bin/python Scripts/compare.py [text[,text...]] [--rounds N] [--json FILE]

`text` keeps the cases whose names contain it (or any of several, comma-separated). Each round runs every case once on each side,
the side that goes first alternating from round to round; a round's ratio is PyTorch's time
over Swift's, and the table shows the median of the rounds' ratios with their min-max (5
rounds by default). The Swift side is a fresh `Benchmarks =case` process per case (a release
build); the PyTorch side is one `bench_torch.py --serve` process, so that torch is imported
once.

Noise: the script prints the CPU model, the load average before and after, and the CPU time
that other processes and the hypervisor (steal) took while it ran, from /proc/stat minus its
own processes' time; it warns loudly when the machine was not idle. A busy neighbour slows
PyTorch's OpenMP threads far more than this library's pool, so a figure from a busy machine
flatters Swift: rerun it.
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return subprocess.run(["uname", "-m"], capture_output=True, text=True).stdout.strip()


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return " ".join(f for f in ["avx2", "fma", "avx512f", "avx512_bf16", "amx_tile"] if f in flags)
    except OSError:
        pass
    return ""


def system_ticks():
    """(busy, steal) clock ticks of every CPU since boot, or None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq, steal


def process_seconds(pid):
    """User + system CPU seconds of a running process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_seconds(server):
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage) + process_seconds(server.process.pid)


class TorchServer:
    """One `bench_torch.py --serve` process: a case name in, `{name: seconds}` out."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(root, "Scripts", "bench_torch.py"), "--serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def measure(self, case):
        self.process.stdin.write(case + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            sys.exit(f"bench_torch.py --serve stopped on {case}")
        return json.loads(line)[case]

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def swift_measure(binary, case):
    out = subprocess.run([binary, "=" + case], capture_output=True, text=True, check=True).stdout
    return json.loads(out[out.index("{"):])[case]


def show(seconds):
    return f"{seconds * 1e6:.2f} us" if seconds < 1e-3 else f"{seconds * 1e3:.3f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("text", nargs="?", help="keep the cases whose names contain this (or any of a,b,...)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="also write every round's times to this file")
    options = parser.parse_args()

    subprocess.run(["swift", "build", "-c", "release", "--product", "Benchmarks"], cwd=root, check=True,
                   stdout=subprocess.DEVNULL)
    bin_path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=root, check=True,
                              capture_output=True, text=True).stdout.strip()
    binary = os.path.join(bin_path, "Benchmarks")
    swift_cases = json.loads(subprocess.run([binary, "--list"], capture_output=True, text=True, check=True).stdout)
    torch_cases = set(json.loads(subprocess.run(
        [sys.executable, os.path.join(root, "Scripts", "bench_torch.py"), "--list"],
        capture_output=True, text=True, check=True).stdout))
    wanted = options.text.split(",") if options.text else None
    cases = [c for c in swift_cases if c in torch_cases and (wanted is None or any(w in c for w in wanted))]
    if not cases:
        sys.exit("no case matches")

    print(f"CPU: {cpu_model()} ({os.cpu_count()} logical CPUs; {cpu_flags()})")
    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    server = TorchServer()
    ticks_before, own_before, wall_before = system_ticks(), own_seconds(server), time.monotonic()
    times = {case: {"swift": [], "torch": []} for case in cases}
    for r in range(options.rounds):
        for case in cases:
            order = ["swift", "torch"] if r % 2 == 0 else ["torch", "swift"]
            for side in order:
                seconds = swift_measure(binary, case) if side == "swift" else server.measure(case)
                times[case][side].append(seconds)
        print(f"round {r + 1} of {options.rounds} done", file=sys.stderr)
    own_after, ticks_after, wall = own_seconds(server), system_ticks(), time.monotonic() - wall_before
    server.close()
    load_after = os.getloadavg()
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")

    # The load average lags (a build that just ended still shows), so the test is the CPU time
    # others took during the run; the load average decides only where /proc/stat is missing.
    idle = load_before[0] < 0.5
    if ticks_before and ticks_after:
        tick = os.sysconf("SC_CLK_TCK")
        busy = (ticks_after[0] - ticks_before[0]) / tick
        steal = (ticks_after[1] - ticks_before[1]) / tick
        foreign = max(0.0, busy - (own_after - own_before))
        print(f"other processes: {foreign / wall:.1%} of one CPU; steal: {steal / wall:.1%}; "
              f"over {wall / 60:.1f} minutes")
        idle = foreign / wall < 0.10 and steal / wall < 0.05
    if not idle:
        print("\n**WARNING: the machine was not idle; PyTorch suffers most from a busy neighbour, "
              "so these ratios may flatter Swift. Rerun on a quiet machine.**\n")

    print(f"\n{options.rounds} rounds, alternating sides case by case; ratio = PyTorch / Swift "
          "(above 1: Swift is faster), median (min-max) over rounds\n")
    print("| case | Swift | PyTorch | torch/swift | min-max | GFLOP/s Swift / PyTorch |")
    print("|---|---|---|---|---|---|")
    for case in cases:
        s, t = times[case]["swift"], times[case]["torch"]
        ratios = [b / a for a, b in zip(s, t)]
        flops = ""
        matmul = re.match(r"matmul_n(\d+)_t\d+", case)
        if matmul:
            work = 2 * int(matmul.group(1)) ** 3
            flops = f"{work / statistics.median(s) / 1e9:.1f} / {work / statistics.median(t) / 1e9:.1f}"
        print(f"| {case} | {show(statistics.median(s))} | {show(statistics.median(t))} | "
              f"{statistics.median(ratios):.2f} | {min(ratios):.2f}-{max(ratios):.2f} | {flops} |")
    if options.json:
        with open(options.json, "w") as f:
            json.dump({"cpu": cpu_model(), "load_before": load_before, "load_after": load_after, "times": times}, f,
                      indent=1)


if __name__ == "__main__":
    main()
