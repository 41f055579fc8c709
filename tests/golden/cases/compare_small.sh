# compare: placements x strategies on a small synthetic OLMoE trace.
"$EPSIM" compare --tokens 1024 --seed 4 --placements contiguous,round-robin,occult \
  --dispatch classical,dedup,pruned:2:score,pruned:2:similarity,c2r:12,node-limited:1,hierarchical
