# trace matrix on a hand-checkable trace (tiny-moe: 16 experts, top-4,
# hidden 256, BF16: a row is 512 B; --ep 2: experts 0-7 on rank 0, 8-15 on
# rank 1; tokens 0-1 on rank 0, 2-3 on rank 1). Dedup sends one row per
# token and remote rank:
#   layer 0: t0 {0,1,8,9} and t1 {8..11} -> rank 1: 2 rows; t2 {0..3} -> rank 0: 1 row
#   layer 1: t1 {0,8,1,9} -> rank 1: 1 row; t2 {0,8,9,10} and t3 {0..3} -> rank 0: 2 rows
# Classical sends one row per remote expert: layer 0: 2 + 4 = 6 rows and 4;
# layer 1: 2 rows and 1 + 4 = 5.
# Each format, every layer at once, and the three files replayed by bench
# alltoallv at their real size: the same row.
cd "$TMP" || exit
cat >tiny.csv <<'CSV'
layer,token,expert_0,expert_1,expert_2,expert_3,score_0,score_1,score_2,score_3
0,0,0,1,8,9,0.4,0.3,0.2,0.1
0,1,8,9,10,11,0.4,0.3,0.2,0.1
0,2,0,1,2,3,0.4,0.3,0.2,0.1
0,3,12,13,14,15,0.4,0.3,0.2,0.1
1,0,0,1,2,3,0.4,0.3,0.2,0.1
1,1,0,8,1,9,0.4,0.3,0.2,0.1
1,2,0,8,9,10,0.4,0.3,0.2,0.1
1,3,0,1,2,3,0.4,0.3,0.2,0.1
CSV
"$EPSIM" import tiny.csv --model tiny-moe -o tiny.trace 2>/dev/null || exit
echo "## bytes, first layer; layer 1; every layer, classical"
"$EPSIM" trace matrix tiny.trace --ep 2
"$EPSIM" trace matrix tiny.trace --ep 2 --layer 1
"$EPSIM" trace matrix tiny.trace --ep 2 --layer all --dispatch classical
echo "## fractions of the largest row (its size on stderr)"
"$EPSIM" trace matrix tiny.trace --ep 2 --layer all --format fractions 2>&1
echo "## ucc: one [collective] per layer"
"$EPSIM" trace matrix tiny.trace --ep 2 --layer all --format ucc
echo "## one file per layer"
"$EPSIM" trace matrix tiny.trace --ep 2 --layer all -o m.txt && head m.layer0.txt m.layer1.txt
echo "## replayed at the real size: the same bytes from each format"
"$EPSIM" trace matrix tiny.trace --ep 2 -o b.txt
"$EPSIM" trace matrix tiny.trace --ep 2 --format fractions -o f.csv 2>/dev/null
"$EPSIM" trace matrix tiny.trace --ep 2 --format ucc -o u.ptini
for f in "b.txt --matrix-scale none" "f.csv -b 1024 -e 1024" "u.ptini --matrix-scale none"; do
  "$EPSIM" bench alltoallv --topology a6000-x4-pcie-gen4 --matrix $f --format csv | tail -1
done
"$EPSIM" trace matrix tiny.trace --ep 2 --layer all --format ucc -o all.ptini
"$EPSIM" bench alltoallv --topology a6000-x4-pcie-gen4 --matrix all.ptini 2>&1
echo "exit $?"
echo "## errors"
"$EPSIM" trace matrix tiny.trace --ep 2 --layer 5 2>&1; echo "exit $?"
"$EPSIM" trace matrix tiny.trace --ep 2 --layer first 2>&1; echo "exit $?"
"$EPSIM" trace matrix tiny.trace --ep 2 --format ucc --unit KiB 2>&1; echo "exit $?"
"$EPSIM" trace matrix tiny.trace --ep 2 --format csv 2>&1; echo "exit $?"
