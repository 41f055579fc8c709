#!/usr/bin/env bash
# Rewrites every generated example block of README.md (those between
# <!-- readme-run --> and <!-- /readme-run -->) from the commands it shows,
# run by the given epsim binary in a scratch copy of the project root (see
# readme_run.py). Review `git diff README.md` before committing it.
# Usage: tests/readme/regenerate.sh [BUILD/epsim] [SHARED_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
epsim="${1:-$root/build/epsim}"
shared="${2:-$root/../shared}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 "$root/tests/readme/readme_run.py" --epsim "$epsim" --shared "$shared" \
  --readme "$root/README.md" --output "$tmp/README.md"
cp "$tmp/README.md" "$root/README.md"
echo "regenerated README.md: review git diff README.md"
