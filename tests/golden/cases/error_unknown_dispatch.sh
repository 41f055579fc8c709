# A usage error: exit 1 and a message naming the unknown strategy.
"$EPSIM" simulate --tokens 64 --dispatch classical,broadcast 2>&1
