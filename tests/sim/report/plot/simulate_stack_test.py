#!/usr/bin/env python3
"""epsim plot's simulate figures stack critical-path times when the csv has
them (so a run's bars add up to its pass time) and spans when it has not."""

import argparse
import os
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "sim", "report", "plot"))
from epsim_plot import simulate, tables  # noqa: E402

HEADER = ("strategy,placement,layer,phase,bytes,rows,time_us,start_us,end_us,max_rank,"
          "busy_max_us,busy_mean_us,critical_us,wait_max_us,wait_mean_us\n")
# Rank skew: spans 30 + 40 + 10 = 80 us, critical path 30 + 20 + 10 = 60 us.
ROWS = ("c,p,0,expert,0,0,30.0,0.0,30.0,0,30.0,20.0,30.0,0.0,0.0\n"
        "c,p,0,combine,2000,2,40.0,10.0,50.0,1,40.0,30.0,20.0,20.0,10.0\n"
        "c,p,0,unpermute_reduce,0,0,10.0,50.0,60.0,0,10.0,10.0,10.0,0.0,0.0\n"
        "c,p,all,total,2000,2,60.0,,,,,,60.0,,\n")


def runs_of(text):
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write(text)
    try:
        runs, critical = simulate.read_runs(tables.read(f.name))
        return runs[("c", "p")], critical
    finally:
        os.remove(f.name)


def main():
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    run, critical = runs_of(HEADER + ROWS)
    assert critical
    assert run.layers[0] == {"dispatch": 0.0, "expert": 30.0, "combine": 20.0, "other": 10.0}, run.layers
    assert sum(run.layers[0].values()) == run.pass_us == 60.0, (run.layers, run.pass_us)
    # The same records without the critical columns: spans, 80 us of bars.
    old_header = ",".join(HEADER.strip().split(",")[:12]) + "\n"
    old_rows = "".join(",".join(r.split(",")[:12]) + "\n" for r in ROWS.splitlines())
    run, critical = runs_of(old_header + old_rows)
    assert not critical
    assert sum(run.layers[0].values()) == 80.0, run.layers
    print("simulate_stack_test: ok")


if __name__ == "__main__":
    main()
