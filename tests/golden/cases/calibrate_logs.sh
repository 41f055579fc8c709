# calibrate on a published nccl-tests log: the 2 x RTX 2080 Ti machine's
# topology from its own `nvidia-smi topo -m`, fitted on every other size of
# its all_reduce and all_gather tables (broadcast and reduce noted, not
# used), the calibrated file's provenance header, and a simulation on it
# naming the calibrated topology; then bad input: a truncated table (exit 2,
# file:line, nothing written), a report that names no job (exit 2), an
# unknown held-out rule and parameter (exit 1).
test -d ../shared/measurements || { echo "../shared/measurements is absent: this case needs the shared nccl-tests logs beside the project" >&2; exit 97; }
ln -s "$PWD/../shared/measurements" "$TMP/measurements"
ln -s "$PWD/experiments" "$TMP/experiments"
cd "$TMP" || exit
log=measurements/rtx2080ti-x2-pcie-switch-shm.txt
"$EPSIM" topo from-smi "$log" --pcie-gen 3 --gpu-spec experiments/calibrate/topologies/rtx2080ti-gpu.textproto \
  --name rtx2080ti-x2 -o 2080ti.textproto 2>/dev/null || exit
"$EPSIM" calibrate --topology 2080ti.textproto "$log" -o 2080ti.calibrated.textproto --csv 2080ti.csv 2>&1
echo "# exit $?"
sed -n '1,/^name:/p' 2080ti.calibrated.textproto
head -3 2080ti.csv
"$EPSIM" bench allreduce --topology 2080ti.calibrated.textproto -b 1M -e 4M -f 4 | grep -E "^# epsim|^#   topology|^ +[0-9]"
# A p2pBandwidthLatencyTest matrix of direct peer copies bounds the PCIe
# links: here below what the log's all-reduce wants, so the fit stops there.
cat > p2p.txt <<'P2P'
Unidirectional P2P=Enabled Bandwidth (P2P Writes) Matrix (GB/s)
   D\D     0      1
     0 400.00   6.00
     1   5.90 401.00
P2P
"$EPSIM" calibrate --topology 2080ti.textproto "$log" p2p.txt 2>&1 | grep -E 'note: PCIe|links.PCIE.bw|^  all '
# A table cut inside a row: exit 2 naming file and line, no file written.
sed -n '1,215p' "$log" | sed '$ s/ [0-9.]* *$//' > cut.txt
"$EPSIM" calibrate --topology 2080ti.textproto cut.txt -o cut.calibrated.textproto 2>&1
echo "# exit $?"
test -e cut.calibrated.textproto && echo "cut.calibrated.textproto written" || echo "nothing written"
"$EPSIM" calibrate --topology 2080ti.textproto experiments/hw/vm-2core-2ranks/dedup.measured.json 2>&1
echo "# exit $?"
"$EPSIM" calibrate --topology 2080ti.textproto "$log" --holdout every-third 2>&1
echo "# exit $?"
"$EPSIM" calibrate --topology 2080ti.textproto "$log" --fit gpu.warp_speed 2>&1 | cut -c1-120
echo "# exit ${PIPESTATUS[0]}"
