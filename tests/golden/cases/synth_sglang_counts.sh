# synth --load on SGLang's per-rank expert-distribution CSV dumps (written
# here, OLMoE's 64 experts): rank 0 counts layers 0 and 15, rank 1 only
# layer 0. Summed, layer 0 is expert 5: 300, experts 0..31: 100, 32..63: 50
# (max/mean 3.84, CV 0.478, 5000 picks); layer 15 is experts 0..31: 80,
# the rest absent, so 0 (max/mean 2, CV 1, 2560 picks; at EP 4, contiguous,
# all on ranks 0 and 1: device max/mean 2). The header says what was read;
# the fitted trace's load at those layers follows. Then bad input: exit 2
# naming file and line, no trace written.
cd "$TMP" || exit
{
  echo layer_id,expert_id,count
  for e in $(seq 0 63); do echo "0,$e,$((e == 5 ? 200 : 50))"; done
  for e in $(seq 31 -1 0); do echo "15,$e,80"; done
} > expert_distribution_rank0_timestamp1744347750.3721356.csv
{
  echo layer_id,expert_id,count
  for e in $(seq 0 31); do echo "0,$e,$((e == 5 ? 100 : 50))"; done
} > expert_distribution_rank1_timestamp1744347750.006448.csv
fit="--model olmoe-1b-7b --tokens 8192 --tokens-per-sequence 256 --fit-tokens 4096 --fit-iterations 6 --seed 3"
"$EPSIM" synth $fit --load expert_distribution_rank0_timestamp1744347750.3721356.csv \
  --load expert_distribution_rank1_timestamp1744347750.006448.csv -o s.trace 2>/dev/null || exit
"$EPSIM" stats --trace s.trace --ep 4 | grep -E "^# layer|^ +(0|15) "
# Comma-separated names are the same files: the same trace.
"$EPSIM" synth $fit --load expert_distribution_rank0_timestamp1744347750.3721356.csv,expert_distribution_rank1_timestamp1744347750.006448.csv \
  -o t.trace >/dev/null 2>&1 || exit
cmp -s s.trace t.trace && echo "comma-separated: same trace"
# A rank file cut mid-row, then one from a model with more experts.
head -c 100 expert_distribution_rank1_timestamp1744347750.006448.csv > cut.csv
"$EPSIM" synth $fit --load expert_distribution_rank0_timestamp1744347750.3721356.csv,cut.csv -o bad.trace 2>&1
echo "# exit $?"
printf 'layer_id,expert_id,count\n0,3,10\n0,64,5\n' > big.csv
"$EPSIM" synth $fit --load big.csv -o bad.trace 2>&1
echo "# exit $?"
test ! -e bad.trace && echo "no output file"
