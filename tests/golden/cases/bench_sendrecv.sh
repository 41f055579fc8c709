# bench: nccl-tests-shaped sendrecv, alltoall and skewed alltoallv sweeps on the 4 x A6000 PCIe box.
"$EPSIM" bench sendrecv --topology a6000-x4-pcie-gen4 -b 8 -e 1G -f 32
"$EPSIM" bench alltoall --topology a6000-x4-pcie-gen4 -b 1K -e 64M -f 8 -g 4
"$EPSIM" bench alltoallv --topology a6000-x4-pcie-gen4 -b 1M -e 16M -f 4 --format csv
