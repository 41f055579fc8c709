#!/usr/bin/env bash
# Scale study: wall time and peak RSS of `epsim simulate` (trace read +
# planning + SimGrid replay) on one DeepSeek-V3 MoE layer with 4,096 tokens
# per GPU, at EP 8..256. See README.md.
#
# Usage: experiments/scale/run_scale.sh EPSIM [-w W] [-t TOPOLOGY] [EP...]
#   (default EP: 8 16 32 64 128 256)
#   -w W         pass --max-inflight W (all-to-all transfers in flight per
#                rank, pairwise order); default 0 = unlimited
#   -t TOPOLOGY  a topology name (topologies/) or file, used for every EP
#                (the first EP GPUs); default a generated star per EP
# Prints one line per EP: ep tokens gpu_pairs wall_s peak_rss_mib sim_total_us.
# Needs /usr/bin/time (GNU). Scratch files go to a temp dir removed at exit.
set -euo pipefail
epsim="$(realpath "$1")"; shift
window=0
topology=""
while getopts "w:t:" flag; do
  case $flag in
    w) window=$OPTARG ;;
    t) topology=$OPTARG ;;
    *) echo "usage: $0 EPSIM [-w W] [-t TOPOLOGY] [EP...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ -n "$topology" ] && [ -f "$topology" ]; then topology="$(realpath "$topology")"; fi
if [ $# -gt 0 ]; then eps=("$@"); else eps=(8 16 32 64 128 256); fi
root="$(cd "$(dirname "$0")/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$root"

# A star of `n` H100-like GPUs, 8 per host, each with one 50 GB/s
# (400 Gb/s NIC-class) full-duplex link to one network switch. Used until
# topologies/ ships H100 multi-node clusters; every pair of GPUs is 2 hops.
star_topology() {
  local n=$1 out=$2
  {
    echo "name: \"star-h100-x$n\""
    echo "description: \"scale study: $n GPUs, each on a 50 GB/s link to one switch\""
    echo 'gpu { name: "H100 (scale study)" peak_flops: 989e12 mem_bw_gb_per_s: 3350'
    echo '      compute_efficiency: 0.6 memory_efficiency: 0.8 launch_us: 5 memory_gb: 80 }'
    echo 'nodes { name: "sw" kind: NETWORK_SWITCH host: 0 }'
    for ((r = 0; r < n; ++r)); do
      echo "nodes { name: \"gpu$r\" kind: GPU host: $((r / 8)) }"
      echo "links { name: \"gpu$r-sw\" a: \"gpu$r\" b: \"sw\" kind: NETWORK bw_gb_per_s: 50" \
           "latency_us: 2.7 duplex: FULL source: \"assumption: 400 Gb/s NIC, ~50 GB/s\" }"
    done
  } >"$out"
}

echo "# topology: ${topology:-star per EP}, max_inflight: $window (0 = unlimited)"
echo "# ep tokens gpu_pairs wall_s peak_rss_mib sim_total_us"
for ep in "${eps[@]}"; do
  tokens=$((ep * 4096))
  topo="$topology"
  if [ -z "$topo" ]; then
    star_topology "$ep" "$tmp/topo.textproto"
    topo="$tmp/topo.textproto"
  fi
  "$epsim" synth --model deepseek-v3 --tokens "$tokens" --layers 3 --seed 1 \
    -o "$tmp/trace.bin" >/dev/null 2>&1
  # SCALE_TIMEOUT_S (default 600) bounds each run; a run cut off prints "> limit".
  if ! timeout "${SCALE_TIMEOUT_S:-600}" /usr/bin/time -f "%e %M" -o "$tmp/time" \
      "$epsim" simulate --trace "$tmp/trace.bin" --model deepseek-v3 --topology "$topo" \
      --ep "$ep" --dispatch dedup --max-inflight "$window" --format csv \
      >"$tmp/out.csv" 2>"$tmp/err"; then
    echo "$ep $tokens $((ep * (ep - 1))) >${SCALE_TIMEOUT_S:-600} - -"
    continue
  fi
  read -r wall_s rss_kib <"$tmp/time"
  total_us=$(awk -F, '$3 == "all" && $4 == "total" { print $7 }' "$tmp/out.csv")
  echo "$ep $tokens $((ep * (ep - 1))) $wall_s $((rss_kib / 1024)) $total_us"
done
