#!/usr/bin/env bash
# Real versus fitted synthetic routing, for every shared real sample
# (README.md has the table and the definitions). Needs build/epsim and
# build/experiments/synth_fidelity/synth_fidelity (the top CMakeLists adds
# experiments/), and the shared data as ../shared beside the project root.
# Usage: run.sh [build dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
shared="$root/../shared/traces"
epsim="$build/epsim"
fidelity="$build/experiments/synth_fidelity/synth_fidelity"
if [[ ! -d "$shared" ]]; then
  echo "synth_fidelity: no shared data at ../shared/traces (relative to the project root); nothing to compare" >&2
  exit 2
fi
for bin in "$epsim" "$fidelity"; do
  [[ -x "$bin" ]] || { echo "synth_fidelity: $bin not built" >&2; exit 2; }
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$epsim" import "$shared/flame-moe-290m-prefill"/layer*.csv --num-experts 64 -o "$tmp/flame.trace" 2>/dev/null
"$epsim" import "$shared/mixtral-8x7b-humaneval/routing.jsonl" --model mixtral-8x7b -o "$tmp/mixtral.trace" 2>/dev/null

echo "## Recorded traces (fit with epsim synth --like)"
echo
echo "| sample | trace | tokens/layer | load max/mean | load CV | C_T D=4 | C_T D=8 | coact corr | affinity conc. | seq lift | top-1 share |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
"$fidelity" trace "$tmp/flame.trace" 64   # FLAME: 32 sequences x 64 tokens (traces/README.md)
"$fidelity" trace "$tmp/mixtral.trace"
echo
echo "## OLMoE-1B-7B expert counts, c4 (fit with epsim synth --load), real / synthetic"
echo
echo "| layer | load max/mean | load CV | coact corr |"
echo "| --- | --- | --- | --- |"
for tokens in 16384 208896; do
  echo "| $tokens tokens | | | |"
  "$fidelity" aggregate "$shared/olmoe-expert-counts/expert_counts.json" olmoe__expert_counts__c4 - 64 8 16 "$tokens"
done
echo
echo "## LLaMA-MoE-v1-3.5B co-activation, base router (fit with epsim synth --coact), real / synthetic, 204,800 tokens"
echo
echo "| layer | load max/mean | load CV | coact corr |"
echo "| --- | --- | --- | --- |"
"$fidelity" aggregate - - "$shared/llama-moe-coactivation/coactivation.json" 8 2 32 204800
echo
echo "## Generation speed (OLMoE-1B-7B, models/olmoe-1b-7b.routing.json)"
"$fidelity" time "$root/models/olmoe-1b-7b.routing.json" 16384
