#!/usr/bin/env bash
# The calibration loop, closed on this machine with the host backend:
#   bash experiments/calibrate/run_host.sh [OUT_DIR] [--small]
# 1. `epsim-hw topo` measures the machine as a 2-process topology (and a
#    4-process one for the oversubscribed runs);
# 2. `epsim-hw run --check` executes tiny-moe plans over a grid (token
#    counts x strategies, 1 and 2 ranks pinned to cores with one BLAS
#    thread each), writing measured reports;
# 3. `epsim calibrate` fits the topology on the training split and predicts
#    the held-out one: every other token count and the whole pruned:2:score
#    strategy (so the split tests more than interpolation);
# 4. the same fit judged on 4 oversubscribed ranks (held out by rank count;
#    time-sharing is in those timings and in no model);
# 5. epsim plot draws measured against simulated, before and after.
# --small: the CI version (two token counts, one strategy, few passes): it
# checks that the loop runs end to end, not the error figures.
# Needs build/epsim and build/epsim-hw (bash setup.sh; EPSIM_BUILD_DIR names another build folder).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${EPSIM_BUILD_DIR:-build}"  # where epsim and epsim-hw were built
out="${1:-out/calibrate}"
small=0
[ "${2:-}" = "--small" ] && small=1
mkdir -p "$out/runs"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cores=$(nproc)
if [ "$small" = 1 ]; then
  tokens=(256 512); strategies=(dedup); passes=(-w 1 -n 3); over_tokens=()
else
  tokens=(256 512 1024 2048 4096); strategies=(classical dedup pruned:2:score)
  passes=(-w 3 -n 15); over_tokens=(512 1024 2048)
fi
pin=(--bind-to core)
[ "$cores" -lt 2 ] && pin=(--oversubscribe --bind-to none)

mpirun "${pin[@]}" -np 2 "$bin/epsim-hw" topo -o "$out/host.textproto"
run() {  # ranks strategy tokens topology [mpirun flags...]
  local np=$1 s=$2 t=$3 topo=$4; shift 4
  local name="${s//:/_}-r${np}-t${t}"
  mpirun "$@" -np "$np" "$bin/epsim-hw" run --model tiny-moe --tokens "$t" --seed 1 \
    --topology "$topo" --dispatch "$s" --check "${passes[@]}" \
    --json "$out/runs/$name.json" > "$out/runs/$name.txt"
}
for np in 1 2; do
  for s in "${strategies[@]}"; do
    for t in "${tokens[@]}"; do run "$np" "$s" "$t" "$out/host.textproto" "${pin[@]}"; done
  done
done
holdout=(--holdout sizes)
[ "$small" = 0 ] && holdout+=(--holdout strategy=pruned:2:score)
"$bin/epsim" calibrate --topology "$out/host.textproto" "${holdout[@]}" \
  "$out"/runs/*-r[12]-*.json -o "$out/host.calibrated.textproto" --csv "$out/host.csv" \
  > "$out/calibrate.txt"
"$bin/epsim" plot "$out/host.csv" -o "$out/host.png" \
  --title "epsim calibrate, host backend, 1 and 2 pinned ranks"

if [ "${#over_tokens[@]}" -gt 0 ]; then
  mpirun --oversubscribe --bind-to none -np 4 "$bin/epsim-hw" topo -o "$out/host4.textproto"
  for t in "${over_tokens[@]}"; do
    run 4 dedup "$t" "$out/host4.textproto" --oversubscribe --bind-to none
  done
  "$bin/epsim" calibrate --topology "$out/host4.textproto" --holdout ranks=4 \
    "$out"/runs/*.json -o "$out/host4.calibrated.textproto" --csv "$out/host4.csv" \
    > "$out/calibrate-4ranks.txt"
fi
echo "wrote $out"
