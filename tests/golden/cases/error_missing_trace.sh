# A missing input file: exit 2, the file named, and no output file left.
"$EPSIM" simulate --trace "$TMP/absent.trace" --model olmoe-1b-7b --csv "$TMP/out.csv" 2>&1 \
  | sed "s|$TMP|TMP|g"
status=${PIPESTATUS[0]}
test ! -e "$TMP/out.csv" && echo "no output file"
exit "$status"
