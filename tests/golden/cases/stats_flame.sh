# Import of the FLAME-MoE dense CSV sample, then routing statistics at D = 4 and 8.
test -d ../shared/traces || { echo "../shared/traces is absent: this case needs the shared routing samples beside the project" >&2; exit 97; }
"$EPSIM" import ../shared/traces/flame-moe-290m-prefill/layer*.csv --num-experts 64 \
  -o "$TMP/flame.trace" || exit
"$EPSIM" stats --trace "$TMP/flame.trace" --ep 4 --json
"$EPSIM" stats --trace "$TMP/flame.trace" --ep 8 --json
