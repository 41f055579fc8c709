#!/usr/bin/env bash
# The per-phase closed form (replay.h) against SimGrid solving every phase
# task: the same report, figure for figure, on PCIe boxes (host-memory
# links shared by SHM pairs), a 2-node box and an 8-node H100 cluster, with
# and without overlap; it fires on every all-to-all these plans order.
# Usage: closed_form_test.sh EPSIM
set -uo pipefail
E="$1"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fail=0
no() { echo "FAIL: $*"; fail=1; }

"$E" synth --model deepseek-v3 --tokens 4096 --layers 3,4,5 -o ds.trace 2>/dev/null || no "synth ds"
"$E" synth --model olmoe-1b-7b --tokens 2048 --routing fitted -o olmoe.trace 2>/dev/null || no "synth olmoe"
check() {  # name, then simulate's arguments
  local name=$1; shift
  for cf in on off; do
    "$E" simulate "$@" --granularity phase --closed-form $cf --format json >"$name-$cf.json" 2>"$name-$cf.err" \
      || { no "$name --closed-form $cf: exit $?"; cat "$name-$cf.err"; return; }
  done
  # Everything but the closed-form settings must agree.
  python3 - "$name-on.json" "$name-off.json" <<'PY' || no "$name: on and off differ"
import json, sys
def strip(path):
    d = json.load(open(path))
    ctx = d["context"]
    for run in ctx.get("runs", []) + [ctx]:
        for k in ("closed_form", "closed_form_phases"):
            run.get("settings", {}).pop(k, None)
    return d
# Figures agree to 1e-12 relative (plus 1e-9 us, a femtosecond, for
# differences of clock readings such as waits): the closed form's
# arithmetic is not SimGrid's solver's, which can move the last bits.
def same(x, y, where):
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(same(x[k], y[k], where + "/" + k) for k in x)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(same(p, q, f"{where}[{i}]") for i, (p, q) in enumerate(zip(x, y)))
    if isinstance(x, float) or isinstance(y, float):
        ok = abs(x - y) <= 1e-12 * max(abs(x), abs(y)) + 1e-9  # us: differences of clocks

    else:
        ok = x == y
    if not ok:
        print(f"{where}: {x} vs {y}")
    return ok
sys.exit(0 if same(strip(sys.argv[1]), strip(sys.argv[2]), "") else 1)
PY
}
check pcie8 --trace olmoe.trace --topology a6000-x8-2socket --dispatch classical,dedup,pruned:2:score
check twonode --trace olmoe.trace --topology a6000-2node-x8-100g --ep 16 --dispatch classical,dedup
check cluster --trace ds.trace --model deepseek-v3 --topology h100-cluster-8node --ep 64 --dispatch dedup,hierarchical
check scmoe --trace ds.trace --model deepseek-v3 --topology h100-cluster-8node --ep 64 --dispatch dedup --overlap scmoe
check micro --trace ds.trace --model deepseek-v3 --topology h100-cluster-8node --ep 64 --dispatch dedup --overlap micro-batches

# Fires on the plain pass: every all-to-all in closed form.
grep -q '"closed_form_phases": "\([0-9]*\) of \1 all-to-all' cluster-on.json || no "cluster: not every phase in closed form"
grep -q '"closed_form_phases": "0 of' cluster-off.json || no "cluster off: some phase in closed form"
# Two micro-batches share each rank's communication stream: their
# all-to-alls are ordered too. Phases that may overlap are left to SimGrid:
# NetworkClosedFormTest.PhasesThatMayOverlapGoToSimGrid.
grep -q '"closed_form_phases": "12 of 12 all-to-all' micro-on.json || no "micro-batches: $(grep -o '"closed_form_phases": "[^"]*"' micro-on.json | head -1)"
exit $fail
