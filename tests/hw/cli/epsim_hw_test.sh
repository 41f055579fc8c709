#!/usr/bin/env bash
# End-to-end tests of epsim-hw under mpirun (host backend). Usage:
#   epsim_hw_test.sh BUILD_DIR CASE
# Each case runs a real MPI job (oversubscribed: more ranks than cores is
# fine for correctness) and asserts its exit code and output.
set -uo pipefail
build="$1"; case_name="$2"
hw="$build/epsim-hw"; epsim="$build/epsim"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
# Root in CI, no terminal: Open MPI needs both of these to run as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe --bind-to none -np)
fail() { echo "FAIL: $*"; exit 1; }

case "$case_name" in
  check-*)  # check-<strategy>: 4 ranks, tiny-moe, 2,048 tokens, verified
    strategy="${case_name#check-}"
    extra=()
    [ "$strategy" = hierarchical ] && extra=(--ranks-per-host 2)
    "${mpi[@]}" 4 "$hw" run --model tiny-moe --tokens 2048 --dispatch "$strategy" "${extra[@]}" \
      --check -w 1 -n 2 --json "$tmp/m.json" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    cat "$tmp/out" "$tmp/err"
    [ $rc -eq 0 ] || fail "exit $rc"
    grep -q "# check: 0 of 2097152 elements wrong (#wrong 0)" "$tmp/out" || fail "no #wrong 0 line"
    grep -q '"source": "measured"' "$tmp/m.json" || fail "report is not a measured report"
    ;;
  overlap-shared-expert)  # the shared expert runs under the dispatch (two streams): verified, and overlapped
    "${mpi[@]}" 4 "$hw" run --model tiny-moe-shared --tokens 2048 --dispatch dedup \
      --overlap shared-expert --check -w 1 -n 5 --json "$tmp/m.json" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    cat "$tmp/out" "$tmp/err"
    [ $rc -eq 0 ] || fail "exit $rc"
    grep -q "# check: 0 of 2097152 elements wrong (#wrong 0)" "$tmp/out" || fail "no #wrong 0 line"
    grep -q "#   overlap: shared-expert" "$tmp/out" || fail "header does not name the overlap"
    # Medians over 5 passes; without overlap the share is about 0.04 here.
    python3 - "$tmp/m.json" <<'PY' || fail "communication not overlapped"
import json, sys
run = json.load(open(sys.argv[1]))["context"]["runs"][0]
share = run["communication_hidden_share"]
print("communication hidden:", share)
sys.exit(0 if share > 0.1 else 1)
PY
    ;;
  overlap-scmoe)  # ScMoE's shortcut: blocks interleave (two buffer sets), verified, overlapped; and a decode pass
    "${mpi[@]}" 4 "$hw" run --model tiny-moe-shared --tokens 2048 --dispatch dedup \
      --overlap scmoe --check -w 1 -n 5 --json "$tmp/m.json" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    cat "$tmp/out" "$tmp/err"
    [ $rc -eq 0 ] || fail "exit $rc"
    grep -q "# check: 0 of 2097152 elements wrong (#wrong 0)" "$tmp/out" || fail "no #wrong 0 line"
    grep -q "#   overlap: scmoe" "$tmp/out" || fail "header does not name the overlap"
    python3 - "$tmp/m.json" <<'PY' || fail "communication not overlapped"
