#!/usr/bin/env bash
# The exit codes of README.md ("Exit codes") for every command: each choice
# flag given a value outside its choices, each number flag a word, SimGrid's
# pass-through flags a key SimGrid lacks: exit 1 (usage), one line naming
# the flag; each input file missing: exit 2 naming the file. Never 4 (an
# internal error) and never a dump. Usage: exit_codes_test.sh EPSIM EPSIM_HW
set -uo pipefail
epsim="$1"; hw="${2:-}"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
"$epsim" synth --model tiny-moe --tokens 64 -o t.trace 2>/dev/null || { echo "FAIL: set-up synth"; exit 1; }
"$epsim" simulate --trace t.trace --ep 2 --format json > r.json 2>/dev/null || { echo "FAIL: set-up simulate"; exit 1; }
fail=0; cases=0
# expect CODE NEEDLE -- COMMAND...: exit CODE, stderr holds NEEDLE, at most 3 lines.
expect() {
  local want="$1" needle="$2"; shift 3
  cases=$((cases + 1))
  "$@" > out 2> err < /dev/null
  local rc=$?
  # mpirun's own banner after a failed rank (between dashed lines) is not epsim's to count.
  local lines; lines="$(awk '/^-+$/ { banner = !banner; next } !banner' err | wc -l)"
  if [ "$rc" -ne "$want" ] || ! grep -qF -- "$needle" err || [ "$lines" -gt 3 ]; then
    echo "FAIL: $* -> exit $rc (want $want, stderr with '$needle', <= 3 lines):"
    head -5 err | sed 's/^/  /'; fail=1
  fi
}
E="$epsim"
# --- usage (1): bad choices, bad numbers, unknown flags, SimGrid keys ---
expect 1 "--shape"          -- $E import t.jsonl -o x.trace --shape bogus
expect 1 "--format"         -- $E import t.jsonl -o x.trace --format xml
expect 1 "--unit"           -- $E trace matrix t.trace --unit MiB
expect 1 "dispatch"         -- $E trace matrix t.trace --dispatch bogus
expect 1 "harness does not execute Luffy" -- $E plan --trace t.trace --ep 2 --dispatch luffy:2:4 -o x.plan
expect 1 "KV cache"         -- $E simulate --trace t.trace --ep 2 --dispatch luffy:2:4 --pass decode
expect 1 "luffy:Q:C"        -- $E compare --trace t.trace --ep 2 --dispatch luffy:2
expect 1 "--format"         -- $E trace export t.trace -o x.jsonl --format xml
expect 1 "--p2p"            -- $E topo show a6000-x4-pcie-gen4 --p2p maybe
expect 1 "--cpu-vendor"     -- $E topo from-smi smi.txt --cpu-vendor via
expect 1 "--pcie-gen"       -- $E topo from-smi smi.txt --pcie-gen 7
expect 1 "--p2p"            -- $E topo from-smi smi.txt --p2p maybe
expect 1 "--routing"        -- $E synth -o x.trace --routing bogus
expect 1 "--tokens"         -- $E synth -o x.trace --tokens many
expect 1 "--format"         -- $E stats --trace t.trace --format xml
expect 1 "--ep"             -- $E stats --trace t.trace --ep 0
expect 1 "placement 'bogus'" -- $E stats --trace t.trace --placement bogus
expect 1 "--algorithm"      -- $E place --trace t.trace --algorithm bogus -o p.textproto
expect 1 "dispatch"         -- $E plan --model tiny-moe --dispatch bogus -o x.plan
expect 1 "placement 'contigous'" -- $E plan --model tiny-moe --placement contigous -o x.plan
expect 1 "--format"         -- $E simulate --format xml
expect 1 "--p2p"            -- $E simulate --p2p maybe
expect 1 "--granularity"    -- $E simulate --granularity coarse
expect 1 "--max-inflight"   -- $E simulate --max-inflight -3
expect 1 "dispatch"         -- $E simulate --dispatch classical,bogus
expect 1 "--no-such-flag"   -- $E simulate --no-such-flag
expect 1 "no configuration key 'network/TCP-gama'; did you mean 'network/TCP-gamma'" \
                            -- $E simulate --cfg=network/TCP-gama:3
