# The trace's experts contradict the model's: exit 2 naming both figures.
test -d ../shared/traces || { echo "../shared/traces is absent: this case needs the shared routing samples beside the project" >&2; exit 97; }
"$EPSIM" import ../shared/traces/mixtral-8x7b-humaneval/routing.jsonl --model mixtral-8x7b \
  -o "$TMP/mixtral.trace" || exit
"$EPSIM" simulate --trace "$TMP/mixtral.trace" --model olmoe-1b-7b 2>&1
