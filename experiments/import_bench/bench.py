#!/usr/bin/env python3
"""Import throughput: times `epsim import` on a synthetic vLLM-style log.

Generates out/import_bench/routing.jsonl with make_log.py unless present
(about 2 GB for the default 10,000,000 route rows), imports it with
--skip-rows 4 and reports the wall time, routing entries (route rows read,
warm-up included) per second and the peak resident memory of the import
(the child's rusage from wait4). Not part of ctest.

usage: bench.py [--epsim PATH] [--rows N] [--runs R] [--keep]. Standard library only.
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epsim", default=os.path.join(ROOT, "build", "epsim"),
                    help="the epsim binary (default: build/epsim of this tree)")
    ap.add_argument("--rows", type=int, default=10_000_000,
                    help="route rows of the generated log (default %(default)s)")
    ap.add_argument("--runs", type=int, default=1, help="imports timed (default %(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep the log and trace afterwards")
    args = ap.parse_args()
    if not os.access(args.epsim, os.X_OK):
        sys.exit(f"bench.py: {args.epsim} missing: build first (bash setup.sh)")
    out_dir = os.path.join(ROOT, "out", "import_bench")
    os.makedirs(out_dir, exist_ok=True)
    log = os.path.join(out_dir, f"routing_{args.rows}.jsonl")
    trace = os.path.join(out_dir, "routing.trace")
    if not os.path.exists(log):
        subprocess.run([sys.executable, os.path.join(HERE, "make_log.py"), log, str(args.rows)],
                       check=True)
    with open(log) as f:
        rows = sum(1 for _ in f) - 1  # the meta line is not an entry
    size = os.path.getsize(log)
    times, cpu, peak_kib = [], [], 0
    for _ in range(args.runs):
        start = time.perf_counter()
        child = subprocess.Popen([args.epsim, "import", log, "--skip-rows", "4", "-o", trace],
                                 env=dict(os.environ, EPSIM_PROGRESS="0"))
        # wait4: this child's own usage (not the generator's).
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            sys.exit(f"bench.py: epsim import failed with exit code {child.returncode}")
        times.append(time.perf_counter() - start)
        cpu.append(usage.ru_utime + usage.ru_stime)
        peak_kib = max(peak_kib, usage.ru_maxrss)
    best = min(times)
    print(f"# epsim import throughput, {args.epsim}")
    print(f"log_bytes     {size}  ({size / 1e9:.2f} GB)")
    print(f"entries       {rows}  (route rows, warm-up included)")
    print(f"trace_bytes   {os.path.getsize(trace)}")
    print(f"time_s        {best:.2f}  (wall, best of {args.runs}; cpu {min(cpu):.2f} s user+sys)")
    print(f"entries_per_s {rows / best:.4g}")
    print(f"read_gbps     {size / best / 1e9:.3f}  (GB/s of log)")
    print(f"peak_rss_mb   {peak_kib * 1024 / 1e6:.1f}")
    if not args.keep:
        os.remove(trace)


if __name__ == "__main__":
    main()
