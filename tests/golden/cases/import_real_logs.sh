# Routing logs as real tools write them: a vLLM per-batch logger (token_idx
# restarts at 0 with every batch: a prefill of 6 tokens, then 3 decode steps
# of 2 sequences; req_id the same for the whole run) without scores, gzip
# compressed and read from standard input; then what the trace holds, a
# simulation with a strategy that needs no scores, and one that does.
cd "$TMP" || exit
python3 - >log.jsonl <<'PY'
import json
print(json.dumps({"type": "meta", "model": "tiny-moe", "num_experts": 16, "top_k": 4}))
row = 0
for batch, size in enumerate([6, 2, 2, 2]):
    for layer in range(4):
        for t in range(size):
            ids = [(row * 5 + j * 3) % 16 for j in range(4)]
            print(json.dumps({"type": "route", "req_id": "run", "token_idx": t, "layer": layer,
                              "topk_ids": ids}))
            row += 1
PY
gzip -n log.jsonl
echo "== import - < log.jsonl.gz"
"$EPSIM" import - -o ids.trace <log.jsonl.gz 2>&1
echo "== strict: the first repeat is an error"
gzip -dc log.jsonl.gz | "$EPSIM" import - --repeats error -o strict.trace 2>&1
echo "exit $?; left behind: $(ls strict.trace 2>/dev/null)"
echo "== trace show"
"$EPSIM" trace show ids.trace --records 3 --tokens 2
"$EPSIM" trace validate ids.trace
echo "== simulate, dedup"
"$EPSIM" simulate --trace ids.trace --topology a6000-x4-pcie-gen4 --ep 4 --dispatch dedup --format csv 2>&1 | grep -E "note|^strategy|^dedup,contiguous,0,attention"
echo "== simulate, pruned by score"
"$EPSIM" simulate --trace ids.trace --topology a6000-x4-pcie-gen4 --ep 4 --dispatch pruned:2:score 2>&1
echo "exit $?"
