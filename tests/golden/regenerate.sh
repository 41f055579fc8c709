#!/usr/bin/env bash
# Rewrites every golden output from the current build: review the diff
# (git diff tests/golden) before committing it.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
epsim="${1:-$root/build/epsim}"
for case_file in "$root"/tests/golden/cases/*.sh; do
  name="$(basename "$case_file" .sh)"
  bash "$root/tests/e2e/check_golden.sh" "$epsim" "$name" --update
  echo "regenerated tests/golden/$name.out"
done
