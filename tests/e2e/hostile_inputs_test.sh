#!/usr/bin/env bash
# Hostile inputs (never a crash, never a lie): each case makes its own
# bad file in a scratch folder and expects a clear message naming the
# figure or the file, a non-zero exit (no SimGrid abort, no uncaught
# exception) and no output file. Usage: hostile_inputs_test.sh EPSIM
set -uo pipefail
epsim="$1"
root="$(cd "$(dirname "$0")/../.." && pwd)"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
E="$epsim"
fail=0; cases=0
# expect WANT WORDS -- COMMAND...: exit WANT and stderr contains WORDS.
expect() {
  local want="$1" words="$2"; shift 3
  cases=$((cases + 1))
  "$@" > out 2> err; local rc=$?
  if [ "$rc" -ne "$want" ] || ! grep -qF -- "$words" err; then
    echo "FAIL: $* -> exit $rc (want $want, stderr with '$words'):"; sed 's/^/  /' err; fail=1
  fi
}
topo="$root/topologies/a6000-x4-pcie-gen4.textproto"
edit() {  # edit OUT SED-EXPRESSION: a copy of the 4 x A6000 topology, changed once
  sed "$2" "$topo" > "$1"
  cmp -s "$1" "$topo" && { echo "FAIL: set-up: $2 changed nothing"; fail=1; }
}
# 1. Non-finite and implausible topology figures, named with their range,
#    in simulate and bench alike (SimGrid used to abort with exit 134).
edit lat.textproto '0,/latency_us: [0-9.]*/s//latency_us: inf/'
edit bw.textproto '0,/^\( *\)bw_gb_per_s: [0-9.]*/s//\1bw_gb_per_s: 1e-300/'
edit flops.textproto 's/peak_flops: [0-9.e+]*/peak_flops: 1e-300/'
expect 2 "latency_us inf outside [0, 100000] us" -- $E simulate --topology lat.textproto --tokens 64
expect 2 "latency_us inf outside" -- $E bench alltoall --topology lat.textproto
expect 2 "bw_gb_per_s 1e-300 outside [1e-06, 2000] GB/s" -- $E simulate --topology bw.textproto --tokens 64
# 2. A rate SimGrid cannot advance time with is refused before the engine
#    (and a run the engine cut short is an error, never a table of zeros).
expect 2 "gpu.peak_flops 1e-300 outside [1e+06, 1e+16] FLOP/s" -- $E simulate --topology flops.textproto --tokens 64
# 3. Sizes that would make a reader allocate without bound, refused first.
printf '{"layer": 0, "experts": [1, 2], "gating_probs": [0.6, 0.4]}\n' > two.jsonl
expect 1 "--num-experts 100000 is above 8192" -- $E import two.jsonl --num-experts 100000 -o big.trace
[ -e big.trace ] && { echo "FAIL: a refused import left big.trace"; fail=1; }
#    A log numbering every line a new layer: layer ids stop at 4095, so what
#    import and readers keep per layer stays bounded.
python3 -c 'import sys
for i in range(5000): sys.stdout.write("{\"layer\": %d, \"experts\": [1, 2]}\n" % i)' > layers.jsonl
expect 2 "layers.jsonl:4097: layer 4096 is above 4095, the largest layer id a trace may hold" -- \
  $E import layers.jsonl --num-experts 8 -o layers.trace
[ -e layers.trace ] && { echo "FAIL: a refused import left layers.trace"; fail=1; }
"$E" synth --model tiny-moe --tokens 64 -o t.trace 2>/dev/null &&
  "$E" place --trace t.trace --ep 4 --algorithm contiguous -o p.textproto > /dev/null 2>&1 ||
  { echo "FAIL: set-up: place"; fail=1; }
sed 's/^num_ranks: .*/num_ranks: 4000000000/' p.textproto > pbig.textproto
grep -q "^num_ranks: 4000000000" pbig.textproto || { echo "FAIL: set-up: placement"; fail=1; }
expect 2 "num_ranks 4000000000: at most 8192 experts and 65536 ranks" -- \
  $E simulate --placement pbig.textproto --tokens 64
