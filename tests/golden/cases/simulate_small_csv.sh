# The same run as simulate_small, as CSV records, and the timeline written.
"$EPSIM" simulate --model olmoe-1b-7b --topology a6000-x4-pcie-gen4 --tokens 2048 --seed 3 \
  --format csv --timeline "$TMP/timeline.json" && test -s "$TMP/timeline.json"
