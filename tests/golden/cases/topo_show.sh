# topo show / check on shipped topologies, and check on a broken copy (exit 2).
"$EPSIM" topo show topologies/a6000-x8-nvlink-pairs.textproto --from gpu1 --to 6
"$EPSIM" topo show topologies/a6000-2node-x8-100g.textproto
# The same root-port pair under NCCL's rule (SHM) and forced P2P.
"$EPSIM" topo show topologies/a6000-x4-pcie-gen4.textproto --from 0 --to 1 | sed -n '/^path/,$p'
"$EPSIM" topo show topologies/a6000-x4-pcie-gen4.textproto --from 0 --to 1 --p2p on | sed -n '/^path/,$p'
"$EPSIM" topo check topologies/dgx-h100.textproto
sed -e 's/bw_gb_per_s: 370/bw_gb_per_s: 1000/' -e '0,/bw_gb_per_s: 1000/s//bw_gb_per_s: 0/' \
  topologies/dgx-h100.textproto >"$TMP/broken.textproto"
cd "$TMP" || exit
"$EPSIM" topo check broken.textproto 2>&1