# 6. A failed write to standard output is an error, not a success.
cases=$((cases + 1))
$E simulate --tokens 64 > /dev/full 2> err; rc=$?
if [ $rc -ne 2 ] || ! grep -q "standard output: write failed: No space left on device" err; then
  echo "FAIL: simulate > /dev/full -> exit $rc:"; sed 's/^/  /' err; fail=1
fi
# 9. Sizes whose products would wrap 64 bits.
sed 's/^hidden: .*/hidden: 4000000000/' "$root/models/tiny-moe.textproto" > huge.textproto
expect 2 "hidden 4000000000 is above 1048576" -- $E simulate --model huge.textproto --tokens 64
# 7. An output that is an input, or another output, is refused; the input
#    stays as it was.
cp t.trace keep.trace
printf '{"layer": 0, "experts": [1, 2], "gating_probs": [0.6, 0.4]}\n' > same.jsonl
cp same.jsonl keep.jsonl
expect 1 "same.jsonl is also the output -o same.jsonl" -- $E import same.jsonl --num-experts 8 -o same.jsonl
expect 1 "t.trace is also the output -o t.trace" -- $E trace export t.trace -o t.trace
expect 1 "t.trace is also the output -o t.trace" -- $E synth --like t.trace -o t.trace
expect 1 "t.trace is also the output --csv t.trace" -- $E simulate --trace t.trace --csv t.trace
expect 1 "--timeline F.csv is the same file as --csv F.csv" -- \
  $E simulate --trace t.trace --csv F.csv --timeline F.csv
ln -s t.trace alias.trace
expect 1 "t.trace is also the output --csv alias.trace" -- $E simulate --trace t.trace --csv alias.trace
cmp -s t.trace keep.trace || { echo "FAIL: an input trace was overwritten"; fail=1; }
cmp -s same.jsonl keep.jsonl || { echo "FAIL: an input log was overwritten"; fail=1; }
[ -e F.csv ] && { echo "FAIL: a refused run left F.csv"; fail=1; }
# 5. A symlink output is written through: the link stays, its target holds
#    the result.
ln -s real.csv link.csv
cases=$((cases + 1))
$E simulate --trace t.trace --csv link.csv > /dev/null 2> err
if [ ! -L link.csv ] || ! grep -q "classical" real.csv; then
  echo "FAIL: --csv through a symlink:"; ls -l link.csv real.csv; sed 's/^/  /' err; fail=1
fi
# 11. A directory given where a file is expected says so.
mkdir adir
expect 2 "adir: is a directory, not a file" -- $E simulate --topology adir --tokens 64
expect 2 "adir: is a directory, not a file" -- $E simulate --model adir --tokens 64
expect 2 "adir: is a directory, not a file" -- $E simulate --placement adir --tokens 64
# 8. An interrupted import removes its temporary (SIGTERM, SIGINT); one a
#    killed run left behind (its process gone) is removed by the next run.
cat > slow.py <<'PY'
import sys, time
line = '{"layer": 0, "experts": [1, 2], "gating_probs": [0.6, 0.4]}\n' * 20000
for _ in range(400):
    try:
        sys.stdout.write(line); sys.stdout.flush()
    except BrokenPipeError:
        break
    time.sleep(0.02)
PY
for sig in TERM INT; do
  cases=$((cases + 1))
  rm -f int.trace*
  # (A background job of a script starts with SIGINT ignored, which epsim
  # keeps, as nohup asks; restore the default first.)
  python3 slow.py 2>/dev/null | python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$E" import - --num-experts 8 -o int.trace 2>/dev/null &
  for _ in $(seq 50); do ls int.trace.tmp.* > /dev/null 2>&1 && break; sleep 0.1; done
  ls int.trace.tmp.* > /dev/null 2>&1 || { echo "FAIL: SIG$sig: no temporary to interrupt"; fail=1; }
  pkill -"$sig" -f -- "import - --num-experts 8 -o int.trace"
  wait
  if ls int.trace* > /dev/null 2>&1; then
    echo "FAIL: SIG$sig left:"; ls int.trace*; fail=1
  fi
