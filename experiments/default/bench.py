#!/usr/bin/env python3
"""Benchmark of the default job's simulation.

Runs `build/epsim simulate` (synthetic OLMoE-1B-7B trace of 16,384 tokens,
4 x A6000 PCIe Gen4, classical + dedup) N times and prints the median and
worst wall time and the peak resident memory of one run.
Target: well under one second of wall time on a 2-core machine.

usage: bench.py [RUNS]    (default 7). Standard library only.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EPSIM = os.path.join(ROOT, "build", "epsim")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", metavar="RUNS", type=int, nargs="?", default=7,
                        help="runs of epsim simulate (default %(default)s)")
    runs = parser.parse_args(argv).runs
    if not os.access(EPSIM, os.X_OK):
        sys.exit(f"bench.py: {EPSIM} missing: build first (bash setup.sh)")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([EPSIM, "simulate"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"# epsim simulate, default job, {runs} runs")
    print(f"{'wall time (median)':<24} {statistics.median(times):10.3f} s")
    print(f"{'wall time (worst)':<24} {max(times):10.3f} s")
    print(f"{'peak RSS (one run)':<24} {peak_kb / 1024:10.1f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
