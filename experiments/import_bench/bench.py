#!/usr/bin/env python3
"""Import throughput: `epsim import` against this machine's raw read rate and
simdjson's parse rate on the same log.

Generates out/import_bench/routing_N[_batch].jsonl with make_log.py unless
present (about 2.4 GB for the default 10,000,000 route rows), then measures,
each the best of --runs with the log in the page cache:
  read      read(2) of the whole log (parse_rate --read): the rate `cat` gets;
  simdjson  parse_rate with 1 thread and with --threads: simdjson alone
            parsing every line and reading its route fields, nothing else,
            with its DOM API and with its On-Demand API;
  import    `epsim import LOG --skip-rows 4` with --threads 1 and --threads;
            the two traces must be byte-identical.
Prints rows/s, MB/s, peak RSS and the ratios import / simdjson (against the
faster of the two APIs on each thread count, and against each) and import /
read. Not part of ctest.
"""
import argparse
import filecmp
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run_child(cmd):
    """Wall time, CPU time and peak RSS (KiB) of one child process."""
    start = time.perf_counter()
    # OPENBLAS_NUM_THREADS=1: the OpenBLAS that Ceres links into epsim would
    # otherwise start a thread that spins for about 0.1 s of CPU.
    env = dict(os.environ, EPSIM_PROGRESS="0", OPENBLAS_NUM_THREADS="1")
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env)
    out = child.stdout.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"bench.py: {' '.join(cmd)} failed with exit code {code}")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out


def best(cmd, runs, remove=None):
    """Best of `runs`; `remove` (the output of the previous run) is deleted
    before each, untimed, so that no run pays for freeing the last one's file."""
    results = []
    for _ in range(runs):
        if remove and os.path.exists(remove):
            os.remove(remove)
        results.append(run_child(cmd))
    return min(results, key=lambda r: r[0])


def field(out, name):
    for line in out.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    sys.exit(f"bench.py: no {name} in {out!r}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="build folder with epsim and experiments/import_bench/parse_rate")
    ap.add_argument("--rows", type=int, default=10_000_000,
                    help="route rows of the generated log (default %(default)s)")
    ap.add_argument("--per-batch", action="store_true",
                    help="the per-batch vLLM logger's shape (make_log.py --per-batch)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="threads for the parallel runs (default: the cores, %(default)s)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each, best taken (default %(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep the traces afterwards")
    ap.add_argument("--trace-dir", default=None,
                    help="where the traces go (default out/import_bench; a tmpfs such as /dev/shm "
                         "takes the disk's write speed out of the figures)")
    args = ap.parse_args()
    epsim = os.path.join(args.build, "epsim")
    parse_rate = os.path.join(args.build, "experiments", "import_bench", "parse_rate")
    for exe in (epsim, parse_rate):
        if not os.access(exe, os.X_OK):
            sys.exit(f"bench.py: {exe} missing: build first (bash setup.sh)")
    out_dir = os.path.join(ROOT, "out", "import_bench")
    os.makedirs(out_dir, exist_ok=True)
    suffix = "_batch" if args.per_batch else ""
    log = os.path.join(out_dir, f"routing_{args.rows}{suffix}.jsonl")
    if not os.path.exists(log):
        subprocess.run([sys.executable, os.path.join(HERE, "make_log.py"), log, str(args.rows)]
                       + (["--per-batch"] if args.per_batch else []), check=True)
    size = os.path.getsize(log)
    with open(log, "rb") as f:
        rows = sum(1 for _ in f) - 1  # the meta line is not a route row
    T = args.threads
    read_s = best([parse_rate, log, "--read"], args.runs)
    read_mbps = field(read_s[3], "read_mb_per_s")
    apis = {"DOM": [], "On-Demand": ["--ondemand"]}
    ref = {(api, t): best([parse_rate, log, str(t)] + flag, args.runs)
           for api, flag in apis.items() for t in sorted({1, T})}
    imp = {}
    for t in sorted({1, T}):
        trace = os.path.join(args.trace_dir or out_dir, f"routing_t{t}.trace")
        imp[t] = best([epsim, "import", log, "--skip-rows", "4", "--threads", str(t), "-o", trace],
                      args.runs, remove=trace) + (trace,)
    identical = filecmp.cmp(imp[1][4], imp[T][4], shallow=False)
    print(f"# epsim import throughput; log {os.path.basename(log)}: {size / 1e9:.2f} GB, "
          f"{rows} route rows{' (per-batch token_idx)' if args.per_batch else ''}; "
          f"{os.cpu_count()} cores; best of {args.runs}; traces to {args.trace_dir or out_dir}")
    print(f"{'what':<24} {'wall_s':>7} {'cpu_s':>7} {'Mrows/s':>8} {'MB/s':>7} {'peak_MB':>8}")
    print(f"{'read(2)':<24} {read_s[0]:7.2f} {read_s[1]:7.2f} {'':>8} {read_mbps:7.0f} "
          f"{read_s[2] * 1024 / 1e6:8.1f}")
    for (api, t), r in ref.items():
        print(f"{'simdjson ' + api + ', ' + str(t) + ' thr':<24} {r[0]:7.2f} {r[1]:7.2f} "
              f"{field(r[3], 'rows_per_s') / 1e6:8.2f} {field(r[3], 'mb_per_s'):7.0f} "
              f"{r[2] * 1024 / 1e6:8.1f}")
    for t, r in imp.items():
        print(f"{'epsim import, ' + str(t) + ' thr':<24} {r[0]:7.2f} {r[1]:7.2f} "
              f"{rows / r[0] / 1e6:8.2f} {size / r[0] / 1e6:7.0f} {r[2] * 1024 / 1e6:8.1f}")
    for t in sorted({T, 1}, reverse=True):
        rates = {api: field(ref[(api, t)][3], "rows_per_s") for api in apis}
        fastest = max(rates, key=rates.get)
        each = ", ".join(f"{rows / imp[t][0] / rate:.2f} of {api}" for api, rate in rates.items())
        print(f"import / simdjson alone ({t} thread{'s' if t > 1 else ''}): "
              f"{rows / imp[t][0] / rates[fastest]:.2f} of the faster ({fastest}; {each})")
    print(f"import / read(2): {size / imp[T][0] / 1e6 / read_mbps:.2f}")
    print(f"trace bytes: {os.path.getsize(imp[T][4])}; 1 and {T} threads byte-identical: {identical}")
    if not args.keep:
        for t in imp:
            os.remove(imp[t][4])
    if not identical:
        sys.exit("bench.py: the traces differ between thread counts")


if __name__ == "__main__":
    main()
