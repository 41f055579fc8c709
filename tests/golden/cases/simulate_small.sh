# The default job's shape on a smaller synthetic trace: console table.
"$EPSIM" simulate --model olmoe-1b-7b --topology a6000-x4-pcie-gen4 --tokens 2048 --seed 3
