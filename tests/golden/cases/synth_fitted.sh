# synth: the shipped fitted OLMoE routing, structured routing, and a fit to a generated trace.
cd "$TMP" || exit
"$EPSIM" synth --routing fitted --tokens 512 --seed 3 -o f.trace 2>/dev/null || exit
"$EPSIM" stats --trace f.trace --ep 4 | tail -3
"$EPSIM" synth --routing structured --tokens 512 --seed 3 --candidates 12 -o s.trace 2>/dev/null || exit
"$EPSIM" trace show s.trace --records 1 --tokens 2 | tail -3
"$EPSIM" trace validate s.trace
