#!/usr/bin/env bash
# Every Python script of the tree (experiments/, tests/, topologies/, hw/,
# sim/) answers --help: exit 0, a usage line on stdout, and no file created
# (a script that reads --help as an output name, as make_log.py once did,
# writes one). --help must work without any site package (python3 -S), and
# a plotting script run without matplotlib must say which Debian package is
# missing and exit non-zero. Usage: python_help_test.sh SOURCE_ROOT [PYTHON]
set -uo pipefail
root="$1"; python="${2:-python3}"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
export PYTHONDONTWRITEBYTECODE=1  # imports must not leave __pycache__ in the tree
fail=0; count=0
mapfile -t scripts < <(cd "$root" && find experiments tests topologies hw sim -name '*.py' \
                        -not -path '*/build*' -not -path '*/__pycache__/*' \
                        -not -path '*/epsim_plot/*' | sort)  # a package: -m epsim_plot below
for script in "${scripts[@]}"; do
  count=$((count + 1))
  dir="$(dirname "$root/$script")"
  before="$(ls -A "$dir")"
  for flags in "" "-S"; do
    cwd="$tmp/cwd"; rm -rf "$cwd"; mkdir "$cwd"
    (cd "$cwd" && timeout 60 "$python" $flags "$root/$script" --help >"$tmp/out" 2>"$tmp/err")
    rc=$?
    if [ "$rc" -ne 0 ]; then
      echo "FAIL: python3 $flags $script --help: exit $rc"; sed 's/^/  /' "$tmp/err"; fail=1
    elif ! grep -q '^usage: ' "$tmp/out"; then
      echo "FAIL: python3 $flags $script --help: no usage line on stdout"; fail=1
    fi
    if [ -n "$(ls -A "$cwd")" ]; then
      echo "FAIL: python3 $flags $script --help created files: $(ls -A "$cwd")"; fail=1
    fi
  done
  if [ "$(ls -A "$dir")" != "$before" ]; then
    echo "FAIL: $script --help changed its folder"; fail=1
  fi
done
# epsim plot's package, as `epsim plot` runs it.
for flags in "" "-S"; do
  (cd "$tmp" && PYTHONPATH="$root/sim/report/plot" timeout 60 "$python" $flags -m epsim_plot --help \
     >"$tmp/out" 2>"$tmp/err")
  rc=$?
  if [ "$rc" -ne 0 ] || ! grep -q '^usage: epsim plot' "$tmp/out"; then
    echo "FAIL: python3 $flags -m epsim_plot --help: exit $rc"; sed 's/^/  /' "$tmp/err"; fail=1
  fi
done
if [ "$count" -lt 10 ]; then
  echo "FAIL: found only $count scripts under $root (expected the project's 14 or more)"; fail=1
fi
# Without site packages (-S), matplotlib is missing: the plots say so.
if ! "$python" -S -c 'import matplotlib' 2>/dev/null; then
  (cd "$tmp" && PYTHONPATH="$root/sim/report/plot" "$python" -S -m epsim_plot in.csv -o out.png \
     >"$tmp/out" 2>"$tmp/err")
  rc=$?
  if [ "$rc" -eq 0 ] || ! grep -q 'needs matplotlib: apt install python3-matplotlib' "$tmp/err"; then
    echo "FAIL: -m epsim_plot without matplotlib: exit $rc, stderr:"; sed 's/^/  /' "$tmp/err"; fail=1
  fi
fi
[ "$fail" -eq 0 ] && echo "ok: $count scripts answer --help"
exit "$fail"