import json, sys
run = json.load(open(sys.argv[1]))["context"]["runs"][0]
share = run["communication_hidden_share"]
print("communication hidden:", share)
sys.exit(0 if share > 0.2 else 1)
PY
    "${mpi[@]}" 4 "$hw" run --model tiny-moe --tokens 1024 --dispatch classical --overlap scmoe \
      --pass decode --context 64 --check -w 0 -n 1 > "$tmp/out" 2>&1
    rc=$?; cat "$tmp/out"
    [ $rc -eq 0 ] || fail "decode: exit $rc"
    grep -q "#wrong 0)" "$tmp/out" || fail "decode: no #wrong 0"
    # A dense block first: the first MoE block's shortcut starts at the
    # dense attention, its dispatch under the dense MLP; still verified.
    models="$(dirname "$0")/../../../models"
    sed 's/^num_dense_layers: 0$/num_dense_layers: 1\ndense_intermediate: 512/' \
      "$models/tiny-moe-shared.textproto" > "$tmp/dense-first.textproto"
    grep -q "^num_dense_layers: 1" "$tmp/dense-first.textproto" || fail "model edit"
    "${mpi[@]}" 4 "$hw" run --model "$tmp/dense-first.textproto" --tokens 512 --dispatch dedup \
      --overlap scmoe --check -w 0 -n 1 > "$tmp/out" 2>&1
    rc=$?; cat "$tmp/out"
    [ $rc -eq 0 ] || fail "dense first: exit $rc"
    grep -q "#wrong 0)" "$tmp/out" || fail "dense first: no #wrong 0"
    ;;
  train)  # a train pass: forward, backward (gradient all-to-alls, expert backward), gradient all-reduce; verified both ways
    "${mpi[@]}" 4 "$hw" run --model tiny-moe --tokens 1024 --dispatch dedup --pass train \
      --check -w 1 -n 2 --json "$tmp/m.json" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    cat "$tmp/out" "$tmp/err"
    [ $rc -eq 0 ] || fail "exit $rc"
    # 1,024 tokens x 4 layers x H 256: outputs and input gradients.
    grep -q "# check: 0 of 2097152 elements wrong (#wrong 0)" "$tmp/out" || fail "no #wrong 0 line"
    python3 - "$tmp/m.json" <<'PY' || fail "backward phases missing from the measured report"
import json, sys
kinds = {r["phase"] for r in json.load(open(sys.argv[1]))["records"]}
want = {"expert_bwd", "combine_bwd", "dispatch_bwd", "gradient_allreduce"}
print("phase kinds:", sorted(kinds))
sys.exit(0 if want <= kinds else 1)
PY
    # A plan file of a hierarchical train pass with recomputation runs too.
    "$epsim" plan --model tiny-moe --tokens 512 --ep 4 --ranks-per-host 2 --dispatch hierarchical \
      --pass train --recompute -o "$tmp/t.plan" || fail "epsim plan"
    "${mpi[@]}" 4 "$hw" run --plan "$tmp/t.plan" --check -w 0 -n 1 > "$tmp/out" 2>&1
    rc=$?; cat "$tmp/out"
    [ $rc -eq 0 ] || fail "plan file: exit $rc"
    grep -q "#wrong 0)" "$tmp/out" || fail "plan file: no #wrong 0"
    # ScMoE's shortcut in training: the backward interleaves blocks as the
    # forward does (two sets of gradient buffers), verified both ways.
    "${mpi[@]}" 4 "$hw" run --model tiny-moe-shared --tokens 1024 --dispatch dedup --overlap scmoe \
      --pass train --check -w 0 -n 1 > "$tmp/out" 2>&1
    rc=$?; cat "$tmp/out"
    [ $rc -eq 0 ] || fail "scmoe: exit $rc"
    grep -q "#wrong 0)" "$tmp/out" || fail "scmoe: no #wrong 0"
    # A wrong input gradient is reported as one.
    "${mpi[@]}" 2 "$hw" run --model tiny-moe --tokens 256 --ep 2 --pass train --check \
      --inject-wrong 1 -w 0 -n 1 > "$tmp/out" 2>&1
    rc=$?; cat "$tmp/out"
    [ $rc -eq 3 ] || fail "exit $rc, want 3"
    grep -q "#wrong 8)" "$tmp/out" || fail "want 8 wrong (4 layers, outputs and gradients)"
    ;;
  micro-batches)  # two micro-batches per block (each half its own routes), overlapped and verified; also in training
    "$epsim" plan --model tiny-moe --tokens 1024 --ep 4 --dispatch dedup --overlap micro-batches \
      -o "$tmp/m.plan" || fail "epsim plan"
    "${mpi[@]}" 4 "$hw" run --plan "$tmp/m.plan" --check -w 1 -n 3 --json "$tmp/m.json" > "$tmp/out" 2>&1
    rc=$?; cat "$tmp/out"
    [ $rc -eq 0 ] || fail "exit $rc"
    grep -q "# check: 0 of 1048576 elements wrong (#wrong 0)" "$tmp/out" || fail "no #wrong 0 line"
    python3 - "$tmp/m.json" <<'PY' || fail "communication not overlapped"
