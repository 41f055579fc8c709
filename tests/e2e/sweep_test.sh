#!/usr/bin/env bash
# epsim sweep end to end: a sweep file's grid in parallel into one table;
# a rerun resumes (nothing simulated again, the same bytes), a table missing
# some points runs only those and ends byte-identical to a run at once, -j 1
# and -j 2 agree, json resumes as csv does; job arrays (--emit-commands,
# --emit-slurm, --job, --merge) rebuild the same table; a bad sweep file is
# exit 2 naming the file and line, a bad flag value exit 1, and a point
# that fails stops the sweep naming the point.
# Usage: sweep_test.sh EPSIM
set -uo pipefail
E="$1"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fail=0
no() { echo "FAIL: $*"; fail=1; }

cat > grid.txt <<'G'
# two token counts x two strategies on the 4-GPU box
model    = tiny-moe
tokens   = 256, 512        # synthetic routing
dispatch = classical, dedup
G
"$E" sweep grid.txt --topology a6000-x4-pcie-gen4 -j 2 -o out.csv > console.txt 2> err.txt \
  || { no "first run: exit $?"; cat err.txt; }
grep -q "4 points: 4 simulated in 2 simulations" err.txt || no "summary: $(tail -1 err.txt)"
[ "$(grep -c ',total,' out.csv)" -eq 4 ] || no "4 total rows expected"
head -1 out.csv | grep -q '^model,trace,tokens,seed,topology,calibrated,ep,placement,dispatch,pass,overlap,context,p2p,phase,time_us,span_us,bytes,devices_per_token,speedup$' \
  || no "header: $(head -1 out.csv)"
grep -q "^# model: tiny-moe" console.txt || no "console names the shared model"
grep -qE "^ *512 +dedup" console.txt || no "console row of 512 dedup"
# classical's speedup is 1; dedup's is classical's time / its own.
awk -F, '$14=="total" && $9=="classical" && $19!="1.0000" {exit 1}' out.csv || no "classical speedup"

cp out.csv first.csv
"$E" sweep grid.txt --topology a6000-x4-pcie-gen4 -j 2 -o out.csv > /dev/null 2> err.txt || no "rerun: exit $?"
grep -q "4 points: 0 simulated in 0 simulations, 4 from out.csv" err.txt || no "resume: $(tail -1 err.txt)"
cmp -s out.csv first.csv || no "resumed table differs"

# A table missing one job's rows (an interrupted run): only that job runs.
grep -v ',512,' first.csv > out.csv
"$E" sweep grid.txt --topology a6000-x4-pcie-gen4 -o out.csv > /dev/null 2> err.txt || no "partial: exit $?"
grep -q "4 points: 2 simulated in 1 simulations, 2 from out.csv" err.txt || no "partial: $(tail -1 err.txt)"
cmp -s out.csv first.csv || no "resumed partial table differs from one run at once"
"$E" sweep grid.txt --topology a6000-x4-pcie-gen4 -j 1 --no-resume -o j1.csv 2>/dev/null || no "-j 1"
cmp -s j1.csv first.csv || no "-j 1 and -j 2 differ"

# json: same rows; resumes from json too.
"$E" sweep grid.txt --topology a6000-x4-pcie-gen4 -o out.json 2>/dev/null || no "json: exit $?"
"$E" sweep grid.txt --topology a6000-x4-pcie-gen4 -o out.json 2> err.txt >/dev/null || no "json rerun"
grep -q "0 simulated" err.txt || no "json resume: $(tail -1 err.txt)"
"$E" sweep grid.txt --topology a6000-x4-pcie-gen4 --merge out.json --format csv 2>/dev/null > merged.csv
cmp -s merged.csv first.csv || no "csv from a json table differs"

