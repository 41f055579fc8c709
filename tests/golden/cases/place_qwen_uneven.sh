# place and stats with Qwen1.5-MoE's 60 experts on 16 devices (two hosts of 8,
# split along the topology) and on 8: each device's count is stated.
"$EPSIM" synth --model qwen1.5-moe-a2.7b --tokens 256 --seed 5 -o "$TMP/q.trace" 2>/dev/null || exit
cd "$TMP" || exit
"$EPSIM" place --trace q.trace --ep 16 --algorithm partition --topology a6000-2node-x8-100g \
  -o p16.textproto 2>/dev/null || exit
"$EPSIM" stats --trace q.trace --ep 16 --placement p16.textproto | sed -n '1,10p;$p'
"$EPSIM" stats --trace q.trace --ep 8 --placement round-robin | sed -n '1,10p;$p'