done
cases=$((cases + 1))
dead=$(sh -c 'echo $$')  # a process that has ended
printf 'stale' > "t2.trace.tmp.$dead"
"$E" synth --model tiny-moe --tokens 64 -o t2.trace 2>/dev/null
[ -e "t2.trace.tmp.$dead" ] && { echo "FAIL: the stale temporary of pid $dead stayed"; fail=1; }
[ -e t2.trace ] || { echo "FAIL: synth wrote no t2.trace"; fail=1; }
# 4. Rows break the same invariants for the writer as for every reader:
#    scores out of order or negative never reach a trace.
printf '{"layer": 0, "experts": [1, 2], "gating_probs": [0.4, 0.6]}\n' > ooo.jsonl
printf '{"layer": 0, "experts": [1, 2], "gating_probs": [0.6, -0.4]}\n' > neg.jsonl
expect 2 "selected scores not descending: 0.4 then 0.6" -- $E import ooo.jsonl --num-experts 8 -o ooo.trace
expect 2 "score 1 is -0.4" -- $E import neg.jsonl --num-experts 8 -o neg.trace
[ -e ooo.trace ] || [ -e neg.trace ] && { echo "FAIL: a refused import wrote a trace"; fail=1; }
# 10. Flags that would silently override each other: a usage error naming both.
expect 1 "--tokens 5 sizes the synthetic trace, but --trace t.trace" -- $E simulate --trace t.trace --tokens 5
expect 1 "--json and --format csv contradict" -- $E stats --trace t.trace --json --format csv
expect 1 "--like and --params both give the routing" -- $E synth --like t.trace --params p.json -o s.trace
expect 1 "--routing uniform and --like" -- $E synth --like t.trace --routing uniform -o s.trace
expect 1 "--layers 99: model mixtral-8x7b has MoE layers 0..31" -- \
  $E synth --model mixtral-8x7b --layers 99 -o s.trace
[ -e s.trace ] && { echo "FAIL: a refused synth wrote s.trace"; fail=1; }
# A run whose --timeline cannot be written leaves no --csv either.
expect 2 "/dev/full: write failed" -- $E simulate --tokens 64 --csv half.csv --timeline /dev/full
[ -e half.csv ] && { echo "FAIL: a failed run left half.csv"; fail=1; }
ls half.csv.tmp.* > /dev/null 2>&1 && { echo "FAIL: a failed run left a temporary"; fail=1; }
# 11. Messages that name the right thing: an output name too long for the
#     file system is the output's error, not the input's line 1; a topology
#     whose pairs need host shared memory without a CPU names its file.
long="$(printf 'a%.0s' $(seq 248)).trace"
expect 2 "-o $long: file name too long" -- $E import two.jsonl --num-experts 8 -o "$long"
grep -q "two.jsonl:1" err && { echo "FAIL: the output's error is blamed on the input"; fail=1; }
grep -v 'name: "cpu0"' "$topo" | python3 -c 'import re, sys
text = sys.stdin.read()
print(re.sub(r"links \{\s*name: \"rc0-cpu0\".*?\n\}\n", "", text, flags=re.S), end="")' > nocpu.textproto
grep -q 'b: "cpu0"\|name: "cpu0"' nocpu.textproto && { echo "FAIL: set-up: cpu0 still in nocpu.textproto"; fail=1; }
expect 2 "nocpu.textproto: topology a6000-x4-pcie-gen4: GPUs 'gpu0' -> 'gpu1' need host shared memory" -- \
  $E simulate --topology nocpu.textproto --tokens 64
echo "$cases cases"
exit $fail
