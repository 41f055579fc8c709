#!/usr/bin/env bash
# Where epsim finds a model or topology given by name (sim/base/data_paths.h):
# $EPSIM_DATA_DIR, then the working directory, then the binary's directory,
# then the source tree. Three copies of a topology named `probe` (and of a
# model `probe-moe`), each with its own name inside, in an EPSIM_DATA_DIR, a
# working directory and beside a copy of the binary: each run must read the
# one the order says and name that file in its header; a name found nowhere
# exits 2 listing every directory searched. Usage: data_paths_test.sh EPSIM
set -uo pipefail
src_epsim="$1"
root="$(cd "$(dirname "$0")/../.." && pwd)"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
fail=0
check() {  # check WHAT FILE PATTERN
  if ! grep -q -- "$3" "$2"; then
    echo "FAIL: $1: no '$3' in:"; sed 's/^/  /' "$2"; fail=1
  fi
}
mkdir -p "$tmp/env" "$tmp/cwd" "$tmp/bin"
cp "$src_epsim" "$tmp/bin/epsim"
epsim="$tmp/bin/epsim"
for where in env cwd bin; do
  mkdir -p "$tmp/$where/topologies" "$tmp/$where/models"
  sed "s/^name: .*/name: \"probe-$where\"/" "$root/topologies/a6000-x4-pcie-gen4.textproto" \
    > "$tmp/$where/topologies/probe.textproto"
  sed "s/^name: .*/name: \"probe-moe-$where\"/" "$root/models/tiny-moe.textproto" \
    > "$tmp/$where/models/probe-moe.textproto"
done
grep -q '^name: "probe-env"' "$tmp/env/topologies/probe.textproto" || { echo "FAIL: set-up"; exit 1; }

cd "$tmp/cwd" || exit 1
# topo show names the topology and the file; synth says the model file on stderr.
run() {  # run LABEL [env...]: topo show probe and synth --model probe-moe
  env "$@" "$epsim" topo show probe > "$tmp/show.out" 2>&1; echo "exit $?" >> "$tmp/show.out"
  env "$@" "$epsim" synth --model probe-moe --tokens 8 -o "$tmp/p.trace" > "$tmp/synth.out" 2>&1
  echo "exit $?" >> "$tmp/synth.out"
}
run EPSIM_DATA_DIR="$tmp/env"
check "EPSIM_DATA_DIR first" "$tmp/show.out" "^# topology probe-env:"
check "EPSIM_DATA_DIR file named" "$tmp/show.out" "^# topology file: $tmp/env/topologies/probe.textproto$"
check "EPSIM_DATA_DIR model" "$tmp/synth.out" "^epsim: model file: $tmp/env/models/probe-moe.textproto$"
run -u EPSIM_DATA_DIR
check "working directory second" "$tmp/show.out" "^# topology probe-cwd:"
check "relative to the working directory" "$tmp/show.out" "^# topology file: topologies/probe.textproto$"
check "working directory model" "$tmp/synth.out" "^epsim: model file: models/probe-moe.textproto$"
rm -r "$tmp/cwd/topologies" "$tmp/cwd/models"
run -u EPSIM_DATA_DIR
check "binary's directory third" "$tmp/show.out" "^# topology probe-bin:"
check "binary's directory file" "$tmp/show.out" "^# topology file: $tmp/bin/topologies/probe.textproto$"
check "binary's directory model" "$tmp/synth.out" "^epsim: model file: $tmp/bin/models/probe-moe.textproto$"
# An empty EPSIM_DATA_DIR entry is unset, and a data dir without the file is passed over.
run EPSIM_DATA_DIR="$tmp/cwd"
check "passed over" "$tmp/show.out" "^# topology probe-bin:"
# The source tree comes last: a shipped name is still found.
"$epsim" topo show a6000-x4-pcie-gen4 > "$tmp/shipped.out" 2>&1
check "source tree last" "$tmp/shipped.out" "^# topology file: $root/topologies/a6000-x4-pcie-gen4.textproto$"
# A name found nowhere: exit 2, every directory searched named.
EPSIM_DATA_DIR="$tmp/env" "$epsim" topo show no-such-topology > "$tmp/none.out" 2>&1
echo "exit $?" >> "$tmp/none.out"
check "unknown name exit" "$tmp/none.out" "^exit 2$"
check "unknown name" "$tmp/none.out" "topology 'no-such-topology': no topologies/no-such-topology.textproto in"
for where in "\$EPSIM_DATA_DIR ($tmp/env)" "the working directory ($tmp/cwd)" \
             "the binary's directory ($tmp/bin)" "the source tree ($root)"; do
  check "lists $where" "$tmp/none.out" "$where"
done
EPSIM_DATA_DIR="$tmp/env" "$epsim" simulate --model no-such-model > "$tmp/none.out" 2>&1
echo "exit $?" >> "$tmp/none.out"
check "unknown model exit" "$tmp/none.out" "^exit 2$"
check "unknown model" "$tmp/none.out" "model 'no-such-model': no models/no-such-model.textproto in \\\$EPSIM_DATA_DIR ($tmp/env)"
[ "$fail" -eq 0 ] && echo "ok: data files found in the documented order"
exit "$fail"
