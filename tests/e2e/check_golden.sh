#!/usr/bin/env bash
# Runs one end-to-end case (tests/golden/cases/NAME.sh, with $EPSIM the
# binary and $TMP a scratch dir, from the source root) and compares its
# stdout (the source root's path written as <source>) and exit code with
# tests/golden/NAME.out. With --update, rewrites
# the golden file instead (see tests/golden/regenerate.sh).
set -uo pipefail
epsim="$1"; name="$2"; mode="${3:-check}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
case_file="$root/tests/golden/cases/$name.sh"
golden="$root/tests/golden/$name.out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$root"
EPSIM="$epsim" TMP="$tmp" bash "$case_file" >"$tmp/stdout" 2>"$tmp/stderr"
echo "# exit $?" >>"$tmp/stdout"
# Data files found in the source tree print with its absolute path, which
# differs between clones: the goldens say <source> instead.
sed -i "s|$root/|<source>/|g" "$tmp/stdout"
if [ "$mode" = "--update" ]; then
  cp "$tmp/stdout" "$golden"
  exit 0
fi
if [ ! -f "$golden" ]; then
  echo "missing golden file tests/golden/$name.out (run tests/golden/regenerate.sh)" >&2
  exit 1
fi
if ! diff -u "$golden" "$tmp/stdout"; then
  echo "--- stderr of the case:" >&2
  cat "$tmp/stderr" >&2
  exit 1
fi