expect 1 "Model 'nope' is invalid" -- $E simulate --cfg=host/model:nope
expect 1 "--log=nonsense"   -- $E simulate --log=nonsense
expect 1 "simulates nothing" -- $E stats --trace t.trace --cfg=network/TCP-gamma:3
expect 1 "--format"         -- $E compare --format xml
expect 1 "--p2p"            -- $E compare --p2p maybe
expect 1 "placement 'bogus'" -- $E compare --model tiny-moe --tokens 64 --placements bogus
expect 1 "--by"             -- $E diff r.json r.json --by phase
expect 1 "--format"         -- $E diff r.json r.json --format xml
expect 1 "--holdout"        -- $E calibrate --topology a6000-x4-pcie-gen4 r.json --holdout every-third
expect 1 "--p2p"            -- $E calibrate --topology a6000-x4-pcie-gen4 r.json --p2p maybe
expect 1 "no configuration key" -- $E calibrate --topology a6000-x4-pcie-gen4 r.json --cfg=bogus:1
expect 1 "op"               -- $E bench alltoallw
expect 1 "--algo"           -- $E bench allreduce --algo tree
expect 1 "--format"         -- $E bench sendrecv --format xml
expect 1 "--p2p"            -- $E bench sendrecv --p2p maybe
expect 1 "bad size '3X'"    -- $E bench sendrecv -b 3X
expect 1 "unknown command 'simulat'" -- $E simulat
# --- bad input (2): a missing input file is named ---
expect 2 "missing.jsonl"    -- $E import missing.jsonl -o x.trace --num-experts 8
expect 2 "model 'no-such-model'" -- $E import t.jsonl -o x.trace --model no-such-model
expect 2 "missing.trace"    -- $E trace show missing.trace
expect 2 "missing.trace"    -- $E trace validate missing.trace
expect 2 "missing.trace"    -- $E trace matrix missing.trace
expect 2 "missing.trace"    -- $E trace export missing.trace -o x.jsonl
expect 2 "missing.textproto" -- $E topo show missing.textproto
expect 2 "topology 'no-such-topology'" -- $E topo check no-such-topology
expect 2 "missing.txt"      -- $E topo from-smi missing.txt
expect 2 "missing.trace"    -- $E synth --like missing.trace -o x.trace
expect 2 "missing.json"     -- $E synth --params missing.json -o x.trace
expect 2 "missing.json"     -- $E synth --load missing.json -o x.trace
expect 2 "model 'no-such-model'" -- $E synth --model no-such-model -o x.trace
expect 2 "missing.trace"    -- $E stats --trace missing.trace
expect 2 "missing.textproto" -- $E stats --trace t.trace --placement missing.textproto
expect 2 "missing.trace"    -- $E place --trace missing.trace -o p.textproto
expect 2 "topology 'no-such-topology'" -- $E place --trace t.trace --topology no-such-topology -o p.textproto
expect 2 "missing.trace"    -- $E plan --trace missing.trace -o x.plan
expect 2 "missing.trace"    -- $E plan --model tiny-moe --profile missing.trace --dispatch c2r:4 -o x.plan
expect 2 "missing.json"     -- $E plan --model tiny-moe --similarity missing.json --dispatch pruned:2:similarity -o x.plan
expect 2 "missing.trace"    -- $E simulate --trace missing.trace
expect 2 "model 'no-such-model'" -- $E simulate --model no-such-model
expect 2 "missing.textproto" -- $E simulate --topology missing.textproto
expect 2 "missing.trace"    -- $E compare --trace missing.trace
expect 2 "missing.json"     -- $E diff missing.json r.json
expect 2 "missing.json"     -- $E calibrate --topology a6000-x4-pcie-gen4 missing.json
expect 2 "missing.textproto" -- $E calibrate --topology missing.textproto r.json
expect 2 "missing.txt"      -- $E bench alltoallv --matrix missing.txt
expect 2 "topology 'no-such-topology'" -- $E bench sendrecv --topology no-such-topology
# --- epsim-hw: flags are parsed before MPI starts ---
if [ -n "$hw" ]; then
  expect 1 "--format"       -- $hw run --format xml
  expect 1 "--backend"      -- $hw run --backend gpu
  expect 1 "op"             -- $hw bench alltoallw
  expect 1 "--format"       -- $hw bench sendrecv --format xml
  expect 1 "--passes"       -- $hw topo --passes 0
  if command -v mpirun > /dev/null; then  # input files are read once MPI is up
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    M=(mpirun --oversubscribe --bind-to none -np 1)
    expect 2 "missing.plan"  -- "${M[@]}" $hw run --plan missing.plan
    expect 2 "missing.trace" -- "${M[@]}" $hw run --trace missing.trace --ep 1
    expect 2 "model 'no-such-model'" -- "${M[@]}" $hw run --model no-such-model --ep 1
    expect 2 "model 'no-such-model'" -- "${M[@]}" $hw bench gemm --model no-such-model
  fi
fi
[ "$cases" -ge 70 ] || { echo "FAIL: only $cases cases ran"; fail=1; }
[ "$fail" -eq 0 ] && echo "ok: $cases command lines give the documented exit codes"
exit "$fail"
