#!/usr/bin/env bash
# Speed and memory of the jobs users wait for: wall time, peak RSS,
# simulated time and wall / simulated, the median of N runs each. See
# README.md here.
#
# Usage: experiments/perf/run.sh [-n RUNS] [-b BEFORE_EPSIM] [--quick] [EPSIM]
#   EPSIM       the binary to measure (default build/epsim)
#   -n RUNS     runs per job, the median reported (default 3)
#   -b BEFORE   a second binary (an older build) measured on the same jobs,
#               in the same session, one after the other: its columns
#               are printed next to EPSIM's
#   --quick     leave out the DeepSeek-V3 EP 256 pass (its trace is about
#               2.8 GB on disk, generated in about a minute, and its bare
#               SimGrid replay takes 30 s a run)
# Inputs are generated into a scratch dir (removed at exit) and their
# generation is not timed. Needs GNU /usr/bin/time.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
runs=3
before=""
quick=0
epsim=""
while [ $# -gt 0 ]; do
  case $1 in
    -n) runs=$2; shift 2 ;;
    -b) before="$(realpath "$2")"; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "$0: unknown flag $1 (see --help)" >&2; exit 2 ;;
    *) epsim="$(realpath "$1")"; shift ;;
  esac
done
epsim="${epsim:-$root/build/epsim}"
for b in "$epsim" ${before:+"$before"}; do
  [ -x "$b" ] || { echo "$0: $b is not an executable epsim" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "$0: needs GNU /usr/bin/time (apt install time)" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$root"

# Inputs (not timed): the OLMoE profile of the placement jobs and the
# DeepSeek-V3 full-pass traces (61 blocks: 3 dense, 58 MoE layers).
"$epsim" synth --routing fitted --tokens 16384 -o "$tmp/olmoe.trace" 2>/dev/null
dsv3_eps=(64)
[ "$quick" = 1 ] || dsv3_eps+=(256)
for ep in "${dsv3_eps[@]}"; do
  /usr/bin/time -f "%e %M" -o "$tmp/gen$ep.time" \
    "$epsim" synth --model deepseek-v3 --tokens $((ep * 4096)) -o "$tmp/dsv3-ep$ep.trace" 2>/dev/null
done

# The simulated time of a csv report: the pass of every strategy run, summed.
# simulate: the rows (all ranks, total); compare: its total_us column.
simulated_s() {
  awk -F, '/^#/ { next }
    !col && $1 == "placement" { for (i = 1; i <= NF; ++i) if ($i == "total_us") col = i; next }
    col { s += $col; next }
    $3 == "all" && $4 == "total" { s += $7 }
    END { if (s > 0) printf "%.4f", s / 1e6; else print "-" }' "$1"
}

# measure BINARY ARGS...: the median wall time, the peak RSS (MiB) and the
# simulated time of RUNS runs.
measure() {
  local bin=$1; shift
  local walls=() rss=0
  for _ in $(seq "$runs"); do
    if ! /usr/bin/time -f "%e %M" -o "$tmp/time" "$bin" "$@" >"$tmp/out" 2>"$tmp/err"; then
      echo "failed: $bin $*" >&2; sed -n '1,5p' "$tmp/err" >&2; return 1
    fi
    read -r w m <"$tmp/time"
    walls+=("$w"); [ "$m" -gt "$rss" ] && rss=$m
  done
  local median
  median=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  echo "$median $((rss / 1024)) $(simulated_s "$tmp/out")"
}

jobs=(
  "default|simulate --format csv"
  "place-partition|place --trace $tmp/olmoe.trace --ep 8 --algorithm partition -o $tmp/placement.textproto"
  "compare-all|compare --trace $tmp/olmoe.trace --ep 8 --topology a6000-x8-2socket --placements contiguous,round-robin,occult,partition,replicate --dispatch classical,dedup,pruned:2:score --format csv"
)
for ep in "${dsv3_eps[@]}"; do
  topo=h100-cluster-8node
  [ "$ep" -gt 64 ] && topo=h100-cluster-32node
  jobs+=("dsv3-ep$ep|simulate --trace $tmp/dsv3-ep$ep.trace --model deepseek-v3 --topology $topo --ep $ep --dispatch dedup --format csv")
done

echo "# epsim perf: median of $runs runs; wall and peak RSS from /usr/bin/time; simulated = the pass(es) the job simulates; ratio = wall / simulated (below 1: faster than the hardware)"
echo "# machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
for ep in "${dsv3_eps[@]}"; do
  read -r gw gm <"$tmp/gen$ep.time"
  echo "# dsv3-ep$ep trace: generated apart in $gw s, peak RSS $((gm / 1024)) MiB, $(du -m "$tmp/dsv3-ep$ep.trace" | cut -f1) MiB on disk"
done
header="job wall_s peak_rss_mib simulated_s wall/simulated"
[ -n "$before" ] && header+=" | before: wall_s peak_rss_mib simulated_s wall/simulated speedup"
echo "$header"
for job in "${jobs[@]}"; do
  name=${job%%|*}
  read -r -a args <<<"${job#*|}"
  read -r w m s < <(measure "$epsim" "${args[@]}")
  ratio=-
  [ "$s" != "-" ] && ratio=$(awk -v w="$w" -v s="$s" 'BEGIN { printf "%.3f", w / s }')
  line="$name $w $m $s $ratio"
  if [ -n "$before" ]; then
    read -r bw bm bs < <(measure "$before" "${args[@]}")
    bratio=-
    [ "$bs" != "-" ] && bratio=$(awk -v w="$bw" -v s="$bs" 'BEGIN { printf "%.3f", w / s }')
    line+=" | $bw $bm $bs $bratio $(awk -v a="$bw" -v b="$w" 'BEGIN { printf "%.1fx", a / b }')"
  fi
  echo "$line"
done
# Replay overhead (issue 15 item 4): the DeepSeek-V3 passes' flows replayed
# by epsim's engine (per phase, SimGrid for every phase, then with the
# closed form) and by bare_replay.cc's plain s4u program; the median of
# RUNS, wall seconds of the simulation alone (planning apart).
bare="$(dirname "$epsim")/experiments/perf/bare_replay"
if [ ! -x "$bare" ]; then
  echo "# bare SimGrid program: $bare not built (cmake --build build --target bare_replay)"
  exit 0
fi
echo "replay replay_s simulated_s | bare: replay_s simulated_s | epsim / bare"
for ep in "${dsv3_eps[@]}"; do
  topo=h100-cluster-8node
  [ "$ep" -gt 64 ] && topo=h100-cluster-32node
  flow=(--trace "$tmp/dsv3-ep$ep.trace" --model deepseek-v3 --topology "$topo" --ep "$ep" --dispatch dedup)
  # replay_median MODE...: median replay_s and the simulated_s of RUNS runs.
  replay_median() {
    for _ in $(seq "$runs"); do "$bare" "$@" "${flow[@]}"; done >"$tmp/replay"
    local median
    median=$(awk '{ print $5 }' "$tmp/replay" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    echo "$median $(awk 'END { print $7 }' "$tmp/replay")"
  }
  read -r bw bs < <(replay_median --mode bare)
  for cf in off on; do
    read -r ew es < <(replay_median --mode epsim --closed-form "$cf")
    label="dsv3-ep$ep-simgrid"
    [ "$cf" = on ] && label="dsv3-ep$ep-closed-form"
    echo "$label $ew $es | $bw $bs | $(awk -v a="$ew" -v b="$bw" 'BEGIN { printf "%.2fx", a / b }')"
  done
done
