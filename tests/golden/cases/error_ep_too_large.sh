# Asking for more devices than the topology has is a usage error.
"$EPSIM" simulate --tokens 64 --ep 8 2>&1
