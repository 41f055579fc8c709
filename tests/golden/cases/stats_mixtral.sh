# Import of the Mixtral JSON-lines sample, then routing statistics at D = 4 and 8.
test -d ../shared/traces || { echo "../shared/traces is absent: this case needs the shared routing samples beside the project" >&2; exit 97; }
"$EPSIM" import ../shared/traces/mixtral-8x7b-humaneval/routing.jsonl --model mixtral-8x7b \
  -o "$TMP/mixtral.trace" || exit
"$EPSIM" stats --trace "$TMP/mixtral.trace" --ep 4 --json
"$EPSIM" stats --trace "$TMP/mixtral.trace" --ep 8 --json
