#!/usr/bin/env bash
# Output files of every epsim command (sim/base/output_file.h): a path
# whose directory is missing, or that is a directory, is refused with exit
# 2 naming the flag and the path *before* any input is read (each case also
# names a missing input, which would be exit 2 with another message if it
# were read first); '-' is stdout for -o (the same bytes as a file),
# refused for --csv and the like (exit 1), and refused for binary data on a
# terminal; /dev/null stays a device; a failed import leaves no file.
# Usage: output_paths_test.sh EPSIM
set -uo pipefail
epsim="$1"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
E="$epsim"
fail=0; cases=0
"$E" synth --model tiny-moe --tokens 64 -o t.trace 2>/dev/null || { echo "FAIL: set-up"; exit 1; }
mkdir adir
# refused WANT FLAG PATH -- COMMAND...: exit WANT, stderr names "FLAG PATH".
refused() {
  local want="$1" flag="$2" path="$3"; shift 4
  cases=$((cases + 1))
  "$@" > out 2> err; local rc=$?
  if [ "$rc" -ne "$want" ] || ! grep -qF -- "$flag $path" err || grep -q "missing" err; then
    echo "FAIL: $* -> exit $rc (want $want naming '$flag $path' and not the missing input):"
    sed 's/^/  /' err; fail=1
  fi
}
for bad in nodir/x adir; do
  refused 2 -o $bad            -- $E import missing.jsonl --num-experts 8 -o $bad
  refused 2 -o $bad            -- $E trace matrix missing.trace -o $bad
  refused 2 -o $bad            -- $E trace export missing.trace -o $bad
  refused 2 -o $bad            -- $E topo from-smi missing.txt -o $bad
  refused 2 -o $bad            -- $E synth --like missing.trace -o $bad
  refused 2 --save-params $bad -- $E synth --like missing.trace --save-params $bad
  refused 2 -o $bad            -- $E place --trace missing.trace -o $bad
  refused 2 -o $bad            -- $E plan --trace missing.trace -o $bad
  refused 2 --csv $bad         -- $E simulate --trace missing.trace --csv $bad
  refused 2 --timeline $bad    -- $E simulate --trace missing.trace --timeline $bad
  refused 2 -o $bad            -- $E calibrate --topology a6000-x4-pcie-gen4 missing.json -o $bad
  refused 2 --csv $bad         -- $E calibrate --topology a6000-x4-pcie-gen4 missing.json --csv $bad
done
grep -q "is a directory" err || { echo "FAIL: no 'is a directory' in: $(cat err)"; fail=1; }
touch afile
refused 2 -o afile/x -- $E plan --trace missing.trace -o afile/x
refused 1 --csv - -- $E simulate --trace missing.trace --csv -
refused 1 --timeline - -- $E simulate --trace missing.trace --timeline -
refused 1 --save-params - -- $E synth --like missing.trace --save-params -
refused 1 --csv - -- $E calibrate --topology a6000-x4-pcie-gen4 missing.json --csv -
# Before the work: a big simulation with a bad --csv path returns at once.
cases=$((cases + 1))
start=$(date +%s)
"$E" simulate --tokens 1000000 --csv nodir/r.csv > out 2> err; rc=$?
if [ "$rc" -ne 2 ] || grep -q simulated err || [ $(( $(date +%s) - start )) -gt 5 ]; then
  echo "FAIL: simulate --csv nodir/r.csv: exit $rc after $(( $(date +%s) - start )) s:"; cat err; fail=1
fi
# same WHAT FILE_A FILE_B: identical bytes.
same() {
  cases=$((cases + 1))
  if ! cmp -s "$2" "$3" || [ ! -s "$2" ]; then echo "FAIL: $1: $2 and $3 differ or are empty"; fail=1; fi
}
# -o -: stdout, the same bytes as a file.
"$E" synth --model tiny-moe --tokens 64 -o - > s1.trace 2>/dev/null
"$E" synth --model tiny-moe --tokens 64 -o s2.trace 2>/dev/null
same "synth -o -" s1.trace s2.trace
"$E" trace validate s1.trace > /dev/null || { echo "FAIL: synth -o - is no valid trace"; fail=1; }
"$E" trace export t.trace -o - > e1.jsonl; "$E" trace export t.trace -o e2.jsonl
same "trace export -o -" e1.jsonl e2.jsonl
"$E" import e2.jsonl -o - > i1.trace 2> import.err; "$E" import e2.jsonl -o i2.trace 2>/dev/null
same "import -o -" i1.trace i2.trace
grep -q "^epsim: wrote stdout:" import.err || { echo "FAIL: import -o - says: $(cat import.err)"; fail=1; }
"$E" trace matrix t.trace --ep 2 -o - > m1.txt 2>/dev/null; "$E" trace matrix t.trace --ep 2 > m2.txt 2>/dev/null
same "trace matrix -o -" m1.txt m2.txt
"$E" place --trace t.trace --ep 2 --algorithm occult -o - > p1.textproto 2> p1.err
"$E" place --trace t.trace --ep 2 --algorithm occult -o p2.textproto > p2.out 2>/dev/null
same "place -o -" p1.textproto p2.textproto
grep -q "^# epsim .* place" p1.err || { echo "FAIL: place -o -: the table is not on stderr"; fail=1; }
"$E" plan --model tiny-moe --tokens 64 --ep 2 -o - > q1.plan 2>/dev/null
"$E" plan --model tiny-moe --tokens 64 --ep 2 -o q2.plan 2>/dev/null
same "plan -o -" q1.plan q2.plan
# Binary data is not written to a terminal.
cases=$((cases + 1))
script -qec "$E synth --model tiny-moe --tokens 8 -o -" /dev/null > tty.out 2>&1; rc=$?
if [ "$rc" -ne 1 ] || ! grep -q "refusing to write binary data to a terminal" tty.out; then
  echo "FAIL: synth -o - on a terminal: exit $rc:"; cat tty.out; fail=1
fi
# A device is written in place, never renamed over.
cases=$((cases + 1))
"$E" import e2.jsonl -o /dev/null 2>/dev/null; rc=$?
if [ "$rc" -ne 0 ] || [ ! -c /dev/null ]; then echo "FAIL: import -o /dev/null: exit $rc"; fail=1; fi
# A failed import leaves neither the output nor a temporary.
cases=$((cases + 1))
mkdir partial
{ head -200 e2.jsonl; echo '{"type": "route", "req_id": 0, "token_idx": 999, "layer": 0, "topk_ids": [99, 1, 2, 3], "topk_weights": [0.4, 0.3, 0.2, 0.1]}'; } > partial.jsonl
"$E" import partial.jsonl -o partial/x.trace 2> err; rc=$?
if [ "$rc" -ne 2 ] || [ -n "$(ls -A partial)" ]; then
  echo "FAIL: failed import: exit $rc, left: $(ls -A partial); $(cat err)"; fail=1
fi
[ "$fail" -eq 0 ] && echo "ok: $cases output path cases"
exit "$fail"
