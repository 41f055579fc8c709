# Typos get a suggestion and exit 1 (usage), never a file-not-found: a
# command, a dispatch strategy, a placement; and --version.
"$EPSIM" --version
echo "# exit $?"
"$EPSIM" simulat 2>&1
echo "# exit $?"
"$EPSIM" frobnicate 2>&1
echo "# exit $?"
"$EPSIM" simulate --tokens 64 --dispatch dedupp 2>&1
echo "# exit $?"
"$EPSIM" simulate --tokens 64 --placement contigous 2>&1
echo "# exit $?"
"$EPSIM" simulate --tokens 64 --placement ./no-such-placement.textproto 2>&1
echo "# exit $?"
