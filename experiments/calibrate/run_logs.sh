#!/usr/bin/env bash
# Calibrates a topology of each machine in ../shared/measurements that has
# nccl-tests tables, on every other size of each table, and reports the
# held-out sizes' error and the fitted parameters:
#   bash experiments/calibrate/run_logs.sh [OUT_DIR]
# Topologies: from the log's `nvidia-smi topo -m` with `epsim topo from-smi`
# where it has one (2 x RTX 2080 Ti), else written from the log's
# description (topologies/, assumed figures marked), and the shipped
# dgx-a100 for the 8 x A100 sendrecv table. Tables of one file taken on
# different settings (GPUDirect on/off, TCP vs RDMA) are calibrated one
# at a time (--table N). Needs build/epsim (bash setup.sh) and ../shared.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${EPSIM_BUILD_DIR:-build}"  # where epsim and epsim-hw were built
out="${1:-out/calibrate-logs}"
logs=../shared/measurements
topos=experiments/calibrate/topologies
[ -d "$logs" ] || { echo "run_logs.sh: $logs is absent: it holds the published logs" >&2; exit 2; }
mkdir -p "$out"
"$bin/epsim" topo from-smi "$logs/rtx2080ti-x2-pcie-switch-shm.txt" --pcie-gen 3 \
  --gpu-spec "$topos/rtx2080ti-gpu.textproto" --name rtx2080ti-x2-pcie-switch \
  -o "$out/rtx2080ti-x2-pcie-switch.textproto" 2>/dev/null

calibrate() {  # name topology log [flags...]
  local name=$1 topo=$2 log=$3; shift 3
  "$bin/epsim" calibrate --topology "$topo" "$log" --holdout sizes "$@" \
    -o "$out/$name.calibrated.textproto" --csv "$out/$name.csv" > "$out/$name.txt"
  "$bin/epsim" plot "$out/$name.csv" -o "$out/$name.png" \
    --title "$name: nccl-tests, measured vs simulated"
}
calibrate rtx2080ti-x2 "$out/rtx2080ti-x2-pcie-switch.textproto" \
  "$logs/rtx2080ti-x2-pcie-switch-shm.txt"
calibrate rtx5090-x4 "$topos/rtx5090-x4-genoa.textproto" "$logs/rtx5090-x4-pcie-shm-allreduce.txt"
calibrate a100pcie-2node-gdr "$topos/a100pcie-2node-hdr.textproto" \
  "$logs/a100pcie-2node-hdr-ib-allreduce.txt" --table 1
calibrate a100pcie-2node-nogdr "$topos/a100pcie-2node-hdr.textproto" \
  "$logs/a100pcie-2node-hdr-ib-allreduce.txt" --table 2
calibrate l40s-2node-tcp "$topos/l40s-2node-x1.textproto" \
  "$logs/l40s-2node-roce-vs-tcp-allreduce.txt" --table 1
calibrate l40s-2node-rdma "$topos/l40s-2node-x2.textproto" \
  "$logs/l40s-2node-roce-vs-tcp-allreduce.txt" --table 2
calibrate a100-x8-sendrecv dgx-a100 "$logs/a100-x8-nvswitch-sendrecv.txt"
echo "wrote $out"
