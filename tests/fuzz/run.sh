#!/usr/bin/env bash
# Builds the fuzz targets (clang, libFuzzer, ASan + UBSan; build-fuzz/),
# makes their seed corpora with the regular build's epsim (make_corpus.sh)
# and runs each target for SECONDS, printing its executions and whether it
# found anything (a crash or a broken property stops it with its input
# saved under build-fuzz/findings/). Exit 1 when any target found one.
# Usage: tests/fuzz/run.sh [SECONDS] [EPSIM]
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
seconds="${1:-60}"
epsim="${2:-$root/build/epsim}"
cd "$root" || exit 1
mkdir -p build-fuzz
log_all=build-fuzz/build.log
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEPSIM_SIMULATOR=OFF -DEPSIM_FUZZ=ON > "$log_all" 2>&1 || { cat "$log_all"; exit 1; }
targets=(trace_reader import_jsonl import_csv text_proto plan_reader nccl_tests_log smi_topo p2p_matrix)
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >> "$log_all" 2>&1 ||
  { tail -40 "$log_all"; exit 1; }
work="build-fuzz/corpus"
rm -rf "$work" && bash tests/fuzz/make_corpus.sh "$epsim" "$work" || exit 1
mkdir -p build-fuzz/findings
fail=0
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1"
for t in "${targets[@]}"; do
  log="build-fuzz/fuzz_$t.log"
  build-fuzz/tests/fuzz/fuzz_"$t" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix=build-fuzz/findings/"$t"- "$work/$t" > "$log" 2>&1
  rc=$?
  runs="$(grep -oE 'Done [0-9]+ runs' "$log" | tail -1)"
  if [ $rc -eq 0 ]; then
    echo "fuzz_$t: ${runs:-no summary}, $(ls "$work/$t" | wc -l) corpus files, nothing found"
  else
    echo "fuzz_$t: FOUND something (exit $rc); input under build-fuzz/findings/, log $log:"
    grep -E "property failed|ERROR: |runtime error|SUMMARY" "$log" | head -5
    fail=1
  fi
done
exit $fail
