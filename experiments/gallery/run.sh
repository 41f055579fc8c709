#!/usr/bin/env bash
# Regenerates every figure of the README (experiments/gallery/*.png) from
# tables epsim writes now: what-if sweeps (simulated), the bench of this
# machine's two MPI ranks (measured, committed as host-alltoall.measured.json
# unless --remeasure), a diff and a calibration of measured runs committed
# under experiments/calibrate/vm-2core/. Tables go to out/gallery/ (or
# $OUT); figures are byte-identical for the same tables. Also prints the wall
# time of the 27-point model x topology sweep at -j 1 and -j 2.
# Usage: bash experiments/gallery/run.sh [--remeasure]   (after building)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
E="$root/build/epsim"
gallery="$root/experiments/gallery"
out="${OUT:-$root/out/gallery}"
mkdir -p "$out"
plot() { "$E" plot "$@"; echo "wrote ${*: -1}" >&2; }
sweep() { "$E" sweep "$@" --no-resume 2>&1 >/dev/null | { grep -v "^epsim: \[" || true; } >&2; }

# 1. The default job (experiments/default/sweep.txt): 8- and 16-way EP.
sweep experiments/default/sweep.txt -o "$out/default.csv"
plot "$out/default.csv" -o "$gallery/default-latency.png"
plot "$out/default.csv" --figure breakdown -o "$gallery/default-breakdown.png"

# 2. Three models at EP 4, 8, 16 on the A6000 boxes (one of 4, of 8, 2 x 8),
#    timed at -j 1 and -j 2 (the same table either way).
#    (epsim sweep prints each run's wall time.)
for j in 1 2; do
  sweep experiments/gallery/models-ep.txt -j $j -o "$out/models-ep.j$j.csv"
done
cmp -s "$out/models-ep.j1.csv" "$out/models-ep.j2.csv" || { echo "-j 1 and -j 2 tables differ" >&2; exit 1; }
plot "$out/models-ep.j2.csv" -o "$gallery/models-ep-latency.png"
plot "$out/models-ep.j2.csv" --figure comm-share -o "$gallery/models-ep-comm-share.png"
plot "$out/models-ep.j2.csv" --figure ct -o "$gallery/models-ep-ct.png"

# 3. The papers' shapes: prefill latency vs tokens (Occult Fig. 9), decode
#    latency vs batch (Fig. 10), a training iteration at 8- and 16-way EP (Fig. 12).
sweep --model olmoe-1b-7b --topology a6000-x8-2socket --tokens 2048,4096,8192,16384,32768 \
  --dispatch classical,dedup,pruned:2:score -o "$out/prefill-tokens.csv"
plot "$out/prefill-tokens.csv" --figure vs -o "$gallery/prefill-vs-tokens.png"
sweep --model olmoe-1b-7b --topology a6000-x8-2socket --pass decode --context 2048 \
  --tokens 8,32,128,512 --dispatch classical,dedup,pruned:2:score -o "$out/decode-batch.csv"
plot "$out/decode-batch.csv" --figure vs -o "$gallery/decode-vs-batch.png"
sweep --model olmoe-1b-7b --topology a6000-x8-2socket,a6000-2node-x8-100g --pass train \
  --tokens 4096 --dispatch classical,dedup,pruned:2:score -o "$out/train.csv"
plot "$out/train.csv" -o "$gallery/train-ep8-ep16.png"

# 4. bench: this machine's all-to-all, measured (2 MPI ranks on 2 cores) and
#    simulated on its measured topology, before and after calibration.
host=experiments/calibrate/vm-2core
if [ "${1:-}" = "--remeasure" ]; then
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    mpirun --bind-to none -np 2 build/epsim-hw bench alltoall -b 1K -e 16M -f 4 --format json \
    > "$out/host-alltoall.measured.json"
  cp "$out/host-alltoall.measured.json" "$gallery/host-alltoall.measured.json"
fi
"$E" bench alltoall --topology $host/host.textproto -b 1K -e 16M -f 4 --format json \
  > "$out/host-alltoall.simulated.json"
"$E" bench alltoall --topology $host/host.calibrated.textproto -b 1K -e 16M -f 4 --format json \
  > "$out/host-alltoall.calibrated.json"
plot "$gallery/host-alltoall.measured.json" "$out/host-alltoall.simulated.json" \
  "$out/host-alltoall.calibrated.json" --label "measured (2 MPI ranks)" \
  --label "simulated, measured topology" --label "simulated, calibrated" \
  -o "$gallery/host-alltoall-busbw.png"

# 5. diff: a measured harness run against its simulation, uncalibrated and
#    calibrated; 6. calibrate: every measured run before and after.
job="--model tiny-moe --tokens 4096 --seed 1 --ep 2 --dispatch dedup --placement contiguous"
for t in host host.calibrated; do
  # shellcheck disable=SC2086
  "$E" simulate $job --topology $host/$t.textproto --format json > "$out/dedup-r2-t4096.$t.json" 2>/dev/null
  "$E" diff "$out/dedup-r2-t4096.$t.json" $host/runs/dedup-r2-t4096.json --by both --format csv \
    > "$out/diff.$t.csv"
done
plot "$out/diff.host.csv" "$out/diff.host.calibrated.csv" --label uncalibrated --label calibrated \
  -o "$gallery/diff-measured-vs-simulated.png"
plot $host/host.csv -o "$gallery/calibrate-host.png"
