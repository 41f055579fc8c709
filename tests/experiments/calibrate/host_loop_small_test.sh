#!/usr/bin/env bash
# The calibration loop of experiments/calibrate/run_host.sh, small (--small:
# two token counts, dedup, 1 and 2 ranks, few passes), for real on this
# machine: it must measure, calibrate, write a calibrated topology that
# simulations then name, and draw the plot. Asserts that the loop works,
# not its error figures (timings of a CI machine are not a calibration).
# Then the plot script's refusal of a malformed CSV.
#   host_loop_small_test.sh BUILD_DIR
set -uo pipefail
build="$1"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

EPSIM_BUILD_DIR="$build" bash "$root/experiments/calibrate/run_host.sh" "$tmp/out" --small \
  > "$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "run_host.sh --small exited $?"; }
out="$tmp/out"
grep -q '^name: "measured-host-calibrated"$' "$out/host.calibrated.textproto" \
  || fail "the calibrated topology is not named measured-host-calibrated"
grep -q '^# Measurements (SHA-256 of each file):' "$out/host.calibrated.textproto" \
  || fail "the calibrated topology carries no provenance"
[ "$(grep -c '\.json$' "$out/host.calibrated.textproto")" -eq 4 ] \
  || fail "the provenance does not list the 4 measured reports"
grep -q '^  pass               held out ' "$out/calibrate.txt" || fail "no held-out pass error"
grep -qE '^  gpu\.[a-z_]+ .* (fitted|at bound)$' "$out/calibrate.txt" || fail "no compute parameter fitted"
[ -s "$out/host.png" ] || fail "no plot"
[ "$(wc -l < "$out/host.csv")" -gt 10 ] || fail "csv too short"
"$build/epsim" simulate --model tiny-moe --tokens 256 --topology "$out/host.calibrated.textproto" \
  > "$tmp/sim.txt" 2>&1 || fail "simulate on the calibrated topology failed"
grep -q '^#   topology: measured-host-calibrated$' "$tmp/sim.txt" || fail "the report does not name it"
# Calibrating again from the same files gives the same file (no clock time).
"$build/epsim" calibrate --topology "$out/host.textproto" "$out"/runs/*.json \
  -o "$tmp/again.textproto" > /dev/null 2>&1 || fail "second calibrate failed"
cmp -s "$tmp/again.textproto" "$out/host.calibrated.textproto" || fail "calibration is not deterministic"

printf 'file,where,kind,split,measured_us,before_us,after_us,before_error,after_error\n"a","b","c",training,ten,1,1,0,0\n' > "$tmp/bad.csv"
msg="$("$build/epsim" plot "$tmp/bad.csv" -o "$tmp/bad.png" 2>&1)"
code=$?
[ "$code" -eq 2 ] || fail "malformed csv: exit $code, expected 2"
[[ "$msg" == *"bad.csv: line 2: measured_us 'ten' is not a number"* ]] || fail "message: $msg"
[ ! -e "$tmp/bad.png" ] || fail "a png was written for a malformed csv"
echo "ok"
