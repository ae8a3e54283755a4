"""Compares two builds of this library's Benchmarks executable, case by case.

    .venv/bin/python Scripts/compare_builds.py BASE_BINARY NEW_BINARY case1,case2,... [rounds]

Each round runs every case once on each side, alternating which side goes first, and the
ratio of a round is base time / new time (above 1: the new build is faster). Prints the load
average before and after, and per case the median ratio with its min-max and both medians.
Build each side with `swift build -c release --product Benchmarks` (for the base, in a
`git worktree` of the base commit). Use it to show a change makes nothing slower;
`Scripts/compare.py` is for comparisons with PyTorch.
"""
import json
import os
import statistics
import subprocess
import sys


def run(binary, case):
    out = subprocess.run([binary, case], capture_output=True, text=True, check=True).stdout
    return json.loads(out[out.index("{"):])[case]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    sides = {"base": sys.argv[1], "new": sys.argv[2]}
    cases = sys.argv[3].split(",")
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    print("load average before:", os.getloadavg())
    times = {case: {"base": [], "new": []} for case in cases}
    for r in range(rounds):
        for case in cases:
            for side in (["base", "new"] if r % 2 == 0 else ["new", "base"]):
                times[case][side].append(run(sides[side], case))
    print("load average after:", os.getloadavg())
    for case in cases:
        ratios = [b / n for b, n in zip(times[case]["base"], times[case]["new"])]
        print(f"{case}: base/new {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}); "
              f"base {statistics.median(times[case]['base']) * 1e3:.3f} ms, new {statistics.median(times[case]['new']) * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
