# Mixtral's 8 experts on 16 GPUs: a built-in placement would leave devices
# without an expert, which is bad input (exit 2) naming both counts.
"$EPSIM" simulate --model mixtral-8x7b --topology a6000-2node-x8-100g --ep 16 --tokens 64 2>&1
