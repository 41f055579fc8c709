#!/usr/bin/env bash
# CTest readme.fresh: regenerates README.md's example blocks into a scratch
# copy and fails, showing the diff, when the committed README differs, that
# is when an output shown in the README is no longer what its command prints.
# Exits 77 (skipped) when the shared data folder the tour reads is missing.
# Usage: tests/readme/check.sh BUILD/epsim [SHARED_DIR]
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
epsim="${1:?usage: check.sh BUILD/epsim [SHARED_DIR]}"
shared="${2:-$root/../shared}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 "$root/tests/readme/readme_run.py" --epsim "$epsim" --shared "$shared" \
  --readme "$root/README.md" --output "$tmp/README.md"
rc=$?
if [ "$rc" -eq 77 ]; then
  echo "SKIP: shared data folder missing; README.md's examples not checked" >&2
  exit 77
fi
[ "$rc" -eq 0 ] || exit "$rc"
if ! diff -u --label README.md --label "README.md as regenerated" \
       "$root/README.md" "$tmp/README.md"; then
  echo "FAIL: README.md's example outputs are stale: run" >&2
  echo "  bash tests/readme/regenerate.sh $epsim" >&2
  echo "and review git diff README.md" >&2
  exit 1
fi
echo "README.md: every generated example matches its command"
