#!/usr/bin/env bash
# The default job: a seeded synthetic OLMoE-1B-7B trace of 16,384 tokens
# (uniform routing, seed 1) on 4 x RTX A6000 over PCIe Gen4, classical versus
# deduplicated dispatch. Prints the table; writes results.csv, timeline.json
# and latency.png under out/default/ (or $1).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/out/default}"
mkdir -p "$out"
"$root/build/epsim" simulate \
  --model olmoe-1b-7b --topology a6000-x4-pcie-gen4 --ep 4 \
  --dispatch classical,dedup --tokens 16384 --seed 1 \
  --csv "$out/results.csv" --timeline "$out/timeline.json"
/usr/bin/python3 "$root/experiments/default/plot_latency.py" "$out/results.csv" "$out/latency.png" \
  --title "OLMoE-1B-7B prefill, 16,384 tokens, 4 x A6000 PCIe Gen4"
echo "wrote $out/results.csv, $out/timeline.json, $out/latency.png" >&2