# Job arrays: one command per job; the parts merge to the same table.
"$E" sweep grid.txt --topology a6000-x4-pcie-gen4 --emit-commands > cmds.txt || no "emit-commands"
[ "$(wc -l < cmds.txt)" -eq 2 ] || no "2 commands expected: $(cat cmds.txt)"
grep -q -- "--job 1 -o job-1.csv" cmds.txt || no "command of job 1: $(cat cmds.txt)"
"$E" sweep grid.txt --topology a6000-x4-pcie-gen4 --emit-slurm array.sbatch 2>/dev/null || no "emit-slurm"
grep -q "^#SBATCH --array=0-1$" array.sbatch || no "slurm array range"
bash cmds.txt >/dev/null 2>&1 || no "running the emitted commands"
"$E" sweep grid.txt --topology a6000-x4-pcie-gen4 --merge job-0.csv job-1.csv -o all.csv 2> err.txt >/dev/null
grep -q "0 simulated" err.txt || no "merge ran points again: $(tail -1 err.txt)"
cmp -s all.csv first.csv || no "merged job array table differs"
"$E" sweep grid.txt --topology a6000-x4-pcie-gen4 --job 2 2> err.txt; rc=$?
[ $rc -eq 1 ] && grep -q "jobs 0..1" err.txt || no "--job out of range: exit $rc $(cat err.txt)"

# EP sizes beyond a topology's GPUs are left out, with a note.
"$E" sweep --model tiny-moe --tokens 256 --ep 2,8 --topology a6000-x4-pcie-gen4 2> err.txt > /dev/null \
  || no "ep 8 on 4 GPUs: exit $?"
grep -q "left out ep 8 on a6000-x4-pcie-gen4 (4 GPUs)" err.txt || no "left-out note: $(cat err.txt)"

# Bad sweep files: exit 2, the file and line; nothing written.
bad() {  # bad WANT_RC MESSAGE -- FILE_CONTENT
  printf '%b' "$4" > bad.txt
  "$E" sweep bad.txt -o bad.csv > /dev/null 2> err.txt; local rc=$?
  { [ $rc -eq "$1" ] && grep -qF -- "$2" err.txt && [ ! -e bad.csv ]; } \
    || { no "bad file '$4': exit $rc, $(cat err.txt)"; }
}
bad 2 "bad.txt:3: unknown key 'modle' (did you mean 'model'?)" -- "# c\ntokens = 256\nmodle = tiny-moe\n"
bad 2 "bad.txt:1: tokens 'abc' is not an unsigned integer" -- "tokens = 256, abc\n"
bad 2 "bad.txt:2: 'tokens' is already given at bad.txt:1" -- "tokens = 256\ntokens = 512\n"
bad 2 "bad.txt:1: expected 'key = value, ...'" -- "tokens 256\n"
bad 2 "bad.txt:1: empty value" -- "dispatch = classical,,dedup\n"
bad 2 "bad.txt:1" -- "dispatch = nonsense\n"
bad 2 "bad.txt:1" -- "topology = no-such-topology\n"
"$E" sweep --tokens 12x 2> err.txt; rc=$?
[ $rc -eq 1 ] && grep -q -- "--tokens: tokens '12x'" err.txt || no "bad flag value: exit $rc $(cat err.txt)"
"$E" sweep --no-such-flag 2>/dev/null; [ $? -eq 1 ] || no "unknown flag"
# A table that is not a sweep table is refused, naming it and its line.
printf 'a,b\n1,2\n' > other.csv
"$E" sweep grid.txt --topology a6000-x4-pcie-gen4 -o other.csv 2> err.txt; rc=$?
[ $rc -eq 2 ] && grep -q "other.csv:1: not an epsim sweep table" err.txt || no "foreign -o: $rc $(cat err.txt)"

# A point that fails (a trace that is not one) stops the sweep, naming it.
echo garbage > bad.trace
"$E" sweep --trace bad.trace --dispatch classical -o f.csv 2> err.txt; rc=$?
[ $rc -eq 2 ] && grep -q "point (trace bad.trace" err.txt || no "failing point: exit $rc $(cat err.txt)"
[ ! -e f.csv ] || no "a failed sweep with no finished point wrote a table"

[ $fail -eq 0 ] && echo "sweep_test: ok"
exit $fail
