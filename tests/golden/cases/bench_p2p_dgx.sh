# bench on the DGX files (the README's comparison with measured figures), P2P
# forced on and off on the root-port box, and a bad --p2p value (a usage error, exit 1).
"$EPSIM" bench sendrecv --topology dgx-a100 -b 8 -e 1G -f 8
"$EPSIM" bench alltoall --topology dgx-h100 -b 1M -e 1G -f 32 --format csv
"$EPSIM" bench sendrecv --topology a6000-x4-pcie-gen4 -b 1M -e 1G -f 1024 --p2p on --format csv
"$EPSIM" bench sendrecv --topology a6000-x4-pcie-gen4 -b 1M -e 1G -f 1024 --p2p off --format csv
"$EPSIM" bench alltoall --topology dgx-a100 -b 1M -e 1M --p2p off 2>&1
echo "exit $?"
"$EPSIM" bench alltoall --topology dgx-a100 -b 1M -e 1M --p2p maybe 2>&1
echo "exit $?"
