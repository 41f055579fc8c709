# place: an occult placement of the FLAME sample saved to a file, then reused.
test -d ../shared/traces || { echo "../shared/traces is absent: this case needs the shared routing samples beside the project" >&2; exit 97; }
"$EPSIM" import ../shared/traces/flame-moe-290m-prefill/layer*.csv --num-experts 64 \
  -o "$TMP/flame.trace" 2>/dev/null || exit
cd "$TMP" || exit
"$EPSIM" place --trace flame.trace --ep 4 --algorithm occult -o occult.textproto 2>/dev/null || exit
head -c 600 occult.textproto; echo
"$EPSIM" stats --trace flame.trace --ep 4 --placement occult.textproto --format csv
"$EPSIM" stats --trace flame.trace --ep 8 --placement occult.textproto 2>&1
