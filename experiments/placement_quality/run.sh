#!/usr/bin/env bash
# Mean C_T per placement algorithm on the shared FLAME and Mixtral samples,
# in sample and held out (README.md). Run from anywhere after building:
#   bash experiments/placement_quality/run.sh
# BUILD (default build/) names the build folder, SHARED (default ../shared
# beside the project) the shared data. Writes out/placement_quality/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build}
shared=${SHARED:-$root/../shared}
out=$root/out/placement_quality
mkdir -p "$out"

"$build/epsim" import "$shared"/traces/flame-moe-290m-prefill/layer*.csv --num-experts 64 \
  -o "$out/flame.trace"
"$build/epsim" import "$shared/traces/mixtral-8x7b-humaneval/routing.jsonl" \
  --model mixtral-8x7b -o "$out/mixtral.trace"

# The placement files later runs reuse (--placement FILE), with per-layer
# figures on the profile.
for d in 4 8; do
  for a in contiguous occult partition; do
    "$build/epsim" place --trace "$out/flame.trace" --ep "$d" --algorithm "$a" \
      -o "$out/flame-$a-ep$d.textproto" > "$out/flame-$a-ep$d.txt"
  done
done

"$build/experiments/placement_quality/placement_quality" --ep 4,8 \
  "FLAME=$out/flame.trace" "Mixtral=$out/mixtral.trace" | tee "$out/results.md"
