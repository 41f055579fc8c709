#!/usr/bin/env bash
# The calibration loop's first half on this machine, host backend: measure
# the machine as a topology, run the same plans for real (verified) and in
# the simulator on that topology, and diff them, uncalibrated.
#   bash experiments/hw/run_host.sh [OUT_DIR] [RANKS]
# Needs build/epsim and build/epsim-hw (bash setup.sh). With more ranks than
# cores the run is oversubscribed: timings include time-sharing (the
# measured reports say so in their settings).
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-out/hw}"; ranks="${2:-4}"
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe --bind-to none -np "$ranks")
job=(--model tiny-moe --tokens 2048 --seed 1)

"${mpi[@]}" build/epsim-hw topo -o "$out/host.textproto"
for s in classical dedup pruned:2:score hierarchical; do
  name="${s//:/_}"
  layout=()
  [ "$s" = hierarchical ] && layout=(--ranks-per-host 2)
  "${mpi[@]}" build/epsim-hw run "${job[@]}" "${layout[@]}" --topology "$out/host.textproto" \
    --dispatch "$s" --check -w 5 -n 20 --json "$out/$name.measured.json" > "$out/$name.measured.txt"
  build/epsim simulate "${job[@]}" "${layout[@]}" --topology "$out/host.textproto" \
    --dispatch "$s" --format json > "$out/$name.simulated.json"
  build/epsim diff "$out/$name.simulated.json" "$out/$name.measured.json" > "$out/$name.diff.txt"
done
"${mpi[@]}" build/epsim-hw bench alltoall -b 1K -e 16M -f 4 -n 20 -w 5 -c > "$out/alltoall.measured.txt"
build/epsim bench alltoall --topology "$out/host.textproto" -b 1K -e 16M -f 4 > "$out/alltoall.simulated.txt"
mpirun --bind-to none -np 1 build/epsim-hw bench gemm --model tiny-moe -b 1 -e 4096 -f 2 -n 20 -w 5 \
  > "$out/gemm.measured.txt"
echo "wrote $out"
