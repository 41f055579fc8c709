# stats as a table, CSV and JSON with matrices, on a small synthetic trace.
"$EPSIM" synth --model olmoe-1b-7b --tokens 256 --seed 5 -o "$TMP/s.trace" 2>/dev/null || exit
cd "$TMP" || exit
"$EPSIM" stats --trace s.trace --ep 4
"$EPSIM" stats --trace s.trace --ep 8 --format csv
"$EPSIM" stats --trace s.trace --ep 2 --format json --matrices | head -c 4000
