#!/usr/bin/env bash
# Seed corpora of the fuzz targets, made by epsim itself (nothing is checked
# in): OUT/<target>/ for each target of tests/fuzz/.
# Usage: make_corpus.sh EPSIM OUT
set -euo pipefail
epsim="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
out="$2"
root="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$out"/{trace_reader,import_jsonl,text_proto,plan_reader,nccl_tests_log}
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
# nccl-tests logs: the published ones in ../shared when present, and one
# table written here.
if [ -d "$root/../shared/measurements" ]; then
  find "$root/../shared/measurements" -type f -size -64k \( -name '*.txt' -o -name '*.log' \) \
    -exec cp {} nccl_tests_log/ \; 2>/dev/null || true
fi
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
