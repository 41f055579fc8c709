# PROCESS ranks (epsim-hw's host backend): a 2-socket host with 4 CPU
# processes per socket, written here (figures made up, round on purpose).
# topo check and show (a pair across the sockets) and an all-to-all sweep.
cat >"$TMP/procs.textproto" <<'TOPO'
#   p0 p1 p2 p3          p4 p5 p6 p7     processes (ranks), MEMORY links
#    \  \ /  /            \  \ /  /      10 GB/s, 0.1 us each
#      cpu0 ------ upi ------ cpu1       sockets, 100 GB/s host memory each
name: "host-2socket-x8-procs"
description: "8 CPU processes on a 2-socket host"
gpu { name: "made-up core" peak_flops: 1e11 mem_bw_gb_per_s: 20 compute_efficiency: 1 memory_efficiency: 1 launch_us: 1 }
nodes { name: "cpu0" kind: CPU memory_gb_per_s: 100 }
nodes { name: "cpu1" kind: CPU memory_gb_per_s: 100 }
links { name: "upi" a: "cpu0" b: "cpu1" kind: CPU_INTERCONNECT bw_gb_per_s: 40 latency_us: 0.2 }
nccl { protocols { name: "mpi" base_latency_us: 1.5 payload_efficiency: 1 extra_hop_memory_us: 0.5 } }
TOPO
for p in 0 1 2 3 4 5 6 7; do
  cpu=$((p / 4))
  echo "nodes { name: \"p$p\" kind: PROCESS }" >>"$TMP/procs.textproto"
  echo "links { name: \"p$p-cpu$cpu\" a: \"p$p\" b: \"cpu$cpu\" kind: MEMORY bw_gb_per_s: 10 latency_us: 0.1 }" \
    >>"$TMP/procs.textproto"
done
cd "$TMP" || exit
"$EPSIM" topo check procs.textproto
"$EPSIM" topo show procs.textproto --from p1
"$EPSIM" bench alltoall --topology procs.textproto -b 1K -e 16M -f 16
