# compare on Qwen1.5-MoE at 8-way EP on one node: every built-in placement
# splits 60 experts unevenly; hierarchical, node-limited:1 and pruned:4 (top-4)
# change nothing on one node and say so once; names listed twice run once.
"$EPSIM" compare --model qwen1.5-moe-a2.7b --topology dgx-h100 --ep 8 --tokens 512 --seed 2 \
  --placements contiguous,round-robin,occult,partition,replicate,contiguous \
  --dispatch classical,dedup,hierarchical,node-limited:1,pruned:4:score,dedup
