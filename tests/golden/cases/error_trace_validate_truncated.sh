# A truncated trace: validate exits 2 naming the file and the record.
"$EPSIM" synth --model olmoe-1b-7b --tokens 5000 --seed 2 -o "$TMP/s.trace" 2>/dev/null || exit
head -c 100000 "$TMP/s.trace" > "$TMP/cut.trace"
cd "$TMP" && "$EPSIM" trace validate cut.trace 2>&1
