#!/usr/bin/env bash
# Outputs are deterministic across processes and working directories: the
# same command with the same inputs and seed, run twice from two folders
# (inputs given by relative paths), writes the same bytes.
# Usage: determinism_test.sh EPSIM
set -uo pipefail
epsim="$1"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
fail=0
mkdir -p "$tmp/a/deep/er" "$tmp/b"
for dir in a/deep/er b; do
  (
    cd "$tmp/$dir" || exit 1
    "$epsim" synth --model tiny-moe --tokens 256 --routing structured --seed 5 -o t.trace
    "$epsim" simulate --trace t.trace --dispatch classical,dedup,pruned:2:score --format json \
      --csv r.csv --timeline r.timeline.json > r.json
    "$epsim" plan --trace t.trace --ep 4 --dispatch dedup -o p.plan
    "$epsim" stats --trace t.trace --ep 4 --json --matrices > s.json
    "$epsim" trace export t.trace -o t.jsonl
  ) 2> "$tmp/err.$(basename "$dir")" || { echo "FAIL: a run in $dir failed:"; cat "$tmp/err.$(basename "$dir")"; fail=1; }
done
for f in t.trace r.json r.csv r.timeline.json p.plan s.json t.jsonl; do
  if ! cmp -s "$tmp/a/deep/er/$f" "$tmp/b/$f"; then
    echo "FAIL: $f differs between two runs from two folders"; fail=1
  fi
  [ -s "$tmp/b/$f" ] || { echo "FAIL: $f is empty"; fail=1; }
done
exit $fail
