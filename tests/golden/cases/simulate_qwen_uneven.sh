# Qwen1.5-MoE's 60 experts at 8- and 16-way EP: no even split exists, so the
# first E mod D devices hold one expert more (8, 8, 8, 8, 7, 7, 7, 7 on 8;
# twelve of 4 and four of 3 on 16), as the header says.
"$EPSIM" simulate --model qwen1.5-moe-a2.7b --topology dgx-h100 --ep 8 --tokens 512 --seed 2 \
  --dispatch dedup || exit
"$EPSIM" simulate --model qwen1.5-moe-a2.7b --topology a6000-2node-x8-100g --ep 16 --tokens 512 \
  --seed 2 --placement round-robin --dispatch hierarchical
