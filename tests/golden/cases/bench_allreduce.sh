# bench: NCCL's ring all-reduce, all-gather and reduce-scatter on the 4 x A6000
# PCIe box (nccl-tests' sizes and busbw), 3 of its GPUs for a ring that is not a
# power of two, and the usage errors: one rank, a tree, --algo on an all-to-all.
"$EPSIM" bench allreduce --topology a6000-x4-pcie-gen4 -b 8 -e 128M -f 4
"$EPSIM" bench allgather --topology a6000-x4-pcie-gen4 -b 1K -e 64M -f 16 -g 3 --format csv
"$EPSIM" bench reducescatter --topology a6000-x4-pcie-gen4 -b 1000 -e 1000 -g 3 --format csv
"$EPSIM" bench allreduce --topology dgx-a100 -b 1M -e 1G -f 16 --algo ring --format csv
"$EPSIM" bench allreduce --topology a6000-x4-pcie-gen4 -g 1 2>&1
echo "exit $?"
"$EPSIM" bench allreduce --topology a6000-x4-pcie-gen4 --algo tree 2>&1
echo "exit $?"
"$EPSIM" bench alltoall --topology a6000-x4-pcie-gen4 --algo ring 2>&1
echo "exit $?"
