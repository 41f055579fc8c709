# diff: the default job on 256 tokens simulated with P2P off (A: host shared
# memory) and on (B), per layer and per kind, and the kinds as csv; the only
# run of each of two files on different topologies, names differing; then bad
# input (exit 2): a record without a key, a truncated file, no matching run.
cd "$TMP" || exit
"$EPSIM" simulate --tokens 256 --p2p off --format json >shm.json 2>/dev/null || exit
"$EPSIM" simulate --tokens 256 --p2p on --format json >p2p.json 2>/dev/null || exit
"$EPSIM" diff shm.json p2p.json
"$EPSIM" diff shm.json p2p.json --by kind --format csv
"$EPSIM" simulate --tokens 256 --dispatch dedup --topology a6000-x8-nvlink-pairs --ep 4 \
  --format json >nvlink.json 2>/dev/null || exit
"$EPSIM" simulate --tokens 256 --dispatch classical --format json >classical.json 2>/dev/null || exit
"$EPSIM" diff nvlink.json classical.json --by kind
sed '0,/"busy_max_us"/{/"busy_max_us"/d}' shm.json >no_busy.json
"$EPSIM" diff no_busy.json p2p.json 2>&1
echo "exit $?"
# Cut inside the first model name (not at a byte count: the report holds
# data-file paths, whose length differs between clones).
python3 -c 'import sys; t = open("shm.json").read(); sys.stdout.write(t[:t.index("\"olmoe-1b-7") + 8])' >cut.json
"$EPSIM" diff shm.json cut.json 2>&1
echo "exit $?"
"$EPSIM" simulate --tokens 256 --dispatch pruned:2:score,c2r:12 --format json >other.json \
  2>/dev/null || exit
"$EPSIM" diff shm.json other.json 2>&1
