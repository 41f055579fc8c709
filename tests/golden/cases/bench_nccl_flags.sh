# bench: nccl-tests flags as pasted. A sweep with the accepted flags (-n -w
# -m -N -c -a: noted once each on stderr, shown here, no effect) and ignored
# ones (-z -G -T -p -R: noted), nccl-tests' `# nThread` / `# Using devices`
# lines; -d changing the type, count and whole-element rounding; -o in the
# redop column (and ignored where nothing reduces); -t / -g / --np giving the
# ranks; bad values exit 1.
"$EPSIM" bench allreduce --topology a6000-x4-pcie-gen4 -b 1M -e 4M -f 4 -g 4 -n 50 -w 5 -m 1 -N 2 \
  -c 1 -a 3 -z 0 -G 1 -T 10 -p 0 -R 1 2>&1
echo "exit $?"
for t in float half bfloat16 int8 double; do
  "$EPSIM" bench alltoall --topology a6000-x4-pcie-gen4 -b 1000 -e 1000 -d $t --format csv | tail -1
done
"$EPSIM" bench allgather --topology a6000-x4-pcie-gen4 -b 1000 -e 1000 -g 3 -d half --format csv | tail -1
"$EPSIM" bench allreduce --topology a6000-x4-pcie-gen4 -b 1M -e 1M -o max --format csv | tail -1
"$EPSIM" bench sendrecv --topology a6000-x4-pcie-gen4 -b 1M -e 1M -o max --format csv 2>&1 >/dev/null
# -t threads x -g GPUs x --np processes = ranks; --np alone means -g 1, as in nccl-tests.
"$EPSIM" bench sendrecv --topology dgx-a100 -b 1M -e 1M -t 2 -g 2 --np 2 | grep -E "^#( nThread|  Rank)"
"$EPSIM" bench sendrecv --topology dgx-a100 -b 1M -e 1M --np 4 | grep -E "^#( nThread|  Rank|   ranks)"
for bad in "-d fp32" "-d all" "-a 7" "-n x" "-o foo" "-t 0"; do
  "$EPSIM" bench alltoall --topology a6000-x4-pcie-gen4 -b 1M -e 1M $bad 2>&1 | head -1
  echo "exit ${PIPESTATUS[0]}"
done
