# topo from-smi on the published 2 x RTX 2080 Ti log (one PCIe switch, GeForce
# without P2P: NCCL used SHM), then topo check / show of the file it writes;
# the usage error without a GPU spec (exit 1) and a malformed matrix (exit 2,
# file:line, no file written).
test -d ../shared/measurements || { echo "../shared/measurements is absent: this case needs the shared nvidia-smi logs beside the project" >&2; exit 97; }
ln -s "$PWD/../shared/measurements" "$TMP/measurements"
cd "$TMP" || exit
log=measurements/rtx2080ti-x2-pcie-switch-shm.txt
# No shipped topology has this GPU, so the spec must be given.
"$EPSIM" topo from-smi "$log" -o 2080ti.textproto 2>&1
echo "# exit $?"
cat >2080ti-gpu.textproto <<'SPEC'
# NVIDIA GeForce RTX 2080 Ti: datasheet figures (NVIDIA Turing whitepaper),
# not in hardware.md; efficiencies and launch cost as in a6000-x4-pcie-gen4.
name: "NVIDIA GeForce RTX 2080 Ti"
peak_flops: 107.6e12  # FP16 tensor (FP16 accumulate): 544 tensor cores x 128 FLOP/clk x 1545 MHz
mem_bw_gb_per_s: 616  # 352-bit GDDR6 at 14 Gb/s
compute_efficiency: 0.6
memory_efficiency: 0.8
launch_us: 5
memory_gb: 11
SPEC
"$EPSIM" topo from-smi "$log" --pcie-gen 3 --gpu-spec 2080ti-gpu.textproto -o 2080ti.textproto 2>&1
echo "# exit $?"
cat 2080ti.textproto
"$EPSIM" topo check 2080ti.textproto
"$EPSIM" topo show 2080ti.textproto
# NCCL's rule: GeForce cards have no PCIe P2P (stock driver), so SHM even
# through the switch (PIX), as the log's NCCL lines say.
"$EPSIM" topo show 2080ti.textproto --p2p auto | sed -n '/^path/,$p'
# GPU1's row disagrees with GPU0's: exit 2 naming the line, nothing written.
sed '88s/PIX/PXB/' "$log" >broken.txt
"$EPSIM" topo from-smi broken.txt --gpu-spec 2080ti-gpu.textproto -o out.textproto 2>&1
echo "# exit $?"
test ! -e out.textproto
