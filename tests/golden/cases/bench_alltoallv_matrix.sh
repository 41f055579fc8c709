# bench alltoallv --matrix: busbw on the two closed-form matrices, replay at
# the file's real size (--matrix-scale none / X), and the errors.
cd "$TMP" || exit
# Uniform with its 1/n on the diagonal: alltoall's pattern, so the same
# time, and busbw = algbw x (n-1)/n = alltoall's busbw.
printf '1 1 1 1\n1 1 1 1\n1 1 1 1\n1 1 1 1\n' >uniform.txt
# Zero diagonal: every byte crosses a link, busbw = algbw.
printf '0 1 1 1\n1 0 1 1\n1 1 0 1\n1 1 1 0\n' >zero-diagonal.txt
"$EPSIM" bench alltoall --topology a6000-x4-pcie-gen4 -b 4M -e 4M --format csv | tail -1
"$EPSIM" bench alltoallv --topology a6000-x4-pcie-gen4 -b 4M -e 4M --matrix uniform.txt --format csv | tail -1
"$EPSIM" bench alltoallv --topology a6000-x4-pcie-gen4 -b 3M -e 3M --matrix zero-diagonal.txt --format csv | tail -1
# Real size: the file's bytes, one row; -b/-e are not used (noted).
printf '0 1048576 2097152 0\n524288 0 0 1048576\n0 0 0 3145728\n1048576 1048576 1048576 0\n' >real.txt
"$EPSIM" bench alltoallv --topology a6000-x4-pcie-gen4 --matrix real.txt --matrix-scale none \
  | grep -E "^#   (sizes|matrix)|^# nThread|^ +[0-9]"
"$EPSIM" bench alltoallv --topology a6000-x4-pcie-gen4 --matrix real.txt --matrix-scale 0.5 -b 1K \
  --format csv 2>&1
# The same file scaled to mean bytes per rank = each size (the default).
"$EPSIM" bench alltoallv --topology a6000-x4-pcie-gen4 --matrix real.txt -b 1M -e 4M -f 4 --format csv
for bad in "--matrix-scale none" "--matrix real.txt --matrix-scale zero" \
           "--matrix real.txt --matrix-scale -1" "--matrix real.txt --matrix-format ucc"; do
  "$EPSIM" bench alltoallv --topology a6000-x4-pcie-gen4 $bad 2>&1
  echo "exit $?"
done
printf '0,0.5\n2,0\n' >bad-fractions.csv
"$EPSIM" bench alltoallv --topology a6000-x4-pcie-gen4 --matrix bad-fractions.csv 2>&1
echo "exit $?"
printf '0,0.5\n0.25,0\n' >fractions.csv
"$EPSIM" bench alltoallv --topology a6000-x4-pcie-gen4 --matrix fractions.csv --matrix-scale none 2>&1
echo "exit $?"
