# trace show / validate / matrix on the imported Mixtral sample.
test -d ../shared/traces || { echo "../shared/traces is absent: this case needs the shared routing samples beside the project" >&2; exit 97; }
"$EPSIM" import ../shared/traces/mixtral-8x7b-humaneval/routing.jsonl --model mixtral-8x7b \
  -o "$TMP/mixtral.trace" 2>/dev/null || exit
cd "$TMP" || exit
"$EPSIM" trace show mixtral.trace --records 2 --tokens 3
"$EPSIM" trace validate mixtral.trace
"$EPSIM" trace matrix mixtral.trace --ep 4 --layer 3 --dispatch classical
"$EPSIM" trace matrix mixtral.trace --ep 8 --layer 31 --unit KiB