import json, sys
share = json.load(open(sys.argv[1]))["context"]["runs"][0]["communication_hidden_share"]
print("communication hidden:", share)
sys.exit(0 if share > 0.05 else 1)
PY
    "${mpi[@]}" 4 "$hw" run --model tiny-moe --tokens 512 --dispatch dedup --overlap micro-batches \
      --pass train --check -w 0 -n 1 > "$tmp/out" 2>&1
    rc=$?; cat "$tmp/out"
    [ $rc -eq 0 ] || fail "train: exit $rc"
    grep -q "#wrong 0)" "$tmp/out" || fail "train: no #wrong 0"
    ;;
  plan-file)  # a plan made by epsim runs unchanged
    "$epsim" plan --model tiny-moe --tokens 512 --ep 2 --dispatch dedup -o "$tmp/p.plan" || fail "epsim plan"
    "${mpi[@]}" 2 "$hw" run --plan "$tmp/p.plan" --check -w 0 -n 1 > "$tmp/out" 2>&1
    rc=$?; cat "$tmp/out"
    [ $rc -eq 0 ] || fail "exit $rc"
    grep -q "#wrong 0" "$tmp/out" || fail "no #wrong 0"
    grep -q "plan: $tmp/p.plan" "$tmp/out" || fail "header does not name the plan"
    ;;
  uneven-experts)  # 16 experts on 3 ranks (6, 5, 5), partition placement: verified
    "${mpi[@]}" 3 "$hw" run --model tiny-moe --tokens 512 --dispatch dedup --placement partition \
      --check -w 0 -n 1 > "$tmp/out" 2>&1
    rc=$?; cat "$tmp/out"
    [ $rc -eq 0 ] || fail "exit $rc"
    grep -q "#   experts per device: 6 (1 device), 5 (2 devices)" "$tmp/out" ||
      fail "no experts per device line"
    grep -q "#wrong 0" "$tmp/out" || fail "no #wrong 0"
    ;;
  too-few-ranks)  # a plan for 2 ranks on 1 process: exit 2, clear message
    "$epsim" plan --model tiny-moe --tokens 256 --ep 2 -o "$tmp/p.plan" || fail "epsim plan"
    "${mpi[@]}" 1 "$hw" run --plan "$tmp/p.plan" -w 0 -n 1 > "$tmp/out" 2>&1
    rc=$?; cat "$tmp/out"
    [ $rc -eq 2 ] || fail "exit $rc, want 2"
    grep -q "plan is for 2 ranks but 1 were launched" "$tmp/out" || fail "message"
    ;;
  bad-plan)  # a truncated plan file: exit 2 naming the file
    "$epsim" plan --model tiny-moe --tokens 256 --ep 2 -o "$tmp/p.plan" || fail "epsim plan"
    head -c 100 "$tmp/p.plan" > "$tmp/cut.plan"
    "${mpi[@]}" 2 "$hw" run --plan "$tmp/cut.plan" -w 0 -n 1 > "$tmp/out" 2>&1
    rc=$?; cat "$tmp/out"
    [ $rc -eq 2 ] || fail "exit $rc, want 2"
    grep -q "cut.plan" "$tmp/out" || fail "message does not name the file"
    ;;
  hung-rank)  # rank 1 stops itself (SIGSTOP): the others stop within the timeout
    start=$(date +%s)
    timeout 120 "${mpi[@]}" 4 "$hw" run --model tiny-moe --tokens 512 --inject-hang 1 \
      --timeout 3 -w 1 -n 1 > "$tmp/out" 2>&1
    rc=$?; elapsed=$(( $(date +%s) - start ))
    cat "$tmp/out"
    [ $rc -ne 0 ] || fail "a hung rank went unnoticed (exit 0)"
    [ $rc -ne 124 ] || fail "the job hung until the test's own timeout"
    grep -q "no data from rank(s) 1" "$tmp/out" || fail "the error does not name rank 1"
    [ $elapsed -lt 60 ] || fail "took ${elapsed} s for a 3 s timeout"
    echo "stopped after ${elapsed} s, exit $rc"
    ;;
  wrong-output)  # a corrupted element on rank 2: #wrong per layer, exit 3
    "${mpi[@]}" 4 "$hw" run --model tiny-moe --tokens 512 --inject-wrong 2 --check -w 0 -n 1 > "$tmp/out" 2>&1
    rc=$?; cat "$tmp/out"
    [ $rc -eq 3 ] || fail "exit $rc, want 3"
    grep -q "#wrong 4)" "$tmp/out" || fail "want #wrong 4 (one element in each of 4 layers)"
    grep -q "rank 2 device cpu: first wrong element: layer 0 token 256 element 0" "$tmp/out" || fail "where"
    ;;
  topo-simulate)  # the measured machine is a topology epsim checks and simulates on
    "${mpi[@]}" 2 "$hw" topo -o "$tmp/host.textproto" --passes 2 > "$tmp/out" 2>&1 || { cat "$tmp/out"; fail "topo"; }
    grep -q "kind: PROCESS" "$tmp/host.textproto" || fail "no PROCESS ranks"
    grep -q "Written by .epsim-hw topo" "$tmp/host.textproto" || fail "no header"
    "$epsim" topo check "$tmp/host.textproto" || fail "topo check"
    "$epsim" simulate --topology "$tmp/host.textproto" --model tiny-moe --tokens 256 --dispatch dedup \
      > "$tmp/sim" 2>&1 || { cat "$tmp/sim"; fail "simulate on the measured topology"; }
    grep -q "topology: measured-host" "$tmp/sim" || fail "simulate does not name the topology"
    ;;
  bench)  # measured microbenchmarks: nccl-tests columns, #wrong 0 with -c
    "${mpi[@]}" 3 "$hw" bench alltoallv -b 4K -e 64K -f 4 -n 3 -w 1 -c > "$tmp/out" 2>&1
    rc=$?; cat "$tmp/out"
    [ $rc -eq 0 ] || fail "exit $rc"
    [ "$(grep -cE '^ +[0-9]+ +[0-9]+ +float +none +-1 .* 0 +[0-9]+$' "$tmp/out")" -eq 3 ] || fail "want 3 rows with #wrong 0"
    grep -q "(measured)" "$tmp/out" || fail "header does not say measured"
    "${mpi[@]}" 1 "$hw" bench gemm --model tiny-moe -b 1 -e 16 -f 4 -n 2 -w 1 > "$tmp/g" 2>&1 || { cat "$tmp/g"; fail "gemm"; }
    [ "$(grep -cE '^ +(1|4|16) +[0-9.]+ ' "$tmp/g")" -eq 3 ] || { cat "$tmp/g"; fail "want rows for 1, 4, 16 tokens"; }
    # A measured bench table is a calibration input as printed.
    "${mpi[@]}" 2 "$hw" topo -o "$tmp/host.textproto" --passes 2 > /dev/null 2>&1 || fail "topo"
    "${mpi[@]}" 2 "$hw" bench alltoall -b 64K -e 4M -f 4 -n 3 -w 1 > "$tmp/a2a" 2>&1 || { cat "$tmp/a2a"; fail "alltoall"; }
    "$epsim" calibrate --topology "$tmp/host.textproto" "$tmp/a2a" -o "$tmp/cal.textproto" > "$tmp/cal" 2>&1 \
      || { cat "$tmp/cal"; fail "calibrate on the measured alltoall table"; }
    grep -qE '^  (training|held out) +alltoall ' "$tmp/cal" || { cat "$tmp/cal"; fail "no alltoall measurements"; }
    grep -q '^name: "measured-host-calibrated"' "$tmp/cal.textproto" || fail "calibrated name"
    # Ring collectives are nccl-tests' to measure, not the harness's.
    "${mpi[@]}" 2 "$hw" bench allreduce -b 64K -e 64K > "$tmp/ar" 2>&1
    rc=$?; cat "$tmp/ar"
    [ $rc -eq 1 ] || fail "bench allreduce: exit $rc, want 1"
    grep -q "op: allreduce not in" "$tmp/ar" || fail "bench allreduce message"
    ;;
  no-cuda)  # --backend cuda without a GPU (or without CUDA): exit 2, clear message
    "${mpi[@]}" 1 "$hw" run --model tiny-moe --tokens 64 --ep 1 --backend cuda -w 0 -n 1 > "$tmp/out" 2>&1
    rc=$?; cat "$tmp/out"
    if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
      echo "a GPU is visible: skipping"; exit 0
    fi
    [ $rc -eq 2 ] || fail "exit $rc, want 2"
    grep -Eq "no CUDA device|built without CUDA" "$tmp/out" || fail "message"
    ;;
  outputs)  # output paths are checked by rank 0 before any work, for every rank; -o - is stdout
    "$epsim" plan --model tiny-moe --tokens 256 --ep 2 -o "$tmp/p.plan" || fail "epsim plan"
    for flag in --json --csv; do
      "${mpi[@]}" 2 "$hw" run --plan "$tmp/p.plan" -w 0 -n 1 $flag "$tmp/nodir/x" > "$tmp/out" 2>&1
      rc=$?; cat "$tmp/out"
      [ $rc -eq 2 ] || fail "$flag in a missing directory: exit $rc, want 2"
      [ "$(grep -c "epsim-hw: I/O error: $flag $tmp/nodir/x: no directory" "$tmp/out")" -eq 1 ] \
        || fail "$flag: want the message once (rank 0)"
      grep -q "^#  strategy" "$tmp/out" && fail "$flag: the plan ran before the check"
      "${mpi[@]}" 2 "$hw" run --plan "$tmp/p.plan" -w 0 -n 1 $flag - > "$tmp/out" 2>&1
      rc=$?
      [ $rc -eq 1 ] || { cat "$tmp/out"; fail "$flag -: exit $rc, want 1"; }
    done
    # --csv and --json appear together or not at all: a JSON that cannot be
    # written leaves no CSV.
    "${mpi[@]}" 2 "$hw" run --plan "$tmp/p.plan" -w 0 -n 1 --csv "$tmp/half.csv" --json /dev/full \
      > "$tmp/out" 2>&1
    rc=$?; cat "$tmp/out"
    [ $rc -eq 2 ] || fail "--json /dev/full: exit $rc, want 2"
    grep -q "/dev/full: write failed" "$tmp/out" || fail "--json /dev/full: no write-failed message"
    [ -e "$tmp/half.csv" ] && fail "a failed --json left its --csv"
    ls "$tmp"/half.csv.tmp.* > /dev/null 2>&1 && fail "a failed --json left the CSV's temporary"
    "${mpi[@]}" 2 "$hw" topo --passes 1 -o "$tmp/nodir/t.textproto" > "$tmp/out" 2>&1
    rc=$?; cat "$tmp/out"
    [ $rc -eq 2 ] || fail "topo -o in a missing directory: exit $rc, want 2"
    "${mpi[@]}" 2 "$hw" topo --passes 1 -o - > "$tmp/t.textproto" 2> "$tmp/err"
    rc=$?; cat "$tmp/err"
    [ $rc -eq 0 ] || fail "topo -o -: exit $rc"
    grep -q '^name: "measured-host"' "$tmp/t.textproto" || fail "topo -o - wrote no topology on stdout"
    ;;
  interrupted)  # SIGTERM to mpirun mid-run: every rank stops, no scratch output is left; stdout errors count
    # A FIFO output keeps a scratch file in $TMPDIR for the whole run.
    mkfifo "$tmp/fifo.json"; mkdir "$tmp/scratch"
    TMPDIR="$tmp/scratch" "${mpi[@]}" 2 "$hw" run --model tiny-moe --tokens 1024 --ep 2 -w 0 -n 100000 \
      --json "$tmp/fifo.json" > "$tmp/out" 2>&1 &
    job=$!
    for _ in $(seq 100); do [ -n "$(ls "$tmp/scratch")" ] && break; sleep 0.1; done
    [ -n "$(ls "$tmp/scratch")" ] || { kill $job; fail "no scratch output to interrupt"; }
    sleep 1
    kill -TERM $job
    for _ in $(seq 100); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
    kill -0 $job 2>/dev/null && { kill -KILL $job; fail "mpirun still running 10 s after SIGTERM"; }
    wait $job; rc=$?
    cat "$tmp/out"
    [ $rc -ne 0 ] || fail "an interrupted run exited 0"
    left="$(ls -A "$tmp/scratch")"
    [ -z "$left" ] || fail "SIGTERM left in TMPDIR: $left"
    # Standard output that cannot be written is an error, never a silent exit 0
    # (one rank without mpirun: under mpirun the ranks write to mpirun's
    # pipes, and mpirun itself does not report a failed write).
    "$hw" run --model tiny-moe --tokens 256 --ep 1 -w 0 -n 1 > /dev/full 2> "$tmp/err"
    rc=$?; cat "$tmp/err"
    [ $rc -eq 2 ] || fail "run > /dev/full: exit $rc, want 2"
    grep -q "epsim-hw: I/O error: standard output: write failed: No space left on device" "$tmp/err" \
      || fail "no write-failed message"
    ;;
  *) fail "unknown case $case_name" ;;
esac
echo "PASS: $case_name"
