# trace export to both log shapes and import back: the same statistics.
test -d ../shared/traces || { echo "../shared/traces is absent: this case needs the shared routing samples beside the project" >&2; exit 97; }
"$EPSIM" import ../shared/traces/mixtral-8x7b-humaneval/routing.jsonl --model mixtral-8x7b \
  -o "$TMP/m.trace" 2>/dev/null || exit
cd "$TMP" || exit
"$EPSIM" trace export m.trace -o m.jsonl && head -2 m.jsonl
"$EPSIM" trace export m.trace -o m.csv --format csv && head -2 m.csv
"$EPSIM" import m.jsonl -o j.trace 2>/dev/null && "$EPSIM" import m.csv --num-experts 8 -o c.trace 2>/dev/null
for t in m j c; do "$EPSIM" stats --trace $t.trace --ep 4 --format csv | tail -1; done
