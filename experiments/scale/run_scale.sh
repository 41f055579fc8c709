#!/usr/bin/env bash
# Scale study: wall time and peak RSS of `epsim simulate` (trace read +
# planning + SimGrid replay) on one DeepSeek-V3 MoE layer with 4,096 tokens
# per GPU, at EP 8..256. See README.md.
#
# Usage: experiments/scale/run_scale.sh EPSIM [-g GRANULARITY] [-w W] [-t TOPOLOGY] [EP...]
#   (default EP: 8 16 32 64 128 256)
#   -g G         pass --granularity G (pair, phase or auto; default auto:
#                per pair up to 16 ranks, per phase above)
#   -w W         pass --max-inflight W (per-pair replay only; default: the
#                topology's, 8)
#   -t TOPOLOGY  a topology name (topologies/) or file, used for every EP
#                (its first EP GPUs); default the H100 file that fits: dgx-h100
#                (EP 8), h100-cluster-2node/-4node/-8node (16/32/64),
#                h100-cluster-32node (128, 256)
# Prints one line per EP: ep tokens gpu_pairs wall_s peak_rss_mib sim_total_us.
# Needs /usr/bin/time (GNU). Scratch files go to a temp dir removed at exit.
set -euo pipefail
epsim="$(realpath "$1")"; shift
granularity=auto
window=""
topology=""
while getopts "g:w:t:" flag; do
  case $flag in
    g) granularity=$OPTARG ;;
    w) window=$OPTARG ;;
    t) topology=$OPTARG ;;
    *) echo "usage: $0 EPSIM [-g G] [-w W] [-t TOPOLOGY] [EP...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ -n "$topology" ] && [ -f "$topology" ]; then topology="$(realpath "$topology")"; fi
if [ $# -gt 0 ]; then eps=("$@"); else eps=(8 16 32 64 128 256); fi
root="$(cd "$(dirname "$0")/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$root"

cluster_for() {
  local ep=$1
  if [ "$ep" -le 8 ]; then echo dgx-h100
  elif [ "$ep" -le 16 ]; then echo h100-cluster-2node
  elif [ "$ep" -le 32 ]; then echo h100-cluster-4node
  elif [ "$ep" -le 64 ]; then echo h100-cluster-8node
  else echo h100-cluster-32node
  fi
}

extra=(--granularity "$granularity")
if [ -n "$window" ]; then extra+=(--max-inflight "$window"); fi
echo "# granularity: $granularity, max_inflight: ${window:-topology default}"
echo "# ep topology tokens gpu_pairs wall_s peak_rss_mib sim_total_us"
for ep in "${eps[@]}"; do
  tokens=$((ep * 4096))
  topo="${topology:-$(cluster_for "$ep")}"
  "$epsim" synth --model deepseek-v3 --tokens "$tokens" --layers 3 --seed 1 \
    -o "$tmp/trace.bin" >/dev/null 2>&1
  # SCALE_TIMEOUT_S (default 600) bounds each run; a run cut off prints "> limit".
  if ! timeout "${SCALE_TIMEOUT_S:-600}" /usr/bin/time -f "%e %M" -o "$tmp/time" \
      "$epsim" simulate --trace "$tmp/trace.bin" --model deepseek-v3 --topology "$topo" \
      --ep "$ep" --dispatch dedup "${extra[@]}" --format csv \
      >"$tmp/out.csv" 2>"$tmp/err"; then
    echo "$ep $(basename "$topo" .textproto) $tokens $((ep * (ep - 1))) >${SCALE_TIMEOUT_S:-600} - -"
    continue
  fi
  read -r wall_s rss_kib <"$tmp/time"
  total_us=$(awk -F, '$3 == "all" && $4 == "total" { print $7 }' "$tmp/out.csv")
  echo "$ep $(basename "$topo" .textproto) $tokens $((ep * (ep - 1))) $wall_s $((rss_kib / 1024)) $total_us"
done
