#!/usr/bin/env bash
# The default job: the mission in one picture. OLMoE-1B-7B at 8-way expert
# parallelism on one 8 x A6000 box and 16-way on 2 x 8, under classical,
# dedup and pruned:2:score dispatch (experiments/default/sweep.txt). Prints
# the table; writes sweep.csv and latency.png (pass time per strategy, the
# speedup over classical on each bar) under out/default/ (or $1).
# The 4-GPU job `epsim simulate` runs with no arguments is the performance
# benchmark's (experiments/default/bench.py), not this one.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/out/default}"
mkdir -p "$out"
# --no-resume: the default job always simulates, with the binary just built.
"$root/build/epsim" sweep "$root/experiments/default/sweep.txt" -j "$(nproc)" --no-resume \
  -o "$out/sweep.csv"
"$root/build/epsim" plot "$out/sweep.csv" -o "$out/latency.png"
echo "wrote $out/sweep.csv, $out/latency.png" >&2
