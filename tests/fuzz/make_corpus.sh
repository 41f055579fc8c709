#!/usr/bin/env bash
# Seed corpora of the fuzz targets, made by epsim itself (nothing is checked
# in): OUT/<target>/ for each target of tests/fuzz/.
# Usage: make_corpus.sh EPSIM OUT
set -euo pipefail
epsim="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
out="$2"
root="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$out"/{trace_reader,import_jsonl,import_csv,text_proto,plan_reader,nccl_tests_log,smi_topo,p2p_matrix}
cd "$out"
# Traces: uniform and structured, a stepped import, a scores-free import.
"$epsim" synth --model tiny-moe --tokens 8 -o trace_reader/uniform.trace 2>/dev/null
"$epsim" synth --model tiny-moe --tokens 8 --routing structured -o trace_reader/structured.trace 2>/dev/null
# JSON lines of each shape the importer knows.
cat > import_jsonl/mixtral.jsonl <<'J'
{"layer": 0, "experts": [1, 2], "gating_probs": [0.6, 0.4]}
{"layer": 1, "experts": [3, 0], "gating_probs": [0.7, 0.3]}
{"layer": 0, "experts": [5, 4], "gating_probs": [0.5, 0.5]}
J
cat > import_jsonl/vllm.jsonl <<'J'
{"req_id": "a", "token_idx": 0, "layer": 0, "topk_ids": [3, 1], "topk_weights": [0.8, 0.2]}
{"req_id": "a", "token_idx": 1, "layer": 0, "topk_ids": [2, 7], "topk_weights": [0.6, 0.4]}
{"req_id": "a", "token_idx": 0, "layer": 0, "topk_ids": [4, 1], "topk_weights": [0.9, 0.1]}
J
cat > import_jsonl/meta.jsonl <<'J'
{"meta": {"num_experts": 16, "model": "tiny-moe"}}
{"layer": 2, "experts": [9, 8], "token": 4, "sequence": 1}
J
"$epsim" import import_jsonl/mixtral.jsonl --num-experts 16 -o trace_reader/imported.trace 2>/dev/null
# Text protos: the shipped models and the smaller topologies.
for f in "$root"/models/*.textproto "$root"/topologies/*.textproto; do
  [ "$(stat -c %s "$f")" -lt 20000 ] && cp "$f" text_proto/
done
# Plans: prefill, hierarchical train, micro-batches.
"$epsim" plan --model tiny-moe --tokens 16 --ep 2 --dispatch dedup -o plan_reader/dedup.plan 2>/dev/null
"$epsim" plan --model tiny-moe --tokens 16 --ep 4 --ranks-per-host 2 --dispatch hierarchical \
  --pass train -o plan_reader/train.plan 2>/dev/null
"$epsim" plan --model tiny-moe --tokens 16 --ep 2 --overlap micro-batches -o plan_reader/micro.plan 2>/dev/null
# CSV routes: the first byte picks the importer (even: dense-csv, odd:
# plain-csv), the rest is the file.
{ printf '\000'; cat <<'C'; } > import_csv/dense.csv
layer_id,token_id,expert_0,expert_1,expert_2,expert_3
3,0,0.5,0,0.3,0
3,1,0,0.6,0,0.2
3,2,0.1,0,0,0.7
C
{ printf '\001'; cat <<'C'; } > import_csv/plain.csv
layer,token,sequence,expert_0,expert_1,score_0,score_1
0,0,0,3,1,0.7,0.3
1,0,0,2,5,0.6,0.4
0,1,0,4,0,0.9,0.1
C
{ printf '\003'; cat <<'C'; } > import_csv/plain-noseq.csv
layer,token,expert_0,expert_1,score_0,score_1
2,7,1,2,0.5,0.5
C
# nccl-tests, nvidia-smi topo and p2pBandwidthLatencyTest logs: the
# published ones in ../shared when present (each parser finds its part of
# a log), and one of each written here.
if [ -d "$root/../shared/measurements" ]; then
  for d in nccl_tests_log smi_topo p2p_matrix; do
    find "$root/../shared/measurements" -type f -size -64k \( -name '*.txt' -o -name '*.log' \) \
      -exec cp {} "$d"/ \; 2>/dev/null || true
  done
fi
cat > smi_topo/pcie-x4.txt <<'T'
        GPU0    GPU1    GPU2    GPU3    CPU Affinity    NUMA Affinity
GPU0     X      PIX     PHB     PHB     0-31            0
GPU1    PIX      X      PHB     PHB     0-31            0
GPU2    PHB     PHB      X      PIX     0-31            0
GPU3    PHB     PHB     PIX      X      0-31            0

Legend:

  X    = Self
  SYS  = Connection traversing PCIe as well as the SMP interconnect between NUMA nodes (e.g., QPI/UPI)
  NODE = Connection traversing PCIe as well as the interconnect between PCIe Host Bridges within a NUMA node
  PHB  = Connection traversing PCIe as well as a PCIe Host Bridge (typically the CPU)
  PXB  = Connection traversing multiple PCIe bridges (without traversing the PCIe Host Bridge)
  PIX  = Connection traversing at most a single PCIe bridge
  NV#  = Connection traversing a bonded set of # NVLinks
T
cat > smi_topo/nvlink-x4.txt <<'T'
        GPU0    GPU1    GPU2    GPU3    NIC0    CPU Affinity    NUMA Affinity
GPU0     X      NV12    NV12    NV12    SYS     0-47            0
GPU1    NV12     X      NV12    NV12    SYS     0-47            0
GPU2    NV12    NV12     X      NV12    SYS     48-95           1
GPU3    NV12    NV12    NV12     X      SYS     48-95           1
NIC0    SYS     SYS     SYS     SYS      X

NIC Legend:

  NIC0: mlx5_0
T
cat > p2p_matrix/two.txt <<'T'
[P2P (Peer-to-Peer) GPU Bandwidth Latency Test]
Device: 0, NVIDIA GeForce RTX 2080 Ti, pciBusID: b4, pciDeviceID: 0, pciDomainID:0
Device: 1, NVIDIA GeForce RTX 2080 Ti, pciBusID: b5, pciDeviceID: 0, pciDomainID:0
Device=0 CANNOT Access Peer Device=1
Device=1 CANNOT Access Peer Device=0
P2P Connectivity Matrix
     D\D     0     1
     0	     1     0
     1	     0     1
Unidirectional P2P=Disabled Bandwidth Matrix (GB/s)
   D\D     0      1
     0 541.84   5.71
     1   5.72 542.10
P2P=Disabled Latency Matrix (us)
   GPU     0      1
     0   1.33  14.76
     1  14.82   1.35

   CPU     0      1
     0   3.55  11.08
     1  11.10   3.52
T
cat > nccl_tests_log/minimal.log <<'L'
# nThread 1 nGpus 1 minBytes 8 maxBytes 1024 step: 2(factor) warmup iters: 5 iters: 20 agg iters: 1 validation: 1 graph: 0
#
#                                                              out-of-place                       in-place
#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw #wrong
#        (B)    (elements)                               (us)  (GB/s)  (GB/s)            (us)  (GB/s)  (GB/s)
           8             2     float     sum      -1    10.00    0.00    0.00      0     9.00    0.00    0.00      0
        1024           256     float     sum      -1    12.00    0.09    0.15      0    11.00    0.09    0.16      0
# Out of bounds values : 0 OK
# Avg bus bandwidth    : 0.0775
L
